package snowflake

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/weftdata/weft/extractors"
	"github.com/weftdata/weft/graph"
)

// demoAsCSV writes the demo export as CSV (arrays as JSON text, NULL as an
// empty cell), as Snowsight's download would.
func demoAsCSV(t *testing.T, path string) {
	t.Helper()
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if err := writeDemoCSV(out); err != nil {
		t.Fatal(err)
	}
}

func writeDemoCSV(out io.Writer) error {
	in, err := os.Open(demoExport)
	if err != nil {
		return err
	}
	defer in.Close()
	w := csv.NewWriter(out)
	cols := []string{"QUERY_ID", "QUERY_TEXT", "QUERY_TYPE", "START_TIME", "DATABASE_NAME", "SCHEMA_NAME", "USER_NAME", "ROLE_NAME",
		"WAREHOUSE_NAME", "SESSION_ID", "QUERY_TAG", "EXECUTION_STATUS", "QUERY_HASH", "QUERY_PARAMETERIZED_HASH", "ROOT_QUERY_ID",
		"DIRECT_OBJECTS_ACCESSED", "BASE_OBJECTS_ACCESSED", "OBJECTS_MODIFIED"}
	w.Write(cols)
	sc := bufio.NewScanner(in)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			return err
		}
		rec := make([]string, len(cols))
		for i, c := range cols {
			s, _, err := jsonText(m[c])
			if err != nil {
				return err
			}
			rec[i] = s
		}
		w.Write(rec)
	}
	if err := sc.Err(); err != nil {
		return err
	}
	w.Flush()
	return w.Error()
}

// TestExportFormats reads the demo export as CSV and gzipped JSON lines:
// the result is the same golden file.
func TestExportFormats(t *testing.T) {
	dir := t.TempDir()
	demoAsCSV(t, filepath.Join(dir, "history.csv"))

	raw, err := os.ReadFile(demoExport)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "history.jsonl.gz"))
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	zw.Write(raw)
	zw.Close()
	f.Close()

	for _, name := range []string{"history.csv", "history.jsonl.gz"} {
		t.Run(name, func(t *testing.T) {
			e, err := New(Config{Name: "prod", Account: "acmebank-prod", Export: name, Dir: dir})
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, "demo.golden", render(t, collect(t, e)))
		})
	}
}

// TestDedupExport reads the deduplicated form (the export query's output):
// rows of one shape from two exports of the same chunk add up.
func TestDedupExport(t *testing.T) {
	e, err := New(Config{Account: "acmebank-prod", Export: "testdata/dedup.csv"})
	if err != nil {
		t.Fatal(err)
	}
	batches := collect(t, e)
	if len(batches) != 1 || len(batches[0].Statements) != 2 {
		t.Fatalf("got %d batches; want 1 with 2 statements\n%s", len(batches), render(t, batches))
	}
	st := batches[0].Statements[0]
	if st.Count != 1200 || st.Origin.QueryID != "01bd0001-0000-0000-0000-000000000001" ||
		st.FirstSeen.Format("15:04") != "00:15" || st.LastSeen.Format("15:04") != "23:15" {
		t.Errorf("merged shape: count=%d origin=%s first=%v last=%v", st.Count, st.Origin, st.FirstSeen, st.LastSeen)
	}
	g := batches[0].Graph
	ev := g.ColumnEdges[graph.ColumnEdgeID{
		From: graph.ColumnID{Dataset: datasetID("RAW.CORE_BANKING.LOANS_LANDING"), Column: "PRINCIPAL_AMT"},
		To:   graph.ColumnID{Dataset: datasetID("RAW.CORE_BANKING.LOANS"), Column: "PRINCIPAL_AMT"},
		Type: graph.Direct, Subtype: graph.SubtypeTransformation,
	}]
	if ev == nil || ev.Evidence[0].Method != "access_history" || ev.Evidence[0].Count != 30 {
		t.Errorf("access-history column edge: %+v", ev)
	}
}

// TestExportErrors checks that bad input is reported with its location.
func TestExportErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ name, content, want string }{
		{"bad.jsonl", "{\"QUERY_ID\":\"a\",\"QUERY_TEXT\":\"x\"}\n{\"QUERY_ID\":\n", "bad.jsonl:2: "},
		{"time.jsonl", "{\"QUERY_ID\":\"a\",\"QUERY_TEXT\":\"x\",\"START_TIME\":\"yesterday\"}\n", `time.jsonl:1: START_TIME: bad timestamp "yesterday"`},
		{"nohead.csv", "a,b\n1,2\n", "nohead.csv:1: header has no QUERY_TEXT column (got a, b)"},
		{"count.csv", "QUERY_TEXT,QUERY_COUNT\nselect 1,many\n", "count.csv:2: QUERY_COUNT: "},
		{"empty.csv", "", "empty export"},
		// a syntax error after a multi-line record: located, no panic
		{"quote.csv", "QUERY_TEXT,START_TIME\n\"insert into a\nselect 1\",2024-07-01\n\"a\"b\",\n", `quote.csv:4:3: extraneous or missing " in quoted-field`},
		{"header.csv", "QUERY_TEXT,\"START\"_TIME\n", `header.csv:1:18: extraneous or missing " in quoted-field`},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := os.WriteFile(filepath.Join(dir, c.name), []byte(c.content), 0o644); err != nil {
				t.Fatal(err)
			}
			e, err := New(Config{Account: "acme-x", Export: c.name, Dir: dir})
			if err != nil {
				t.Fatal(err)
			}
			err = e.Extract(context.Background(), func(extractors.Batch) error { return nil })
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
	e, _ := New(Config{Account: "acme-x", Export: "missing.jsonl", Dir: dir})
	if err := e.Extract(context.Background(), func(extractors.Batch) error { return nil }); err == nil || !strings.HasPrefix(err.Error(), "snowflake: export: open ") {
		t.Errorf("missing file: %v", err)
	}
}

