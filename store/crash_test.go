//go:build unix

package store

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/weftdata/weft/graph"
)

// The crash test runs a scheduled-extraction workload in a child process
// (this test binary, re-executed) and kills it with SIGKILL at random
// points. After every kill the store must pass integrity_check; the child
// is then restarted and resumes from the watermark, as `weft extract` does.
// When it completes, the store must hold exactly the graph, at every point
// in time, of an uninterrupted run.

const (
	crashEnv   = "WEFT_STORE_CRASH_DB" // set in the child: the store to work on
	crashSteps = 30                    // hourly steps of the workload
	crashKills = 20                    // at least this many SIGKILLs
)

// crashWorkload runs the workload's steps from the one after the
// snowflake watermark to the end. Step k (1-based) happens at t0+k hours:
// it expires edges not seen for 6 hours, replaces the dbt manifest with
// version k, and commits Snowflake query-log batch k, advancing the
// watermark to t0+k hours in the same transaction. Each operation is
// idempotent, so redoing a step that was cut short converges.
func crashWorkload(ctx context.Context, s *Store) error {
	wm, ok, err := s.Watermark(ctx, "snowflake")
	if err != nil {
		return err
	}
	first := 1
	if ok {
		first = int(wm.Sub(t0)/time.Hour) + 1
	}
	for k := first; k <= crashSteps; k++ {
		at := t0.Add(time.Duration(k) * time.Hour)
		if _, err := s.Expire(ctx, at, 6*time.Hour); err != nil {
			return err
		}
		if _, err := s.ReplaceSource(ctx, "dbt", crashManifest(k), CommitOptions{Now: at}); err != nil {
			return err
		}
		if _, err := s.Commit(ctx, "snowflake", crashQueryLog(k, at), at, CommitOptions{Now: at}); err != nil {
			return err
		}
	}
	return nil
}

// crashManifest is version k of a dbt project whose models come and go.
func crashManifest(k int) *graph.Graph {
	g := graph.New()
	src := ds(sf, "RAW.S.SRC")
	g.AddDataset(graph.Dataset{ID: src, Platform: graph.Snowflake, Kind: graph.KindSource})
	for j := range 40 {
		if (j+k/3)%7 == 0 {
			continue // removed in this version
		}
		m := ds(sf, "A.M.M"+strconv.Itoa(j))
		g.AddDataset(graph.Dataset{ID: m, Platform: graph.Snowflake, Kind: graph.KindModel,
			Columns:    []graph.Column{{Name: "ID", Type: "NUMBER"}, {Name: "V" + strconv.Itoa(k%3)}},
			Properties: map[string]string{"unique_id": "model.p.m" + strconv.Itoa(j)}})
		up := src
		if j > 0 {
			up = ds(sf, "A.M.M"+strconv.Itoa(j-1))
		}
		ev := graph.Evidence{Extractor: "dbt", Origin: "model.p.m" + strconv.Itoa(j), Method: "depends_on"}
		g.AddEdge(up, m, ev)
		g.AddColumnEdge(graph.ColumnEdgeID{From: col(up, "ID"), To: col(m, "ID"), Type: graph.Direct, Subtype: graph.SubtypeIdentity}, ev)
	}
	return g
}

// crashQueryLog is Snowflake batch k: a sliding window of edges, each seen
// again for a while and then no more, with repeated query shapes.
func crashQueryLog(k int, at time.Time) *graph.Graph {
	g := graph.New()
	name := func(i int) graph.DatasetID { return ds(sf, "DB.S.T"+strconv.Itoa(i%1500)) }
	for i := k * 150; i < k*150+1500; i++ {
		from, to := name(i), name(i*7+1)
		if from == to {
			continue
		}
		shape := i % 300
		ev := graph.Evidence{Extractor: "snowflake", Origin: "shape " + strconv.Itoa(shape), Method: "parsed",
			Job:       graph.JobID{Namespace: sf, Name: "shape " + strconv.Itoa(shape)},
			FirstSeen: at.Add(-time.Duration(i%60) * time.Minute), LastSeen: at, Count: int64(k + i%5)}
		g.AddEdge(from, to, ev)
		if i%3 == 0 {
			g.AddColumnEdge(graph.ColumnEdgeID{From: col(from, "C"), To: col(to, "C"), Type: graph.Direct, Subtype: graph.SubtypeTransformation}, ev)
		}
	}
	g.AddJob(graph.Job{ID: graph.JobID{Namespace: sf, Name: "shape " + strconv.Itoa(k%300)}, Type: "snowflake_query", SQL: "select " + strconv.Itoa(k)})
	g.AddRun(graph.Run{ID: "run-" + strconv.Itoa(k), Job: graph.JobID{Namespace: sf, Name: "shape 1"}, State: "success", Start: at})
	return g
}

