package databricks

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/databricks/databricks-sdk-go/config"
	"github.com/google/go-cmp/cmp"

	"github.com/weftdata/weft/extractors"
)

// noEnv is an SDK config loader that loads nothing: tests must not pick up
// DATABRICKS_* variables or ~/.databrickscfg from the machine.
type noEnv struct{}

func (noEnv) Name() string                   { return "noenv" }
func (noEnv) Configure(*config.Config) error { return nil }

const fakeToken = "dapi-fake-token-0123456789"

// fakeDatabricks serves an export folder the way a workspace serves its
// APIs: runs/list paginated with page_token and filtered by start time,
// statements that go PENDING -> RUNNING -> SUCCEEDED with results re-split
// into small chunks, {"error_code": ...} errors. Faults are injected per
// path: the first n requests answer with the given status.
type fakeDatabricks struct {
	t   *testing.T
	dir string

	mu         sync.Mutex
	faults     map[string][]fault // by URL path
	requests   []string           // "GET /api/...": method and path
	urls       []string           // "GET /api/...?run_id=1": method and request URI
	statements map[string]*fakeStatement
	pageSize   int
	chunkRows  int
}

type fault struct {
	status     int
	retryAfter string
	code       string
}

type fakeStatement struct {
	polls   int
	cols    json.RawMessage
	columns []string
	chunks  [][][]*string
}

func newFake(t *testing.T, dir string) (*fakeDatabricks, *httptest.Server) {
	f := &fakeDatabricks{t: t, dir: dir, faults: map[string][]fault{}, statements: map[string]*fakeStatement{}, pageSize: 2, chunkRows: 7}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeDatabricks) fail(path string, fs ...fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults[path] = append(f.faults[path], fs...)
}

func (f *fakeDatabricks) read(name string) []byte {
	data, err := os.ReadFile(filepath.Join(f.dir, name))
	if err != nil {
		f.t.Fatal(err)
	}
	return data
}

func (f *fakeDatabricks) glob(pattern string) []string {
	m, err := filepath.Glob(filepath.Join(f.dir, pattern))
	if err != nil {
		f.t.Fatal(err)
	}
	slices.Sort(m)
	return m
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	switch v := v.(type) {
	case []byte:
		w.Write(v)
	default:
		json.NewEncoder(w).Encode(v)
	}
}

func apiError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]string{"error_code": code, "message": msg})
}

func (f *fakeDatabricks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r.Method+" "+r.URL.Path)
	f.urls = append(f.urls, r.Method+" "+r.URL.RequestURI())
	if fs := f.faults[r.URL.Path]; len(fs) > 0 {
		ft := fs[0]
		f.faults[r.URL.Path] = fs[1:]
		f.mu.Unlock()
		if ft.retryAfter != "" {
			w.Header().Set("Retry-After", ft.retryAfter)
		}
		apiError(w, ft.status, ft.code, "injected fault")
		return
	}
	f.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+fakeToken {
		apiError(w, http.StatusUnauthorized, "UNAUTHENTICATED", "invalid access token")
		return
	}
	q := r.URL.Query()
	p := r.URL.Path
	switch {
	case p == "/api/2.1/unity-catalog/connections":
		writeJSON(w, 200, f.read("connections.json"))
	case p == "/api/2.1/unity-catalog/catalogs":
		writeJSON(w, 200, f.read("catalogs.json"))
	case p == "/api/2.1/unity-catalog/schemas":
		seen := map[string]bool{}
		var schemas []map[string]string
		for _, t := range f.tables() {
			if t["catalog_name"] == q.Get("catalog_name") && !seen[t["schema_name"].(string)] {
				seen[t["schema_name"].(string)] = true
				schemas = append(schemas, map[string]string{"name": t["schema_name"].(string), "catalog_name": q.Get("catalog_name")})
			}
		}
		writeJSON(w, 200, map[string]any{"schemas": schemas})
	case p == "/api/2.1/unity-catalog/tables":
		var ts []map[string]any
		for _, t := range f.tables() {
			if t["catalog_name"] == q.Get("catalog_name") && t["schema_name"] == q.Get("schema_name") {
				ts = append(ts, t)
			}
		}
		writeJSON(w, 200, map[string]any{"tables": ts})
	case p == "/api/2.2/jobs/runs/list":
		f.runsList(w, r)
	case p == "/api/2.2/jobs/runs/get":
		name := "run-" + q.Get("run_id") + ".json"
		if _, err := os.Stat(filepath.Join(f.dir, name)); err != nil {
			apiError(w, 404, "RESOURCE_DOES_NOT_EXIST", "Run "+q.Get("run_id")+" does not exist.")
			return
		}
		writeJSON(w, 200, f.read(name))
	case p == "/api/2.2/jobs/runs/get-output":
		name := "run-output-" + q.Get("run_id") + ".json"
		if _, err := os.Stat(filepath.Join(f.dir, name)); err != nil {
			apiError(w, 400, "INVALID_PARAMETER_VALUE", "Retrieving the output of runs with multiple tasks is not supported.")
			return
		}
		writeJSON(w, 200, f.read(name))
	case strings.HasPrefix(p, "/api/2.0/sql/queries/"):
		apiError(w, 404, "RESOURCE_DOES_NOT_EXIST", "Query not found.")
	case p == "/api/2.0/sql/statements/" && r.Method == http.MethodPost:
		f.execute(w, r)
	case strings.HasPrefix(p, "/api/2.0/sql/statements/"):
		f.statement(w, strings.TrimPrefix(p, "/api/2.0/sql/statements/"))
	case p == "/api/2.0/sql/history/queries":
		f.history(w, r)
	default:
		apiError(w, 404, "ENDPOINT_NOT_FOUND", "No API found for '"+r.Method+" "+p+"'")
	}
}

