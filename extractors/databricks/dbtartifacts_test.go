package databricks

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/databricks/databricks-sdk-go/logger"

	"github.com/weftdata/weft/extractors"
	"github.com/weftdata/weft/graph"
)

// A dbt-on-Databricks project run by a dbt_task: a source over the
// Snowflake marts (through the foreign catalog) and two models in
// main.risk_features, as dbt-databricks 1.8 writes them.
const (
	dbtJobRunID  = 880033001
	dbtTaskRunID = 880033101
	// The presigned link's secret parts, which must never be written.
	dbtLinkSignature = "d3adb33fSECRETSIGNATURE0a1b2c3d4e5f"
	dbtSSECKey       = "c3NlLWMta2V5LVNFQ1JFVC0xMjM0NTY3ODkw"
)

const dbtManifest = `{
  "metadata": {
    "dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json",
    "dbt_version": "1.8.7",
    "generated_at": "2024-11-25T07:05:41.112233Z",
    "invocation_id": "7f3e2d1c-0b9a-4c8d-9e7f-6a5b4c3d2e1f",
    "env": {},
    "project_name": "risk_dbt",
    "project_id": "5d0c0e6f1b2a3c4d5e6f7a8b9c0d1e2f",
    "user_id": null,
    "send_anonymous_usage_stats": false,
    "adapter_type": "databricks"
  },
  "nodes": {
    "model.risk_dbt.stg_loans": {
      "database": "main", "schema": "risk_features", "name": "stg_loans", "resource_type": "model",
      "package_name": "risk_dbt", "path": "staging/stg_loans.sql", "original_file_path": "models/staging/stg_loans.sql",
      "unique_id": "model.risk_dbt.stg_loans", "fqn": ["risk_dbt", "staging", "stg_loans"], "alias": "stg_loans",
      "config": {"enabled": true, "materialized": "view", "file_format": "delta"},
      "columns": {"loan_id": {"name": "loan_id", "description": "Loan key", "data_type": null}},
      "relation_name": "` + "`main`.`risk_features`.`stg_loans`" + `",
      "language": "sql",
      "raw_code": "select loan_id, principal_amount as amount from {{ source('sf_analytics', 'fct_loans') }}",
      "compiled": true,
      "compiled_code": "select loan_id, principal_amount as amount from ` + "`sf_analytics`.`marts`.`fct_loans`" + `",
      "depends_on": {"macros": [], "nodes": ["source.risk_dbt.sf_analytics.fct_loans"]}
    },
    "model.risk_dbt.loan_exposure": {
      "database": "main", "schema": "risk_features", "name": "loan_exposure", "resource_type": "model",
      "package_name": "risk_dbt", "path": "marts/loan_exposure.sql", "original_file_path": "models/marts/loan_exposure.sql",
      "unique_id": "model.risk_dbt.loan_exposure", "fqn": ["risk_dbt", "marts", "loan_exposure"], "alias": "loan_exposure",
      "config": {"enabled": true, "materialized": "table", "file_format": "delta"},
      "columns": {},
      "relation_name": "` + "`main`.`risk_features`.`loan_exposure`" + `",
      "language": "sql",
      "raw_code": "select loan_id, sum(amount) as exposure from {{ ref('stg_loans') }} group by loan_id",
      "compiled": true,
      "compiled_code": "select loan_id, sum(amount) as exposure from ` + "`main`.`risk_features`.`stg_loans`" + ` group by loan_id",
      "depends_on": {"macros": [], "nodes": ["model.risk_dbt.stg_loans"]}
    }
  },
  "sources": {
    "source.risk_dbt.sf_analytics.fct_loans": {
      "database": "sf_analytics", "schema": "marts", "name": "fct_loans", "resource_type": "source",
      "package_name": "risk_dbt", "path": "models/sources.yml", "original_file_path": "models/sources.yml",
      "unique_id": "source.risk_dbt.sf_analytics.fct_loans", "fqn": ["risk_dbt", "sf_analytics", "fct_loans"],
      "source_name": "sf_analytics", "identifier": "fct_loans", "columns": {},
      "relation_name": "` + "`sf_analytics`.`marts`.`fct_loans`" + `",
      "config": {"enabled": true}
    }
  },
  "macros": {}, "docs": {}, "exposures": {}, "metrics": {}, "groups": {}, "selectors": {},
  "disabled": {}, "parent_map": {}, "child_map": {}, "group_map": {}, "saved_queries": {}, "semantic_models": {}, "unit_tests": {}
}`

