package check

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/weftdata/weft/extractors/dbt"
	"github.com/weftdata/weft/extractors/dbt/dbtgen"
	"github.com/weftdata/weft/graph"
)

// checkBothWays runs the check with a full and an incremental analysis of
// the PR and fails when the findings differ. It returns the incremental
// build.
func checkBothWays(t *testing.T, proj *dbt.Project, base *graph.Graph, baseOutputs map[graph.DatasetID][]string) (*PRBuild, []Finding) {
	t.Helper()
	ctx := context.Background()
	full, err := BuildPR(ctx, proj, base, BuildOptions{Full: true})
	if err != nil {
		t.Fatal(err)
	}
	inc, err := BuildPR(ctx, proj, base, BuildOptions{BaseOutputs: baseOutputs})
	if err != nil {
		t.Fatal(err)
	}
	want := Run(Input{Base: base, PR: full.Graph, Project: proj, Outputs: full.Outputs, BaseOutputs: baseOutputs})
	got := Run(Input{Base: base, PR: inc.Graph, Project: proj, Outputs: inc.Outputs, BaseOutputs: baseOutputs})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("incremental check (%d statements analysed, %d reused) differs from the full one (-full +incremental):\n%s", inc.Analysed, inc.Reused, diff)
	}
	t.Logf("%d findings %q; incremental analysed %d statements, reused %d (full: %v %s)", len(got), rules(got), inc.Analysed, inc.Reused, inc.Full, inc.FullReason)
	return inc, got
}

// TestIncrementalMatchesFull checks every demo pull request both ways
// against the demo's production graph.
func TestIncrementalMatchesFull(t *testing.T) {
	base := demoBase(t)
	cases := []struct {
		name string
		pr   prPatch
	}{
		{"unchanged", prPatch{}},
		{"unchanged with catalog", prPatch{catalog: true}},
		{"interest rate as text", interestRateAsText},
	}
	for _, tc := range demoRuleCases {
		cases = append(cases, struct {
			name string
			pr   prPatch
		}{tc.name, tc.pr})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkBothWays(t, prProject(t, base.account, tc.pr), base.g, nil)
		})
	}
}

// TestIncrementalMatchesFullSynthetic checks pull requests on a synthetic
// project both ways, against its graph alone (as a snapshot) and with the
// base build's outputs (as --base-manifest), and that the incremental
// check analyses only a part of the project.
func TestIncrementalMatchesFullSynthetic(t *testing.T) {
	var buf bytes.Buffer
	if err := dbtgen.Generate(&buf, dbtgen.Options{Models: 300, Sources: 40, Columns: 8, SQL: true, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	for _, documented := range []bool{true, false} {
		gen := buf.Bytes()
		if !documented {
			// No model documents its columns: what readers see of a
			// model is its SQL's output.
			gen = editNodes(t, gen, func(nodes manifestNodes) {
				for _, n := range nodes {
					n["columns"] = json.RawMessage("{}")
				}
			})
		}
		t.Run(fmt.Sprintf("documented=%v", documented), func(t *testing.T) { checkSyntheticPRs(t, gen) })
	}
}

func checkSyntheticPRs(t *testing.T, gen []byte) {
	docs := manifestDoc(t, gen)
	// The base: one model computes a constant column no YAML documents,
	// so that only its SQL knows it (the base graph has no edge into it).
	constModel, reader := constantPair(t, docs)
	baseMan := editSQL(t, gen, constModel, func(sql string) string {
		return strings.Replace(sql, "\nfrom base\n", ",\n    'x' as flag\nfrom base\n", 1)
	})
	b := loadProject(t, baseMan)
	baseBuild, err := BuildPR(context.Background(), b, nil, BuildOptions{Full: true})
	if err != nil {
		t.Fatal(err)
	}

	mid := intermediateWith(t, docs, "    base.col_04,\n")
	prs := []struct {
		name string
		man  []byte
		// partial: the incremental check must reuse some models
		partial bool
	}{
		{"unchanged", baseMan, true},
		{"drop a column", dropColumn(t, baseMan, strings.TrimPrefix(mid, "model.synthetic."), "col_04"), true},
		{"rename a column", editSQL(t, baseMan, mid, func(sql string) string {
			return strings.Replace(sql, "    base.col_04,\n", "    base.col_04 as col_04_renamed,\n", 1)
		}), true},
		{"read a constant of an unchanged model", editSQL(t, baseMan, reader, func(sql string) string {
			return strings.Replace(sql, "\nfrom base\n", ",\n    base.flag\nfrom base\n", 1)
		}), true},
		{"read a column nothing has", editSQL(t, baseMan, "model.synthetic.m_00001", func(sql string) string {
			return strings.Replace(sql, "    col_03,\n", "    col_03,\n    col_99,\n", 1)
		}), true},
		{"remove a model", removeNode(t, baseMan, mid), true},
	}
	for _, pr := range prs {
		for _, withOutputs := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/base_outputs=%v", pr.name, withOutputs), func(t *testing.T) {
				var outs map[graph.DatasetID][]string
				if withOutputs {
					outs = baseBuild.Outputs
				}
				inc, _ := checkBothWays(t, loadProject(t, pr.man), baseBuild.Graph, outs)
				if pr.partial && (inc.Full || inc.Reused == 0) {
					t.Errorf("incremental check reused no model (analysed %d, full %v: %s)", inc.Analysed, inc.Full, inc.FullReason)
				}
			})
		}
	}
}