// TestCrashChild is the child process of TestCrashSafety; it does nothing
// in a normal test run.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("only runs as the child of TestCrashSafety")
	}
	ctx := t.Context()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := crashWorkload(ctx, s); err != nil {
		t.Fatal(err)
	}
}

func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a child process many times")
	}
	if os.Getenv(crashEnv) != "" {
		t.Skip("in the child")
	}
	ctx := t.Context()

	// The reference: the same workload, uninterrupted.
	ref, err := Open(ctx, filepath.Join(t.TempDir(), "ref.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	if err := crashWorkload(ctx, ref); err != nil {
		t.Fatal(err)
	}

	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	kills, rounds := 0, 0
	for kills < crashKills {
		rounds++
		path := filepath.Join(t.TempDir(), "crash.db")
		maxDelay := 40 * time.Millisecond
		lastWM := time.Time{}
		for {
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), crashEnv+"="+path)
			out := &limitedBuffer{max: 4096}
			cmd.Stdout, cmd.Stderr = out, out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			delay := time.Duration(rng.Int64N(int64(maxDelay)))
			var werr error
			killed := false
			select {
			case werr = <-done:
			case <-time.After(delay):
				if err := cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
					t.Fatal(err)
				}
				werr = <-done
				killed = isKilled(werr)
			}
			if !killed && werr != nil {
				t.Fatalf("child failed: %v\n%s", werr, out)
			}
			// Whatever happened, the store must be sound.
			s, err := Open(ctx, path)
			if err != nil {
				t.Fatalf("after kill %d: %v", kills, err)
			}
			if err := s.IntegrityCheck(ctx); err != nil {
				t.Fatalf("after kill %d: %v", kills, err)
			}
			wm, _, err := s.Watermark(ctx, "snowflake")
			if err != nil {
				t.Fatal(err)
			}
			if !killed {
				compareStores(t, ref, s)
				s.Close()
				break
			}
			s.Close()
			kills++
			// Let a child that keeps dying before its first commit live longer.
			if wm.Equal(lastWM) {
				maxDelay = min(2*maxDelay, 5*time.Second)
			} else {
				maxDelay = 40 * time.Millisecond
			}
			lastWM = wm
		}
	}
	t.Logf("%d kills in %d rounds", kills, rounds)
}

// compareStores checks that two stores hold the same graph at every step of
// the workload and the same counts.
func compareStores(t *testing.T, want, got *Store) {
	t.Helper()
	ctx := t.Context()
	times := []time.Time{{}}
	for k := 0; k <= crashSteps; k++ {
		times = append(times, t0.Add(time.Duration(k)*time.Hour), t0.Add(time.Duration(k)*time.Hour+time.Minute))
	}
	for _, at := range times {
		w, err := want.Graph(ctx, at)
		if err != nil {
			t.Fatal(err)
		}
		g, err := got.Graph(ctx, at)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(encode(t, w), encode(t, g)); diff != "" {
			t.Fatalf("graph as of %v differs from the uninterrupted run (-want +got):\n%s", at, diff)
		}
	}
	wc, err := want.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	gc, err := got.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wc, gc); diff != "" {
		t.Fatalf("counts differ from the uninterrupted run (-want +got):\n%s", diff)
	}
}

func isKilled(err error) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// limitedBuffer keeps the first max bytes written to it.
type limitedBuffer struct {
	b   []byte
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - len(l.b); room > 0 {
		l.b = append(l.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string { return string(l.b) }
