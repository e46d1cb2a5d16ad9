package extractortest

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weftdata/weft/extractors"
	"github.com/weftdata/weft/graph"
)

// fake is an extractor over fixed batches that breaks the contract in the
// ways its fields say.
type fake struct {
	batches func() []extractors.Batch // a fresh set per run

	retain   bool // make the batches once and emit them in every run
	retained []extractors.Batch

	ignoreCtx    bool          // never look at ctx
	slowOnCancel time.Duration // sleep this long before returning ctx.Err()
	emitAfter    bool          // emit the next batch even when ctx is cancelled
	wrapEmitErr  bool          // return fmt.Errorf("...%v") instead of emit's error
	keepGoing    bool          // ignore emit's errors
	varying      *int          // counts runs; when set, each run's statements differ
	varyGraph    bool          // with varying, each run's graphs differ instead
	closer       *closer       // when set, the extractor is an io.Closer
}

func (f *fake) Extract(ctx context.Context, emit func(extractors.Batch) error) error {
	checkCtx := func() error {
		if f.ignoreCtx || ctx.Err() == nil {
			return nil
		}
		time.Sleep(f.slowOnCancel)
		return ctx.Err()
	}
	if err := checkCtx(); err != nil {
		return err
	}
	run := 0
	if f.varying != nil {
		*f.varying++
		run = *f.varying
	}
	batches := f.retained
	if batches == nil && f.batches != nil {
		batches = f.batches()
	}
	if f.retain {
		f.retained = batches
	}
	for i, b := range batches {
		if i > 0 && !f.emitAfter {
			if err := checkCtx(); err != nil {
				return err
			}
		}
		switch {
		case run > 0 && f.varyGraph && b.Graph != nil:
			b.Graph = goodGraph(fmt.Sprint("run", run))
		case run > 0 && !f.varyGraph && len(b.Statements) > 0:
			b.Statements = append([]extractors.Statement(nil), b.Statements...)
			b.Statements[0].DefaultSchema = fmt.Sprint("run", run)
		}
		if err := emit(b); err != nil {
			switch {
			case f.keepGoing:
				continue
			case f.wrapEmitErr:
				return fmt.Errorf("fake: %v", err)
			}
			return err
		}
	}
	return checkCtx()
}

type closer struct {
	mu     sync.Mutex
	closed bool
	panics bool // a second Close panics
}

type fakeCloser struct {
	*fake
}

func (f fakeCloser) Close() error {
	c := f.closer
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed && c.panics {
		panic("close of closed channel")
	}
	c.closed = true
	return nil
}

func goodStatement(q string) extractors.Statement {
	return extractors.Statement{
		SQL:       "INSERT INTO a.b.c SELECT * FROM a.b.d",
		Dialect:   extractors.DialectSnowflake,
		Namespace: "snowflake://acme",
		Origin:    extractors.Origin{Extractor: "fake", QueryID: q},
	}
}

func goodGraph(origin string) *graph.Graph {
	g := graph.New()
	c := graph.DatasetID{Namespace: "snowflake://acme", Name: "A.B.C"}
	d := graph.DatasetID{Namespace: "snowflake://acme", Name: "A.B.D"}
	ev := graph.Evidence{Extractor: "fake", Origin: origin, Method: "access_history"}
	g.AddEdge(d, c, ev)
	g.AddColumnEdge(graph.ColumnEdgeID{
		From: graph.ColumnID{Dataset: d, Column: "X"}, To: graph.ColumnID{Dataset: c, Column: "X"},
		Type: graph.Direct, Subtype: graph.SubtypeIdentity,
	}, ev)
	return g
}

var t0 = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)

// goodBatches are three batches that keep the contract.
func goodBatches() []extractors.Batch {
	return []extractors.Batch{
		{Graph: goodGraph("meta")}, // metadata first: no watermark
		{Graph: goodGraph("q1"), Statements: []extractors.Statement{goodStatement("q1"), goodStatement("q2")}, Watermark: t0.Add(time.Hour)},
		{Statements: []extractors.Statement{goodStatement("q3")}, Watermark: t0.Add(2 * time.Hour)},
	}
}

