package graph

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// decodeStd is the encoding/json decoder Decode replaced, kept as the
// reference Decode must agree with. kind says which error it returned:
// "syntax", "version", "type" (these three have messages Decode matches
// exactly), "entity" (an empty id; also matched) or "other" (a bad
// timestamp, which encoding/json reports without a position).
func decodeStd(data []byte) (g *Graph, kind string, err error) {
	var doc document
	err = json.Unmarshal(data, &doc)
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		line, col := lineCol(data, syn.Offset)
		return nil, "syntax", fmt.Errorf("decode graph: line %d, column %d: %v", line, col, syn)
	}
	if doc.Version != FormatVersion {
		if doc.Version == 0 {
			return nil, "version", fmt.Errorf("decode graph: no weft_graph_version field (not a weft graph?)")
		}
		return nil, "version", fmt.Errorf("decode graph: weft_graph_version %d is not supported (this weft reads version %d)", doc.Version, FormatVersion)
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		line, col := lineCol(data, typ.Offset)
		return nil, "type", fmt.Errorf("decode graph: line %d, column %d: %s: cannot use JSON %s as %s", line, col, typ.Field, typ.Value, typ.Type)
	}
	if err != nil {
		return nil, "other", fmt.Errorf("decode graph: %w", err)
	}
	g, err = stdFromDocument(doc)
	if err != nil {
		return nil, "entity", err
	}
	return g, "", nil
}

func stdFromDocument(doc document) (*Graph, error) {
	g := New()
	for i, d := range doc.Datasets {
		if d.ID.Name == "" {
			return nil, fmt.Errorf("decode graph: datasets[%d]: empty id.name", i)
		}
		if _, dup := g.Datasets[d.ID]; dup {
			g.AddDataset(d)
			continue
		}
		d.Identities = normIdentities(d.Identities)
		for j := range d.Columns {
			d.Columns[j].Tests = normStrings(d.Columns[j].Tests)
		}
		g.Datasets[d.ID] = &d
	}
	for i, j := range doc.Jobs {
		if j.ID.IsZero() {
			return nil, fmt.Errorf("decode graph: jobs[%d]: empty id", i)
		}
		g.AddJob(j)
	}
	for i, r := range doc.Runs {
		if r.ID == "" {
			return nil, fmt.Errorf("decode graph: runs[%d]: empty id", i)
		}
		g.AddRun(r)
	}
	for i, e := range doc.Edges {
		if e.From.IsZero() || e.To.IsZero() {
			return nil, fmt.Errorf("decode graph: edges[%d]: empty from or to", i)
		}
		if cur, dup := g.Edges[e.EdgeID]; dup {
			cur.Evidence = mergeEvidence(cur.Evidence, e.Evidence)
			continue
		}
		g.Edges[e.EdgeID] = &Edge{EdgeID: e.EdgeID, Evidence: normEvidence(e.Evidence)}
	}
	for i, e := range doc.ColumnEdges {
		if e.From.Dataset.IsZero() || e.To.Dataset.IsZero() {
			return nil, fmt.Errorf("decode graph: column_edges[%d]: empty from or to dataset", i)
		}
		if cur, dup := g.ColumnEdges[e.ColumnEdgeID]; dup {
			cur.Evidence = mergeEvidence(cur.Evidence, e.Evidence)
			continue
		}
		g.ColumnEdges[e.ColumnEdgeID] = &ColumnEdge{ColumnEdgeID: e.ColumnEdgeID, Evidence: normEvidence(e.Evidence)}
	}
	g.Findings = normFindings(doc.Findings)
	return g, nil
}

