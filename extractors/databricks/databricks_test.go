package databricks

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/weftdata/weft/extractors"
	"github.com/weftdata/weft/graph"
)

var update = flag.Bool("update", false, "rewrite golden files")

const demoExport = "../../fixtures/demo/databricks"

// demoConfig is the demo's weft.yaml entry.
func demoConfig() Config {
	return Config{Name: "ml", Host: "https://adb-4711.12.azuredatabricks.net", Export: demoExport}
}

// checkGolden compares got with testdata/<name>, or rewrites it with -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./extractors/databricks -update)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

// collect runs e and returns its batches.
func collect(t *testing.T, e *Extractor) []extractors.Batch {
	t.Helper()
	var bs []extractors.Batch
	if err := e.Extract(context.Background(), func(b extractors.Batch) error {
		bs = append(bs, b)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return bs
}

// merged folds batches into one graph and one statement list.
func merged(bs []extractors.Batch) (*graph.Graph, []extractors.Statement) {
	g := graph.New()
	var ss []extractors.Statement
	for _, b := range bs {
		if b.Graph != nil {
			g.Merge(b.Graph)
		}
		ss = append(ss, b.Statements...)
	}
	sortStatements(ss)
	return g, ss
}

// dump renders a graph and statements as sorted text for goldens.
func dump(g *graph.Graph, ss []extractors.Statement) string {
	var b strings.Builder
	props := func(m map[string]string) string {
		var s []string
		for _, k := range slices.Sorted(maps.Keys(m)) {
			s = append(s, k+"="+m[k])
		}
		return strings.Join(s, " ")
	}
	tm := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	ev := func(evs []graph.Evidence) {
		for _, e := range evs {
			fmt.Fprintf(&b, "    evidence %s | %s | %s | job=%s | %s..%s count=%d conf=%g\n",
				e.Extractor, e.Origin, e.Method, e.Job.Name, tm(e.FirstSeen), tm(e.LastSeen), e.Count, e.Confidence)
		}
	}
	ids := slices.SortedFunc(maps.Keys(g.Datasets), func(a, b graph.DatasetID) int { return strings.Compare(a.String(), b.String()) })
	for _, id := range ids {
		d := g.Datasets[id]
		fmt.Fprintf(&b, "dataset %s platform=%s kind=%s %s\n", id, d.Platform, d.Kind, props(d.Properties))
		if d.Description != "" {
			fmt.Fprintf(&b, "  description %q\n", d.Description)
		}
		for _, i := range d.Identities {
			fmt.Fprintf(&b, "  identity %s (%s)\n", i.ID, i.Reason)
		}
		for _, c := range d.Columns {
			fmt.Fprintf(&b, "  column %s %s\n", c.Name, c.Type)
		}
	}
	jids := slices.SortedFunc(maps.Keys(g.Jobs), func(a, b graph.JobID) int { return strings.Compare(a.String(), b.String()) })
	for _, id := range jids {
		j := g.Jobs[id]
		fmt.Fprintf(&b, "job %s type=%s %s\n", id, j.Type, props(j.Properties))
		if j.SQL != "" {
			fmt.Fprintf(&b, "  sql %d bytes\n", len(j.SQL))
		}
	}
	for _, id := range slices.Sorted(maps.Keys(g.Runs)) {
		r := g.Runs[id]
		fmt.Fprintf(&b, "run %s job=%s parent=%s state=%s %s..%s %s\n", id, r.Job.Name, r.Parent, r.State, tm(r.Start), tm(r.End), props(r.Properties))
	}
	eids := slices.SortedFunc(maps.Keys(g.Edges), func(a, b graph.EdgeID) int {
		return strings.Compare(a.From.String()+" "+a.To.String(), b.From.String()+" "+b.To.String())
	})
	for _, id := range eids {
		fmt.Fprintf(&b, "edge %s -> %s\n", id.From, id.To)
		ev(g.Edges[id].Evidence)
	}
	key := func(c graph.ColumnEdgeID) string {
		return c.From.String() + " " + c.To.String() + " " + c.Type + " " + c.Subtype
	}
	cids := slices.SortedFunc(maps.Keys(g.ColumnEdges), func(a, b graph.ColumnEdgeID) int { return strings.Compare(key(a), key(b)) })
	for _, id := range cids {
		fmt.Fprintf(&b, "column edge %s -> %s %s/%s\n", id.From, id.To, id.Type, id.Subtype)
		ev(g.ColumnEdges[id].Evidence)
	}
	fs := slices.Clone(g.Findings)
	slices.SortFunc(fs, func(a, b graph.Finding) int {
		return strings.Compare(a.Location+a.Code+a.Message, b.Location+b.Code+b.Message)
	})
	for _, f := range fs {
		fmt.Fprintf(&b, "finding %s %s %s [%s]: %s\n", f.Severity, f.Code, f.Location, f.Subject, f.Message)
	}
	for _, s := range ss {
		fmt.Fprintf(&b, "statement %s dialect=%s ns=%s db=%s schema=%s target=%s job=%s count=%d %s..%s\n",
			s.Origin, s.Dialect, s.Namespace, s.DefaultDatabase, s.DefaultSchema, s.Target.Name, s.Job.Name, s.Count, tm(s.FirstSeen), tm(s.LastSeen))
		for _, l := range strings.Split(s.SQL, "\n") {
			fmt.Fprintf(&b, "  | %s\n", l)
		}
	}
	return b.String()
}

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		ns   string
		err  string
	}{
		{"host url", Config{Host: "https://ADB-4711.12.azuredatabricks.net/"}, "databricks://adb-4711.12.azuredatabricks.net", ""},
		{"bare host", Config{Host: "adb-1.2.azuredatabricks.net"}, "databricks://adb-1.2.azuredatabricks.net", ""},
		{"namespace override", Config{Host: "http://127.0.0.1:8080", Namespace: "adb-1.2.azuredatabricks.net"}, "databricks://adb-1.2.azuredatabricks.net", ""},
		{"no host", Config{}, "", "host is required"},
		{"path", Config{Host: "https://x.cloud.databricks.com/api"}, "", "has a path"},
		{"auth type", Config{Host: "h", AuthType: "patt"}, "", `unknown auth_type "patt" (known: azure-cli`},
		{"half oauth", Config{Host: "h", ClientID: "id"}, "", "client_id and client_secret go together"},
		{"ambiguous", Config{Host: "h", Token: "t", ClientID: "i", ClientSecret: "s"}, "", "set auth_type"},
		{"window", Config{Host: "h", From: time.Unix(10, 0), To: time.Unix(5, 0)}, "", "is not before"},
		{"tables", Config{Host: "h", Tables: []string{"a.b"}}, "", `"a.b" is not catalog.schema.table`},
		{"max run wait", Config{Host: "h", MaxRunWait: -time.Hour}, "", "negative max_run_wait -1h0m0s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := New(tc.cfg)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("New: err = %v, want it to contain %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := e.Namespace(); got != tc.ns {
				t.Errorf("Namespace() = %q, want %q", got, tc.ns)
			}
		})
	}
}