// TestDecodeAccessHistory covers NULL versus empty arrays, malformed JSON
// (a finding; the statement is still emitted), filters and temp tables.
func TestDecodeAccessHistory(t *testing.T) {
	d := decoder{ns: "snowflake://acme-x", f: filter{exclDB: []string{"SCRATCH*"}}}
	rows := []Row{
		{Hash: "h1", FirstQueryID: "q1", LastQueryID: "q1", QueryType: "INSERT", Count: 1, QueryText: "INSERT INTO A.B.C SELECT * FROM A.B.D", Database: "A"},
		{Hash: "h2", FirstQueryID: "q2", LastQueryID: "q2", QueryType: "INSERT", Count: 1, QueryText: "INSERT INTO A.B.C SELECT 1", Database: "A",
			DirectObjectsAccessed: NullJSON{Text: "[]", Valid: true}, ObjectsModified: NullJSON{Text: "[]", Valid: true}},
		{Hash: "h3", FirstQueryID: "q3", LastQueryID: "q3", QueryType: "MERGE", Count: 1, QueryText: "MERGE INTO A.B.C ...", Database: "A",
			ObjectsModified: NullJSON{Text: "{not json", Valid: true}},
		{Hash: "h4", FirstQueryID: "q4", LastQueryID: "q4", QueryType: "INSERT", Count: 1, QueryText: "INSERT INTO SCRATCH_X.S.T SELECT 1", Database: "SCRATCH_X",
			ObjectsModified: NullJSON{Text: `[{"objectDomain":"Table","objectName":"SCRATCH_X.S.T","columns":[{"columnName":"A"}]}]`, Valid: true}},
		{Hash: "h5", FirstQueryID: "q5", LastQueryID: "q5", QueryType: "CREATE_TABLE", Count: 1, QueryText: "/* x */ create local temporary table if not exists \"tmp\".Y (a int)", Database: "A", Schema: "B", SessionID: "77"},
		{Hash: "h6", FirstQueryID: "q6", LastQueryID: "q6", QueryType: "INSERT", Count: 1, QueryText: "  ", Database: "A"},
	}
	b := d.decode(rows, mustTime(t, "2025-07-01T00:00:00Z"))
	var origins []string
	for _, st := range b.Statements {
		origins = append(origins, st.Origin.QueryID)
	}
	if diff := cmp.Diff([]string{"q1", "q2", "q3", "q5"}, origins); diff != "" {
		t.Errorf("statements (-want +got):\n%s", diff)
	}
	var codes []string
	for _, f := range b.Graph.Findings {
		codes = append(codes, f.Code+" "+f.Location)
	}
	if diff := cmp.Diff([]string{"bad_access_history snowflake query q3", "empty_query_text snowflake query q6"}, codes); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	tmp := b.Graph.Datasets[graph.DatasetID{Namespace: "snowflake://acme-x", Name: "A.tmp.Y"}]
	if tmp == nil || !tmp.IsTemp() || tmp.Properties["session_id"] != "77" {
		t.Errorf("temp table: %+v", tmp)
	}
	if _, ok := b.Graph.Datasets[graph.DatasetID{Namespace: "snowflake://acme-x", Name: "SCRATCH_X.S.T"}]; ok {
		t.Error("excluded database in the graph")
	}
}

func TestCreateTempTable(t *testing.T) {
	for _, c := range []struct{ sql, want string }{
		{"CREATE TEMP TABLE t AS SELECT 1", "DB.SC.T"},
		{"create or replace temporary table s.t as select 1", "DB.S.T"},
		{"-- c\nCREATE VOLATILE TABLE \"Odd\"\"Name\" (a int)", `DB.SC."Odd""Name"`},
		{`CREATE TEMP TABLE "tmp.v2" AS SELECT 1`, `DB.SC."tmp.v2"`},
		{"CREATE TABLE t AS SELECT 1", ""},
		{"CREATE TRANSIENT TABLE t AS SELECT 1", ""},
		{"CREATE TEMPORARY VIEW v AS SELECT 1", ""},
		{"INSERT INTO t SELECT 1", ""},
	} {
		got, ok := createTempTable(c.sql, "DB", "SC")
		if !ok {
			got = ""
		}
		if got != c.want {
			t.Errorf("createTempTable(%q) = %q, want %q", c.sql, got, c.want)
		}
	}
}