// checkAgainstStd decodes data with Decode and with decodeStd and fails
// unless they agree: both fail, with the same message for every error but
// a bad timestamp, or both succeed with graphs that encode to the same
// bytes. It also checks that the decoded graph encodes to bytes that
// decode and encode back to themselves.
func checkAgainstStd(t *testing.T, data []byte) {
	t.Helper()
	got, err := Decode(bytes.NewReader(data))
	want, kind, wantErr := decodeStd(data)
	switch {
	case err == nil && wantErr != nil:
		t.Fatalf("Decode succeeded, encoding/json failed: %v", wantErr)
	case err != nil && wantErr == nil:
		t.Fatalf("Decode failed, encoding/json succeeded: %v", err)
	case err != nil:
		if kind != "other" && err.Error() != wantErr.Error() {
			t.Fatalf("Decode error differs from encoding/json's:\ngot:  %v\nwant: %v", err, wantErr)
		}
		return
	}
	var gotBuf, wantBuf bytes.Buffer
	if err := Encode(&gotBuf, got); err != nil {
		t.Fatal(err)
	}
	if err := Encode(&wantBuf, want); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(wantBuf.String(), gotBuf.String()); d != "" {
		t.Fatalf("Decode and encoding/json read different graphs (-std +Decode):\n%s", d)
	}
	back, err := Decode(bytes.NewReader(gotBuf.Bytes()))
	if err != nil {
		t.Fatalf("decoding the encoded graph: %v", err)
	}
	var again bytes.Buffer
	if err := Encode(&again, back); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(gotBuf.String(), again.String()); d != "" {
		t.Fatalf("round trip (-first +second):\n%s", d)
	}
}

// compatCases are documents Encode does not write but Decode still reads
// exactly as encoding/json did.
var compatCases = []struct{ name, in string }{
	{"unknown fields", `{"weft_graph_version": 1, "generator": {"name": "weft", "v": [1, 2.5e3, true, null]},
		"datasets": [{"id": {"namespace": "n", "name": "t", "extra": [[{}]]}, "platform": "snowflake", "x": null,
			"columns": [{"name": "A", "nullable": true, "tests": ["b", "a", "b"]}]}],
		"edges": [{"from": {"namespace": "n", "name": "t"}, "to": {"namespace": "n", "name": "u"}, "weight": 3,
			"evidence": [{"extractor": "dbt", "origin": "o", "note": "x", "count": 2}]}]}`},
	{"case-insensitive keys", `{"WEFT_GRAPH_VERSION": 1, "Datasets": [{"ID": {"NameSpace": "n", "NAME": "t"}, "KIND": "table", "\u212aind": "view", "\u017fome": 1}]}`},
	{"exact key wins over folded", `{"weft_graph_version": 1, "datasets": [{"id": {"namespace": "n", "name": "t"}, "Kind": "view", "kind": "table"}]}`},
	{"escaped keys and values", `{"weft_graph_version": 1, "datasets": [{"\u0069d": {"namespace": "n\u00e9\/", "name": "t\"\\\b\f\n\r\t\ud83d\ude00 \ud800 \udc00x \ud800\u0041"}}]}`},
	{"invalid utf-8", "{\"weft_graph_version\": 1, \"datasets\": [{\"id\": {\"namespace\": \"n\xff\xfe\", \"name\": \"t\xed\xa0\x80\xc3\"}}]}"},
	{"null everywhere", `{"weft_graph_version": 1, "datasets": [null, {"id": {"namespace": null, "name": "t"}, "platform": null, "columns": null, "identities": null, "properties": null}],
		"jobs": null, "runs": [{"id": "r", "job": null, "start": null, "properties": {"a": null}}],
		"edges": [{"from": {"namespace": "n", "name": "a"}, "to": {"namespace": "n", "name": "b"}, "evidence": null}],
		"column_edges": [{"from": {"dataset": {"namespace": "n", "name": "a"}}, "to": {"dataset": {"namespace": "n", "name": "b"}, "column": null}, "type": null, "evidence": [null, {"extractor": "x", "count": null, "confidence": null, "first_seen": null}]}],
		"findings": [null]}`},
	{"repeated fields merge", `{"weft_graph_version": 1,
		"datasets": [{"id": {"namespace": "n", "name": "t"}, "id": {"name": "u"}, "kind": "table", "kind": "view",
			"columns": [{"name": "A", "type": "INT"}, {"name": "B"}, {"name": "C"}], "columns": [{"name": "Z"}], "columns": [{}, {}, {}, {}],
			"properties": {"a": "1", "b": "2"}, "properties": {"b": "3"}}],
		"findings": [{"code": "a"}, {"code": "b"}], "findings": [{"message": "m"}], "findings": [], "findings": [{"severity": "x"}, {"severity": "y"}]}`},
	{"repeated top-level lists", `{"weft_graph_version": 1,
		"datasets": [{"id": {"namespace": "n", "name": "a"}}, {"id": {"namespace": "n", "name": "b"}}, {"id": {"namespace": "n", "name": "c"}}],
		"datasets": [{"kind": "view"}],
		"datasets": [{}, {}, {}, {"id": {"namespace": "n", "name": "d"}}],
		"jobs": [{"id": {"namespace": "n", "name": "j"}}], "jobs": [], "jobs": [{"id": {"name": "k"}}]}`},
	{"duplicate entities merge", `{"weft_graph_version": 1,
		"datasets": [{"id": {"namespace": "n", "name": "t"}, "kind": "table", "columns": [{"name": "A"}]}, {"id": {"namespace": "n", "name": "t"}, "kind": "model", "columns": [{"name": "B", "type": "INT"}]}],
		"jobs": [{"id": {"namespace": "n", "name": "j"}, "type": "a", "properties": {"x": "1"}}, {"id": {"namespace": "n", "name": "j"}, "type": "bb", "properties": {"x": "2"}}],
		"runs": [{"id": "r", "start": "2025-01-02T00:00:00+02:00", "end": "2025-01-02T00:00:00Z"}, {"id": "r", "start": "2025-01-01T00:00:00Z", "end": "2025-01-03T00:00:00.5-01:00"}],
		"edges": [{"from": {"namespace": "n", "name": "a"}, "to": {"namespace": "n", "name": "b"}, "evidence": [{"extractor": "x", "origin": "o", "count": 1}]},
			{"from": {"namespace": "n", "name": "a"}, "to": {"namespace": "n", "name": "b"}, "evidence": [{"extractor": "x", "origin": "o", "count": 5, "confidence": 0.25}, {"extractor": "a", "origin": "o"}]}],
		"findings": [{"code": "b"}, {"code": "a"}, {"code": "b"}]}`},
	{"numbers", `{"weft_graph_version": 1, "edges": [{"from": {"namespace": "n", "name": "a"}, "to": {"namespace": "n", "name": "b"},
		"evidence": [{"extractor": "a", "count": -0, "confidence": -0}, {"extractor": "b", "count": 9223372036854775807, "confidence": 1e-7}, {"extractor": "c", "count": -9223372036854775808, "confidence": 0.1E+1}, {"extractor": "d", "count": 123456789012345678, "confidence": 9007199254740993}]}]}`},
	{"version as 1 in a long form", `{"weft_graph_version": 0001}`},
	{"no white space", `{"weft_graph_version":1,"datasets":[{"id":{"namespace":"n","name":"t"},"columns":[{"name":"a","tests":[]}]}],"jobs":[],"runs":[],"edges":[],"column_edges":[],"findings":[]}`},
	{"white space everywhere", " \t\r\n{ \"weft_graph_version\" \n: 1 ,\r\"datasets\"\t:\n[ { \"id\" : { \"namespace\" : \"n\" , \"name\" : \"t\" } } ] } \n\t "},
	{"type error after a bad time", `{"weft_graph_version": 1, "runs": [{"id": "r", "start": "yesterday"}], "datasets": 3}`},
}