// history answers the query history filtered by the start-time range.
func (f *fakeDatabricks) history(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	from, _ := strconv.ParseFloat(q.Get("filter_by.query_start_time_range.start_time_ms"), 64)
	to, _ := strconv.ParseFloat(q.Get("filter_by.query_start_time_range.end_time_ms"), 64)
	var page struct {
		Res []map[string]any `json:"res"`
	}
	if err := json.Unmarshal(f.read("query-history.json"), &page); err != nil {
		f.t.Fatal(err)
	}
	var in []map[string]any
	for _, qi := range page.Res {
		st := qi["query_start_time_ms"].(float64)
		if (from == 0 || st >= from) && (to == 0 || st <= to) {
			in = append(in, qi)
		}
	}
	writeJSON(w, 200, map[string]any{"res": in, "has_next_page": false})
}

func (f *fakeDatabricks) tables() []map[string]any {
	var all []map[string]any
	for _, path := range f.glob("tables*.json") {
		var page struct {
			Tables []map[string]any `json:"tables"`
		}
		if err := json.Unmarshal(f.read(filepath.Base(path)), &page); err != nil {
			f.t.Fatal(err)
		}
		all = append(all, page.Tables...)
	}
	return all
}

func (f *fakeDatabricks) runsList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var runs []map[string]any
	for _, path := range f.glob("runs-list*.json") {
		var page struct {
			Runs []map[string]any `json:"runs"`
		}
		if err := json.Unmarshal(f.read(filepath.Base(path)), &page); err != nil {
			f.t.Fatal(err)
		}
		runs = append(runs, page.Runs...)
	}
	from, _ := strconv.ParseFloat(q.Get("start_time_from"), 64)
	to, _ := strconv.ParseFloat(q.Get("start_time_to"), 64)
	var in []map[string]any
	for _, run := range runs {
		st := run["start_time"].(float64)
		if (from == 0 || st >= from) && (to == 0 || st <= to) {
			in = append(in, run)
		}
	}
	off := 0
	if tok := q.Get("page_token"); tok != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(tok, "page-"))
		if err != nil {
			apiError(w, 400, "INVALID_PARAMETER_VALUE", "bad page_token")
			return
		}
		off = n
	}
	end := min(off+f.pageSize, len(in))
	resp := map[string]any{"runs": in[off:end], "has_more": end < len(in)}
	if end < len(in) {
		resp["next_page_token"] = "page-" + strconv.Itoa(end)
	}
	writeJSON(w, 200, resp)
}