const dbtRunResults = `{
  "metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/run-results/v6.json", "dbt_version": "1.8.7",
    "generated_at": "2024-11-25T07:06:02.000000Z", "invocation_id": "7f3e2d1c-0b9a-4c8d-9e7f-6a5b4c3d2e1f", "env": {}},
  "results": [
    {"unique_id": "model.risk_dbt.stg_loans", "status": "success", "execution_time": 1.52, "thread_id": "Thread-1",
     "timing": [{"name": "execute", "started_at": "2024-11-25T07:05:50.000000Z", "completed_at": "2024-11-25T07:05:51.520000Z"}]},
    {"unique_id": "model.risk_dbt.loan_exposure", "status": "success", "execution_time": 8.25, "thread_id": "Thread-1",
     "timing": [{"name": "execute", "started_at": "2024-11-25T07:05:52.000000Z", "completed_at": "2024-11-25T07:06:00.250000Z"}]}
  ],
  "elapsed_time": 12.3, "args": {"which": "build"}
}`

const dbtCatalog = `{
  "metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/catalog/v1.json", "dbt_version": "1.8.7",
    "generated_at": "2024-11-25T07:06:10.000000Z", "invocation_id": "7f3e2d1c-0b9a-4c8d-9e7f-6a5b4c3d2e1f", "env": {}},
  "nodes": {
    "model.risk_dbt.loan_exposure": {"metadata": {"type": "table", "schema": "risk_features", "name": "loan_exposure", "database": "main"},
      "columns": {"loan_id": {"type": "string", "index": 1, "name": "loan_id"}, "exposure": {"type": "decimal(38,2)", "index": 2, "name": "exposure"}},
      "stats": {}, "unique_id": "model.risk_dbt.loan_exposure"}
  },
  "sources": {}, "errors": null
}`

// dbtArchive is the dbt artifacts archive as Databricks serves it: the
// project's target/ and logs/ in a tar.gz.
func dbtArchive(t testing.TB, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, dir := range []string{"target/", "logs/"} {
		if err := tw.WriteHeader(&tar.Header{Name: dir, Typeflag: tar.TypeDir, Mode: 0o755}); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range files {
			if !yield(k) {
				return
			}
		}
	}) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(files[name]))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(files[name])); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func fullArchive(t testing.TB) []byte {
	return dbtArchive(t, map[string]string{
		"target/manifest.json":                        dbtManifest,
		"target/catalog.json":                         dbtCatalog,
		"target/run_results.json":                     dbtRunResults,
		"target/compiled/risk_dbt/models/a/x.sql":     "select 1",
		"target/run/risk_dbt/models/marts/x.sql":      "create or replace table x as select 1",
		"logs/dbt.log":                                "Running with dbt=1.8.7",
		"dbt_packages/dbt_utils/target/manifest.json": "not the project's manifest",
	})
}

