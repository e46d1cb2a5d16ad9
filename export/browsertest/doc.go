// Package browsertest runs the page export.HTML writes in headless
// Chromium: the demo's lineage (search, focus, column trace, edge
// tooltips), a graph full of hostile text (no script may run), and a
// 5,000-dataset graph (the page stays fast and draws a bounded number of
// elements).
//
// The tests skip when no Chromium is installed (apt-get install chromium).
// They find it at $WEFT_CHROMIUM, /usr/bin/chromium or on $PATH.
//
// TestScreenshot writes the README's picture of the demo's credit-risk
// lineage; it runs only when asked to:
//
//	go run ./cmd/weft snapshot --config fixtures/demo/weft.yaml -o /tmp/demo-graph.json
//	WEFT_GRAPH=/tmp/demo-graph.json WEFT_SCREENSHOT=$PWD/docs/lineage-demo.png \
//	    go test ./export/browsertest -run TestScreenshot
//
// Without WEFT_GRAPH the tests build the demo graph from its dbt artifacts.
package browsertest
