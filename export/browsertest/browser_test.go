package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/weftdata/weft/export"
	"github.com/weftdata/weft/extractors"
	"github.com/weftdata/weft/extractors/dbt"
	"github.com/weftdata/weft/graph"
	"github.com/weftdata/weft/weave"
)

// chromium returns the browser to run, or skips the test.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("WEFT_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("chromium not found: install it (apt-get install -y chromium) or set WEFT_CHROMIUM to run the browser tests")
	return ""
}

// browser is one headless Chromium tab and what its page reported.
type browser struct {
	ctx context.Context

	mu       sync.Mutex
	messages []chromedp.ConsoleMessage // console errors, exceptions, error log entries
}

// newBrowser starts Chromium with a fresh profile and no background
// networking (the test machine's network is closed), with a window of
// the given size.
func newBrowser(t *testing.T, width, height int) *browser {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done; cancelAlloc() })
	b := &browser{ctx: ctx}
	// The first Run starts the browser; it must not have a deadline.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		close(done)
		t.Fatalf("start chromium: %v", err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == chromedp.ConsoleError {
				b.mu.Lock()
				b.messages = append(b.messages, m)
				b.mu.Unlock()
			}
		}
	}()
	return b
}

// do runs actions with a deadline, failing the test on error.
func (b *browser) do(t *testing.T, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression into a T.
func eval[T any](t *testing.T, b *browser, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %.80s: %v", expr, err)
	}
	return v
}

// problems returns the errors the page reported so far.
func (b *browser) problems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, m := range b.messages {
		out = append(out, m.String())
	}
	return out
}

// checkClean fails the test if the page reported any error. It first
// waits a moment, since console events arrive asynchronously.
func (b *browser) checkClean(t *testing.T) {
	t.Helper()
	eval[int](t, b, "1")
	time.Sleep(200 * time.Millisecond)
	for _, p := range b.problems() {
		t.Errorf("page error: %s", p)
	}
}