func TestIncrementalFallsBackWithoutParseEvidence(t *testing.T) {
	var buf bytes.Buffer
	if err := dbtgen.Generate(&buf, dbtgen.Options{Models: 30, Sources: 5, Columns: 4, SQL: true, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	p := loadProject(t, buf.Bytes())
	// A base with the project's nodes and table edges but no SQL analysis
	// (an older weft, or a graph from dbt's depends_on alone).
	got, err := BuildPR(context.Background(), p, p.Graph(), BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !got.Full || got.Reused != 0 {
		t.Errorf("Full, Reused = %v, %d; want a full analysis", got.Full, got.Reused)
	}
}

func loadProject(t *testing.T, man []byte) *dbt.Project {
	t.Helper()
	p, err := dbt.Load(context.Background(), man, nil, nil, dbt.Options{Account: "bench"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

type manifestNodes map[string]map[string]json.RawMessage

func manifestDoc(t *testing.T, man []byte) manifestNodes {
	t.Helper()
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(man, &doc); err != nil {
		t.Fatal(err)
	}
	var nodes manifestNodes
	if err := json.Unmarshal(doc["nodes"], &nodes); err != nil {
		t.Fatal(err)
	}
	return nodes
}

func nodeSQL(t *testing.T, n map[string]json.RawMessage) string {
	t.Helper()
	var sql string
	if err := json.Unmarshal(n["compiled_code"], &sql); err != nil {
		t.Fatal(err)
	}
	return sql
}

// editNodes rewrites the manifest's nodes with edit.
func editNodes(t *testing.T, man []byte, edit func(manifestNodes)) []byte {
	t.Helper()
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(man, &doc); err != nil {
		t.Fatal(err)
	}
	nodes := manifestDoc(t, man)
	edit(nodes)
	doc["nodes"] = mustJSON(t, nodes)
	return mustJSON(t, doc)
}

func editSQL(t *testing.T, man []byte, uid string, edit func(string) string) []byte {
	t.Helper()
	return editNodes(t, man, func(nodes manifestNodes) {
		n := nodes[uid]
		if n == nil {
			t.Fatalf("no node %s", uid)
		}
		sql := nodeSQL(t, n)
		edited := edit(sql)
		if edited == sql {
			t.Fatalf("edit of %s changed nothing:\n%s", uid, sql)
		}
		n["compiled_code"] = mustJSON(t, edited)
	})
}

func removeNode(t *testing.T, man []byte, uid string) []byte {
	t.Helper()
	return editNodes(t, man, func(nodes manifestNodes) { delete(nodes, uid) })
}

// intermediateWith returns the first joining model whose SQL contains s.
func intermediateWith(t *testing.T, nodes manifestNodes, s string) string {
	t.Helper()
	for i := 0; i < 1000; i++ {
		uid := "model.synthetic.m_" + pad(i)
		if n := nodes[uid]; n != nil && strings.Contains(nodeSQL(t, n), s) && strings.Contains(nodeSQL(t, n), "with base as") {
			return uid
		}
	}
	t.Fatalf("no model selects %q", s)
	return ""
}

// constantPair finds a joining model and another joining model whose base
// CTE reads it.
func constantPair(t *testing.T, nodes manifestNodes) (model, reader string) {
	t.Helper()
	for i := 0; i < 1000; i++ {
		uid := "model.synthetic.m_" + pad(i)
		n := nodes[uid]
		if n == nil || !strings.Contains(nodeSQL(t, n), "with base as") {
			continue
		}
		var deps struct {
			Nodes []string `json:"nodes"`
		}
		if err := json.Unmarshal(n["depends_on"], &deps); err != nil {
			t.Fatal(err)
		}
		if len(deps.Nodes) == 0 {
			continue
		}
		up := nodes[deps.Nodes[0]]
		if up != nil && strings.Contains(nodeSQL(t, up), "with base as") {
			return deps.Nodes[0], uid
		}
	}
	t.Fatal("no joining model reads another")
	return "", ""
}
