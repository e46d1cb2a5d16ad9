package browsertest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/weftdata/weft/export"
	"github.com/weftdata/weft/graph"
)

// largeGraph is a layered lineage graph of layers×width datasets on three
// platforms. Each dataset reads three datasets of the layer before, with
// two IDENTITY column edges and one INDIRECT FILTER each, and its job has
// SQL.
func largeGraph(layers, width int) *graph.Graph {
	r := rand.New(rand.NewPCG(1, 2))
	g := graph.New()
	platforms := []graph.Platform{graph.Snowflake, graph.Databricks, graph.Postgres}
	id := func(l, i int) graph.DatasetID {
		p := platforms[l%len(platforms)]
		return graph.DatasetID{Namespace: string(p) + "://large", Name: fmt.Sprintf("DB.LAYER_%02d.L%02d_D%03d", l, l, i)}
	}
	for l := range layers {
		for i := range width {
			ds := graph.Dataset{ID: id(l, i), Platform: platforms[l%len(platforms)], Kind: graph.KindTable,
				Description: "Synthetic dataset for the 5,000-node page test."}
			for c := range 6 {
				ds.Columns = append(ds.Columns, graph.Column{Name: fmt.Sprintf("C%d", c), Type: "NUMBER"})
			}
			g.AddDataset(ds)
			if l == 0 {
				continue
			}
			job := graph.JobID{Namespace: "snowflake://large", Name: "job " + ds.ID.Name}
			g.AddJob(graph.Job{ID: job, Type: "snowflake_query",
				SQL: "insert into " + ds.ID.Name + " select a.c0, a.c1, b.c2 from x a join y b on a.c0 = b.c0 where a.c5 > 0"})
			ev := graph.Evidence{Extractor: "snowflake", Origin: "snowflake query " + strconv.Itoa(l*width+i), Method: "access_history", Job: job}
			for _, j := range r.Perm(width)[:3] {
				from := id(l-1, j)
				g.AddEdge(from, ds.ID, ev)
				for c := range 2 {
					col := fmt.Sprintf("C%d", c+2*(j%3))
					g.AddColumnEdge(graph.ColumnEdgeID{From: graph.ColumnID{Dataset: from, Column: col}, To: graph.ColumnID{Dataset: ds.ID, Column: col},
						Type: graph.Direct, Subtype: graph.SubtypeIdentity}, ev)
				}
				g.AddColumnEdge(graph.ColumnEdgeID{From: graph.ColumnID{Dataset: from, Column: "C5"}, To: graph.ColumnID{Dataset: ds.ID},
					Type: graph.Indirect, Subtype: "FILTER"}, ev)
			}
		}
	}
	return g
}

// TestLargeGraph checks that a 5,000-dataset page opens fast and that
// focusing, even at unlimited depth and with every column shown, draws a
// bounded number of elements in bounded time.
func TestLargeGraph(t *testing.T) {
	b := newBrowser(t, 1400, 900)
	g := largeGraph(50, 100)
	if n := len(g.Datasets); n != 5000 {
		t.Fatalf("graph has %d datasets", n)
	}
	var page bytes.Buffer
	if err := export.HTML(&page, g, export.HTMLOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Logf("page is %.1f MB", float64(page.Len())/1e6)
	load := b.open(t, g, export.HTMLOptions{})
	initMS := eval[string](t, b, `document.body.getAttribute("data-init-ms")`)
	s := b.state(t)
	t.Logf("5,000 datasets, %d edges, %d column edges: page ready in %v (script %s ms), %d DOM elements",
		len(g.Edges), len(g.ColumnEdges), load.Round(time.Millisecond), initMS, s.DOM)
	if load > 10*time.Second {
		t.Errorf("page took %v to open", load)
	}
	if s.Nodes != 0 || s.DOM > 500 {
		t.Errorf("a large graph should open on the search box: %d nodes drawn, %d DOM elements", s.Nodes, s.DOM)
	}

	type step struct {
		name    string
		actions []chromedp.Action[chromedp.Void]
		maxDOM  int
	}
	steps := []step{
		{"focus, depth 2", []chromedp.Action[chromedp.Void]{
			chromedp.SendKeys(chromedp.CSS("#search"), "L25_D050"+kb.Enter), chromedp.WaitVisible(chromedp.CSS("#nodes .node.focus"))}, 3000},
		{"depth all", []chromedp.Action[chromedp.Void]{chromedp.SetValue(chromedp.CSS("#depth"), "0"),
			chromedp.Evaluate[chromedp.Void](`document.getElementById("depth").dispatchEvent(new Event("change"))`)}, 8000},
		{"depth all, every column", []chromedp.Action[chromedp.Void]{chromedp.Click(chromedp.CSS("#cols"))}, 40000},
	}
	for _, st := range steps {
		start := time.Now()
		b.do(t, st.name, st.actions...)
		wall := time.Since(start)
		s := b.state(t)
		ms, _ := strconv.ParseFloat(s.RenderMS, 64)
		t.Logf("%s: %d datasets drawn, %d DOM elements, render %.0f ms (wall %v); status %q", st.name, s.Nodes, s.DOM, ms, wall.Round(time.Millisecond), s.Status)
		if s.Nodes == 0 || s.Nodes > 250 {
			t.Errorf("%s: %d datasets drawn, want 1..250", st.name, s.Nodes)
		}
		if s.DOM > st.maxDOM {
			t.Errorf("%s: %d DOM elements, want at most %d", st.name, s.DOM, st.maxDOM)
		}
		if ms > 3000 {
			t.Errorf("%s: render took %.0f ms", st.name, ms)
		}
	}
	if os.Getenv("WEFT_SHOTS") != "" {
		b.shot(t, "large.png")
	}
	b.checkClean(t)
}
