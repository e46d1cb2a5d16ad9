// Package extractortest checks the contract every weft extractor promises
// (see package extractors). An extractor's tests call Run with a
// constructor over a fixture that yields some output:
//
//	func TestContract(t *testing.T) {
//		extractortest.Run(t, func(t *testing.T) extractors.Extractor {
//			e, err := dbt.New(dbt.Config{Manifest: "testdata/acme_risk/manifest.json"})
//			if err != nil {
//				t.Fatal(err)
//			}
//			return e
//		})
//	}
//
// Run checks, each in its own subtest with a fresh extractor:
//
//   - Cancelled: Extract on an already-cancelled ctx returns ctx.Err()
//     (errors.Is context.Canceled) within Timeout without calling emit.
//   - CancelledMidRun: when the source yields two or more batches,
//     cancelling ctx inside the first emit makes Extract return
//     context.Canceled within Timeout, without emitting again.
//   - Deterministic: two runs of one extractor and one run of a fresh one
//     give the same batches: the same count, watermarks, graphs (compared
//     as graph.Encode output) and statements (compared field by field).
//   - NotRetained: changing a batch once emit has returned (its
//     statements, the datasets, jobs, runs, evidence and findings of its
//     graph) changes neither a later batch nor the next run: batches share
//     nothing with each other or with the extractor.
//   - Statements: every Statement has an Origin with an Extractor and a
//     location (File, NodeID, QueryID or RunID), a Dialect that sqlparse
//     understands (one of the extractors.Dialect* constants), a Namespace
//     and non-blank SQL.
//   - Evidence: every Evidence on the batch graphs' table and column edges
//     names its Extractor and Origin.
//   - Watermarks: the non-zero watermarks never go backwards.
//   - EmitError: an error returned by emit stops the run (emit is not
//     called again) and comes back from Extract (errors.Is).
//   - Close: an extractor that implements io.Closer closes without error,
//     twice, both unused and after a run.
//
// Run fails the test if the fixture yields no batch at all: the checks
// would prove nothing.
package extractortest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/weftdata/weft/extractors"
	"github.com/weftdata/weft/graph"
)

// Timeout bounds how long Extract may take to return once its ctx is
// cancelled. It is generous because tests share busy CI machines; an
// extractor that ignores ctx misses it by far.
const Timeout = 2 * time.Second

// maxReports caps the failures one check reports per rule, so that a
// fixture with thousands of bad statements stays readable.
const maxReports = 10

// reporter is the part of *testing.T the checks use; the package's own
// tests pass a recorder.
type reporter interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
	Context() context.Context
}

// check is one rule of the contract.
type check struct {
	name string
	fn   func(c checker, t reporter, newExtractor func() extractors.Extractor)
}

// checker holds the settings of a run of the checks.
type checker struct {
	timeout time.Duration
}

var checks = []check{
	{"Cancelled", checker.cancelled},
	{"CancelledMidRun", checker.cancelledMidRun},
	{"Deterministic", checker.deterministic},
	{"NotRetained", checker.notRetained},
	{"Statements", checker.statements},
	{"Evidence", checker.evidence},
	{"Watermarks", checker.watermarks},
	{"EmitError", checker.emitError},
	{"Close", checker.close},
}

// Run checks the extractor contract in subtests, calling newExtractor for
// a fresh extractor in each (it may call t.Fatal). The source must yield
// at least one batch; one that yields several also gets its mid-run
// cancellation checked.
func Run(t *testing.T, newExtractor func(t *testing.T) extractors.Extractor) {
	t.Helper()
	c := checker{timeout: Timeout}
	for _, ch := range checks {
		t.Run(ch.name, func(t *testing.T) {
			ch.fn(c, t, func() extractors.Extractor { return newExtractor(t) })
		})
	}
}

// result is what one Extract call did.
type result struct {
	batches []extractors.Batch
	err     error
}

// extract runs e to the end with a fresh ctx and fails the test on error.
func extract(t reporter, e extractors.Extractor) []extractors.Batch {
	t.Helper()
	var bs []extractors.Batch
	err := e.Extract(t.Context(), func(b extractors.Batch) error {
		bs = append(bs, b)
		return nil
	})
	if err != nil {
		t.Fatalf("Extract: %v", err)
	}
	return bs
}

// extractSome runs e and fails the test unless it yields a batch.
func extractSome(t reporter, e extractors.Extractor) []extractors.Batch {
	t.Helper()
	bs := extract(t, e)
	if len(bs) == 0 {
		t.Fatalf("Extract emitted no batch: give extractortest.Run a fixture with some output")
	}
	return bs
}