// open writes the page for g to a file and loads it, waiting until its
// script has drawn. It returns the wall time from navigation to ready.
func (b *browser) open(t *testing.T, g *graph.Graph, opts export.HTMLOptions) time.Duration {
	t.Helper()
	path := filepath.Join(t.TempDir(), "lineage.html")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := export.HTML(f, g, opts); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	b.do(t, "open page", chromedp.Navigate("file://"+path), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="1"]`)))
	return time.Since(start)
}

// indexOf returns the page's index of the dataset whose name ends with
// suffix, or fails.
func (b *browser) indexOf(t *testing.T, suffix string) int {
	t.Helper()
	i := eval[int](t, b, fmt.Sprintf(`JSON.parse(document.getElementById("weft-data").textContent).datasets.findIndex((d) => d.name.endsWith(%q))`, suffix))
	if i < 0 {
		t.Fatalf("no dataset named *%s in the page", suffix)
	}
	return i
}

// demoGraph is the demo's lineage graph: $WEFT_GRAPH when set (a weft
// snapshot of fixtures/demo/weft.yaml, with every platform), else the dbt
// project's artifacts analysed by weave.
func demoGraph(t *testing.T) *graph.Graph {
	t.Helper()
	if p := os.Getenv("WEFT_GRAPH"); p != "" {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		g, err := graph.Decode(f)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		return g
	}
	dir := filepath.Join("..", "..", "fixtures", "demo", "dbt", "target")
	ex, err := dbt.New(dbt.Config{
		Manifest:   filepath.Join(dir, "manifest.json"),
		Catalog:    filepath.Join(dir, "catalog.json"),
		RunResults: filepath.Join(dir, "run_results.json"),
		Account:    "acmebank-prod",
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := ex.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	w := weave.New(weave.Options{Columns: true})
	w.Add(extractors.Batch{Graph: p.Graph(), Statements: p.Statements()})
	g, _, err := w.Build(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// pageState is what the tests read back from the page.
type pageState struct {
	Focus    string   `json:"focus"` // data-i of the focus node
	Up       int      `json:"up"`
	Down     int      `json:"down"`
	UpEdges  int      `json:"upEdges"`
	Nodes    int      `json:"nodes"`
	Details  string   `json:"details"` // the panel's data-dataset
	Column   string   `json:"column"`  // the panel's data-column
	Panel    string   `json:"panel"`   // the panel's text
	Traced   int      `json:"traced"`
	Cols     int      `json:"cols"`
	DOM      int      `json:"dom"`
	RenderMS string   `json:"renderMs"`
	Status   string   `json:"status"`
	Names    []string `json:"names"`
}

const readState = `(() => {
  const q = (s) => document.querySelectorAll(s).length;
  const f = document.querySelector("#nodes .node.focus");
  const d = document.getElementById("details");
  return {
    focus: f ? f.getAttribute("data-i") : "",
    up: q("#nodes .node.up"), down: q("#nodes .node.down"), upEdges: q("#edges .edge.up"),
    nodes: q("#nodes .node"), traced: q("#edges .edge.traced"), cols: q("#nodes .col"),
    details: d.getAttribute("data-dataset") || "", column: d.getAttribute("data-column") || "",
    panel: d.style.display === "none" ? "" : d.textContent,
    dom: document.getElementsByTagName("*").length,
    renderMs: document.body.getAttribute("data-render-ms"),
    status: document.getElementById("status").textContent,
    names: [...document.querySelectorAll("#nodes .node text.name")].map((t) => t.textContent),
  };
})()`

func (b *browser) state(t *testing.T) pageState {
	t.Helper()
	return eval[pageState](t, b, readState)
}

// hover sends mouseenter to the first element matching sel, as moving
// the mouse onto it would, and returns the tooltip's text.
func (b *browser) hover(t *testing.T, sel string) string {
	t.Helper()
	return eval[string](t, b, fmt.Sprintf(`(() => {
  const e = document.querySelector(%q);
  if (!e) return "";
  const r = e.getBoundingClientRect();
  e.dispatchEvent(new MouseEvent("mouseenter", {clientX: r.x + r.width / 2, clientY: r.y + r.height / 2}));
  return document.getElementById("tip").textContent;
})()`, sel))
}

func TestDemoPage(t *testing.T) {
	b := newBrowser(t, 1400, 900)
	g := demoGraph(t)
	b.open(t, g, export.HTMLOptions{Title: "Acme Bank lineage"})

	// The small demo opens on the whole graph.
	s := b.state(t)
	if s.Nodes < 20 || s.Focus != "" {
		t.Fatalf("whole graph: %d nodes, focus %q; want every dataset and no focus", s.Nodes, s.Focus)
	}

	b.shot(t, "demo-whole.png")

	// Search, then pick the first result with the mouse.
	fct := b.indexOf(t, "FCT_LOAN_RISK")
	b.do(t, "search", chromedp.SendKeys(chromedp.CSS("#search"), "loan_risk"),
		chromedp.WaitVisible(chromedp.CSS("#results .item")))
	first := eval[string](t, b, `document.querySelector("#results .item .n").textContent`)
	if first != "ANALYTICS.MARTS.FCT_LOAN_RISK" {
		t.Errorf("first search result %q, want ANALYTICS.MARTS.FCT_LOAN_RISK", first)
	}
	b.do(t, "pick result", chromedp.Click(chromedp.CSS("#results .item")),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#nodes .node.focus[data-i="%d"]`, fct))))
	s = b.state(t)
	if s.Up == 0 || s.Down == 0 || s.UpEdges == 0 {
		t.Errorf("focus on FCT_LOAN_RISK: %d upstream, %d downstream nodes, %d upstream edges highlighted", s.Up, s.Down, s.UpEdges)
	}
	if !strings.HasSuffix(s.Details, "ANALYTICS.MARTS.FCT_LOAN_RISK") || !strings.Contains(s.Panel, "Upstream") {
		t.Errorf("details panel shows %q: %.200q", s.Details, s.Panel)
	}

	b.shot(t, "demo-focus.png")

	// Hover a highlighted edge: the tooltip names the transformations.
	if tip := b.hover(t, "#edges g.e.cols:has(.edge.up) .hit"); !strings.Contains(tip, "DIRECT") || !strings.Contains(tip, "→") {
		t.Errorf("edge tooltip %q: want the transformation types", tip)
	}

	// Click an upstream dataset on the canvas: it becomes the focus.
	upIndex := eval[string](t, b, visibleNode("up"))
	b.do(t, "click upstream node", chromedp.Click(chromedp.CSS(`#nodes .node.up[data-i="`+upIndex+`"] .box`)),
		chromedp.WaitVisible(chromedp.CSS(`#nodes .node.focus[data-i="`+upIndex+`"]`)))
	if s = b.state(t); s.Down == 0 || s.Details == "" {
		t.Errorf("after clicking an upstream node: %d downstream, details %q", s.Down, s.Details)
	}

	// Back to FCT_LOAN_RISK with the keyboard: search and Enter.
	b.do(t, "search again", chromedp.SendKeys(chromedp.CSS("#search"), "fct_loan_risk"+kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#nodes .node.focus[data-i="%d"]`, fct))))

	// Expand the focus's columns, then trace one column.
	b.do(t, "expand columns", chromedp.Click(chromedp.CSS(`#nodes .node.focus .toggle`)),
		chromedp.WaitVisible(chromedp.CSS(`#nodes .node.focus .col`)))
	b.do(t, "trace column", chromedp.Click(chromedp.CSS(`#nodes .node.focus .col`)),
		chromedp.WaitVisible(chromedp.CSS(`#details[data-column]`)))
	if s = b.state(t); s.Traced == 0 || s.Cols == 0 || !strings.Contains(s.Panel, "Comes from") {
		t.Errorf("column trace: %d traced edges, %d column rows, panel %.200q", s.Traced, s.Cols, s.Panel)
	}
	if tip := b.hover(t, "#edges g.e:has(.edge.traced) .hit"); !namesTransformation(tip) {
		t.Errorf("column edge tooltip %q: want DIRECT or INDIRECT with a subtype", tip)
	}

	b.shot(t, "demo-column-trace.png")
	b.checkClean(t)
}

// namesTransformation reports whether a tooltip names a transformation with a subtype.
func namesTransformation(tip string) bool {
	for _, s := range []string{"DIRECT · ", "INDIRECT · "} {
		if strings.Contains(tip, s) {
			return true
		}
	}
	return false
}

// visibleNode is a script that returns the data-i of a drawn node with
// the role whose centre is inside the window, so that a click reaches it.
func visibleNode(role string) string {
	return fmt.Sprintf(`(() => {
  for (const g of document.querySelectorAll("#nodes .node.%s")) {
    const r = g.querySelector(".box").getBoundingClientRect(), x = r.x + r.width / 2, y = r.y + r.height / 2;
    const c = document.getElementById("canvas").getBoundingClientRect();
    if (x > c.left && x < c.right && y > c.top && y < c.bottom) return g.getAttribute("data-i");
  }
  return "";
})()`, role)
}

// shot takes a screenshot, checks it is not blank, and keeps it in
// $WEFT_SHOTS when that names a directory, to look at.
func (b *browser) shot(t *testing.T, name string) {
	t.Helper()
	png := b.screenshot(t)
	if len(png) < 10000 {
		t.Errorf("%s: screenshot is only %d bytes", name, len(png))
	}
	if dir := os.Getenv("WEFT_SHOTS"); dir != "" {
		if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// screenshot captures the tab as a PNG.
func (b *browser) screenshot(t *testing.T) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	return png
}
