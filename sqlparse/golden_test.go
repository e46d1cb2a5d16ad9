package sqlparse

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenHeader reads the options a test file sets in leading comments:
//
//	-- dialect: snowflake
//	-- default: DB.SCHEMA
//	-- schema: DB.S.T: A, B, C
//	-- unordered-schema: DB.S.U: A, B (column order unknown)
func goldenHeader(src string) (Dialect, string, string, *MapSchema) {
	d := Snowflake
	var db, sch string
	schema := &MapSchema{}
	for _, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "--") {
			continue
		}
		body := strings.TrimSpace(strings.TrimPrefix(line, "--"))
		key, val, ok := strings.Cut(body, ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		switch strings.TrimSpace(key) {
		case "dialect":
			d = Dialect(val)
		case "default":
			db, sch, _ = strings.Cut(val, ".")
		case "schema", "unordered-schema":
			tbl, cols, _ := strings.Cut(val, ":")
			var cs []string
			for _, c := range strings.Split(cols, ",") {
				if c = strings.TrimSpace(c); c != "" {
					cs = append(cs, c)
				}
			}
			if strings.TrimSpace(key) == "schema" {
				schema.Add(strings.TrimSpace(tbl), cs)
			} else {
				schema.AddUnordered(strings.TrimSpace(tbl), cs)
			}
		}
	}
	return d, db, sch, schema
}

var errorMarker = regexp.MustCompile(`--\s*ERROR\s+"([^"]*)"`)

// runGolden analyses every statement of a testdata file and renders the
// results; it also returns the diagnostics with file-level lines.
func runGolden(src string) (string, []Diagnostic) {
	d, db, sch, schema := goldenHeader(src)
	var b strings.Builder
	var diags []Diagnostic
	for i, p := range Split(src, d) {
		r := Analyze(Input{SQL: p.SQL, Dialect: d, DefaultDatabase: db, DefaultSchema: sch}, schema)
		fmt.Fprintf(&b, "== statement %d (line %d)\n%s", i+1, p.Line, formatResult(r))
		for _, dg := range r.Diagnostics {
			if dg.Line > 0 {
				dg.Line += p.Line - 1
			}
			diags = append(diags, dg)
		}
	}
	return b.String(), diags
}

func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.sql"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/*.sql files")
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".sql")
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			src := string(b)
			got, diags := runGolden(src)
			// Expected errors are marked inline: -- ERROR "regex".
			for ln, line := range strings.Split(src, "\n") {
				m := errorMarker.FindStringSubmatch(line)
				if m == nil {
					continue
				}
				re := regexp.MustCompile(m[1])
				found := false
				for _, d := range diags {
					if d.Line == ln+1 && re.MatchString(d.Message) {
						found = true
					}
				}
				if !found {
					t.Errorf("%s:%d: no diagnostic matching %q on this line (have %v)", f, ln+1, m[1], diags)
				}
			}
			golden := strings.TrimSuffix(f, ".sql") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./sqlparse -update)", err)
			}
			if d := cmp.Diff(string(want), got); d != "" {
				t.Errorf("%s (-want +got):\n%s", golden, d)
			}
		})
	}
}
