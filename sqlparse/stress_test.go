package sqlparse

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

type stressCase struct {
	id, dialect, what, sql string
}

// loadStress reads ../shared/corpus/sql_dialect/stress.sql, whose
// statements are separated by "-- @@ id | dialect | what" lines.
func loadStress(t testing.TB) []stressCase {
	dir := corpusDir(t, "sql_dialect")
	b, err := os.ReadFile(filepath.Join(dir, "stress.sql"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []stressCase
	var cur *stressCase
	var body strings.Builder
	flush := func() {
		if cur != nil {
			cur.sql = strings.TrimSpace(body.String())
			cases = append(cases, *cur)
		}
		body.Reset()
	}
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "-- @@"); ok {
			flush()
			f := strings.Split(rest, "|")
			for len(f) < 3 {
				f = append(f, "")
			}
			cur = &stressCase{id: strings.TrimSpace(f[0]), dialect: strings.TrimSpace(f[1]), what: strings.TrimSpace(f[2])}
			continue
		}
		body.WriteString(line)
	}
	flush()
	return cases
}

// stressDialect maps the file's dialect labels ("dbt-snowflake", "spark")
// to a Dialect.
func stressDialect(label string) Dialect {
	d, err := ParseDialect(strings.TrimPrefix(label, "dbt-"))
	if err != nil {
		return Postgres
	}
	return d
}

// stressFloors: at least this many statements get column-level lineage
// (full or partial), and none fails. The current figure, never lowered.
const stressColumnLevelFloor = 66

// TestStress analyses every statement of the dialect stress list and
// reports the counts by status. Every statement must keep table-level
// lineage; the column-level count has a floor.
func TestStress(t *testing.T) {
	cases := loadStress(t)
	by := map[Status][]string{}
	for _, c := range cases {
		// A statement may be a small script (USE ...; SELECT ...).
		var worst Status = StatusFull
		for _, p := range Split(c.sql, stressDialect(c.dialect)) {
			r := Analyze(Input{SQL: p.SQL, Dialect: stressDialect(c.dialect)}, nil)
			if statusRank(r.Status) > statusRank(worst) {
				worst = r.Status
			}
			if r.Status == StatusTableOnly || r.Status == StatusFailed {
				t.Logf("%s [%s] %s: %s %v", c.id, c.dialect, c.what, r.Status, r.Diagnostics)
			}
			if len(r.Reads)+len(r.Writes) == 0 && r.Kind != KindSkipped {
				// IDENTIFIER($var) names a table only at run time.
				t.Logf("%s [%s] %s: no tables found: %v", c.id, c.dialect, c.what, r.Diagnostics)
			}
		}
		by[worst] = append(by[worst], c.id)
	}
	var names []string
	for s := range by {
		names = append(names, string(s))
	}
	sort.Strings(names)
	var parts []string
	for _, s := range names {
		parts = append(parts, s+" "+itoa(len(by[Status(s)])))
	}
	t.Logf("stress.sql %d statements: %s", len(cases), strings.Join(parts, ", "))
	if n := len(by[StatusFailed]); n > 0 {
		t.Errorf("%d statements failed: %v", n, by[StatusFailed])
	}
	if n := len(by[StatusFull]) + len(by[StatusPartial]); n < stressColumnLevelFloor {
		t.Errorf("%d statements with column-level lineage, floor %d", n, stressColumnLevelFloor)
	}
}

func statusRank(s Status) int {
	switch s {
	case StatusFull:
		return 0
	case StatusPartial:
		return 1
	case StatusTableOnly:
		return 2
	}
	return 3
}