func TestDecodeCompat(t *testing.T) {
	for _, tt := range compatCases {
		t.Run(tt.name, func(t *testing.T) { checkAgainstStd(t, []byte(tt.in)) })
	}
	for seed := range uint64(50) {
		checkAgainstStd(t, []byte(encodeString(t, randomGraph(newRand(seed)))))
	}
}

func TestDecodeMoreErrors(t *testing.T) {
	deep := `{"weft_graph_version": 1, "x": ` + strings.Repeat("[", maxDepth-1) + strings.Repeat("]", maxDepth-1) + "}"
	tooDeep := `{"weft_graph_version": 1, "x": ` + strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth) + "}"
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "empty", in: "", want: "decode graph: line 1, column 0: unexpected end of JSON input"},
		{name: "not json", in: "weft", want: "decode graph: line 1, column 1: invalid character 'w' looking for beginning of value"},
		{name: "trailing data", in: "{\"weft_graph_version\": 1}\n}", want: "decode graph: line 2, column 1: invalid character '}' after top-level value"},
		{name: "missing colon", in: `{"weft_graph_version" 1}`, want: "decode graph: line 1, column 23: invalid character '1' after object key"},
		{name: "missing comma", in: `{"weft_graph_version": 1 "datasets": []}`, want: "decode graph: line 1, column 26: invalid character '\"' after object key:value pair"},
		{name: "trailing comma in object", in: `{"weft_graph_version": 1,}`, want: "decode graph: line 1, column 26: invalid character '}' looking for beginning of object key string"},
		{name: "trailing comma in list", in: `{"weft_graph_version": 1, "jobs": [{},]}`, want: "decode graph: line 1, column 39: invalid character ']' looking for beginning of value"},
		{name: "missing comma in list", in: `{"weft_graph_version": 1, "jobs": [{} {}]}`, want: "decode graph: line 1, column 39: invalid character '{' after array element"},
		{name: "bad escape", in: `{"weft_graph_version": 1, "x": "a\qb"}`, want: `decode graph: line 1, column 35: invalid character 'q' in string escape code`},
		{name: "bad unicode escape", in: `{"weft_graph_version": 1, "x": "\u12g4"}`, want: `decode graph: line 1, column 37: invalid character 'g' in \u hexadecimal character escape`},
		{name: "control character", in: "{\"weft_graph_version\": 1, \"x\": \"a\tb\"}", want: `decode graph: line 1, column 34: invalid character '\t' in string literal`},
		{name: "bad literal", in: `{"weft_graph_version": 1, "x": nul}`, want: "decode graph: line 1, column 35: invalid character '}' in literal null (expecting 'l')"},
		{name: "literal cut short", in: `{"weft_graph_version": 1, "x": tr`, want: "decode graph: line 1, column 33: invalid character ' ' in literal true (expecting 'u')"},
		{name: "number cut short", in: `{"weft_graph_version": 1, "x": 1.`, want: "decode graph: line 1, column 33: invalid character ' ' after decimal point in numeric literal"},
		{name: "bad exponent", in: `{"weft_graph_version": 1, "x": 1e+}`, want: "decode graph: line 1, column 35: invalid character '}' in exponent of numeric literal"},
		{name: "leading zero", in: `{"weft_graph_version": 01}`, want: "decode graph: line 1, column 25: invalid character '1' after object key:value pair"},
		{name: "string cut short", in: `{"weft_graph_version": 1, "x": "abc`, want: "decode graph: line 1, column 35: unexpected end of JSON input"},
		{name: "syntax error wins over version", in: `{"weft_graph_version": 2, "x": [}`, want: "decode graph: line 1, column 33: invalid character '}' looking for beginning of value"},
		{name: "deep nesting", in: deep, want: ""},
		{name: "too deep", in: tooDeep, want: "decode graph: line 1, column 10031: invalid character '[' exceeded max depth"},
		{name: "version as string", in: `{"weft_graph_version": "1"}`, want: "decode graph: no weft_graph_version field (not a weft graph?)"},
		{name: "version wins over type error", in: `{"datasets": 3, "weft_graph_version": 2}`, want: "decode graph: weft_graph_version 2 is not supported (this weft reads version 1)"},
		{name: "not an object", in: `[]`, want: "decode graph: no weft_graph_version field (not a weft graph?)"},
		{name: "list as object", in: `{"weft_graph_version": 1, "datasets": {}}`, want: "decode graph: line 1, column 39: datasets: cannot use JSON object as []graph.Dataset"},
		{name: "object as string", in: `{"weft_graph_version": 1, "datasets": [{"platform": {"a": 1}}]}`, want: "decode graph: line 1, column 53: datasets.platform: cannot use JSON object as graph.Platform"},
		{name: "fraction as count", in: `{"weft_graph_version": 1, "edges": [{"evidence": [{"count": 1.5}]}]}`, want: "decode graph: line 1, column 63: edges.evidence.count: cannot use JSON number 1.5 as int64"},
		{name: "huge confidence", in: `{"weft_graph_version": 1, "edges": [{"evidence": [{"confidence": 1e999}]}]}`, want: "decode graph: line 1, column 70: edges.evidence.confidence: cannot use JSON number 1e999 as float64"},
		{name: "embedded field path", in: `{"weft_graph_version": 1, "edges": [{"from": {"name": true}}]}`, want: "decode graph: line 1, column 58: edges.EdgeID.from.name: cannot use JSON bool as string"},
		{name: "property of the wrong type", in: `{"weft_graph_version": 1, "jobs": [{"properties": {"a": ["x"]}}]}`, want: "decode graph: line 1, column 57: jobs.properties: cannot use JSON array as string"},
		{name: "first type error wins", in: `{"weft_graph_version": 1, "findings": [{"code": 1}, {"code": 2}]}`, want: "decode graph: line 1, column 49: findings.code: cannot use JSON number as string"},
		{name: "bad time", in: `{"weft_graph_version": 1, "runs": [{"id": "r", "start": "2025-13-01T00:00:00Z"}]}`, want: `decode graph: line 1, column 78: runs.start: parsing time "2025-13-01T00:00:00Z": month out of range`},
		{name: "time as number", in: `{"weft_graph_version": 1, "runs": [{"id": "r", "end": 17}]}`, want: "decode graph: line 1, column 56: runs.end: cannot use JSON number as time.Time"},
		{name: "empty job id", in: `{"weft_graph_version": 1, "jobs": [{"id": {"namespace": "n", "name": "j"}}, {"type": "x"}]}`, want: "decode graph: jobs[1]: empty id"},
		{name: "empty run id", in: `{"weft_graph_version": 1, "runs": [{"job": {"namespace": "n", "name": "j"}}]}`, want: "decode graph: runs[0]: empty id"},
		{name: "empty column edge end", in: `{"weft_graph_version": 1, "column_edges": [{"from": {"dataset": {"name": "a"}, "column": "x"}}]}`, want: "decode graph: column_edges[0]: empty from or to dataset"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(strings.NewReader(tt.in))
			if got := errString(err); got != tt.want {
				t.Errorf("error = %q, want %q", got, tt.want)
			}
			if _, kind, _ := decodeStd([]byte(tt.in)); kind != "other" {
				checkAgainstStd(t, []byte(tt.in))
			}
		})
	}
}

