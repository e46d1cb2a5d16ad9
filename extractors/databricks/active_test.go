package databricks

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/databricks/databricks-sdk-go/service/jobs"
	"github.com/google/go-cmp/cmp"

	"github.com/weftdata/weft/extractors"
	"github.com/weftdata/weft/extractors/extractortest"
	"github.com/weftdata/weft/graph"
)

// The demo's second feature run, 880011002, started 2024-11-26 at
// 06:00:00.412 with one SQL task run, 880011102.
var (
	day          = time.Date(2024, 11, 26, 0, 0, 0, 0, time.UTC)
	featureStart = time.UnixMilli(1732600800412).UTC()
)

const (
	featureRun  = 880011002
	featureTask = "880011102"
)

// copyExport copies the demo export into dir, overwriting what a test
// changed there.
func copyExport(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(demoExport)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.IsDir() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(demoExport, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// editJSON rewrites a JSON object file through fn.
func editJSON(t *testing.T, path string, fn func(map[string]any)) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	fn(m)
	if data, err = json.MarshalIndent(m, "", "  "); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// markActive makes job run runID of the export in dir look as the Jobs API
// shows it while it runs: the life cycle state in state and status, no end
// time, its task runs alike and without output yet.
func markActive(t *testing.T, dir string, runID int64, state string) {
	t.Helper()
	active := func(r map[string]any) {
		r["state"] = map[string]any{"life_cycle_state": state, "state_message": "In run"}
		r["status"] = map[string]any{"state": state}
		delete(r, "end_time")
		delete(r, "run_duration")
	}
	lists, _ := filepath.Glob(filepath.Join(dir, "runs-list*.json"))
	for _, path := range lists {
		editJSON(t, path, func(m map[string]any) {
			for _, r := range m["runs"].([]any) {
				if r := r.(map[string]any); r["run_id"].(float64) == float64(runID) {
					active(r)
				}
			}
		})
	}
	editJSON(t, filepath.Join(dir, "run-"+itoa(runID)+".json"), func(m map[string]any) {
		active(m)
		for _, task := range m["tasks"].([]any) {
			task := task.(map[string]any)
			active(task)
			out := filepath.Join(dir, "run-output-"+strconv.FormatFloat(task["run_id"].(float64), 'f', -1, 64)+".json")
			if err := os.Remove(out); err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
		}
	})
}

// activeExtractor reads [from, to) from the fake, at time to.
func activeExtractor(t *testing.T, url string, from, to time.Time, mod func(*Config)) *Extractor {
	t.Helper()
	e := onlineExtractor(t, url, func(c *Config) {
		c.From, c.To, c.Chunk = from, to, 24*time.Hour
		if mod != nil {
			mod(c)
		}
	})
	e.now = func() time.Time { return to }
	return e
}

// statementsOf counts the statements of task run id in bs.
func statementsOf(bs []extractors.Batch, id string) int {
	n := 0
	for _, b := range bs {
		for _, s := range b.Statements {
			if s.Origin.RunID == id {
				n++
			}
		}
	}
	return n
}

// findings returns the codes of the findings of bs, in order.
func findings(bs []extractors.Batch) []string {
	var codes []string
	for _, b := range bs {
		if b.Graph != nil {
			for _, f := range b.Graph.Findings {
				codes = append(codes, f.Code)
			}
		}
	}
	return codes
}

// requested counts the fake's requests whose method and request URI are
// exactly url, then forgets all requests.
func (f *fakeDatabricks) requested(url string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, u := range f.urls {
		if u == url {
			n++
		}
	}
	return n
}

func (f *fakeDatabricks) forget() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests, f.urls = nil, nil
}

// noDuplicateStatements fails when a batch holds one statement twice.
func noDuplicateStatements(t *testing.T, bs []extractors.Batch) {
	t.Helper()
	for i, b := range bs {
		for j := range b.Statements {
			for k := j + 1; k < len(b.Statements); k++ {
				if cmp.Equal(b.Statements[j], b.Statements[k]) {
					t.Errorf("batch %d holds statement %s twice", i, b.Statements[j].Origin)
				}
			}
		}
	}
}

const getOutput = "GET /api/2.2/jobs/runs/get-output?run_id=" + featureTask

// TestActiveRunReadOnceFinished: a run still running holds the watermark
// at its start; the next extraction, resuming from that watermark, reads
// it once it has finished, and its SQL exactly once.
func TestActiveRunReadOnceFinished(t *testing.T) {
	dir := t.TempDir()
	copyExport(t, dir)
	markActive(t, dir, featureRun, "RUNNING")
	fake, srv := newFake(t, dir)

	bs1 := collect(t, activeExtractor(t, srv.URL, day.Add(-24*time.Hour), day.Add(12*time.Hour), nil))
	if got, want := watermarks(bs1), []time.Time{{}, day, featureStart}; !slices.EqualFunc(got, want, time.Time.Equal) {
		t.Fatalf("first extraction: watermarks = %v, want %v (the second chunk's held at the run's start)", got, want)
	}
	r := bs1[2].Graph.Runs[itoa(featureRun)]
	if r == nil || r.State != "" || !r.End.IsZero() || !r.Start.Equal(featureStart) {
		t.Errorf("first extraction: run = %+v, want it recorded without a state or end", r)
	}
	if tr := bs1[2].Graph.Runs[featureTask]; tr == nil || tr.State != "" {
		t.Errorf("first extraction: task run = %+v, want it recorded without a state", tr)
	}
	if n := statementsOf(bs1, featureTask); n != 0 {
		t.Errorf("first extraction: %d statements of the running task, want 0", n)
	}
	if n := statementsOf(bs1, "880011101"); n != 1 {
		t.Errorf("first extraction: %d statements of the day before's finished task, want 1", n)
	}
	if n := fake.requested(getOutput); n != 0 {
		t.Errorf("first extraction: %d get-output requests for the running task, want 0", n)
	}
	if got := findings(bs1[2:]); !slices.Contains(got, "run_active") || slices.Contains(got, "sql_text_unavailable") {
		t.Errorf("first extraction: findings %v, want run_active and no sql_text_unavailable", got)
	}

	// The run finishes; the next extraction resumes from the watermark, as
	// weft extract does.
	copyExport(t, dir)
	fake.forget()
	wm := bs1[len(bs1)-1].Watermark
	bs2 := collect(t, activeExtractor(t, srv.URL, wm, day.Add(18*time.Hour), nil))
	if got, want := watermarks(bs2), []time.Time{{}, day.Add(18 * time.Hour)}; !slices.EqualFunc(got, want, time.Time.Equal) {
		t.Fatalf("second extraction: watermarks = %v, want %v", got, want)
	}
	r = bs2[1].Graph.Runs[itoa(featureRun)]
	if r == nil || r.State != "SUCCESS" || r.End.IsZero() {
		t.Errorf("second extraction: run = %+v, want SUCCESS with an end", r)
	}
	if n := statementsOf(bs2, featureTask); n != 1 {
		t.Errorf("second extraction: %d statements of the finished task, want exactly 1", n)
	}
	if n := fake.requested(getOutput); n != 1 {
		t.Errorf("second extraction: %d get-output requests for the finished task, want 1", n)
	}
	if n := fake.requested("GET /api/2.2/jobs/runs/get?run_id=" + itoa(featureRun)); n != 1 {
		t.Errorf("second extraction: %d runs/get requests for the run, want 1", n)
	}
	if bs2[1].Graph.Runs["880011001"] != nil {
		t.Error("second extraction read the day before's run again: it started before the watermark")
	}
	if got := findings(bs2); slices.Contains(got, "run_active") {
		t.Errorf("second extraction: findings %v, want no run_active", got)
	}
	noDuplicateStatements(t, append(slices.Clone(bs1), bs2...))

	// Both extractions merge to what one extraction after the run finished
	// gives: the run's re-read lineage counts once (findings differ).
	g, ss := merged(append(bs1, bs2...))
	ss = slices.CompactFunc(ss, func(a, b extractors.Statement) bool { return cmp.Equal(a, b) })
	g.Findings = nil
	og, oss := merged(collect(t, activeExtractor(t, srv.URL, day.Add(-24*time.Hour), day.Add(18*time.Hour), nil)))
	og.Findings = nil
	if diff := cmp.Diff(dump(og, oss), dump(g, ss)); diff != "" {
		t.Errorf("two extractions around the run's end differ from one after it (-once +twice):\n%s", diff)
	}
}

// TestActiveRunContract runs the extractor contract over a window with a
// run that holds the watermark back.
func TestActiveRunContract(t *testing.T) {
	dir := t.TempDir()
	copyExport(t, dir)
	markActive(t, dir, featureRun, "QUEUED")
	_, srv := newFake(t, dir)
	extractortest.Run(t, func(t *testing.T) extractors.Extractor {
		return activeExtractor(t, srv.URL, day.Add(-24*time.Hour), day.Add(12*time.Hour), nil)
	})
}

// TestResumeFromOldWatermark: a watermark committed before runs could
// hold it back (a chunk's end) resumes as it always did.
func TestResumeFromOldWatermark(t *testing.T) {
	_, srv := newFake(t, demoExport)
	bs := collect(t, activeExtractor(t, srv.URL, day, day.Add(24*time.Hour), nil))
	if got, want := watermarks(bs), []time.Time{{}, day.Add(24 * time.Hour)}; !slices.EqualFunc(got, want, time.Time.Equal) {
		t.Fatalf("watermarks = %v, want %v", got, want)
	}
	var got []string
	for id := range bs[1].Graph.Runs {
		got = append(got, id)
	}
	slices.Sort(got)
	if want := []string{"880011002", "880011102", "880022002", "880022102"}; !slices.Equal(got, want) {
		t.Errorf("runs = %v, want %v (the day's job runs and their task runs)", got, want)
	}
	if n := statementsOf(bs, featureTask); n != 1 {
		t.Errorf("%d statements of %s, want 1", n, featureTask)
	}
}

// TestStuckRun: a run active for longer than max_run_wait no longer holds
// the watermark; it is logged and reported.
func TestStuckRun(t *testing.T) {
	dir := t.TempDir()
	copyExport(t, dir)
	markActive(t, dir, featureRun, "RUNNING")
	_, srv := newFake(t, dir)
	for _, tc := range []struct {
		name     string
		wait     time.Duration
		now      time.Time
		last     time.Time // the last batch's watermark
		finding  string
		severity string
		log      string
	}{
		{"young", 0, day.Add(12 * time.Hour), featureStart, "run_active", graph.SeverityInfo,
			"level=INFO msg=\"databricks run still active: the watermark stays at its start until it has finished\" run_id=880011002 job=jobs/550011223344551 state=RUNNING start=2024-11-26T06:00:00.412Z\n"},
		{"stuck past the default", 0, featureStart.Add(24*time.Hour + time.Second), day.Add(12 * time.Hour), "run_still_active", graph.SeverityWarning,
			"level=WARN msg=\"databricks run still active after max_run_wait: the watermark moves past it and the run is not read again\" run_id=880011002 job=jobs/550011223344551 state=RUNNING start=2024-11-26T06:00:00.412Z max_run_wait=24h0m0s\n"},
		{"exactly the default", 0, featureStart.Add(24 * time.Hour), featureStart, "run_active", graph.SeverityInfo, "level=INFO"},
		{"raised", 72 * time.Hour, day.Add(60 * time.Hour), featureStart, "run_active", graph.SeverityInfo, "level=INFO"},
		{"lowered", time.Hour, day.Add(12 * time.Hour), day.Add(12 * time.Hour), "run_still_active", graph.SeverityWarning, "max_run_wait=1h0m0s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logged bytes.Buffer
			e := activeExtractor(t, srv.URL, day.Add(-24*time.Hour), day.Add(12*time.Hour), func(c *Config) {
				c.MaxRunWait = tc.wait
				c.Logger = slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{
					ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
						if a.Key == slog.TimeKey {
							return slog.Attr{}
						}
						return a
					}}))
			})
			e.now = func() time.Time { return tc.now }
			bs := collect(t, e)
			if got, want := watermarks(bs), []time.Time{{}, day, tc.last}; !slices.EqualFunc(got, want, time.Time.Equal) {
				t.Errorf("watermarks = %v, want %v", got, want)
			}
			var got []graph.Finding
			for _, f := range bs[2].Graph.Findings {
				if strings.HasPrefix(f.Code, "run_") {
					got = append(got, f)
				}
			}
			if len(got) != 1 || got[0].Code != tc.finding || got[0].Severity != tc.severity ||
				got[0].Location != "databricks run 880011002" || got[0].Subject != "jobs/550011223344551" {
				t.Errorf("findings = %+v, want one %s %s", got, tc.severity, tc.finding)
			}
			if !strings.Contains(logged.String(), tc.log) {
				t.Errorf("log:\n%s\nwant it to contain %q", logged.String(), tc.log)
			}
		})
	}
	t.Run("message", func(t *testing.T) {
		e := activeExtractor(t, srv.URL, day, day.Add(12*time.Hour), nil)
		e.now = func() time.Time { return day.Add(40 * time.Hour) }
		bs := collect(t, e)
		i := slices.IndexFunc(bs[1].Graph.Findings, func(f graph.Finding) bool { return f.Code == "run_still_active" })
		if i < 0 {
			t.Fatal("no run_still_active finding")
		}
		want := "run of loan_feature_pipeline has been RUNNING since 2024-11-26T06:00:00Z, longer than max_run_wait (24h0m0s): " +
			"the watermark no longer waits for it, and what its unfinished tasks ran is not read " +
			"(raise max_run_wait for longer runs; to read it once it has finished, extract a window that covers its start, e.g. weft snapshot with from/to)"
		if got := bs[1].Graph.Findings[i].Message; got != want {
			t.Errorf("message:\n%s\nwant\n%s", got, want)
		}
	})
}

