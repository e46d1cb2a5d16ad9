package export

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/weftdata/weft/graph"
)

func TestHTMLEscapesHostileText(t *testing.T) {
	g := testGraph()
	// A hostile dataset name and column as well as the hostile SQL.
	evil := graph.DatasetID{Namespace: "snowflake://x", Name: `</script><script>alert(1)</script>`}
	g.AddDataset(graph.Dataset{ID: evil, Columns: []graph.Column{{Name: "<img src=x onerror=alert(2)>"}}})
	var b bytes.Buffer
	if err := HTML(&b, g, HTMLOptions{Title: "<b>risk</b> & co"}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, bad := range []string{"<script>alert", "<img src=x", "\u2028", "<b>risk"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains unescaped %q", bad)
		}
	}
	if n := strings.Count(page, "<script"); n != 2 {
		t.Errorf("page has %d <script elements, want 2 (data and code)", n)
	}
	if !strings.Contains(page, "<title>&lt;b&gt;risk&lt;/b&gt; &amp; co</title>") {
		t.Error("title not HTML-escaped")
	}

	// The embedded JSON decodes back to the data, hostile text intact.
	start := strings.Index(page, `<script type="application/json" id="weft-data">`)
	end := strings.Index(page[start:], "</script>")
	if start < 0 || end < 0 {
		t.Fatal("no data element")
	}
	raw := page[start+len(`<script type="application/json" id="weft-data">`) : start+end]
	var data pageData
	if err := json.Unmarshal([]byte(raw), &data); err != nil {
		t.Fatalf("embedded data is not JSON: %v", err)
	}
	var sawSQL, sawName bool
	for _, e := range data.Edges {
		for _, ev := range e.Evidence {
			sawSQL = sawSQL || ev.SQL == hostileSQL
		}
	}
	for _, d := range data.Datasets {
		sawName = sawName || d.Name == evil.Name
	}
	if !sawSQL || !sawName {
		t.Errorf("hostile text did not survive the round trip: sql %v, name %v", sawSQL, sawName)
	}
	// The page script must never use innerHTML-style sinks.
	for _, sink := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("} {
		if strings.Contains(pageTemplate, sink) {
			t.Errorf("page template uses %s", sink)
		}
	}
	// No network: no external URLs in the template besides the SVG namespace.
	for _, url := range []string{"http://", "https://"} {
		if strings.Count(pageTemplate, url) != strings.Count(pageTemplate, "http://www.w3.org/2000/svg") && url == "http://" {
			t.Errorf("page template references %s URLs", url)
		}
		if url == "https://" && strings.Contains(pageTemplate, url) {
			t.Errorf("page template references %s URLs", url)
		}
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