// execute starts a statement: it finds the recorded result of the lineage
// table the SQL names, filters its rows by the window parameters, and
// answers PENDING.
func (f *fakeDatabricks) execute(w http.ResponseWriter, r *http.Request) {
	var req statementRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		apiError(w, 400, "MALFORMED_REQUEST", err.Error())
		return
	}
	if req.WarehouseID != "wh-1" {
		apiError(w, 404, "RESOURCE_DOES_NOT_EXIST", "warehouse "+req.WarehouseID+" does not exist")
		return
	}
	kind := lineageTable
	if strings.Contains(req.Statement, "system.access.column_lineage") {
		kind = lineageColumn
	}
	params := map[string]string{}
	for _, p := range req.Parameters {
		params[p.Name] = p.Value
	}
	from, err1 := time.Parse(time.RFC3339, params["from_ts"])
	to, err2 := time.Parse(time.RFC3339, params["to_ts"])
	if err1 != nil || err2 != nil {
		apiError(w, 400, "INVALID_PARAMETER_VALUE", "bad from_ts/to_ts")
		return
	}
	var head statementResponse
	if err := json.Unmarshal(f.read(kind+".json"), &head); err != nil {
		f.t.Fatal(err)
	}
	var raw struct {
		Manifest struct {
			Schema struct {
				Columns json.RawMessage `json:"columns"`
			} `json:"schema"`
		} `json:"manifest"`
	}
	json.Unmarshal(f.read(kind+".json"), &raw)
	cols := head.Manifest.columns()
	var rows [][]*string
	add := func(data json.RawMessage) {
		var rs [][]*string
		if err := json.Unmarshal(data, &rs); err != nil {
			f.t.Fatal(err)
		}
		rows = append(rows, rs...)
	}
	add(head.Result.DataArray)
	for _, path := range f.glob(kind + ".chunk-*.json") {
		var rd resultData
		json.Unmarshal(f.read(filepath.Base(path)), &rd)
		add(rd.DataArray)
	}
	ts := slices.Index(cols, "first_seen")
	var kept [][]*string
	for _, row := range rows {
		t, err := time.Parse(time.RFC3339Nano, *row[ts])
		if err != nil {
			f.t.Fatal(err)
		}
		if !t.Before(from) && t.Before(to) {
			kept = append(kept, row)
		}
	}
	st := &fakeStatement{cols: raw.Manifest.Schema.Columns, columns: cols}
	for i := 0; i < len(kept); i += f.chunkRows {
		st.chunks = append(st.chunks, kept[i:min(i+f.chunkRows, len(kept))])
	}
	if len(st.chunks) == 0 {
		st.chunks = [][][]*string{{}}
	}
	f.mu.Lock()
	id := fmt.Sprintf("01ef0000-0000-0000-0000-%012d", len(f.statements)+1)
	f.statements[id] = st
	f.mu.Unlock()
	writeJSON(w, 200, map[string]any{"statement_id": id, "status": map[string]string{"state": "PENDING"}})
}

func (f *fakeDatabricks) chunk(st *fakeStatement, id string, n int) map[string]any {
	off := 0
	for i := range n {
		off += len(st.chunks[i])
	}
	rd := map[string]any{"chunk_index": n, "row_offset": off, "row_count": len(st.chunks[n]), "data_array": st.chunks[n]}
	if n+1 < len(st.chunks) {
		rd["next_chunk_index"] = n + 1
		rd["next_chunk_internal_link"] = fmt.Sprintf("/api/2.0/sql/statements/%s/result/chunks/%d", id, n+1)
	}
	return rd
}

