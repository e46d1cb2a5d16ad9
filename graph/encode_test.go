package graph

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// checkGolden compares got with testdata/name, or rewrites it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./graph -update to create it)", err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, d)
	}
}

// richGraph is a small slice of the demo scenario that uses every field of
// the format: a dbt model that is also a Snowflake table, a Databricks
// table reading it through a foreign catalog, typed column edges including
// a dataset-level filter, jobs, runs with parents, and findings.
func richGraph() *Graph {
	sf := "snowflake://acmebank-prod"
	dbx := "databricks://adb-1234567890.12.azuredatabricks.net"
	loans := DatasetID{Namespace: sf, Name: "RAW.LOANS.LOANS"}
	stg := DatasetID{Namespace: sf, Name: "ANALYTICS.STAGING.STG_LOANS"}
	fct := DatasetID{Namespace: sf, Name: "ANALYTICS.MARTS.FCT_LOANS"}
	feat := DatasetID{Namespace: dbx, Name: "main.risk.loan_features"}
	t0 := time.Date(2025, 3, 1, 6, 0, 0, 0, time.UTC)
	t1 := time.Date(2025, 3, 2, 6, 0, 0, 0, time.UTC)
	dbtJob := JobID{Namespace: "dbt://acmebank", Name: "model.acme_risk.fct_loans"}
	stgJob := JobID{Namespace: "dbt://acmebank", Name: "model.acme_risk.stg_loans"}
	dbxJob := JobID{Namespace: dbx, Name: "job 881.task build_features"}

	g := New()
	g.AddDataset(Dataset{ID: loans, Platform: Snowflake, Kind: KindSource, Description: "Loans as landed by Snowpipe.",
		Columns:    []Column{{Name: "ID", Type: "NUMBER(38,0)"}, {Name: "PRINCIPAL", Type: "NUMBER(18,2)"}, {Name: "STATUS", Type: "VARCHAR"}},
		Identities: []Identity{{ID: DatasetID{Namespace: "dbt://acmebank", Name: "source.acme_risk.raw.loans"}, Reason: "dbt source relation_name"}},
	})
	g.AddDataset(Dataset{ID: stg, Platform: Snowflake, Kind: KindModel,
		Columns:    []Column{{Name: "LOAN_ID", Type: "NUMBER(38,0)", Tests: []string{"unique", "not_null"}}, {Name: "PRINCIPAL", Type: "NUMBER(18,2)"}},
		Properties: map[string]string{"dbt_unique_id": "model.acme_risk.stg_loans", "materialized": "view"},
	})
	g.AddDataset(Dataset{ID: fct, Platform: Snowflake, Kind: KindModel, Description: "One row per active loan.",
		Columns:    []Column{{Name: "LOAN_ID", Type: "NUMBER(38,0)", Description: "Loan key."}, {Name: "PRINCIPAL", Type: "NUMBER(18,2)"}},
		Identities: []Identity{{ID: DatasetID{Namespace: dbx, Name: "sf_analytics.marts.fct_loans"}, Reason: "foreign catalog sf_analytics mirrors Snowflake database ANALYTICS"}},
		Properties: map[string]string{"dbt_unique_id": "model.acme_risk.fct_loans", "materialized": "table", "original_file_path": "models/marts/fct_loans.sql"},
	})
	g.AddDataset(Dataset{ID: feat, Platform: Databricks, Kind: KindTable,
		Columns: []Column{{Name: "loan_id", Type: "bigint"}, {Name: "log_principal", Type: "double"}},
	})
	g.AddJob(Job{ID: stgJob, Type: "dbt_model", SQL: "select id as loan_id, principal from RAW.LOANS.LOANS where status <> 'void'"})
	g.AddJob(Job{ID: dbtJob, Type: "dbt_model", SQL: "select loan_id, principal from ANALYTICS.STAGING.STG_LOANS", Properties: map[string]string{"materialized": "table"}})
	g.AddJob(Job{ID: dbxJob, Type: "databricks_task", SQL: "SELECT loan_id, log(principal) AS log_principal FROM sf_analytics.marts.fct_loans"})
	g.AddRun(Run{ID: "8f0c-invocation", Job: JobID{Namespace: "dbt://acmebank", Name: "dbt build"}, State: "success", Start: t0, End: t0.Add(4 * time.Minute)})
	g.AddRun(Run{ID: "8f0c-invocation.model.acme_risk.fct_loans", Job: dbtJob, Parent: "8f0c-invocation", State: "success", Start: t0.Add(time.Minute), End: t0.Add(2 * time.Minute), Properties: map[string]string{"rows_affected": "18211"}})
	g.AddRun(Run{ID: "881-4431", Job: dbxJob, State: "TERMINATED", Start: t1, End: t1.Add(9 * time.Minute)})

	dbtEv := func(job JobID) Evidence {
		return Evidence{Extractor: "dbt", Origin: job.Name, Method: "depends_on", Job: job, FirstSeen: t0, LastSeen: t1, Count: 2, Confidence: 1}
	}
	parsed := func(job JobID, origin string) Evidence {
		return Evidence{Extractor: "sql", Origin: origin, Method: "parsed", Job: job, FirstSeen: t0, LastSeen: t1, Count: 2, Confidence: 1}
	}
	g.AddEdge(loans, stg, dbtEv(stgJob))
	g.AddEdge(stg, fct, dbtEv(dbtJob))
	g.AddEdge(stg, fct, parsed(dbtJob, "models/marts/fct_loans.sql:1"))
	g.AddEdge(fct, feat, Evidence{Extractor: "databricks", Origin: "databricks run 881-4431", Method: "unity_catalog", Job: dbxJob, FirstSeen: t1, LastSeen: t1, Count: 1, Confidence: 1})

	ce := func(from, to DatasetID, fc, tc, typ, sub string, ev Evidence) {
		g.AddColumnEdge(ColumnEdgeID{From: ColumnID{Dataset: from, Column: fc}, To: ColumnID{Dataset: to, Column: tc}, Type: typ, Subtype: sub}, ev)
	}
	ce(loans, stg, "ID", "LOAN_ID", Direct, SubtypeIdentity, parsed(stgJob, "models/staging/stg_loans.sql:1"))
	ce(loans, stg, "PRINCIPAL", "PRINCIPAL", Direct, SubtypeIdentity, parsed(stgJob, "models/staging/stg_loans.sql:1"))
	ce(loans, stg, "STATUS", "", Indirect, SubtypeFilter, parsed(stgJob, "models/staging/stg_loans.sql:1"))
	ce(stg, fct, "LOAN_ID", "LOAN_ID", Direct, SubtypeIdentity, parsed(dbtJob, "models/marts/fct_loans.sql:1"))
	ce(stg, fct, "PRINCIPAL", "PRINCIPAL", Direct, SubtypeIdentity, parsed(dbtJob, "models/marts/fct_loans.sql:1"))
	ce(fct, feat, "LOAN_ID", "loan_id", Direct, SubtypeIdentity, Evidence{Extractor: "databricks", Origin: "databricks run 881-4431", Method: "unity_catalog", Job: dbxJob, FirstSeen: t1, LastSeen: t1, Count: 1, Confidence: 1})
	ce(fct, feat, "PRINCIPAL", "log_principal", Direct, SubtypeTransformation, Evidence{Extractor: "sql", Origin: "databricks run 881-4431", Method: "parsed", Job: dbxJob, FirstSeen: t1, LastSeen: t1, Count: 1, Confidence: 0.8})

	g.AddFinding(Finding{Severity: SeverityWarning, Code: "table_level_only", Location: "databricks run 881-4431", Subject: feat.String(), Message: "statement parsed at table level only: log() of a foreign column"})
	g.AddFinding(Finding{Severity: SeverityInfo, Code: "unknown_schema_version", Location: "manifest.json: metadata.dbt_schema_version", Message: "manifest v12 read with v12 rules"})
	return g
}