func TestConfigRedactsSecrets(t *testing.T) {
	c := Config{Host: "h", Token: "dapi-SECRET-1", ClientID: "sp", ClientSecret: "SECRET-2", AuthType: "pat"}
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("config", "cfg", c)
	for _, s := range []string{c.String(), fmt.Sprintf("%v %+v %#v", c, c, c), logged.String()} {
		if strings.Contains(s, "SECRET") {
			t.Errorf("secret leaked: %s", s)
		}
		if !strings.Contains(s, "REDACTED") {
			t.Errorf("no REDACTED marker: %s", s)
		}
	}
	_, err := New(Config{Host: "https://user:SECRET@h"})
	if err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("New with credentials in host: err = %v", err)
	}
}

func TestWindows(t *testing.T) {
	e, err := New(Config{Host: "h", From: time.Date(2024, 11, 25, 0, 0, 0, 0, time.UTC), To: time.Date(2024, 11, 26, 12, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	got := e.windows()
	want := []window{
		{time.Date(2024, 11, 25, 0, 0, 0, 0, time.UTC), time.Date(2024, 11, 26, 0, 0, 0, 0, time.UTC)},
		{time.Date(2024, 11, 26, 0, 0, 0, 0, time.UTC), time.Date(2024, 11, 26, 12, 0, 0, 0, time.UTC)},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(window{})); diff != "" {
		t.Errorf("windows (-want +got):\n%s", diff)
	}
	e, _ = New(Config{Host: "h", Lookback: 2 * time.Hour})
	e.now = func() time.Time { return time.Date(2024, 11, 26, 12, 0, 0, 5, time.UTC) }
	if got := e.windows(); len(got) != 1 || got[0].from != time.Date(2024, 11, 26, 10, 0, 0, 0, time.UTC) {
		t.Errorf("lookback windows = %v", got)
	}
}

func TestDemoOffline(t *testing.T) {
	e, err := New(demoConfig())
	if err != nil {
		t.Fatal(err)
	}
	bs := collect(t, e)
	if len(bs) != 2 {
		t.Fatalf("got %d batches, want 2 (metadata, then the export's one window)", len(bs))
	}
	g, ss := merged(bs)
	checkGolden(t, "demo.golden", dump(g, ss))

	// The foreign catalog gives the federated table its Snowflake identity.
	d := g.Datasets[graph.DatasetID{Namespace: "databricks://adb-4711.12.azuredatabricks.net", Name: "sf_analytics.marts.fct_loans"}]
	if d == nil {
		t.Fatal("no dataset sf_analytics.marts.fct_loans")
	}
	want := []graph.Identity{{
		ID:     graph.DatasetID{Namespace: "snowflake://acmebank-prod", Name: "ANALYTICS.MARTS.FCT_LOANS"},
		Reason: "foreign catalog sf_analytics mirrors Snowflake database ANALYTICS (connection snowflake_prod)",
	}}
	if diff := cmp.Diff(want, d.Identities); diff != "" {
		t.Errorf("identities (-want +got):\n%s", diff)
	}
	if _, ok := d.Column("interest_rate"); !ok {
		t.Error("fct_loans has no column interest_rate")
	}
	// The NULL target of a read-only row gives no edge and no "" dataset.
	for id := range g.Datasets {
		if id.Name == "" || strings.HasSuffix(id.Name, ".") {
			t.Errorf("dataset with empty name: %v", id)
		}
	}
}

func TestExportErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		err   string
	}{
		{"trailing comma", map[string]string{"run-1.json": "{\n  \"run_id\": 1,\n}\n"},
			`run-1.json:3:1: not valid JSON (offset 18): invalid character '}' looking for beginning of object key string`},
		{"unknown name", map[string]string{"foo.json": "{}"}, `unrecognised file names foo.json (known: `},
		{"bad run name", map[string]string{"run-x.json": "{}"}, "name must be run-<id>.json with a numeric run id"},
		{"failed statement", map[string]string{"table_lineage.json": `{"statement_id":"s1","status":{"state":"FAILED","error":{"error_code":"BAD_REQUEST","message":"[TABLE_OR_VIEW_NOT_FOUND] system.access.table_lineage"}}}`},
			"table_lineage.json: statement s1 failed: BAD_REQUEST: [TABLE_OR_VIEW_NOT_FOUND]"},
		{"statement trailing comma", map[string]string{"column_lineage.json": "{\"statement_id\": \"s\",\n}"},
			"column_lineage.json:2:1: not valid JSON (offset 23): invalid character '}' looking for beginning of object key string"},
		{"chunk trailing comma", map[string]string{
			"column_lineage.json":         `{"statement_id":"s","status":{"state":"SUCCEEDED"},"manifest":{"schema":{"columns":[{"name":"source_table_full_name"},{"name":"source_column_name"},{"name":"target_table_full_name"},{"name":"target_column_name"}]}},"result":{"chunk_index":0,"next_chunk_index":1,"data_array":[]}}`,
			"column_lineage.chunk-1.json": `{"chunk_index":1,"data_array":[["a.b.c","x","a.b.d","y"],]}`},
			"column_lineage.chunk-1.json: system.access.column_lineage chunk 1: row 1: offset 57: expected '[' but found ']'"},
		{"orphan chunk", map[string]string{"column_lineage-x.chunk-1.json": `{}`}, "chunk without statement file column_lineage-x.json"},
		{"bad cell", map[string]string{"table_lineage.json": `{"statement_id":"s","status":{"state":"SUCCEEDED"},"manifest":{"schema":{"columns":[{"name":"source_table_full_name"},{"name":"target_table_full_name"}]}},"result":{"data_array":[["a.b.c",{"x":1}]]}}`},
			"system.access.table_lineage chunk 0: row 0 cell 1: offset 188: unexpected '{' (cells must be strings or null)"},
		{"bad time", map[string]string{"table_lineage.json": `{"statement_id":"s","status":{"state":"SUCCEEDED"},"manifest":{"schema":{"columns":[{"name":"source_table_full_name"},{"name":"target_table_full_name"},{"name":"event_time"}]}},"result":{"data_array":[["a.b.c","a.b.d","yesterday"]]}}`},
			`row 0: event_time: bad timestamp "yesterday"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for n, s := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, n), []byte(s), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			e, err := New(Config{Host: "h", Export: dir})
			if err != nil {
				t.Fatal(err)
			}
			err = e.Extract(context.Background(), func(extractors.Batch) error { return nil })
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err = %v\nwant it to contain %q", err, tc.err)
			}
		})
	}
}

func TestEachRow(t *testing.T) {
	in := `[["a",null,"x\"y\\z",""],[],  [ null , "\u00e9"] ,["1",2,true]]`
	var got [][]string
	err := eachRow([]byte(in), func(row [][]byte, null []bool) error {
		var r []string
		for i, c := range row {
			if null[i] {
				r = append(r, "<NULL>")
			} else {
				r = append(r, string(c))
			}
		}
		got = append(got, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"a", "<NULL>", `x"y\z`, ""}, nil, {"<NULL>", "é"}, {"1", "2", "true"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	for _, bad := range []string{`[["a"`, `[["a"]`, `[["a" "b"]]`, `[[nul]]`, `{"a":1}`} {
		if err := eachRow([]byte(bad), func([][]byte, []bool) error { return nil }); err == nil {
			t.Errorf("eachRow(%s): no error", bad)
		}
	}
}

func FuzzEachRow(f *testing.F) {
	for _, s := range []string{`[["a",null]]`, `[]`, `null`, `[["\u0041\n"],[]]`, `[[1,-2.5e3,false]]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = eachRow(data, func(row [][]byte, null []bool) error {
			if len(row) != len(null) {
				t.Fatal("row and null lengths differ")
			}
			return nil
		})
	})
}