// writeDBTExport writes the responses of one job run with a dbt_task:
// runs/list, runs/get and the task's runs/get-output, whose dbt_output
// holds link (none when empty).
func writeDBTExport(t *testing.T, dir, link string) {
	t.Helper()
	task := map[string]any{
		"run_id": dbtTaskRunID, "task_key": "dbt_build",
		"dbt_task": map[string]any{"commands": []string{"dbt deps", "dbt build"}, "catalog": "main", "schema": "risk_features",
			"warehouse_id": "7d1b4f5e2c9a8b3d", "source": "GIT"},
		"state":      map[string]any{"life_cycle_state": "TERMINATED", "result_state": "SUCCESS"},
		"start_time": 1732518300000, "end_time": 1732518370000,
	}
	run := map[string]any{
		"job_id": 550011223344553, "run_id": dbtJobRunID, "run_name": "risk_dbt_nightly", "run_type": "JOB_RUN",
		"state":      map[string]any{"life_cycle_state": "TERMINATED", "result_state": "SUCCESS"},
		"start_time": 1732518290000, "end_time": 1732518380000,
		"git_source": map[string]any{"git_url": "https://github.com/acmebank/risk-dbt", "git_provider": "gitHub", "git_branch": "main"},
		"tasks":      []any{task},
	}
	out := map[string]any{"metadata": map[string]any{"run_id": dbtTaskRunID, "job_id": 550011223344553}, "logs": "Running with dbt=1.8.7"}
	if link != "" {
		out["dbt_output"] = map[string]any{"artifacts_link": link, "artifacts_headers": map[string]string{
			"x-amz-server-side-encryption-customer-algorithm": "AES256",
			"x-amz-server-side-encryption-customer-key":       dbtSSECKey,
		}}
	}
	files := map[string]any{
		"connections.json":                              map[string]any{"connections": []any{}},
		"catalogs.json":                                 map[string]any{"catalogs": []any{}},
		"runs-list-1.json":                              map[string]any{"runs": []any{run}},
		fmt.Sprintf("run-%d.json", dbtJobRunID):         run,
		fmt.Sprintf("run-output-%d.json", dbtTaskRunID): out,
	}
	for name, v := range files {
		data, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// storage stands in for the cloud storage behind a presigned link.
type storage struct {
	mu       sync.Mutex
	status   int
	body     []byte
	requests int
	badAuth  bool // the request carried the workspace token or lacked the SSE-C headers
}

func (s *storage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	if r.Header.Get("Authorization") != "" || r.Header.Get("x-amz-server-side-encryption-customer-key") != dbtSSECKey ||
		r.URL.Query().Get("X-Amz-Signature") != dbtLinkSignature {
		s.badAuth = true
	}
	if s.status != http.StatusOK {
		// S3 echoes the request's signature in its error bodies.
		w.WriteHeader(s.status)
		fmt.Fprintf(w, "<Error><Code>AccessDenied</Code><SignatureProvided>%s</SignatureProvided></Error>", dbtLinkSignature)
		return
	}
	w.Write(s.body)
}

// logSink records what the SDK logs (every level).
type logSink struct {
	mu    sync.Mutex
	lines []string
}

func (l *logSink) Enabled(context.Context, logger.Level) bool { return true }
func (l *logSink) add(format string, v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, v...))
}
func (l *logSink) Tracef(_ context.Context, f string, v ...any) { l.add(f, v...) }
func (l *logSink) Debugf(_ context.Context, f string, v ...any) { l.add(f, v...) }
func (l *logSink) Infof(_ context.Context, f string, v ...any)  { l.add(f, v...) }
func (l *logSink) Warnf(_ context.Context, f string, v ...any)  { l.add(f, v...) }
func (l *logSink) Errorf(_ context.Context, f string, v ...any) { l.add(f, v...) }