func TestEncodeGolden(t *testing.T) {
	g := richGraph()
	got := []byte(encodeString(t, g))
	checkGolden(t, "rich.json", got)

	// Round trip: decoding and encoding again gives the same bytes.
	back, err := Decode(bytes.NewReader(got))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(string(got), encodeString(t, back)); d != "" {
		t.Errorf("round trip (-first +second):\n%s", d)
	}
	if d := cmp.Diff(g, back); d != "" {
		t.Errorf("decoded graph differs (-want +got):\n%s", d)
	}
}

func TestEncodeEmpty(t *testing.T) {
	got := encodeString(t, New())
	want := `{
  "weft_graph_version": 1,
  "datasets": [],
  "jobs": [],
  "runs": [],
  "edges": [],
  "column_edges": [],
  "findings": []
}
`
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	back, err := Decode(strings.NewReader(got))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(New(), back); d != "" {
		t.Errorf("decoded empty graph (-want +got):\n%s", d)
	}
}

func TestRoundTripRandom(t *testing.T) {
	for seed := range uint64(200) {
		g := randomGraph(newRand(seed))
		enc := encodeString(t, g)
		back, err := Decode(strings.NewReader(enc))
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if d := cmp.Diff(enc, encodeString(t, back)); d != "" {
			t.Fatalf("seed %d: round trip (-first +second):\n%s", seed, d)
		}
	}
}