// statement answers GET .../statements/{id} (RUNNING once, then SUCCEEDED
// with the first chunk) and GET .../statements/{id}/result/chunks/{n}.
func (f *fakeDatabricks) statement(w http.ResponseWriter, rest string) {
	id, chunkPath, isChunk := strings.Cut(rest, "/result/chunks/")
	f.mu.Lock()
	st := f.statements[id]
	f.mu.Unlock()
	if st == nil {
		apiError(w, 404, "RESOURCE_DOES_NOT_EXIST", "statement "+id+" not found")
		return
	}
	if isChunk {
		n, err := strconv.Atoi(chunkPath)
		if err != nil || n < 0 || n >= len(st.chunks) {
			apiError(w, 400, "INVALID_PARAMETER_VALUE", "bad chunk index")
			return
		}
		writeJSON(w, 200, f.chunk(st, id, n))
		return
	}
	f.mu.Lock()
	st.polls++
	polls := st.polls
	f.mu.Unlock()
	if polls == 1 {
		writeJSON(w, 200, map[string]any{"statement_id": id, "status": map[string]string{"state": "RUNNING"}})
		return
	}
	total := 0
	var chunks []map[string]int
	for i, c := range st.chunks {
		chunks = append(chunks, map[string]int{"chunk_index": i, "row_offset": total, "row_count": len(c)})
		total += len(c)
	}
	writeJSON(w, 200, map[string]any{
		"statement_id": id,
		"status":       map[string]string{"state": "SUCCEEDED"},
		"manifest": map[string]any{"format": "JSON_ARRAY", "schema": map[string]any{"column_count": len(st.columns), "columns": st.cols},
			"total_chunk_count": len(st.chunks), "chunks": chunks, "total_row_count": total, "truncated": false},
		"result": f.chunk(st, id, 0),
	})
}