// dbtOnline runs the extractor against a fake workspace whose dbt task
// output links to st. It returns the batches' graph and statements, the
// error, and everything written (dump, graph JSON, error, SDK log).
func dbtOnline(t *testing.T, st *storage, mod func(*Extractor)) (*graph.Graph, []extractors.Statement, error, string) {
	t.Helper()
	store := httptest.NewServer(st)
	t.Cleanup(store.Close)
	link := store.URL + "/dbfs-artifacts/4711000012345678/880033101/dbt_artifacts.tar.gz?X-Amz-Algorithm=AWS4-HMAC-SHA256" +
		"&X-Amz-Credential=AKIAFAKEEXAMPLE%2F20241125%2Feu-west-1%2Fs3%2Faws4_request&X-Amz-Expires=1800&X-Amz-Signature=" + dbtLinkSignature
	dir := t.TempDir()
	writeDBTExport(t, dir, link)
	_, srv := newFake(t, dir)
	e := onlineExtractor(t, srv.URL, func(c *Config) { c.WarehouseID = ""; c.IncludeQueryHistory = false; c.RetryTimeoutSeconds = 1 })
	if mod != nil {
		mod(e)
	}
	sink := &logSink{}
	ctx := logger.NewContext(context.Background(), sink)
	var bs []extractors.Batch
	err := e.Extract(ctx, func(b extractors.Batch) error { bs = append(bs, b); return nil })
	g, ss := merged(bs)

	var all strings.Builder
	all.WriteString(dump(g, ss))
	if err := graph.Encode(&all, g); err != nil {
		t.Fatal(err)
	}
	if err != nil {
		fmt.Fprintf(&all, "\nerror: %v\n%+v\n%#v\n", err, err, err)
	}
	sink.mu.Lock()
	logs := strings.Join(sink.lines, "\n")
	sink.mu.Unlock()
	if !strings.Contains(logs, "/api/2.2/jobs/runs/get-output") {
		t.Errorf("the SDK logged no get-output request: the log check below proves nothing")
	}
	all.WriteString(logs)
	for _, secret := range []string{link, store.URL + "/dbfs-artifacts", dbtLinkSignature, dbtSSECKey, "AKIAFAKEEXAMPLE"} {
		if strings.Contains(all.String(), secret) {
			t.Errorf("the artifacts link or a header leaks (%q) into the graph, statements, error or SDK log", secret)
		}
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.requests > 0 && st.badAuth {
		t.Errorf("the download did not send the link's own credentials only (workspace token, or missing artifacts_headers)")
	}
	return g, ss, err, all.String()
}

const dbtNS = "databricks://adb-4711.12.azuredatabricks.net"

func TestDBTTaskArtifacts(t *testing.T) {
	st := &storage{status: http.StatusOK, body: fullArchive(t)}
	g, ss, err, written := dbtOnline(t, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "dbt_task.golden", dump(g, ss))
	if !strings.Contains(written, `"artifacts_link": "REDACTED"`) {
		t.Errorf("the SDK's debug log of get-output does not show the scrubbed link")
	}

	stg := graph.DatasetID{Namespace: dbtNS, Name: "main.risk_features.stg_loans"}
	exp := graph.DatasetID{Namespace: dbtNS, Name: "main.risk_features.loan_exposure"}
	src := graph.DatasetID{Namespace: dbtNS, Name: "sf_analytics.marts.fct_loans"}
	for _, id := range []graph.DatasetID{stg, exp, src} {
		if g.Datasets[id] == nil {
			t.Errorf("no dataset %s", id)
		}
	}
	for _, e := range [][2]graph.DatasetID{{src, stg}, {stg, exp}} {
		if g.Edges[graph.EdgeID{From: e[0], To: e[1]}] == nil {
			t.Errorf("no edge %s -> %s", e[0], e[1])
		}
	}
	if d := g.Datasets[exp]; d == nil || len(d.Columns) != 2 || d.Columns[1].Name != "exposure" || d.Columns[1].Type != "decimal(38,2)" {
		t.Errorf("loan_exposure columns from catalog.json: %+v", g.Datasets[exp])
	}
	if len(ss) != 2 {
		t.Fatalf("statements = %d, want 2 (the two models)", len(ss))
	}
	for _, s := range ss {
		if s.Dialect != extractors.DialectDatabricks || s.Namespace != dbtNS || s.Origin.RunID != "880033101" || s.Origin.NodeID == "" ||
			s.DefaultDatabase != "main" || s.DefaultSchema != "risk_features" || s.FirstSeen.IsZero() {
			t.Errorf("statement %+v", s)
		}
	}
	// Linkage: dbt node run -> dbt invocation -> task run -> job run.
	inv := "7f3e2d1c-0b9a-4c8d-9e7f-6a5b4c3d2e1f"
	for run, parent := range map[string]string{
		inv + "/model.risk_dbt.loan_exposure": inv,
		inv:                                   "880033101",
		"880033101":                           "880033001",
	} {
		r := g.Runs[run]
		if r == nil || r.Parent != parent || r.Job.IsZero() || g.Runs[parent] == nil {
			t.Errorf("run %s: %+v, want parent %s (in the graph)", run, r, parent)
		}
	}
	if p := g.Runs["880033101"].Properties; p["dbt_artifacts"] != "read" || p["dbt_invocation_id"] != inv || p["dbt_project"] != "risk_dbt" {
		t.Errorf("task run properties %v", p)
	}
}

func TestDBTTaskArtifactsFailures(t *testing.T) {
	for _, tc := range []struct {
		name    string
		st      *storage
		limit   int64
		err     string // "" wants a finding
		finding string
	}{
		{name: "forbidden", st: &storage{status: http.StatusForbidden}, finding: "the artifacts link answered 403 Forbidden"},
		{name: "expired", st: &storage{status: http.StatusNotFound}, finding: "answered 404 Not Found"},
		{name: "no manifest", st: &storage{status: 200, body: []byte{}}, finding: "the archive has no manifest.json"},
		{name: "too large", st: &storage{status: 200}, limit: 1 << 10, finding: "over weft's limit of 1024 bytes"},
		{name: "not an archive", st: &storage{status: 200, body: []byte("<html>Sign in</html>")},
			err: "databricks run 880033101: dbt artifacts: the archive from the artifacts link: not a tar.gz archive"},
		{name: "truncated archive", st: &storage{status: 200}, err: "databricks run 880033101: dbt artifacts: the archive from the artifacts link: "},
		{name: "broken manifest", st: &storage{status: 200},
			err: "databricks run 880033101: dbt artifacts (the artifacts link): target/manifest.json:"},
		{name: "storage down", st: &storage{status: http.StatusInternalServerError},
			err: "databricks run 880033101: dbt artifacts: download: the artifacts link answered 500 Internal Server Error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			switch tc.name {
			case "no manifest":
				tc.st.body = dbtArchive(t, map[string]string{"logs/dbt.log": "Running with dbt=1.8.7"})
			case "too large":
				tc.st.body = fullArchive(t)
			case "truncated archive":
				a := fullArchive(t)
				tc.st.body = a[:len(a)/2]
			case "broken manifest":
				tc.st.body = dbtArchive(t, map[string]string{"target/manifest.json": dbtManifest[:400]})
			}
			g, _, err, _ := dbtOnline(t, tc.st, func(e *Extractor) {
				if tc.limit > 0 {
					e.artifactsLimit = tc.limit
				}
			})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v\nwant it to contain %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v, want a finding", err)
			}
			var got []string
			for _, f := range g.Findings {
				if f.Code == "dbt_artifacts_unavailable" {
					got = append(got, f.Location+": "+f.Message)
				}
			}
			if len(got) != 1 || !strings.Contains(got[0], tc.finding) || !strings.HasPrefix(got[0], "databricks run 880033101: task dbt_build: ") {
				t.Errorf("findings %q, want one containing %q", got, tc.finding)
			}
			if p := g.Runs["880033101"].Properties["dbt_artifacts"]; p != "unavailable" {
				t.Errorf("dbt_artifacts = %q, want unavailable", p)
			}
		})
	}
}

