package main

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/weftdata/weft/store"
)

// childEnv makes the test binary run as weft (see TestMain), so that the
// crash test can kill a real weft process without building one.
const childEnv = "WEFT_TEST_RUN_AS_WEFT"

// minKills is how many times TestExtractCrash must kill weft extract while
// it runs.
const minKills = 20

// TestExtractCrash kills "weft extract" on the demo with SIGKILL at random
// points, at least minKills times, into one store. After every kill the
// store must pass SQLite's integrity check; after a final uninterrupted
// run, its graph must equal that of one clean run.
func TestExtractCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("kills weft extract 20+ times (a few seconds); skipped with -short")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skip("cannot re-execute the test binary:", err)
	}
	dir := t.TempDir()
	child := func(db string) *exec.Cmd {
		cmd := exec.Command(exe, append(slices.Clone(demoArgs), "--store", db)...)
		cmd.Env = append(os.Environ(), childEnv+"=1")
		return cmd
	}

	// A clean run gives the expected graph and how long a run takes.
	clean := filepath.Join(dir, "clean.db")
	began := time.Now()
	if out, err := child(clean).CombinedOutput(); err != nil {
		t.Fatalf("clean run: %v\n%s", err, out)
	}
	took := time.Since(began)
	want := encodeStore(t, clean)

	db := filepath.Join(dir, "crash.db")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	kills, finished := 0, 0
	for attempt := 0; kills < minKills; attempt++ {
		if attempt >= 5*minKills {
			t.Fatalf("only %d kills in %d attempts (%d runs finished first): the run is too quick to kill", kills, attempt, finished)
		}
		cmd := child(db)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Anywhere from process start to a little past a whole run.
		time.Sleep(time.Duration(rng.Int64N(int64(took) * 11 / 10)))
		cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		var exit *exec.ExitError
		switch {
		case err == nil:
			finished++
		case errors.As(err, &exit) && exit.Sys().(syscall.WaitStatus).Signaled():
			kills++
		default:
			t.Fatalf("attempt %d: weft extract failed on its own: %v\n%s", attempt, err, stderr.String())
		}
		if _, err := os.Stat(db); err != nil {
			continue // killed before it created the store
		}
		checkIntegrity(t, db, attempt)
	}
	t.Logf("%d kills, %d runs finished before the kill; a clean run takes %v", kills, finished, took.Round(time.Millisecond))

	if out, err := child(db).CombinedOutput(); err != nil {
		t.Fatalf("final run: %v\n%s", err, out)
	}
	checkIntegrity(t, db, -1)
	if got := encodeStore(t, db); !bytes.Equal(want, got) {
		t.Errorf("after the kills and a final run, the graph differs from a clean run's")
		os.WriteFile(filepath.Join(dir, "want.json"), want, 0o644)
		os.WriteFile(filepath.Join(dir, "got.json"), got, 0o644)
	}
	if w, g := storeCounts(t, clean), storeCounts(t, db); w != g {
		t.Errorf("counts after the kills %+v, clean run %+v", g, w)
	}
}

func checkIntegrity(t *testing.T, db string, attempt int) {
	t.Helper()
	s, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatalf("attempt %d: open after kill: %v", attempt, err)
	}
	defer s.Close()
	if err := s.IntegrityCheck(context.Background()); err != nil {
		t.Fatalf("attempt %d: %v", attempt, err)
	}
}
