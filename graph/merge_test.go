package graph

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// randomGraph builds a graph from a small vocabulary so that two random
// graphs overlap a lot: same datasets with different columns, same edges
// with different evidence.
func randomGraph(r *rand.Rand) *Graph {
	pick := func(s ...string) string { return s[r.IntN(len(s))] }
	ns := func() string { return pick("snowflake://acme", "databricks://adb-1.net") }
	ds := func() DatasetID {
		return DatasetID{Namespace: ns(), Name: pick("A.S.T1", "A.S.T2", "A.S.T3", "main.x.t4")}
	}
	col := func() string { return pick("ID", "AMOUNT", "DATE", "name", "") }
	tm := func() time.Time {
		if r.IntN(4) == 0 {
			return time.Time{}
		}
		zone := time.FixedZone("z", 3600*r.IntN(3))
		return time.Date(2025, 1, 1+r.IntN(5), r.IntN(24), 0, 0, 0, zone)
	}
	ev := func() Evidence {
		return Evidence{
			Extractor:  pick("dbt", "snowflake"),
			Origin:     pick("model.x.a", "query 1", "query 2"),
			Method:     pick("", "parsed", "depends_on"),
			Job:        JobID{Namespace: pick("", "dbt://x"), Name: pick("", "job1")},
			FirstSeen:  tm(),
			LastSeen:   tm(),
			Count:      r.Int64N(4),
			Confidence: float64(r.IntN(3)) / 2,
		}
	}
	props := func() map[string]string {
		if r.IntN(2) == 0 {
			return nil
		}
		return map[string]string{pick("a", "b"): pick("1", "2", "")}
	}
	g := New()
	for range r.IntN(6) {
		d := Dataset{
			ID:          ds(),
			Platform:    Platform(pick("", "snowflake", "dbt", "databricks", "other")),
			Kind:        Kind(pick("", "table", "view", "model", "weird")),
			Description: pick("", "loans", "all loans"),
			Properties:  props(),
		}
		for range r.IntN(4) {
			d.Columns = append(d.Columns, Column{
				Name:        pick("ID", "AMOUNT", "DATE", "name"),
				Type:        pick("", "NUMBER", "NUMBER(38,0)", "TEXT"),
				Description: pick("", "id", "the id"),
				Tests:       []string{pick("unique", "not_null")},
			})
		}
		for range r.IntN(3) {
			d.Identities = append(d.Identities, Identity{ID: ds(), Reason: pick("dbt relation_name", "mirror")})
		}
		g.AddDataset(d)
	}
	for range r.IntN(3) {
		g.AddJob(Job{ID: JobID{Namespace: "dbt://x", Name: pick("j1", "j2")}, Type: pick("", "dbt_model", "q"), SQL: pick("", "select 1", "select 22"), Properties: props()})
	}
	for range r.IntN(3) {
		g.AddRun(Run{ID: pick("r1", "r2"), Job: JobID{Namespace: "dbt://x", Name: pick("", "j1", "j2")}, Parent: pick("", "p"), State: pick("", "success", "error"), Start: tm(), End: tm(), Properties: props()})
	}
	for range r.IntN(6) {
		g.AddEdge(ds(), ds(), ev())
	}
	for range r.IntN(6) {
		id := ColumnEdgeID{
			From:    ColumnID{Dataset: ds(), Column: col()},
			To:      ColumnID{Dataset: ds(), Column: col()},
			Type:    pick(Direct, Indirect),
			Subtype: pick(SubtypeIdentity, SubtypeJoin),
		}
		g.AddColumnEdge(id, ev())
	}
	for range r.IntN(3) {
		g.AddFinding(Finding{Severity: pick(SeverityError, SeverityWarning), Code: pick("dangling_ref", "x"), Location: pick("", "manifest.json"), Message: "m"})
	}
	return g
}

func encodeString(t *testing.T, g *Graph) string {
	t.Helper()
	var b bytes.Buffer
	if err := Encode(&b, g); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func merged(gs ...*Graph) *Graph {
	out := New()
	for _, g := range gs {
		out.Merge(g)
	}
	return out
}

func TestMergeProperties(t *testing.T) {
	for seed := range uint64(500) {
		r := rand.New(rand.NewPCG(seed, 42))
		a, b := randomGraph(r), randomGraph(r)
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			encA := encodeString(t, a)
			ab, ba := merged(a, b), merged(b, a)
			if d := cmp.Diff(encodeString(t, ab), encodeString(t, ba)); d != "" {
				t.Fatalf("A+B != B+A (-A+B +B+A):\n%s", d)
			}
			aa := merged(a)
			aa.Merge(a)
			if d := cmp.Diff(encA, encodeString(t, aa)); d != "" {
				t.Fatalf("A+A != A:\n%s", d)
			}
			self := merged(a)
			self.Merge(self)
			if d := cmp.Diff(encA, encodeString(t, self)); d != "" {
				t.Fatalf("A.Merge(A) != A:\n%s", d)
			}
			abb := merged(a, b, b)
			if d := cmp.Diff(encodeString(t, ab), encodeString(t, abb)); d != "" {
				t.Fatalf("A+B+B != A+B:\n%s", d)
			}
			if d := cmp.Diff(encA, encodeString(t, a)); d != "" {
				t.Fatalf("Merge modified its argument:\n%s", d)
			}
		})
	}
}