func TestDBTTaskArtifactsCancel(t *testing.T) {
	// Storage that never answers: cancelling the extraction stops the
	// download.
	block := make(chan struct{})
	store := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(block); store.Close() })
	dir := t.TempDir()
	writeDBTExport(t, dir, store.URL+"/a.tar.gz?sig="+dbtLinkSignature)
	_, srv := newFake(t, dir)
	e := onlineExtractor(t, srv.URL, func(c *Config) { c.WarehouseID = ""; c.IncludeQueryHistory = false })
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	err := e.Extract(ctx, func(extractors.Batch) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "context deadline exceeded") || strings.Contains(err.Error(), dbtLinkSignature) {
		t.Errorf("err = %v, want context deadline exceeded", err)
	}
}

// TestDBTTaskArtifactsOffline: an export holding the archive (or the
// unpacked folder) for the task run decodes to the same graph as the live
// download.
func TestDBTTaskArtifactsOffline(t *testing.T) {
	g, ss, err, _ := dbtOnline(t, &storage{status: http.StatusOK, body: fullArchive(t)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := dump(g, ss)
	for _, layout := range []string{"archive", "folder"} {
		t.Run(layout, func(t *testing.T) {
			dir := t.TempDir()
			writeDBTExport(t, dir, "") // exports keep no link
			name := filepath.Join(dir, fmt.Sprintf("dbt-artifacts-%d", dbtTaskRunID))
			if layout == "archive" {
				if err := os.WriteFile(name+".tar.gz", fullArchive(t), 0o644); err != nil {
					t.Fatal(err)
				}
			} else {
				for rel, s := range map[string]string{"target/manifest.json": dbtManifest, "target/catalog.json": dbtCatalog,
					"target/run_results.json": dbtRunResults, "logs/dbt.log": "x"} {
					p := filepath.Join(name, rel)
					if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			e, err := New(Config{Host: "https://adb-4711.12.azuredatabricks.net", Export: dir})
			if err != nil {
				t.Fatal(err)
			}
			og, oss := merged(collect(t, e))
			if got := dump(og, oss); got != want {
				t.Errorf("offline %s decodes differently from the download:\n%s", layout, got)
			}
		})
	}
}

func TestDBTTaskArtifactsExportErrors(t *testing.T) {
	for _, tc := range []struct{ name, file, content, err string }{
		{"bad name", "dbt-artifacts-x.tar.gz", "", "name must be dbt-artifacts-<task_run_id>.tar.gz"},
		{"not gzip", "dbt-artifacts-880033101.tar.gz", "hello", "dbt-artifacts-880033101.tar.gz: databricks run 880033101: dbt artifacts: not a tar.gz archive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeDBTExport(t, dir, "")
			if err := os.WriteFile(filepath.Join(dir, tc.file), []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
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

func TestScrubOutput(t *testing.T) {
	in := "< {\n<   \"dbt_output\": {\n<     \"artifacts_headers\": {\n<       \"k\": \"SECRETKEY\"\n<     },\n<     \"artifacts_link\": \"https://x/y?sig=SECRET\\\"more... (12 more bytes)\"\n<   }\n< }"
	got := scrubOutput(in)
	if strings.Contains(got, "SECRET") || !strings.Contains(got, `"artifacts_link": "REDACTED"`) {
		t.Errorf("scrubOutput:\n%s", got)
	}
}

// FuzzArtifactsArchive: any bytes give files or an error, never a panic,
// and nothing kept is over the limit.
func FuzzArtifactsArchive(f *testing.F) {
	a := fullArchive(f)
	f.Add(a)
	f.Add(a[:len(a)/2])
	f.Add(dbtArchive(f, map[string]string{"manifest.json": "{}"}))
	f.Add([]byte{0x1f, 0x8b})
	f.Fuzz(func(t *testing.T, data []byte) {
		const limit = 1 << 16
		found, err := readArtifactsArchive(bytes.NewReader(data), limit)
		if err != nil {
			return
		}
		for name, b := range found {
			if len(b) > limit {
				t.Errorf("%s: %d bytes kept, over the limit", name, len(b))
			}
		}
		pickArtifacts(found)
	})
}
