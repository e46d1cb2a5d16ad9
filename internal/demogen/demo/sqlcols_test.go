package demo

import (
	"strings"
	"testing"
)

func TestOutputColumns(t *testing.T) {
	rels := map[string][]string{
		"DB.S.A": {"ID", "X", "Y"},
		"DB.S.B": {"ID", "Z"},
	}
	lookup := func(r string) ([]string, bool) { c, ok := rels[strings.ToUpper(r)]; return c, ok }
	tests := []struct{ sql, want string }{
		{"select * from db.s.a", "ID,X,Y"},
		{"with a as (select id, x as renamed from db.s.a) select * from a", "ID,RENAMED"},
		{"select a.*, b.z as zed from db.s.a as a left join db.s.b b on a.id = b.id where a.x > 1", "ID,X,Y,ZED"},
		{"select raw:k.j::string as k, count(*) as n from db.s.a group by all", "K,N"},
		{"select id from db.s.a union all select id from db.s.b", "ID"},
		{"with c as (select id from db.s.b) select t.id, c.id as cid from (select * from db.s.a) t join c using (id)", "ID,CID"},
	}
	for _, tc := range tests {
		got, err := outputColumns(tc.sql, lookup)
		if err != nil {
			t.Errorf("%s: %v", tc.sql, err)
			continue
		}
		if strings.Join(got, ",") != tc.want {
			t.Errorf("%s: got %v, want %s", tc.sql, got, tc.want)
		}
	}
	if _, err := outputColumns("select x + 1 from db.s.a", lookup); err == nil {
		t.Error("an unaliased expression should be an error")
	}
}