// recorder is a reporter that records failures instead of failing.
type recorder struct {
	ctx  context.Context
	mu   sync.Mutex
	errs []string
	logs []string
}

func (r *recorder) Helper()                  {}
func (r *recorder) Context() context.Context { return r.ctx }
func (r *recorder) Logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logs = append(r.logs, fmt.Sprintf(format, args...))
}
func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// Fatalf records and stops the check's goroutine, as testing.T does.
func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

// runChecks runs every check against the extractors newFake makes and
// returns the failures by check name.
func runChecks(t *testing.T, timeout time.Duration, newFake func() extractors.Extractor) map[string][]string {
	t.Helper()
	got := map[string][]string{}
	for _, ch := range checks {
		r := &recorder{ctx: t.Context()}
		done := make(chan struct{})
		go func() {
			defer close(done)
			ch.fn(checker{timeout: timeout}, r, newFake)
		}()
		<-done
		if len(r.errs) > 0 {
			got[ch.name] = r.errs
		}
	}
	return got
}

func TestGoodExtractorPasses(t *testing.T) {
	for _, tc := range []struct {
		name string
		new  func() extractors.Extractor
	}{
		{"three batches", func() extractors.Extractor { return &fake{batches: goodBatches} }},
		{"one batch", func() extractors.Extractor {
			return &fake{batches: func() []extractors.Batch { return goodBatches()[1:2] }}
		}},
		{"closer", func() extractors.Extractor {
			return fakeCloser{&fake{batches: goodBatches, closer: &closer{}}}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := runChecks(t, time.Second, tc.new); len(got) > 0 {
				t.Errorf("failures for a good extractor: %q", got)
			}
		})
	}
}

// TestRunGood runs the exported entry point on a good extractor.
func TestRunGood(t *testing.T) {
	Run(t, func(*testing.T) extractors.Extractor { return &fake{batches: goodBatches} })
}

