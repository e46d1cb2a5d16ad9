package export

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/weftdata/weft/graph"
)

// hostileText is what a query log or a catalog could hand us: markup that
// closes the data element, event-handler attributes, JavaScript URLs and
// the two line separators that end a JavaScript string in old engines.
var hostileText = []string{
	`</script><script>window.__pwned=1</script>`,
	`<img src=x onerror="window.__pwned=2">`,
	`<svg onload=window.__pwned=3>`,
	"line\u2028separator\u2029paragraph",
	`javascript:window.__pwned=4`,
	`"><iframe srcdoc="<script>parent.__pwned=5</script>">`,
	`<!-- <script> {{DATA}} {{SCRIPT}}`,
}

// hostileGraph is testGraph with hostile text in every string the page
// shows: dataset names, namespaces, columns, types, descriptions,
// properties, SQL, origins and the platform.
func hostileGraph() *graph.Graph {
	g := testGraph()
	evil := strings.Join(hostileText, " ")
	fct := graph.DatasetID{Namespace: "snowflake://acmebank-prod", Name: "ANALYTICS.MARTS.FCT_LOANS"}
	bad := graph.DatasetID{Namespace: "snowflake://" + hostileText[1], Name: "EVIL." + hostileText[0]}
	g.AddDataset(graph.Dataset{ID: bad, Platform: graph.Platform(hostileText[2]), Kind: graph.Kind(hostileText[4]), Description: evil,
		Columns:    []graph.Column{{Name: hostileText[1], Type: hostileText[0], Description: evil}, {Name: hostileText[3]}},
		Properties: map[string]string{hostileText[5]: evil}})
	job := graph.JobID{Namespace: "snowflake://acmebank-prod", Name: hostileText[0]}
	g.AddJob(graph.Job{ID: job, Type: hostileText[2], SQL: "insert into x " + evil})
	ev := graph.Evidence{Extractor: "snowflake", Origin: "snowflake query " + evil, Method: hostileText[6], Job: job}
	g.AddEdge(fct, bad, ev)
	g.AddColumnEdge(graph.ColumnEdgeID{From: graph.ColumnID{Dataset: fct, Column: "LOAN_ID"}, To: graph.ColumnID{Dataset: bad, Column: hostileText[1]},
		Type: graph.Direct, Subtype: hostileText[5]}, ev)
	return g
}

func TestHTMLEscapesHostileText(t *testing.T) {
	var b bytes.Buffer
	title := "<b>risk</b> & co {{SCRIPT}}"
	if err := HTML(&b, hostileGraph(), HTMLOptions{Title: title}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, bad := range []string{"<script>window", "<script>alert", "<img", "<svg onload", "<iframe", "\u2028", "\u2029", "<b>risk", "<!--"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains unescaped %q", bad)
		}
	}
	if n := strings.Count(page, "<script"); n != 2 {
		t.Errorf("page has %d <script elements, want 2 (data and code)", n)
	}
	if n := strings.Count(page, "</script"); n != 2 {
		t.Errorf("page has %d </script, want 2", n)
	}
	if !strings.Contains(page, "<title>&lt;b&gt;risk&lt;/b&gt; &amp; co {{SCRIPT}}</title>") {
		t.Error("title not HTML-escaped, or its text was taken for a placeholder")
	}

	// The embedded JSON decodes back to the data, hostile text intact.
	data := pageDataOf(t, page)
	var sawSQL, sawName, sawColumn bool
	for _, j := range data.Jobs {
		sawSQL = sawSQL || strings.Contains(j.SQL, hostileSQL) || strings.Contains(j.SQL, hostileText[3])
	}
	for _, d := range data.Datasets {
		sawName = sawName || d.Name == "EVIL."+hostileText[0]
		for _, c := range d.Columns {
			sawColumn = sawColumn || c.Name == hostileText[1]
		}
	}
	if !sawSQL || !sawName || !sawColumn {
		t.Errorf("hostile text did not survive the round trip: sql %v, name %v, column %v", sawSQL, sawName, sawColumn)
	}
}