// TestRunListedTwice: runs/list pages shift when runs start during the
// listing, so a run can come twice; it is read once.
func TestRunListedTwice(t *testing.T) {
	dir := t.TempDir()
	copyExport(t, dir)
	data, err := os.ReadFile(filepath.Join(dir, "runs-list-2.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "runs-list-3.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	fake, srv := newFake(t, dir)
	bs := collect(t, activeExtractor(t, srv.URL, day.Add(-24*time.Hour), day.Add(24*time.Hour), nil))
	noDuplicateStatements(t, bs)
	if n := statementsOf(bs, "880011101"); n != 1 {
		t.Errorf("%d statements of task run 880011101 (listed twice), want 1", n)
	}
	if n := fake.requested("GET /api/2.2/jobs/runs/get?run_id=880011001"); n != 1 {
		t.Errorf("%d runs/get requests for run 880011001 (listed twice), want 1", n)
	}
}

// TestOfflineActiveRun: an export is read once and has no watermark; a
// run recorded while it ran is read as it is and reported.
func TestOfflineActiveRun(t *testing.T) {
	dir := t.TempDir()
	copyExport(t, dir)
	markActive(t, dir, featureRun, "RUNNING")
	e, err := New(Config{Host: "https://adb-4711.12.azuredatabricks.net", Export: dir})
	if err != nil {
		t.Fatal(err)
	}
	bs := collect(t, e)
	if got := watermarks(bs); len(got) != 2 || !got[0].IsZero() || !got[1].IsZero() {
		t.Errorf("watermarks = %v, want none", got)
	}
	if r := bs[1].Graph.Runs[itoa(featureRun)]; r == nil || r.State != "" {
		t.Errorf("run = %+v, want it without a state", r)
	}
	i := slices.IndexFunc(bs[1].Graph.Findings, func(f graph.Finding) bool { return f.Code == "run_active" })
	if i < 0 {
		t.Fatalf("findings %v, want run_active", findings(bs))
	}
	f := bs[1].Graph.Findings[i]
	want := "run of loan_feature_pipeline was RUNNING when exported: its tasks that had not finished have no output in the export (record the run again once it has finished)"
	if f.Severity != graph.SeverityInfo || f.Message != want {
		t.Errorf("finding = %+v, want info %q", f, want)
	}
}

func TestActiveState(t *testing.T) {
	for _, tc := range []struct {
		name   string
		state  *jobs.RunState
		status *jobs.RunStatus
		want   string
	}{
		{"nothing", nil, nil, ""},
		{"running", &jobs.RunState{LifeCycleState: "RUNNING"}, &jobs.RunStatus{State: "RUNNING"}, "RUNNING"},
		{"queued, status only", nil, &jobs.RunStatus{State: "QUEUED"}, "QUEUED"},
		{"pending, state only", &jobs.RunState{LifeCycleState: "PENDING"}, nil, "PENDING"},
		{"blocked", &jobs.RunState{LifeCycleState: "BLOCKED"}, &jobs.RunStatus{State: "BLOCKED"}, "BLOCKED"},
		{"waiting for retry", &jobs.RunState{LifeCycleState: "WAITING_FOR_RETRY"}, &jobs.RunStatus{State: "WAITING"}, "WAITING"},
		{"terminating", &jobs.RunState{LifeCycleState: "TERMINATING"}, nil, "TERMINATING"},
		{"unknown state is active", &jobs.RunState{LifeCycleState: "SOMETHING_NEW"}, nil, "SOMETHING_NEW"},
		{"terminated", &jobs.RunState{LifeCycleState: "TERMINATED", ResultState: "SUCCESS"}, &jobs.RunStatus{State: "TERMINATED"}, ""},
		{"skipped", &jobs.RunState{LifeCycleState: "SKIPPED"}, nil, ""},
		{"internal error", &jobs.RunState{LifeCycleState: "INTERNAL_ERROR"}, nil, ""},
		{"result without life cycle", &jobs.RunState{ResultState: "FAILED"}, nil, ""},
		{"status says terminated", &jobs.RunState{LifeCycleState: "RUNNING"}, &jobs.RunStatus{State: "TERMINATED"}, ""},
		{"state says terminated", &jobs.RunState{LifeCycleState: "TERMINATED"}, &jobs.RunStatus{State: "TERMINATING"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := activeState(tc.state, tc.status); got != tc.want {
				t.Errorf("activeState = %q, want %q", got, tc.want)
			}
			if st := runState(tc.state, tc.status); tc.want != "" && st != "" {
				t.Errorf("runState of an active run = %q, want empty", st)
			}
		})
	}
}