// FuzzDecode checks that Decode never panics, agrees with encoding/json
// (see checkAgainstStd) and that what it reads encodes and decodes back to
// the same bytes.
func FuzzDecode(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, tt := range compatCases {
		f.Add([]byte(tt.in))
	}
	for seed := range uint64(10) {
		var b bytes.Buffer
		if err := Encode(&b, randomGraph(newRand(seed))); err != nil {
			f.Fatal(err)
		}
		f.Add(b.Bytes())
	}
	f.Add([]byte(`{"weft_graph_version": 1, "datasets": [,]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkAgainstStd(t, data)
	})
}

// columnEdgeGraph is a large project at column level: n datasets of 50
// columns, each column reading the same column of an upstream dataset, for
// 50×n column edges with one piece of evidence each.
func columnEdgeGraph(n int) *Graph {
	g := syntheticGraph(n)
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	id := func(i int) DatasetID {
		return DatasetID{Namespace: "snowflake://acme-prod", Name: fmt.Sprintf("ANALYTICS.MARTS.MODEL_%05d", i)}
	}
	job := func(i int) JobID { return JobID{Namespace: "dbt://acme", Name: fmt.Sprintf("model.p.model_%05d", i)} }
	for i := 1; i < n; i++ {
		origin := fmt.Sprintf("models/marts/model_%05d.sql:1", i)
		for c := range 50 {
			col := fmt.Sprintf("COLUMN_%02d", c)
			g.AddColumnEdge(ColumnEdgeID{
				From: ColumnID{Dataset: id(i / 2), Column: col},
				To:   ColumnID{Dataset: id(i), Column: col},
				Type: Direct, Subtype: SubtypeIdentity,
			}, Evidence{Extractor: "sql", Origin: origin, Method: "parsed", Job: job(i), FirstSeen: t0, LastSeen: t0, Count: 3, Confidence: 1})
		}
	}
	return g
}

// BenchmarkDecodeColumnEdges decodes a 10,000-dataset graph with half a
// million column edges and reports the heap the decoded graph keeps.
func BenchmarkDecodeColumnEdges(b *testing.B) {
	var buf bytes.Buffer
	if err := Encode(&buf, columnEdgeGraph(10000)); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	size := len(data)
	var g *Graph
	for b.Loop() {
		g = nil
		var err error
		if g, err = Decode(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	data = nil
	buf = bytes.Buffer{}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(size)/1e6, "MB")
	b.ReportMetric(float64(ms.HeapAlloc)/1e6, "live-MB")
	runtime.KeepAlive(g)
}
