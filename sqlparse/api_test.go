package sqlparse

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSplit(t *testing.T) {
	got := Split("select 1; -- c\n;\nselect ';' from t;\nBEGIN\n  insert into a select 1;\nEND;", Snowflake)
	var sqls []string
	for _, p := range got {
		sqls = append(sqls, p.SQL)
	}
	want := []string{"select 1", "select ';' from t", "BEGIN\n  insert into a select 1;\nEND"}
	if d := cmp.Diff(want, sqls); d != "" {
		t.Errorf("Split (-want +got):\n%s", d)
	}
	if got[1].Line != 3 || got[1].Col != 1 {
		t.Errorf("piece 2 at %d:%d, want 3:1", got[1].Line, got[1].Col)
	}
}

// TestDeepOperatorChain: a generated statement chaining tens of thousands
// of operators crashed the process inside pg_query (a C stack overflow);
// it keeps its table-level lineage instead, and a long flat OR list still
// gets column lineage.
func TestDeepOperatorChain(t *testing.T) {
	for _, c := range []struct {
		name, sql string
		want      Status
	}{
		{"chain", "create table x as select " + strings.Repeat("a + ", 30000) + "a from t", StatusTableOnly},
		{"bracketed", "create table x as select " + strings.Repeat("(a + ", 100) + "a" + strings.Repeat(strings.Repeat(" + a", 299)+")", 100) + " from t", StatusTableOnly},
		{"flat or", "create table x as select a from t where " + strings.Repeat("a = 1 or ", 30000) + "a = 2", StatusFull},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := Analyze(Input{SQL: c.sql, Dialect: Postgres}, nil)
			if r.Status != c.want {
				t.Errorf("status %s, want %s (%v)", r.Status, c.want, r.Diagnostics)
			}
			if len(r.Reads) != 1 || r.Reads[0].Name != "t" {
				t.Errorf("reads %v, want t", r.Reads)
			}
		})
	}
}

func TestUnresolvedColumnDiagnosticsNameTheColumn(t *testing.T) {
	schema := NewMapSchema(map[string][]string{"RAW.CORE.LOANS": {"ID", "RATE"}})
	for _, sql := range []string{
		"select id, bogus from raw.core.loans",
		"select l.id, l.bogus from raw.core.loans l",
	} {
		res := Analyze(Input{SQL: sql, Dialect: Snowflake}, schema)
		var cols []string
		for _, d := range res.Diagnostics {
			if d.Column != "" {
				cols = append(cols, d.Column)
			}
		}
		if len(cols) != 1 || cols[0] != "BOGUS" {
			t.Errorf("%s: diagnostics %v, want one naming column BOGUS", sql, res.Diagnostics)
		}
	}
}

func TestParseDialect(t *testing.T) {
	for name, want := range map[string]Dialect{
		"snowflake": Snowflake, "Databricks": Databricks, "spark": Databricks, "hive": Databricks,
		"postgres": Postgres, "redshift": Postgres, "": Postgres, "bigquery": BigQuery,
		"ansi": ANSI, "generic": ANSI,
	} {
		got, err := ParseDialect(name)
		if err != nil || got != want {
			t.Errorf("ParseDialect(%q) = %q, %v; want %q", name, got, err, want)
		}
	}
	if _, err := ParseDialect("tsql"); err == nil || !strings.Contains(err.Error(), "known: ansi, bigquery, databricks, postgres, snowflake") {
		t.Errorf("ParseDialect(tsql) error = %v", err)
	}
}

func TestMapSchemaOrder(t *testing.T) {
	m := &MapSchema{}
	m.Add("raw.core.loans", []string{"id", "rate"})
	m.AddUnordered("raw.core.docs", []string{"a", "b"})
	cases := []struct {
		table Table
		known bool
	}{
		{Table{Database: "raw", Schema: "core", Name: "loans"}, true},
		{Table{Name: "loans"}, true},
		{Table{Database: "raw", Schema: "core", Name: "docs"}, false},
		{Table{Schema: "core", Name: "docs"}, false},
		{Table{Name: "missing"}, true}, // unknown tables have nothing to misorder
	}
	for _, c := range cases {
		if got := m.OrderKnown(c.table); got != c.known {
			t.Errorf("OrderKnown(%s) = %v, want %v", c.table, got, c.known)
		}
	}
	if cols, ok := m.Columns(Table{Name: "docs"}); !ok || strings.Join(cols, ",") != "a,b" {
		t.Errorf("Columns(docs) = %v, %v", cols, ok)
	}
	m.Add("raw.core.docs", []string{"b", "a"}) // registered again, ordered
	if !m.OrderKnown(Table{Name: "docs"}) {
		t.Error("a table added again with Add still has an unknown order")
	}
	var _ ColumnOrder = m
}