func TestViolationsReported(t *testing.T) {
	bad := func(edit func(bs []extractors.Batch)) func() []extractors.Batch {
		return func() []extractors.Batch {
			bs := goodBatches()
			edit(bs)
			return bs
		}
	}
	noEvidence := func() *graph.Graph {
		g := graph.New()
		id := graph.EdgeID{From: graph.DatasetID{Name: "x"}, To: graph.DatasetID{Name: "y"}}
		g.Edges[id] = &graph.Edge{EdgeID: id}
		return g
	}
	for _, tc := range []struct {
		name string
		new  func() extractors.Extractor
		// want maps a check to a substring of its first failure; checks
		// not listed must pass
		want map[string]string
	}{
		{
			name: "ignores ctx",
			new:  func() extractors.Extractor { return &fake{batches: goodBatches, ignoreCtx: true} },
			want: map[string]string{
				"Cancelled":       "on a cancelled ctx emitted 3 batches",
				"CancelledMidRun": "emitted 2 more batches after ctx was cancelled",
			},
		},
		{
			name: "slow to notice cancellation",
			new: func() extractors.Extractor {
				return &fake{batches: goodBatches, slowOnCancel: 300 * time.Millisecond}
			},
			want: map[string]string{
				"Cancelled":       "did not return within",
				"CancelledMidRun": "did not return within",
			},
		},
		{
			name: "emits after cancel",
			new:  func() extractors.Extractor { return &fake{batches: goodBatches, emitAfter: true} },
			want: map[string]string{"CancelledMidRun": "emitted 2 more batches"},
		},
		{
			name: "nondeterministic",
			new:  func() extractors.Extractor { return &fake{batches: goodBatches, varying: new(int)} },
			want: map[string]string{"Deterministic": "a second run of the same extractor differs from the first run: batch 1: statement 0 (fake query q1)"},
		},
		{
			name: "nondeterministic graph",
			new:  func() extractors.Extractor { return &fake{batches: goodBatches, varying: new(int), varyGraph: true} },
			want: map[string]string{"Deterministic": `batch 0: graph (-first +then):`},
		},
		{
			name: "different batch count",
			new: func() extractors.Extractor {
				n := 0
				return &extractFunc{func(ctx context.Context, emit func(extractors.Batch) error) error {
					n++
					return (&fake{batches: func() []extractors.Batch { return goodBatches()[:min(n, 3)] }}).Extract(ctx, emit)
				}}
			},
			want: map[string]string{"Deterministic": "1 batches, then 2"},
		},
		{
			name: "retains its batches",
			new:  func() extractors.Extractor { return &fake{batches: goodBatches, retain: true} },
			want: map[string]string{"NotRetained": "Extract retains batches: changing a run's batches after emit returned changed the next run's: batch 0: graph"},
		},
		{
			name: "batches share a graph",
			new: func() extractors.Extractor {
				return &fake{batches: bad(func(bs []extractors.Batch) { bs[2].Graph = bs[1].Graph })}
			},
			want: map[string]string{"NotRetained": "batches share data: changing a batch after emit returned changed a later batch of the same run: batch 2: graph"},
		},
		{
			name: "batches share statements",
			new: func() extractors.Extractor {
				return &fake{batches: bad(func(bs []extractors.Batch) { bs[2].Statements = bs[1].Statements[1:] })}
			},
			want: map[string]string{"NotRetained": "batch 2: statement 0 (fake query q2)"},
		},
		{
			name: "statement without origin extractor",
			new: func() extractors.Extractor {
				return &fake{batches: bad(func(bs []extractors.Batch) { bs[1].Statements[1].Origin.Extractor = "" })}
			},
			want: map[string]string{"Statements": "1 statements with no Origin.Extractor:\n\tbatch 1 statement 1"},
		},
		{
			name: "statement without location",
			new: func() extractors.Extractor {
				return &fake{batches: bad(func(bs []extractors.Batch) { bs[2].Statements[0].Origin = extractors.Origin{Extractor: "fake"} })}
			},
			want: map[string]string{"Statements": "an Origin without File, NodeID, QueryID or RunID:\n\tbatch 2 statement 0"},
		},
		{
			name: "unknown dialect",
			new: func() extractors.Extractor {
				return &fake{batches: bad(func(bs []extractors.Batch) { bs[1].Statements[0].Dialect = "tsql" })}
			},
			want: map[string]string{"Statements": `a Dialect sqlparse does not know (known: bigquery, databricks, postgres, snowflake):
	batch 1 statement 0 (fake query q1): "tsql"`},
		},
		{
			name: "empty dialect",
			new: func() extractors.Extractor {
				return &fake{batches: bad(func(bs []extractors.Batch) { bs[1].Statements[0].Dialect = "" })}
			},
			want: map[string]string{"Statements": `batch 1 statement 0 (fake query q1): ""`},
		},
		{
			name: "no namespace",
			new: func() extractors.Extractor {
				return &fake{batches: bad(func(bs []extractors.Batch) { bs[1].Statements[0].Namespace = "" })}
			},
			want: map[string]string{"Statements": "no Namespace"},
		},
		{
			name: "blank SQL",
			new: func() extractors.Extractor {
				return &fake{batches: bad(func(bs []extractors.Batch) { bs[2].Statements[0].SQL = " \n\t" })}
			},
			want: map[string]string{"Statements": "1 statements with empty SQL:\n\tbatch 2 statement 0 (fake query q3)"},
		},
		{
			name: "many bad statements are capped",
			new: func() extractors.Extractor {
				return &fake{batches: bad(func(bs []extractors.Batch) {
					for i := range 25 {
						s := goodStatement(fmt.Sprint("q", i))
						s.SQL = ""
						bs[2].Statements = append(bs[2].Statements, s)
					}
				})}
			},
			want: map[string]string{"Statements": "(and 15 more)"},
		},
		{
			name: "evidence without extractor",
			new: func() extractors.Extractor {
				return &fake{batches: bad(func(bs []extractors.Batch) {
					for _, e := range bs[0].Graph.ColumnEdges {
						e.Evidence[0].Extractor = ""
					}
				})}
			},
			want: map[string]string{"Evidence": `1 edges with Evidence without Extractor:
	batch 0 column edge snowflake://acme/A.B.D.X -> snowflake://acme/A.B.C.X DIRECT/IDENTITY (origin "meta")`},
		},
		{
			name: "evidence without origin",
			new: func() extractors.Extractor {
				return &fake{batches: bad(func(bs []extractors.Batch) {
					for _, e := range bs[1].Graph.Edges {
						e.Evidence[0].Origin = ""
					}
				})}
			},
			want: map[string]string{"Evidence": `1 edges with Evidence without Origin:
	batch 1 edge snowflake://acme/A.B.D -> snowflake://acme/A.B.C (extractor "fake")`},
		},
		{
			name: "edge without evidence",
			new: func() extractors.Extractor {
				return &fake{batches: bad(func(bs []extractors.Batch) { bs[2].Graph = noEvidence() })}
			},
			want: map[string]string{"Evidence": "1 edges with no Evidence:\n\tbatch 2 edge /x -> /y"},
		},
		{
			name: "watermark goes back",
			new: func() extractors.Extractor {
				return &fake{batches: bad(func(bs []extractors.Batch) { bs[2].Watermark = t0 })}
			},
			want: map[string]string{"Watermarks": "batch 2: watermark 2025-03-01T00:00:00Z goes back before batch 1's 2025-03-01T01:00:00Z"},
		},
		{
			name: "wraps emit's error without %w",
			new:  func() extractors.Extractor { return &fake{batches: goodBatches, wrapEmitErr: true} },
			want: map[string]string{"EmitError": `Extract returned fake: extractortest: emit failed, want emit's error`},
		},
		{
			name: "goes on after emit's error",
			new:  func() extractors.Extractor { return &fake{batches: goodBatches, keepGoing: true} },
			want: map[string]string{"EmitError": "called emit 2 times after emit returned an error"},
		},
		{
			name: "close panics the second time",
			new: func() extractors.Extractor {
				return fakeCloser{&fake{batches: goodBatches, closer: &closer{panics: true}}}
			},
			want: map[string]string{"Close": "unused: second Close: panic: close of closed channel"},
		},
		{
			name: "no output",
			new:  func() extractors.Extractor { return &fake{} },
			want: map[string]string{
				"CancelledMidRun": "emitted no batch",
				"Deterministic":   "emitted no batch",
				"NotRetained":     "emitted no batch",
				"Statements":      "emitted no batch",
				"Evidence":        "emitted no batch",
				"Watermarks":      "emitted no batch",
				"EmitError":       "emitted no batch",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := runChecks(t, 100*time.Millisecond, tc.new)
			for _, ch := range checks {
				want, errs := tc.want[ch.name], got[ch.name]
				switch {
				case want == "" && len(errs) > 0:
					t.Errorf("%s: unexpected failures: %q", ch.name, errs)
				case want != "" && len(errs) == 0:
					t.Errorf("%s: no failure reported, want one containing %q", ch.name, want)
				case want != "" && !strings.Contains(errs[0], want):
					t.Errorf("%s: failure %q\ndoes not contain %q", ch.name, errs[0], want)
				}
			}
		})
	}
}

// TestEmitErrorWrapped: wrapping emit's error with %w is allowed.
func TestEmitErrorWrapped(t *testing.T) {
	newE := func() extractors.Extractor {
		f := &fake{batches: goodBatches}
		return &extractFunc{func(ctx context.Context, emit func(extractors.Batch) error) error {
			if err := f.Extract(ctx, emit); err != nil {
				return fmt.Errorf("wrapper: %w", err)
			}
			return nil
		}}
	}
	if got := runChecks(t, time.Second, newE); len(got) > 0 {
		t.Errorf("failures: %q", got)
	}
}

type extractFunc struct {
	fn func(ctx context.Context, emit func(extractors.Batch) error) error
}

func (e *extractFunc) Extract(ctx context.Context, emit func(extractors.Batch) error) error {
	return e.fn(ctx, emit)
}