func TestHTMLScript(t *testing.T) {
	// The page script must never use HTML sinks or build code from strings.
	for _, sink := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "setTimeout(\"", "srcdoc", "</script"} {
		if strings.Contains(pageScript, sink) {
			t.Errorf("page script uses %s", sink)
		}
	}
	// No network: the only URL is the SVG namespace.
	url := regexp.MustCompile(`(?i)(https?:|//[a-z0-9.-]+\.[a-z]{2,}|wss?:)`)
	for name, text := range map[string]string{"page.html": pageTemplate, "page.js": pageScript} {
		for _, m := range url.FindAllString(strings.ReplaceAll(text, "http://www.w3.org/2000/svg", ""), -1) {
			t.Errorf("%s references a URL: %q", name, m)
		}
	}

	// The Content-Security-Policy allows exactly the page's script.
	var b bytes.Buffer
	if err := HTML(&b, testGraph(), HTMLOptions{}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	csp := regexp.MustCompile(`script-src '(sha256-[^']+)'`).FindStringSubmatch(page)
	if csp == nil {
		t.Fatal("no script-src hash in the page's Content-Security-Policy")
	}
	start := strings.LastIndex(page, "<script>")
	end := strings.LastIndex(page, "</script>")
	sum := sha256.Sum256([]byte(page[start+len("<script>") : end]))
	if want := "sha256-" + base64.StdEncoding.EncodeToString(sum[:]); csp[1] != want {
		t.Errorf("CSP script hash %s, want %s", csp[1], want)
	}
	if strings.Contains(page, "'unsafe-inline'; img") || strings.Contains(page, "script-src 'unsafe-inline'") {
		t.Error("CSP allows inline scripts")
	}
}

// pageDataOf decodes the data element of a page.
func pageDataOf(t *testing.T, page string) pageData {
	t.Helper()
	const open = `<script type="application/json" id="weft-data">`
	start := strings.Index(page, open)
	if start < 0 {
		t.Fatal("no data element")
	}
	end := strings.Index(page[start:], "</script>")
	var data pageData
	if err := json.Unmarshal([]byte(page[start+len(open):start+end]), &data); err != nil {
		t.Fatalf("embedded data is not JSON: %v", err)
	}
	return data
}

func TestHTMLData(t *testing.T) {
	var b bytes.Buffer
	fct := graph.DatasetID{Namespace: "snowflake://acmebank-prod", Name: "ANALYTICS.MARTS.FCT_LOANS"}
	if err := HTML(&b, testGraph(), HTMLOptions{Focus: fct, Depth: 3}); err != nil {
		t.Fatal(err)
	}
	data := pageDataOf(t, b.String())
	if data.Focus < 0 || data.Datasets[data.Focus].Name != fct.Name || data.Depth != 3 {
		t.Errorf("focus %d depth %d, want %s at depth 3", data.Focus, data.Depth, fct)
	}
	// Every reference is in range, and a job's SQL is written once.
	sqls := map[string]int{}
	for _, j := range data.Jobs {
		if j.SQL != "" {
			sqls[j.SQL]++
		}
	}
	for sql, n := range sqls {
		if n > 1 {
			t.Errorf("SQL written %d times: %.40q", n, sql)
		}
	}
	check := func(what string, evs []int) {
		for _, i := range evs {
			if i < 0 || i >= len(data.Evidence) {
				t.Errorf("%s: evidence %d out of range", what, i)
			}
		}
	}
	for _, e := range data.Edges {
		check("edge", e.Evidence)
	}
	for _, e := range data.ColumnEdges {
		check("column edge", e.Evidence)
		if e.Type == "" || e.Subtype == "" {
			t.Errorf("column edge %+v has no transformation", e)
		}
	}
	for _, ev := range data.Evidence {
		if ev.Job >= len(data.Jobs) {
			t.Errorf("evidence %+v: job out of range", ev)
		}
	}
	for p, c := range data.Platforms {
		if !regexp.MustCompile(`^#[0-9a-f]{6}$`).MatchString(c) {
			t.Errorf("platform %s colour %q", p, c)
		}
	}
	if data.Platforms["snowflake"] == data.Platforms["databricks"] {
		t.Error("snowflake and databricks share a colour")
	}
}

func TestHTMLDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	if err := HTML(&a, testGraph(), HTMLOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := HTML(&b, testGraph(), HTMLOptions{}); err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() {
		t.Error("two renderings of the same graph differ")
	}
}