// extractAsync runs Extract in a goroutine so that one ignoring ctx
// cannot hang the test. emit runs there too and must not call t.
func extractAsync(ctx context.Context, e extractors.Extractor, emit func(extractors.Batch) error) <-chan result {
	done := make(chan result, 1)
	go func() {
		var r result
		r.err = e.Extract(ctx, func(b extractors.Batch) error {
			r.batches = append(r.batches, b)
			return emit(b)
		})
		done <- r
	}()
	return done
}

func (c checker) cancelled(t reporter, newExtractor func() extractors.Extractor) {
	t.Helper()
	e := newExtractor()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	select {
	case r := <-extractAsync(ctx, e, func(extractors.Batch) error { return nil }):
		if len(r.batches) > 0 {
			t.Errorf("Extract on a cancelled ctx emitted %d batches, want none", len(r.batches))
		}
		if !errors.Is(r.err, context.Canceled) {
			t.Errorf("Extract on a cancelled ctx returned %v, want ctx.Err() (context.Canceled)", r.err)
		}
	case <-time.After(c.timeout):
		t.Fatalf("Extract on a cancelled ctx did not return within %v", c.timeout)
	}
}

func (c checker) cancelledMidRun(t reporter, newExtractor func() extractors.Extractor) {
	t.Helper()
	e := newExtractor()
	if n := len(extractSome(t, e)); n < 2 {
		t.Logf("the source yields %d batch: no mid-run cancellation to check", n)
		return
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var (
		mu        sync.Mutex
		cancelled time.Time
		after     int
	)
	done := extractAsync(ctx, e, func(extractors.Batch) error {
		mu.Lock()
		defer mu.Unlock()
		if cancelled.IsZero() {
			cancelled = time.Now()
			cancel()
		} else {
			after++
		}
		return nil
	})
	select {
	case r := <-done:
		if after > 0 {
			t.Errorf("Extract emitted %d more batches after ctx was cancelled in the first emit", after)
		}
		if !errors.Is(r.err, context.Canceled) {
			t.Errorf("Extract cancelled in the first emit returned %v, want ctx.Err() (context.Canceled)", r.err)
		}
	case <-time.After(c.timeout):
		// Extract is still running: cancel happened at the first emit, at
		// most c.timeout ago.
		t.Fatalf("Extract did not return within %v of ctx being cancelled in the first emit", c.timeout)
	}
}

func (c checker) deterministic(t reporter, newExtractor func() extractors.Extractor) {
	t.Helper()
	e := newExtractor()
	first := snapshots(t, e, false)
	for _, run := range []struct {
		name string
		e    extractors.Extractor
	}{
		{"a second run of the same extractor", e},
		{"a run of a fresh extractor", newExtractor()},
	} {
		if diff := diffSnapshots(first, snapshots(t, run.e, false)); diff != "" {
			t.Errorf("%s differs from the first run: %s", run.name, diff)
		}
	}
}

func (c checker) notRetained(t reporter, newExtractor func() extractors.Extractor) {
	t.Helper()
	e := newExtractor()
	clean := snapshots(t, e, false)
	shared := diffSnapshots(clean, snapshots(t, e, true))
	retained := diffSnapshots(clean, snapshots(t, e, false))
	if shared == "" && retained == "" {
		return
	}
	// Two untouched runs of a fresh extractor tell retention from
	// nondeterminism.
	f := newExtractor()
	if diffSnapshots(snapshots(t, f, false), snapshots(t, f, false)) != "" {
		t.Logf("runs differ even untouched (see Deterministic): cannot tell whether batches are retained")
		return
	}
	if shared != "" {
		t.Errorf("batches share data: changing a batch after emit returned changed a later batch of the same run: %s", shared)
	}
	if retained != "" {
		t.Errorf("Extract retains batches: changing a run's batches after emit returned changed the next run's: %s", retained)
	}
}

// snapshot is a batch as it was when emit received it.
type snapshot struct {
	watermark  time.Time
	graph      string // graph.Encode output
	statements []extractors.Statement
}

// snapshots runs e to the end and records each batch as emit receives it.
// With scribble, it then overwrites the batch, as a caller may once emit
// has returned.
func snapshots(t reporter, e extractors.Extractor, scribble bool) []snapshot {
	t.Helper()
	var ss []snapshot
	var encErr error
	err := e.Extract(t.Context(), func(b extractors.Batch) error {
		s := snapshot{watermark: b.Watermark, graph: "<nil>", statements: slices.Clone(b.Statements)}
		if b.Graph != nil {
			var buf bytes.Buffer
			if err := graph.Encode(&buf, b.Graph); err != nil && encErr == nil {
				encErr = err
			}
			s.graph = buf.String()
		}
		ss = append(ss, s)
		if scribble {
			scribbleOver(b)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Extract: %v", err)
	}
	if encErr != nil {
		t.Fatalf("encode a batch graph: %v", encErr)
	}
	if len(ss) == 0 {
		t.Fatalf("Extract emitted no batch: give extractortest.Run a fixture with some output")
	}
	return ss
}

// scribbled marks what scribbleOver wrote.
const scribbled = "scribbled over by extractortest"

// scribbleOver changes everything a caller could change in b: its
// statements, the objects its graph points to, and the graph's maps.
func scribbleOver(b extractors.Batch) {
	for i := range b.Statements {
		b.Statements[i].SQL = scribbled
	}
	g := b.Graph
	if g == nil {
		return
	}
	for _, d := range g.Datasets {
		d.Description = scribbled
		for i := range d.Columns {
			d.Columns[i].Description = scribbled
		}
	}
	for _, j := range g.Jobs {
		j.SQL = scribbled
	}
	for _, r := range g.Runs {
		r.State = scribbled
	}
	for _, e := range g.Edges {
		for i := range e.Evidence {
			e.Evidence[i].Method = scribbled
		}
	}
	for _, e := range g.ColumnEdges {
		for i := range e.Evidence {
			e.Evidence[i].Method = scribbled
		}
	}
	for i := range g.Findings {
		g.Findings[i].Message = scribbled
	}
	id := graph.DatasetID{Namespace: "extractortest://", Name: scribbled}
	g.Datasets[id] = &graph.Dataset{ID: id, Kind: graph.KindTable}
}

// diffSnapshots describes the first difference between two runs, or
// returns "".
func diffSnapshots(a, b []snapshot) string {
	if len(a) != len(b) {
		return fmt.Sprintf("%d batches, then %d", len(a), len(b))
	}
	for i := range a {
		if !a[i].watermark.Equal(b[i].watermark) {
			return fmt.Sprintf("batch %d: watermark %v, then %v", i, a[i].watermark, b[i].watermark)
		}
		if a[i].graph != b[i].graph {
			return fmt.Sprintf("batch %d: graph (-first +then):\n%s", i, cmp.Diff(a[i].graph, b[i].graph))
		}
		sa, sb := a[i].statements, b[i].statements
		if len(sa) != len(sb) {
			return fmt.Sprintf("batch %d: %d statements, then %d", i, len(sa), len(sb))
		}
		for j := range sa {
			if diff := cmp.Diff(sa[j], sb[j]); diff != "" {
				return fmt.Sprintf("batch %d: statement %d (%s) (-first +then):\n%s", i, j, sa[j].Origin, diff)
			}
		}
	}
	return ""
}

// dialects are the dialect names sqlparse understands, as extractors spell
// them.
var dialects = []string{
	extractors.DialectBigQuery,
	extractors.DialectDatabricks,
	extractors.DialectPostgres,
	extractors.DialectSnowflake,
}

func (c checker) statements(t reporter, newExtractor func() extractors.Extractor) {
	t.Helper()
	var rs reports
	for i, b := range extractSome(t, newExtractor()) {
		for j, s := range b.Statements {
			at := fmt.Sprintf("batch %d statement %d (%s)", i, j, s.Origin)
			o := s.Origin
			if o.Extractor == "" {
				rs.add("no Origin.Extractor", at)
			}
			if o.File == "" && o.NodeID == "" && o.QueryID == "" && o.RunID == "" {
				rs.add("an Origin without File, NodeID, QueryID or RunID", at)
			}
			if !slices.Contains(dialects, s.Dialect) {
				rs.add(fmt.Sprintf("a Dialect sqlparse does not know (known: %s)", strings.Join(dialects, ", ")),
					fmt.Sprintf("%s: %q", at, s.Dialect))
			}
			if s.Namespace == "" {
				rs.add("no Namespace", at)
			}
			if strings.TrimSpace(s.SQL) == "" {
				rs.add("empty SQL", at)
			}
		}
	}
	rs.report(t, "statements with")
}

func (c checker) evidence(t reporter, newExtractor func() extractors.Extractor) {
	t.Helper()
	var rs reports
	for i, b := range extractSome(t, newExtractor()) {
		if b.Graph == nil {
			continue
		}
		// edges come from maps: sort what is found
		var found [][2]string // rule, where
		for id, e := range b.Graph.Edges {
			at := fmt.Sprintf("batch %d edge %s -> %s", i, id.From, id.To)
			found = evidenceRules(found, at, e.Evidence)
		}
		for id, e := range b.Graph.ColumnEdges {
			at := fmt.Sprintf("batch %d column edge %s -> %s %s/%s", i, id.From, id.To, id.Type, id.Subtype)
			found = evidenceRules(found, at, e.Evidence)
		}
		slices.SortFunc(found, func(a, b [2]string) int { return strings.Compare(a[1], b[1]) })
		for _, f := range found {
			rs.add(f[0], f[1])
		}
	}
	rs.report(t, "edges with")
}

// evidenceRules appends the rules that the evidence of the edge at
// breaks.
func evidenceRules(found [][2]string, at string, evs []graph.Evidence) [][2]string {
	if len(evs) == 0 {
		found = append(found, [2]string{"no Evidence", at})
	}
	for _, ev := range evs {
		if ev.Extractor == "" {
			found = append(found, [2]string{"Evidence without Extractor", fmt.Sprintf("%s (origin %q)", at, ev.Origin)})
		}
		if ev.Origin == "" {
			found = append(found, [2]string{"Evidence without Origin", fmt.Sprintf("%s (extractor %q)", at, ev.Extractor)})
		}
	}
	return found
}

func (c checker) watermarks(t reporter, newExtractor func() extractors.Extractor) {
	t.Helper()
	var last time.Time
	lastAt := -1
	for i, b := range extractSome(t, newExtractor()) {
		if b.Watermark.IsZero() {
			continue
		}
		if lastAt >= 0 && b.Watermark.Before(last) {
			t.Errorf("batch %d: watermark %v goes back before batch %d's %v",
				i, b.Watermark.Format(time.RFC3339Nano), lastAt, last.Format(time.RFC3339Nano))
		}
		last, lastAt = b.Watermark, i
	}
}

// errEmit is what emit returns in the EmitError check.
var errEmit = errors.New("extractortest: emit failed")

func (c checker) emitError(t reporter, newExtractor func() extractors.Extractor) {
	t.Helper()
	e := newExtractor()
	n := 0
	err := e.Extract(t.Context(), func(extractors.Batch) error {
		n++
		return errEmit
	})
	if n == 0 {
		t.Fatalf("Extract emitted no batch (returned %v): give extractortest.Run a fixture with some output", err)
	}
	if n > 1 {
		t.Errorf("Extract called emit %d times after emit returned an error, want it to stop", n-1)
	}
	if !errors.Is(err, errEmit) {
		t.Errorf("Extract returned %v, want emit's error %q unchanged", err, errEmit)
	}
}

func (c checker) close(t reporter, newExtractor func() extractors.Extractor) {
	t.Helper()
	e := newExtractor()
	if _, ok := e.(io.Closer); !ok {
		t.Logf("%T does not implement io.Closer: nothing to check", e)
		return
	}
	closeTwice(t, "unused", e)
	e = newExtractor()
	extract(t, e)
	closeTwice(t, "after a run", e)
}

func closeTwice(t reporter, when string, e extractors.Extractor) {
	t.Helper()
	cl := e.(io.Closer)
	for _, nth := range []string{"first", "second"} {
		err := func() (err error) {
			defer func() {
				if p := recover(); p != nil {
					err = fmt.Errorf("panic: %v", p)
				}
			}()
			return cl.Close()
		}()
		if err != nil {
			t.Errorf("%s: %s Close: %v", when, nth, err)
		}
	}
}

// reports gathers failures by rule so that each rule reports its first
// few occurrences and a count.
type reports struct {
	rules []string
	at    map[string][]string
}

func (rs *reports) add(rule, at string) {
	if rs.at == nil {
		rs.at = map[string][]string{}
	}
	if _, ok := rs.at[rule]; !ok {
		rs.rules = append(rs.rules, rule)
	}
	rs.at[rule] = append(rs.at[rule], at)
}

func (rs *reports) report(t reporter, what string) {
	t.Helper()
	for _, rule := range rs.rules {
		at := rs.at[rule]
		shown := at[:min(len(at), maxReports)]
		more := ""
		if len(at) > len(shown) {
			more = fmt.Sprintf("\n\t(and %d more)", len(at)-len(shown))
		}
		t.Errorf("%d %s %s:\n\t%s%s", len(at), what, rule, strings.Join(shown, "\n\t"), more)
	}
}