func TestEncodeDoesNotModify(t *testing.T) {
	g := New()
	id := DatasetID{Namespace: "n", Name: "t"}
	// Built by hand, not through Add: unsorted lists.
	g.Datasets[id] = &Dataset{ID: id, Identities: []Identity{{ID: DatasetID{Name: "b"}}, {ID: DatasetID{Name: "a"}}},
		Columns: []Column{{Name: "x", Tests: []string{"z", "a"}}}}
	g.Edges[EdgeID{From: id, To: id}] = &Edge{EdgeID: EdgeID{From: id, To: id}, Evidence: []Evidence{{Extractor: "b"}, {Extractor: "a"}}}
	out := encodeString(t, g)
	if g.Datasets[id].Identities[0].ID.Name != "b" || g.Datasets[id].Columns[0].Tests[0] != "z" || g.Edges[EdgeID{From: id, To: id}].Evidence[0].Extractor != "b" {
		t.Error("Encode sorted the graph's own slices")
	}
	if strings.Index(out, `"a"`) > strings.Index(out, `"z"`) {
		t.Errorf("Encode did not sort tests:\n%s", out)
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "bad json", in: "{\n  \"weft_graph_version\": 1,\n  \"datasets\": [,]\n}", want: "decode graph: line 3, column 16: invalid character ',' looking for beginning of value"},
		{name: "truncated", in: `{"weft_graph_version": 1, "datasets": [`, want: "decode graph: line 1, column 39: unexpected end of JSON input"},
		{name: "not a graph", in: `{"metadata": {}}`, want: "decode graph: no weft_graph_version field (not a weft graph?)"},
		{name: "future version", in: `{"weft_graph_version": 2}`, want: "decode graph: weft_graph_version 2 is not supported (this weft reads version 1)"},
		{name: "wrong type", in: "{\"weft_graph_version\": 1,\n\"datasets\": [{\"id\": {\"namespace\": \"n\", \"name\": \"t\"}, \"columns\": [{\"name\": 3}]}]}", want: "decode graph: line 2, column 75: datasets.columns.name: cannot use JSON number as string"},
		{name: "empty dataset id", in: `{"weft_graph_version": 1, "datasets": [{"id": {"namespace": "n"}}]}`, want: "decode graph: datasets[0]: empty id.name"},
		{name: "empty edge end", in: `{"weft_graph_version": 1, "edges": [{"from": {"namespace": "n", "name": "a"}}]}`, want: "decode graph: edges[0]: empty from or to"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(strings.NewReader(tt.in))
			if got := errString(err); got != tt.want {
				t.Errorf("error = %q, want %q", got, tt.want)
			}
		})
	}
}

// syntheticGraph is the size of the dbt benchmark: n models of 50 columns,
// each reading two others, with evidence on every edge.
func syntheticGraph(n int) *Graph {
	g := New()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	id := func(i int) DatasetID {
		return DatasetID{Namespace: "snowflake://acme-prod", Name: fmt.Sprintf("ANALYTICS.MARTS.MODEL_%05d", i)}
	}
	for i := range n {
		cols := make([]Column, 50)
		for c := range cols {
			cols[c] = Column{Name: fmt.Sprintf("COLUMN_%02d", c), Type: "NUMBER(38,0)", Description: "a column"}
		}
		g.AddDataset(Dataset{ID: id(i), Platform: Snowflake, Kind: KindModel, Columns: cols,
			Properties: map[string]string{"dbt_unique_id": fmt.Sprintf("model.p.model_%05d", i), "materialized": "table"}})
		for _, up := range []int{i / 2, i / 3} {
			if up != i {
				g.AddEdge(id(up), id(i), Evidence{Extractor: "dbt", Origin: fmt.Sprintf("model.p.model_%05d", i), Method: "depends_on", FirstSeen: t0, LastSeen: t0, Count: 1, Confidence: 1})
			}
		}
	}
	return g
}

func BenchmarkEncode(b *testing.B) {
	g := syntheticGraph(10000)
	var buf bytes.Buffer
	b.ResetTimer()
	for b.Loop() {
		buf.Reset()
		if err := Encode(&buf, g); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len())/1e6, "MB")
}

func BenchmarkDecode(b *testing.B) {
	var buf bytes.Buffer
	if err := Encode(&buf, syntheticGraph(10000)); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Decode(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzAppendString checks the hand-written string encoder against
// encoding/json: the output must be valid JSON that decodes to what
// encoding/json's own encoding decodes to.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", "quote \" and \\ backslash", "tab\tnew\nline\r", "\x00\x1f\x7f", "bad \xff utf8", "line\u2028sep\u2029", "</script><script>alert(1)</script>", "é中🙂"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var got, want string
		if err := json.Unmarshal(appendString(nil, s), &got); err != nil {
			t.Fatalf("appendString(%q) is not valid JSON: %v", s, err)
		}
		ref, _ := json.Marshal(s)
		if err := json.Unmarshal(ref, &want); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("appendString(%q) decodes to %q, encoding/json gives %q", s, got, want)
		}
	})
}

func TestAppendFloat(t *testing.T) {
	for _, f := range []float64{0, 1, 0.5, 0.8, 1.0 / 3, 1e-7, 123456789, 1e21, -2.5e-9} {
		want, _ := json.Marshal(f)
		if got := string(appendFloat(nil, f)); got != string(want) {
			t.Errorf("appendFloat(%v) = %s, want %s", f, got, want)
		}
	}
}
