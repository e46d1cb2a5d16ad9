package snowflake

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/weftdata/weft/extractors"
	"github.com/weftdata/weft/graph"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// demoExport is the demo's query-log export, shared with the demo and the
// fake server.
const demoExport = "../../fixtures/demo/snowflake/query_history.jsonl"

// checkGolden compares got with testdata/name, or rewrites it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./extractors/snowflake -update)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

// collect runs e and returns its batches.
func collect(t *testing.T, e *Extractor) []extractors.Batch {
	t.Helper()
	var out []extractors.Batch
	if err := e.Extract(context.Background(), func(b extractors.Batch) error {
		out = append(out, b)
		return nil
	}); err != nil {
		t.Fatalf("Extract: %v", err)
	}
	return out
}

// merged merges the graphs of batches.
func merged(batches []extractors.Batch) *graph.Graph {
	g := graph.New()
	for _, b := range batches {
		if b.Graph != nil {
			g.Merge(b.Graph)
		}
	}
	return g
}

// render prints batches as text: the statements of each batch in order,
// then the merged graph in weft's JSON encoding.
func render(t *testing.T, batches []extractors.Batch) []byte {
	t.Helper()
	var b bytes.Buffer
	for i, bt := range batches {
		wm := "-"
		if !bt.Watermark.IsZero() {
			wm = bt.Watermark.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(&b, "batch %d: watermark %s, %d statements\n", i, wm, len(bt.Statements))
		for _, st := range bt.Statements {
			fmt.Fprintf(&b, "  %s [%s] job=%s default=%s.%s session=%s count=%d first=%s last=%s\n    %s\n",
				st.Origin, st.Dialect, st.Job, st.DefaultDatabase, st.DefaultSchema, st.Session, st.Count,
				st.FirstSeen.UTC().Format(time.RFC3339Nano), st.LastSeen.UTC().Format(time.RFC3339Nano), firstLine(st.SQL))
		}
	}
	if err := graph.Encode(&b, merged(batches)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}

func TestDemoExportGolden(t *testing.T) {
	e, err := New(Config{Name: "prod", Account: "acmebank-prod", Export: demoExport})
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "demo.golden", render(t, collect(t, e)))
}

func datasetID(name string) graph.DatasetID {
	return graph.DatasetID{Namespace: "snowflake://acmebank-prod", Name: name}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}
