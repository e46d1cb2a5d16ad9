package snowflake

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/weftdata/weft/extractors"
)

// demoWindow is the two days of the demo export.
func demoWindow(c Config) Config {
	c.From = time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)
	c.To = time.Date(2025, 7, 2, 0, 0, 0, 0, time.UTC)
	return c
}

// TestOnlineMatchesExport runs the real driver against the fake, which
// serves the demo export's queries, and checks that the result is the
// golden file the offline export produces: online and offline agree.
func TestOnlineMatchesExport(t *testing.T) {
	fake := newFake(t, demoExport)
	e, err := New(demoWindow(fake.config()))
	if err != nil {
		t.Fatal(err)
	}
	online := collect(t, e)
	checkGolden(t, "demo.golden", render(t, online))

	off, err := New(demoWindow(Config{Name: "prod", Account: "acmebank-prod", Export: demoExport}))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(render(t, collect(t, off))), string(render(t, online))); diff != "" {
		t.Errorf("online differs from offline (-offline +online):\n%s", diff)
	}

	// the protocol: one login, one query per chunk, chunked results
	// downloaded, the session closed.
	if len(fake.logins) != 1 || len(fake.queries) != 2 || fake.deletes != 1 {
		t.Errorf("logins=%d queries=%d deletes=%d, want 1, 2, 1\n%s", len(fake.logins), len(fake.queries), fake.deletes, strings.Join(fake.paths, "\n"))
	}
	chunkGets := 0
	for _, p := range fake.paths {
		if strings.HasPrefix(p, "GET /chunks/") {
			chunkGets++
		}
	}
	if chunkGets == 0 {
		t.Errorf("no result chunk was downloaded:\n%s", strings.Join(fake.paths, "\n"))
	}
	login := fake.logins[0]
	params, _ := login["SESSION_PARAMETERS"].(map[string]any)
	for k, want := range map[string]string{"GO_QUERY_RESULT_FORMAT": "json", "TIMEZONE": "UTC"} {
		if got, _ := params[k].(string); !strings.EqualFold(got, want) {
			t.Errorf("session parameter %s = %v, want %s", k, params[k], want)
		}
	}
	// times are bound as epoch milliseconds
	q := fake.queries[0]
	if b := q.Bindings["1"]; b.Value != "1751241600000" {
		t.Errorf("binding 1 = %+v, want epoch ms 1751241600000", b)
	}
	if !strings.Contains(q.SQL, "TO_TIMESTAMP_LTZ(?, 3)") {
		t.Errorf("query does not bind times with TO_TIMESTAMP_LTZ(?, 3):\n%s", q.SQL)
	}
}

// TestOnlineFaults covers what the driver must recover from: an expired
// session token (390112, renewed), HTTP 429 and 503 (retried).
func TestOnlineFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("retries sleep about a second each")
	}
	fake := newFake(t, demoExport)
	fake.expire, fake.throttle, fake.unavailable = 1, 1, 1
	e, err := New(demoWindow(fake.config()))
	if err != nil {
		t.Fatal(err)
	}
	got := render(t, collect(t, e))
	checkGolden(t, "demo.golden", got)
	if fake.renewals != 1 {
		t.Errorf("token renewals = %d, want 1", fake.renewals)
	}
	if fake.expire+fake.throttle+fake.unavailable != 0 {
		t.Errorf("faults not all served: expire=%d throttle=%d unavailable=%d", fake.expire, fake.throttle, fake.unavailable)
	}
}

// TestOnlineSQLError checks that a SQL error (success:false) is reported
// with the source, the chunk and Snowflake's message, and that nothing of
// the failed chunk is emitted.
func TestOnlineSQLError(t *testing.T) {
	fake := newFake(t, demoExport)
	fake.failSQL = "access_history"
	e, err := New(demoWindow(fake.config()))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = e.Extract(context.Background(), func(extractors.Batch) error { n++; return nil })
	if err == nil {
		t.Fatal("Extract succeeded, want the SQL error")
	}
	for _, want := range []string{"snowflake prod: chunk 2025-06-30T00:00:00Z..2025-07-01T00:00:00Z: ", "002003", "does not exist or not authorized"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if n != 0 {
		t.Errorf("%d batches emitted before the error, want 0", n)
	}

	// Standard edition: no ACCESS_HISTORY. The same run without it works
	// and lineage then comes from parsing only.
	cfg := demoWindow(fake.config())
	cfg.NoAccessHistory = true
	e, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	batches := collect(t, e)
	g := merged(batches)
	if len(g.ColumnEdges) != 0 || len(g.Edges) != 0 {
		t.Errorf("without access history: %d edges, %d column edges, want none", len(g.Edges), len(g.ColumnEdges))
	}
	stmts := 0
	for _, b := range batches {
		stmts += len(b.Statements)
	}
	if stmts == 0 {
		t.Error("without access history: no statements")
	}
}

// TestOnlineColumns reads ACCOUNT_USAGE.COLUMNS into a first batch without
// a watermark.
func TestOnlineColumns(t *testing.T) {
	fake := newFake(t, demoExport)
	cfg := demoWindow(fake.config())
	cfg.Columns = true
	cfg.IncludeDatabases = []string{"RAW"}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	batches := collect(t, e)
	if len(batches) != 3 || !batches[0].Watermark.IsZero() || len(batches[0].Statements) != 0 {
		t.Fatalf("got %d batches, want a schema batch and 2 chunks", len(batches))
	}
	ds := batches[0].Graph.Datasets
	fx := ds[datasetID("RAW.MARKET.FX_RATES")]
	if fx == nil || len(fx.Columns) != 6 || fx.Columns[3].Name != "RATE" || fx.Columns[3].Type != "NUMBER" {
		t.Errorf("FX_RATES = %+v", fx)
	}
	if !strings.Contains(fake.queries[0].SQL, "table_catalog ILIKE ? ESCAPE '!'") || fake.queries[0].Bindings["1"].Value != "RAW" {
		t.Errorf("columns query not filtered to the databases in scope: %s %v", fake.queries[0].SQL, fake.queries[0].Bindings)
	}
}

// TestOnlineLoginFailure reports a failed login with the user, not the
// password.
func TestOnlineLoginFailure(t *testing.T) {
	fake := newFake(t, "")
	cfg := fake.config()
	cfg.Port = closedPort(t)
	cfg.LoginTimeout = 2 * time.Second
	cfg.MaxRetryCount = 1
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = e.Extract(context.Background(), func(extractors.Batch) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "snowflake prod: login as WEFT_READER") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), cfg.Password) {
		t.Fatalf("error leaks the password: %v", err)
	}
	if errors.Is(err, context.Canceled) {
		t.Fatal("not a cancellation")
	}
}
