package export

import (
	"bufio"
	"bytes"
	"context"
	"testing"

	"github.com/weftdata/weft/extractors"
	"github.com/weftdata/weft/extractors/databricks"
	"github.com/weftdata/weft/extractors/dbt"
	"github.com/weftdata/weft/extractors/snowflake"
	"github.com/weftdata/weft/graph"
	"github.com/weftdata/weft/weave"
)

// demoGraph builds the bundled demo the way weft snapshot does: the dbt
// project, the Snowflake query log and the Databricks exports, offline.
func demoGraph(t *testing.T) *graph.Graph {
	t.Helper()
	const demo = "../fixtures/demo/"
	var exs []extractors.Extractor
	d, err := dbt.New(dbt.Config{Manifest: demo + "dbt/target/manifest.json", Catalog: demo + "dbt/target/catalog.json", Account: "acmebank-prod"})
	if err != nil {
		t.Fatal(err)
	}
	exs = append(exs, d)
	s, err := snowflake.New(snowflake.Config{Account: "acmebank-prod", Export: demo + "snowflake/query_history.jsonl"})
	if err != nil {
		t.Fatal(err)
	}
	exs = append(exs, s)
	b, err := databricks.New(databricks.Config{Host: "https://adb-4711.12.azuredatabricks.net", Export: demo + "databricks"})
	if err != nil {
		t.Fatal(err)
	}
	exs = append(exs, b)
	ctx := context.Background()
	w := weave.New(weave.Options{Columns: true})
	for _, e := range exs {
		if err := e.Extract(ctx, func(b extractors.Batch) error { w.Add(b); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	g, _, err := w.Build(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestDemoOpenLineageValidates exports the three-platform demo and
// validates every event and facet against the shipped OpenLineage schemas.
func TestDemoOpenLineageValidates(t *testing.T) {
	g := demoGraph(t)
	var b bytes.Buffer
	if err := OpenLineage(&b, g, OpenLineageOptions{}); err != nil {
		t.Fatal(err)
	}
	schemas := olSchemas(t)
	n := 0
	namespaces := map[string]bool{}
	sc := bufio.NewScanner(&b)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		validateEvent(t, schemas, sc.Bytes())
		n++
	}
	for _, ev := range OpenLineageEvents(g, OpenLineageOptions{}) {
		namespaces[ev.Job.Namespace] = true
	}
	if n < 30 {
		t.Errorf("only %d events for the demo", n)
	}
	for _, want := range []string{"dbt://acme_risk", "snowflake://acmebank-prod", "databricks://adb-4711.12.azuredatabricks.net"} {
		if !namespaces[want] {
			t.Errorf("no job in namespace %s; have %v", want, namespaces)
		}
	}
	t.Logf("%d events validated", n)
}
