package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/weftdata/weft/graph"
	"github.com/weftdata/weft/store"
)

// demoConfig is the bundled demo's weft.yaml. Its query logs and job runs
// are from 2024 and 2025: the tests extract it with a long retention, or
// the default 30 days would end their edges at once.
var demoConfig = filepath.Join("..", "..", "fixtures", "demo", "weft.yaml")

// demoArgs are the flags the tests run weft extract on the demo with.
var demoArgs = []string{"extract", "--config", demoConfig, "--retention", "3650d", "--progress", "off"}

// weftRun runs weft in-process and returns its exit code, stdout and stderr.
func weftRun(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// extractDemo runs weft extract on the demo into db and fails the test if
// it does not succeed.
func extractDemo(t *testing.T, db string) string {
	t.Helper()
	code, _, stderr := weftRun(t, append(slices.Clone(demoArgs), "--store", db)...)
	if code != 0 {
		t.Fatalf("weft extract: exit %d\n%s", code, stderr)
	}
	return stderr
}

// encodeStore returns the graph of the store at db (identities unified),
// encoded.
func encodeStore(t *testing.T, db string) []byte {
	t.Helper()
	g, err := readStoreGraph(context.Background(), db, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := graph.Encode(&b, g); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func storeCounts(t *testing.T, db string) store.Counts {
	t.Helper()
	s, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := s.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestExtractIdempotent extracts the demo twice into one store: the second
// run adds nothing, so the graph and every count stay the same.
func TestExtractIdempotent(t *testing.T) {
	db := filepath.Join(t.TempDir(), "weft.db")
	extractDemo(t, db)
	first, firstCounts := encodeStore(t, db), storeCounts(t, db)
	if firstCounts.Edges == 0 || firstCounts.ColumnEdges == 0 {
		t.Fatalf("the demo gave an empty store: %+v", firstCounts)
	}

	stderr := extractDemo(t, db)
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if strings.Contains(line, " source ") && !strings.Contains(line, ": 0 new table edges, 0 new column edges") {
			t.Errorf("second run added edges: %s", line)
		}
	}
	if diff := cmp.Diff(firstCounts, storeCounts(t, db)); diff != "" {
		t.Errorf("counts changed on the second run (-first +second):\n%s", diff)
	}
	if second := encodeStore(t, db); !bytes.Equal(first, second) {
		t.Errorf("the graph changed on the second run:\n%s", cmp.Diff(string(first), string(second)))
	}

	s, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	runs, err := s.Runs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 {
		t.Fatalf("%d runs recorded, want 2", len(runs))
	}
	for _, r := range runs {
		var got []string
		for _, x := range r.Extractors {
			got = append(got, x.Extractor+" "+x.Status)
		}
		if want := []string{"acme_risk ok", "ml ok", "prod ok"}; r.Status != store.StatusOK || !slices.Equal(got, want) {
			t.Errorf("run %d: %s %v, want ok %v", r.ID, r.Status, got, want)
		}
	}
}

// demoTables are the demo's physical tables known on more than one
// platform, each with every name it has: the Snowflake table dbt builds,
// the dbt node, and the Databricks foreign-catalog table that mirrors it
// (sf_analytics mirrors ANALYTICS through Lakehouse Federation).
var demoTables = []struct {
	canonical  graph.DatasetID
	identities []graph.DatasetID
}{
	{
		canonical: graph.DatasetID{Namespace: "snowflake://acmebank-prod", Name: "ANALYTICS.MARTS.FCT_LOANS"},
		identities: []graph.DatasetID{
			{Namespace: "databricks://adb-4711.12.azuredatabricks.net", Name: "sf_analytics.marts.fct_loans"},
			{Namespace: "dbt://acme_risk", Name: "model.acme_risk.fct_loans"},
		},
	},
	{
		canonical: graph.DatasetID{Namespace: "snowflake://acmebank-prod", Name: "ANALYTICS.MARTS.FCT_LOAN_RISK"},
		identities: []graph.DatasetID{
			{Namespace: "databricks://adb-4711.12.azuredatabricks.net", Name: "sf_analytics.marts.fct_loan_risk"},
			{Namespace: "dbt://acme_risk", Name: "model.acme_risk.fct_loan_risk"},
		},
	},
	{
		canonical: graph.DatasetID{Namespace: "snowflake://acmebank-prod", Name: "ANALYTICS.MARTS.DIM_BORROWERS"},
		identities: []graph.DatasetID{
			{Namespace: "databricks://adb-4711.12.azuredatabricks.net", Name: "sf_analytics.marts.dim_borrowers"},
			{Namespace: "dbt://acme_risk", Name: "model.acme_risk.dim_borrowers"},
		},
	},
}

// TestExtractDemoIdentities checks that the store, read back, has one
// node per physical table of the demo with all its names, as a snapshot
// of all three sources at once has.
func TestExtractDemoIdentities(t *testing.T) {
	data, err := os.ReadFile(demoConfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{"dbt", "snowflake", "databricks"} {
		if !strings.Contains(string(data), "type: "+typ) {
			t.Skipf("fixtures/demo/weft.yaml has no %s source yet: the three-platform check needs all three", typ)
		}
	}
	db := filepath.Join(t.TempDir(), "weft.db")
	extractDemo(t, db)
	g, err := readStoreGraph(context.Background(), db, time.Time{})
	if err != nil {
		t.Fatal(err)
	}

	for _, tt := range demoTables {
		d, ok := g.Datasets[tt.canonical]
		if !ok {
			t.Errorf("%s: not in the graph", tt.canonical)
			continue
		}
		var got []graph.DatasetID
		for _, i := range d.Identities {
			got = append(got, i.ID)
			if i.Reason == "" {
				t.Errorf("%s: identity %s has no reason", tt.canonical, i.ID)
			}
		}
		for _, want := range tt.identities {
			if !slices.Contains(got, want) {
				t.Errorf("%s: identities %v lack %s", tt.canonical, got, want)
			}
			if _, ok := g.Datasets[want]; ok {
				t.Errorf("%s is still a node of its own, not merged into %s", want, tt.canonical)
			}
			// weft lineage finds the table under any of its names.
			if ids, err := g.Lookup(want.String()); err != nil || len(ids) != 1 || ids[0] != tt.canonical {
				t.Errorf("Lookup(%s) = %v, %v; want %s", want, ids, err, tt.canonical)
			}
		}
	}
	// No dataset anywhere is named by another's identity: one node per
	// physical table.
	for id, d := range g.Datasets {
		for _, i := range d.Identities {
			if _, ok := g.Datasets[i.ID]; ok && i.ID != id {
				t.Errorf("%s and %s are one table (%s) but two nodes", id, i.ID, i.Reason)
			}
		}
	}
	// Edges of the mirror moved to the Snowflake table: the feature job
	// reads ANALYTICS.MARTS.FCT_LOANS.
	feat := graph.DatasetID{Namespace: "databricks://adb-4711.12.azuredatabricks.net", Name: "main.risk_features.loan_features"}
	if _, ok := g.Edges[graph.EdgeID{From: demoTables[0].canonical, To: feat}]; !ok {
		t.Errorf("no edge %s -> %s", demoTables[0].canonical, feat)
	}

	// The same nodes and names as a snapshot of all sources in one weave.
	code, snap, stderr := weftRun(t, "snapshot", "--config", demoConfig)
	if code != 0 {
		t.Fatalf("weft snapshot: exit %d\n%s", code, stderr)
	}
	sg, err := graph.Decode(strings.NewReader(snap))
	if err != nil {
		t.Fatal(err)
	}
	names := func(g *graph.Graph) map[graph.DatasetID][]graph.Identity {
		m := map[graph.DatasetID][]graph.Identity{}
		for id, d := range g.Datasets {
			m[id] = d.Identities
		}
		return m
	}
	if diff := cmp.Diff(names(sg), names(g)); diff != "" {
		t.Errorf("datasets and identities differ from weft snapshot's (-snapshot +store):\n%s", diff)
	}
	tableEdges := func(g *graph.Graph) []graph.EdgeID {
		var ids []graph.EdgeID
		for id := range g.Edges {
			ids = append(ids, id)
		}
		slices.SortFunc(ids, func(a, b graph.EdgeID) int {
			return strings.Compare(a.From.String()+" "+a.To.String(), b.From.String()+" "+b.To.String())
		})
		return ids
	}
	if diff := cmp.Diff(tableEdges(sg), tableEdges(g)); diff != "" {
		t.Errorf("table edges differ from weft snapshot's (-snapshot +store):\n%s", diff)
	}
}
