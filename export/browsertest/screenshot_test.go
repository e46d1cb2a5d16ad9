package browsertest

import (
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/weftdata/weft/export"
	"github.com/weftdata/weft/graph"
)

// TestScreenshot writes the README's picture, docs/lineage-demo.png, when
// WEFT_SCREENSHOT names the file (see the package comment): the demo's
// credit-risk lineage around ANALYTICS.MARTS.FCT_LOAN_RISK, upstream and
// downstream highlighted, across every platform in the graph.
func TestScreenshot(t *testing.T) {
	out := os.Getenv("WEFT_SCREENSHOT")
	if out == "" {
		t.Skip("set WEFT_SCREENSHOT=path.png (and WEFT_GRAPH to a demo snapshot) to write the demo screenshot")
	}
	b := newBrowser(t, 1800, 1000)
	fct := graph.DatasetID{Namespace: "snowflake://acmebank-prod", Name: "ANALYTICS.MARTS.FCT_LOAN_RISK"}
	b.open(t, demoGraph(t), export.HTMLOptions{Title: "Acme Bank · credit-risk lineage", Focus: fct, Depth: 2})
	s := b.state(t)
	if !strings.HasSuffix(s.Details, fct.Name) || s.Up == 0 || s.Down == 0 {
		t.Fatalf("focus %q: %d upstream, %d downstream", s.Details, s.Up, s.Down)
	}
	// The whole lineage, not the panel: close it and fit the drawing.
	b.do(t, "close panel", chromedp.Click(chromedp.CSS("#details .close")), chromedp.Click(chromedp.CSS("#fit")))
	if err := os.WriteFile(out, b.screenshot(t), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s: %s", out, s.Status)
	b.checkClean(t)
}
