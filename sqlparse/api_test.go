package sqlparse

import (
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
