package browsertest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/weftdata/weft/export"
	"github.com/weftdata/weft/graph"
)

// hostile are payloads that set window.__pwned if they ever run: markup
// that closes the data element, event-handler attributes, a JavaScript
// URL, and the two line separators.
var hostile = []string{
	`</script><script>window.__pwned=1</script>`,
	`<img src=x onerror="window.__pwned=2">`,
	`<svg onload=window.__pwned=3>`,
	"\u2028window.__pwned=4\u2029",
	`javascript:window.__pwned=5`,
	`"><iframe srcdoc="<script>parent.__pwned=6</script>">`,
	`{{DATA}} {{SCRIPT}} <!--`,
}

// hostileDemo is the demo graph plus a dataset downstream of
// FCT_LOAN_RISK with hostile text in everything the page shows.
func hostileDemo(t *testing.T) *graph.Graph {
	g := demoGraph(t)
	evil := strings.Join(hostile, " ")
	fct := graph.DatasetID{Namespace: "snowflake://acmebank-prod", Name: "ANALYTICS.MARTS.FCT_LOAN_RISK"}
	bad := graph.DatasetID{Namespace: "snowflake://" + hostile[1], Name: "EVIL." + hostile[0]}
	g.AddDataset(graph.Dataset{ID: bad, Platform: graph.Platform(hostile[2]), Kind: graph.Kind(hostile[4]), Description: evil,
		Columns: []graph.Column{
			{Name: hostile[1], Type: hostile[0], Description: evil},
			{Name: hostile[3], Type: hostile[5]},
		},
		Properties: map[string]string{hostile[5]: evil}})
	job := graph.JobID{Namespace: "snowflake://acmebank-prod", Name: hostile[0]}
	g.AddJob(graph.Job{ID: job, Type: hostile[2], SQL: "insert into EVIL select * from FCT_LOAN_RISK -- " + evil})
	ev := graph.Evidence{Extractor: "snowflake", Origin: "snowflake query " + evil, Method: hostile[6], Job: job}
	g.AddEdge(fct, bad, ev)
	for i, c := range []string{hostile[1], hostile[3]} {
		g.AddColumnEdge(graph.ColumnEdgeID{
			From: graph.ColumnID{Dataset: fct, Column: "LOAN_ID"}, To: graph.ColumnID{Dataset: bad, Column: c},
			Type: []string{graph.Direct, graph.Indirect}[i], Subtype: hostile[i+4],
		}, ev)
	}
	return g
}

func TestHostilePage(t *testing.T) {
	b := newBrowser(t, 1400, 900)

	// The harness must see console errors, or "no errors" proves nothing.
	eval[any](t, b, `console.error("probe"), null`)
	eval[int](t, b, "1")
	for i := 0; i < 50 && len(b.problems()) == 0; i++ {
		eval[int](t, b, "new Promise((r) => setTimeout(() => r(1), 20))")
	}
	if p := b.problems(); len(p) != 1 || !strings.Contains(p[0], "probe") {
		t.Fatalf("console listener saw %q, want the probe", p)
	}
	b.mu.Lock()
	b.messages = nil
	b.mu.Unlock()

	b.open(t, hostileDemo(t), export.HTMLOptions{Title: strings.Join(hostile, " ")})
	// Find the hostile dataset, focus it, open its columns, trace one,
	// open the edge into it and hover everything that has a tooltip.
	b.do(t, "search", chromedp.SendKeys(chromedp.CSS("#search"), "evil"+kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(`#details[data-dataset]`)))
	s := b.state(t)
	if !strings.Contains(s.Details, "EVIL.</script>") || len(s.Names) == 0 {
		t.Fatalf("focus on the hostile dataset: details %q, nodes %q", s.Details, s.Names)
	}
	b.do(t, "expand", chromedp.Click(chromedp.CSS(`#nodes .node.focus .toggle`)), chromedp.WaitVisible(chromedp.CSS(`#nodes .node.focus .col`)))
	b.do(t, "trace", chromedp.Click(chromedp.CSS(`#nodes .node.focus .col`)), chromedp.WaitVisible(chromedp.CSS(`#details[data-column]`)))
	for _, sel := range []string{"#edges g.e .hit", "#nodes .node .box"} {
		for i := range 3 {
			b.hover(t, fmt.Sprintf("%s:nth-of-type(%d)", sel, i+1))
		}
	}
	// Click edges until one shows the hostile job's SQL in the panel.
	shown := eval[bool](t, b, `(() => {
  for (const h of document.querySelectorAll("#edges .hit")) {
    h.dispatchEvent(new MouseEvent("click"));
    if (document.getElementById("details").textContent.includes("window.__pwned=1")) return true;
  }
  return false;
})()`)
	if !shown {
		t.Error("no edge showed the hostile SQL as text in the details panel")
	}

	type verdict struct {
		Pwned   any `json:"pwned"`
		Scripts int `json:"scripts"`
		Markup  int `json:"markup"`
	}
	v := eval[verdict](t, b, `({
  pwned: window.__pwned === undefined ? null : window.__pwned,
  scripts: document.scripts.length,
  markup: document.querySelectorAll("img, iframe, #nodes svg, [onerror], [onload]").length,
})`)
	if v.Pwned != nil || v.Scripts != 2 || v.Markup != 0 {
		t.Errorf("hostile text ran or became markup: __pwned %v, %d scripts (want 2), %d injected elements", v.Pwned, v.Scripts, v.Markup)
	}
	if title := eval[string](t, b, "document.title"); title != strings.Join(hostile, " ") {
		t.Errorf("title %q, want the hostile text verbatim", title)
	}
	b.shot(t, "hostile.png")
	b.checkClean(t)
}