// TestDecodeQuotedNames checks that access-history names with a dot or a
// quote inside a quoted part are named as graph.JoinName (and so sqlparse
// and weave) name them, and that the database filter sees the first part.
func TestDecodeQuotedNames(t *testing.T) {
	d := decoder{ns: "snowflake://acme-x", f: filter{exclDB: []string{"SCRATCH*"}}}
	rows := []Row{{Hash: "h1", FirstQueryID: "q1", LastQueryID: "q1", QueryType: "INSERT", Count: 1,
		QueryText: `INSERT INTO A.B."orders.v2" SELECT "x.y" FROM A.B.SRC`, Database: "A",
		DirectObjectsAccessed: NullJSON{Text: `[{"objectDomain":"Table","objectName":"A.B.SRC","columns":[{"columnName":"\"x.y\""}]},` +
			`{"objectDomain":"Table","objectName":"\"scratch.x\".S.T","columns":[{"columnName":"A"}]}]`, Valid: true},
		ObjectsModified: NullJSON{Text: `[{"objectDomain":"Table","objectName":"A.B.\"orders.v2\"","columns":[{"columnName":"\"x.y\"",` +
			`"directSources":[{"objectDomain":"Table","objectName":"A.B.SRC","columnName":"\"x.y\""}]}]}]`, Valid: true},
	}}
	b := d.decode(rows, mustTime(t, "2025-07-01T00:00:00Z"))
	var names []string
	for id := range b.Graph.Datasets {
		names = append(names, id.Name)
	}
	slices.Sort(names)
	if diff := cmp.Diff([]string{`A.B."orders.v2"`, "A.B.SRC"}, names); diff != "" {
		t.Errorf("datasets (-want +got):\n%s", diff)
	}
	to := graph.ColumnID{Dataset: graph.DatasetID{Namespace: d.ns, Name: `A.B."orders.v2"`}, Column: "x.y"}
	from := graph.ColumnID{Dataset: graph.DatasetID{Namespace: d.ns, Name: "A.B.SRC"}, Column: "x.y"}
	if _, ok := b.Graph.ColumnEdges[graph.ColumnEdgeID{From: from, To: to, Type: graph.Direct, Subtype: graph.SubtypeTransformation}]; !ok {
		t.Errorf("column edge %v -> %v missing; have %v", from, to, slices.Collect(maps.Keys(b.Graph.ColumnEdges)))
	}
}

// jsonText renders a JSON value as the text a CSV cell would hold: strings
// unquoted, numbers and booleans as written, arrays and objects as their
// JSON text; null reports null.
func jsonText(v json.RawMessage) (string, bool, error) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || string(v) == "null" {
		return "", true, nil
	}
	if v[0] == '"' {
		if bytes.IndexByte(v, '\\') < 0 {
			return string(v[1 : len(v)-1]), false, nil
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", false, err
		}
		return s, false, nil
	}
	return string(v), false, nil
}

// TestExportFarDates: chunks come in time order, with watermarks that
// never go back, even for years outside UnixNano's range (1678 to 2262),
// which a mangled or placeholder timestamp can give.
func TestExportFarDates(t *testing.T) {
	dir := t.TempDir()
	data := `{"QUERY_ID":"q1","QUERY_TEXT":"insert into a.b.c select 1","START_TIME":"2025-01-01"}
{"QUERY_ID":"q2","QUERY_TEXT":"insert into a.b.d select 1","START_TIME":"2300-01-01"}
{"QUERY_ID":"q3","QUERY_TEXT":"insert into a.b.e select 1","START_TIME":"1600-01-01"}
{"QUERY_ID":"q4","QUERY_TEXT":"insert into a.b.f select 1","START_TIME":"9999-01-01"}
{"QUERY_ID":"q5","QUERY_TEXT":"insert into a.b.g select 1"}
{"QUERY_ID":"q6","QUERY_TEXT":"insert into a.b.h select 1","START_TIME":"1970-01-01"}
`
	if err := os.WriteFile(filepath.Join(dir, "far.jsonl"), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := New(Config{Account: "acme-x", Export: "far.jsonl", Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range collect(t, e) {
		wm := "-"
		if !b.Watermark.IsZero() {
			wm = b.Watermark.Format("2006-01-02")
		}
		for _, st := range b.Statements {
			got = append(got, wm+" "+st.Origin.QueryID)
		}
	}
	want := []string{"- q5", "1600-01-02 q3", "1970-01-02 q6", "2025-01-02 q1", "2300-01-02 q2", "9999-01-02 q4"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("batches (-want +got):\n%s", diff)
	}
}