// onlineExtractor points the real SDK at the fake.
func onlineExtractor(t *testing.T, url string, mod func(*Config)) *Extractor {
	t.Helper()
	cfg := Config{
		Host:                url,
		Namespace:           "adb-4711.12.azuredatabricks.net",
		Token:               fakeToken,
		WarehouseID:         "wh-1",
		From:                time.Date(2024, 11, 25, 0, 0, 0, 0, time.UTC),
		To:                  time.Date(2024, 11, 27, 0, 0, 0, 0, time.UTC),
		Chunk:               48 * time.Hour,
		IncludeQueryHistory: true,
		RetryTimeoutSeconds: 5,
		RateLimitPerSecond:  1000,
	}
	if mod != nil {
		mod(&cfg)
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.sdkLoaders = []config.Loader{noEnv{}}
	return e
}

func TestOnlineMatchesOffline(t *testing.T) {
	fake, srv := newFake(t, demoExport)
	// One 429 with Retry-After on the first page of runs and one 500 on a
	// runs/get: the SDK retries the first, weft the second.
	fake.fail("/api/2.2/jobs/runs/list", fault{status: 429, retryAfter: "1", code: "TOO_MANY_REQUESTS"})
	fake.fail("/api/2.2/jobs/runs/get", fault{status: 500, code: "INTERNAL_ERROR"})

	e := onlineExtractor(t, srv.URL, nil)
	bs := collect(t, e)
	if len(bs) != 2 || !bs[0].Watermark.IsZero() || !bs[1].Watermark.Equal(time.Date(2024, 11, 27, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("batches: got %d, watermarks %v", len(bs), watermarks(bs))
	}
	g, ss := merged(bs)
	got := dump(g, ss)
	checkGolden(t, "online.golden", got)

	off, err := New(demoConfig())
	if err != nil {
		t.Fatal(err)
	}
	og, oss := merged(collect(t, off))
	if want := dump(og, oss); want != got {
		t.Errorf("online graph differs from the offline decode of the same responses")
	}

	fake.mu.Lock()
	defer fake.mu.Unlock()
	count := func(prefix string) int {
		n := 0
		for _, r := range fake.requests {
			if strings.HasPrefix(r, prefix) {
				n++
			}
		}
		return n
	}
	// 4 runs in pages of 2 (+1 retried 429), 4 runs/get (+1 retried 500),
	// statement polling (RUNNING then SUCCEEDED) and chunk following.
	if n := count("GET /api/2.2/jobs/runs/list"); n != 3 {
		t.Errorf("runs/list requests = %d, want 3 (429, page 1, page 2)", n)
	}
	if n := count("GET /api/2.2/jobs/runs/get "); n != 0 {
		t.Errorf("unexpected request form")
	}
	if n := count("GET /api/2.0/sql/statements/01ef0000-0000-0000-0000-000000000002/result/chunks/"); n < 3 {
		t.Errorf("column lineage chunk requests = %d, want at least 3", n)
	}
}

func watermarks(bs []extractors.Batch) []time.Time {
	var ws []time.Time
	for _, b := range bs {
		ws = append(ws, b.Watermark)
	}
	return ws
}

func TestOnlineWindows(t *testing.T) {
	_, srv := newFake(t, demoExport)
	e := onlineExtractor(t, srv.URL, func(c *Config) { c.Chunk = 24 * time.Hour })
	bs := collect(t, e)
	want := []time.Time{{}, time.Date(2024, 11, 26, 0, 0, 0, 0, time.UTC), time.Date(2024, 11, 27, 0, 0, 0, 0, time.UTC)}
	if got := watermarks(bs); !slices.EqualFunc(got, want, time.Time.Equal) {
		t.Fatalf("watermarks = %v, want %v", got, want)
	}
	// Each day's runs land in that day's batch.
	for i, run := range []string{"880011001", "880011002"} {
		if bs[i+1].Graph.Runs[run] == nil {
			t.Errorf("batch %d has no run %s", i+1, run)
		}
	}
	if len(bs[1].Statements) != 1 || len(bs[2].Statements) != 2 {
		t.Errorf("statements per day = %d, %d; want 1, 2 (feature SQL; feature SQL + warehouse CTAS)", len(bs[1].Statements), len(bs[2].Statements))
	}
	// Together they give the same graph as one window (findings count
	// rows per window, so they differ).
	g, ss := merged(bs)
	g.Findings = nil
	one, _ := os.ReadFile(filepath.Join("testdata", "online.golden"))
	var lines []string
	for _, l := range strings.SplitAfter(string(one), "\n") {
		if !strings.HasPrefix(l, "finding ") {
			lines = append(lines, l)
		}
	}
	if diff := cmp.Diff(strings.Join(lines, ""), dump(g, ss)); diff != "" {
		t.Errorf("daily windows merge to a different graph than one window (-one +daily):\n%s", diff)
	}
}

func TestOnlineErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		faults map[string][]fault
		mod    func(*Config)
		err    string
	}{
		{"permission denied", map[string][]fault{"/api/2.2/jobs/runs/list": {{status: 403, code: "PERMISSION_DENIED"}}}, nil,
			"databricks jobs/runs/list after 0 runs: 403 PERMISSION_DENIED: injected fault"},
		{"unavailable", map[string][]fault{"/api/2.1/unity-catalog/catalogs": slices.Repeat([]fault{{status: 503, code: "TEMPORARILY_UNAVAILABLE"}}, 100)},
			func(c *Config) { c.RetryTimeoutSeconds = 1 }, "databricks unity-catalog/catalogs: "},
		{"server error", map[string][]fault{"/api/2.2/jobs/runs/get": slices.Repeat([]fault{{status: 500, code: "INTERNAL_ERROR"}}, 100)},
			func(c *Config) { c.RetryTimeoutSeconds = 1 }, "databricks run 880022002: jobs/runs/get: 500 INTERNAL_ERROR: injected fault"},
		{"no warehouse", nil, func(c *Config) { c.WarehouseID = "nope" },
			"databricks system.access.table_lineage: sql/statements: 404 RESOURCE_DOES_NOT_EXIST: warehouse nope does not exist"},
		{"bad token", nil, func(c *Config) { c.Token = "dapi-wrong-SECRET" }, "401"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake, srv := newFake(t, demoExport)
			for p, fs := range tc.faults {
				fake.fail(p, fs...)
			}
			e := onlineExtractor(t, srv.URL, tc.mod)
			start := time.Now()
			err := e.Extract(context.Background(), func(extractors.Batch) error { return nil })
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err = %v\nwant it to contain %q", err, tc.err)
			}
			if strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), fakeToken) {
				t.Errorf("error leaks the token: %v", err)
			}
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("took %v: retries not bounded by retry_timeout_seconds", d)
			}
		})
	}
}

func TestOnlineCancel(t *testing.T) {
	_, srv := newFake(t, demoExport)
	e := onlineExtractor(t, srv.URL, nil)
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	err := e.Extract(ctx, func(extractors.Batch) error { n++; cancel(); return nil })
	if err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("err = %v, want context canceled", err)
	}
}
