package snowflake

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/weftdata/weft/extractors"
	"github.com/weftdata/weft/graph"
)

func encode(t *testing.T, g *graph.Graph) string {
	t.Helper()
	var b bytes.Buffer
	if err := graph.Encode(&b, g); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestInterruptedRunResumes cancels a run while a chunk's query is in
// flight. The watermark stays at the last complete chunk; the next run,
// from that watermark, completes the window; and re-reading a chunk that
// was already committed (a crash between the commit and the watermark
// write) counts nothing twice. The merged result equals one full run.
func TestInterruptedRunResumes(t *testing.T) {
	fake := newFake(t, demoExport)
	cfg := demoWindow(fake.config())
	cfg.ChunkSize = 6 * time.Hour // 8 chunks over the two days
	full, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := encode(t, merged(collect(t, full)))

	// run 1: cancelled while the 4th chunk's query is in flight
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base := len(fake.queries)
	fake.onQuery = func(n int) {
		if n == base+4 {
			cancel()
			time.Sleep(50 * time.Millisecond) // the driver sees the cancellation first
		}
	}
	store := graph.New()
	var watermark time.Time
	e, _ := New(cfg)
	err = e.Extract(ctx, func(b extractors.Batch) error {
		store.Merge(b.Graph)
		watermark = b.Watermark
		return nil
	})
	fake.onQuery = nil
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Extract = %v, want context.Canceled", err)
	}
	if wantWM := cfg.From.Add(3 * cfg.ChunkSize); !watermark.Equal(wantWM) {
		t.Fatalf("watermark = %v, want the end of the 3rd chunk %v", watermark, wantWM)
	}

	// run 2 starts one chunk before the watermark, as if the last commit's
	// watermark had been lost, and finishes the window
	cfg2 := cfg
	cfg2.From = watermark.Add(-cfg.ChunkSize)
	e2, _ := New(cfg2)
	for _, b := range collect(t, e2) {
		store.Merge(b.Graph)
	}
	if got := encode(t, store); got != want {
		t.Errorf("interrupted + resumed run differs from one full run")
	}
}