func TestAddDataset(t *testing.T) {
	id := DatasetID{Namespace: "snowflake://acme", Name: "A.S.T"}
	other := DatasetID{Namespace: "snowflake://acme", Name: "B.S.T"}
	tests := []struct {
		name string
		a, b Dataset
		want Dataset
	}{
		{
			name: "columns merged by name, longer list gives the order",
			a:    Dataset{ID: id, Columns: []Column{{Name: "B"}, {Name: "X", Type: "NUMBER"}}},
			b:    Dataset{ID: id, Columns: []Column{{Name: "A"}, {Name: "B", Type: "TEXT"}, {Name: "C"}}},
			want: Dataset{ID: id, Columns: []Column{{Name: "A"}, {Name: "B", Type: "TEXT"}, {Name: "C"}, {Name: "X", Type: "NUMBER"}}},
		},
		{
			name: "empty fields filled, more specific type wins",
			a:    Dataset{ID: id, Columns: []Column{{Name: "A", Type: "NUMBER"}}},
			b:    Dataset{ID: id, Description: "loans", Columns: []Column{{Name: "A", Type: "NUMBER(38,0)", Description: "id", Tests: []string{"unique"}}}},
			want: Dataset{ID: id, Description: "loans", Columns: []Column{{Name: "A", Type: "NUMBER(38,0)", Description: "id", Tests: []string{"unique"}}}},
		},
		{
			name: "kind and platform: more specific wins",
			a:    Dataset{ID: id, Platform: DBT, Kind: KindModel},
			b:    Dataset{ID: id, Platform: Snowflake, Kind: KindTable},
			want: Dataset{ID: id, Platform: Snowflake, Kind: KindModel},
		},
		{
			name: "identities union sorted, properties union with greater value",
			a:    Dataset{ID: id, Identities: []Identity{{ID: other, Reason: "r"}}, Properties: map[string]string{"a": "1", "b": "2025-01-01"}},
			b:    Dataset{ID: id, Identities: []Identity{{ID: other, Reason: "r"}, {ID: DatasetID{Namespace: "dbt", Name: "m"}, Reason: "dbt"}}, Properties: map[string]string{"b": "2025-02-01"}},
			want: Dataset{ID: id, Identities: []Identity{{ID: DatasetID{Namespace: "dbt", Name: "m"}, Reason: "dbt"}, {ID: other, Reason: "r"}}, Properties: map[string]string{"a": "1", "b": "2025-02-01"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, order := range [][2]Dataset{{tt.a, tt.b}, {tt.b, tt.a}} {
				g := New()
				g.AddDataset(order[0])
				g.AddDataset(order[1])
				if d := cmp.Diff(tt.want, *g.Datasets[id]); d != "" {
					t.Errorf("AddDataset (-want +got):\n%s", d)
				}
			}
		})
	}
}

func TestAddDatasetCopies(t *testing.T) {
	d := Dataset{ID: DatasetID{Namespace: "n", Name: "t"}, Columns: []Column{{Name: "a"}}, Properties: map[string]string{"k": "v"}}
	g := New()
	g.AddDataset(d)
	d.Columns[0].Name = "changed"
	d.Properties["k"] = "changed"
	got := g.Datasets[d.ID]
	if got.Columns[0].Name != "a" || got.Properties["k"] != "v" {
		t.Errorf("AddDataset retained the caller's slices or maps: %+v", got)
	}
}

func TestEvidenceMerge(t *testing.T) {
	from, to := DatasetID{Namespace: "n", Name: "a"}, DatasetID{Namespace: "n", Name: "b"}
	t1 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	t2 := t1.Add(time.Hour)
	g := New()
	g.AddEdge(from, to, Evidence{Extractor: "sql", Origin: "q1", LastSeen: t1, Count: 3, Confidence: 0.5})
	g.AddEdge(from, to, Evidence{Extractor: "sql", Origin: "q1", FirstSeen: t2, LastSeen: t2, Count: 1, Confidence: 1})
	g.AddEdge(from, to, Evidence{Extractor: "dbt", Origin: "model.x.b", Method: "depends_on"})
	want := []Evidence{
		{Extractor: "dbt", Origin: "model.x.b", Method: "depends_on"},
		{Extractor: "sql", Origin: "q1", FirstSeen: t2, LastSeen: t2, Count: 3, Confidence: 1},
	}
	if d := cmp.Diff(want, g.Edges[EdgeID{From: from, To: to}].Evidence); d != "" {
		t.Errorf("evidence (-want +got):\n%s", d)
	}
}

func TestAddFindingDedup(t *testing.T) {
	g := New()
	f1 := Finding{Severity: SeverityWarning, Code: "b", Message: "m"}
	f2 := Finding{Severity: SeverityError, Code: "a", Location: "x", Message: "m"}
	g.AddFinding(f2)
	g.AddFinding(f1)
	g.AddFinding(f2)
	if d := cmp.Diff([]Finding{f1, f2}, g.Findings); d != "" {
		t.Errorf("findings (-want +got):\n%s", d)
	}
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 42)) }
