package sqlparse

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

type dbtModel struct {
	id, file string
	in       Input
	deps     []string // depends_on relations, normalised
	self     string   // the model's own relation: incremental models read it
}

// loadDBTModels reads the compiled SQL of every model in the corpus
// manifests.
func loadDBTModels(t testing.TB) []dbtModel {
	dir := corpusDir(t, "dbt")
	var files []string
	_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && strings.Contains(filepath.Base(p), "manifest") && strings.HasSuffix(p, ".json") {
			files = append(files, p)
		}
		return nil
	})
	sort.Strings(files)
	var models []dbtModel
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m := gjson.ParseBytes(b)
		adapter := m.Get("metadata.adapter_type").String()
		d, err := ParseDialect(adapter)
		if err != nil {
			d = Postgres
		}
		relation := func(id string) string {
			for _, sect := range []string{"nodes", "sources"} {
				n := m.Get(sect + "." + gjson.Escape(id))
				if !n.Exists() {
					continue
				}
				if n.Get("config.materialized").String() == "ephemeral" {
					return ""
				}
				if r := n.Get("relation_name").String(); r != "" {
					return normName(r)
				}
				name := n.Get("alias").String()
				if name == "" {
					name = n.Get("identifier").String()
				}
				if name == "" {
					name = n.Get("name").String()
				}
				return normName(strings.Join([]string{n.Get("database").String(), n.Get("schema").String(), name}, "."))
			}
			return ""
		}
		m.Get("nodes").ForEach(func(k, n gjson.Result) bool {
			if n.Get("resource_type").String() != "model" {
				return true
			}
			sql := n.Get("compiled_code").String()
			if sql == "" {
				sql = n.Get("compiled_sql").String()
			}
			if strings.TrimSpace(sql) == "" || n.Get("language").String() == "python" {
				return true
			}
			dm := dbtModel{id: k.String(), file: f, in: Input{SQL: sql, Dialect: d,
				DefaultDatabase: n.Get("database").String(), DefaultSchema: n.Get("schema").String()}}
			dm.self = relation(k.String())
			n.Get("depends_on.nodes").ForEach(func(_, dep gjson.Result) bool {
				if r := relation(dep.String()); r != "" {
					dm.deps = append(dm.deps, r)
				}
				return true
			})
			models = append(models, dm)
			return true
		})
	}
	return models
}

// tableMatches compares a found table with a depends_on relation on the
// dotted suffix, case-insensitively.
func tableMatches(found, rel string) bool {
	return found == rel || strings.HasSuffix(found, "."+rel) || strings.HasSuffix(rel, "."+found)
}

func TestDBTModels(t *testing.T) {
	models := loadDBTModels(t)
	byStatus := map[Status]int{}
	mismatches := 0
	for _, m := range models {
		r := Analyze(m.in, nil)
		byStatus[r.Status]++
		if r.Status == StatusFailed || r.Status == StatusTableOnly {
			if len(r.Diagnostics) == 0 {
				t.Errorf("%s: status %s without a diagnostic", m.id, r.Status)
			}
			t.Logf("%s [%s] %s: %v", m.id, m.in.Dialect, r.Status, r.Diagnostics)
		}
		var found []string
		for _, tb := range r.Reads {
			if f := normName(tb.String()); m.self == "" || !tableMatches(f, m.self) {
				found = append(found, f)
			}
		}
		var missing, extra []string
		for _, d := range m.deps {
			ok := false
			for _, f := range found {
				ok = ok || tableMatches(f, d)
			}
			if !ok {
				missing = append(missing, d)
			}
		}
		for _, f := range found {
			ok := false
			for _, d := range m.deps {
				ok = ok || tableMatches(f, d)
			}
			if !ok {
				extra = append(extra, f)
			}
		}
		if len(missing) > 0 || len(extra) > 0 {
			mismatches++
			t.Logf("depends_on mismatch %s (%s): missing %v extra %v", m.id, filepath.Base(filepath.Dir(m.file)), missing, extra)
		}
	}
	n := len(models)
	parsed := byStatus[StatusFull] + byStatus[StatusPartial]
	t.Logf("dbt models %d: full %d, partial %d, table_only %d, failed %d; column-level parse %.1f%%; depends_on mismatches %d",
		n, byStatus[StatusFull], byStatus[StatusPartial], byStatus[StatusTableOnly], byStatus[StatusFailed], 100*ratio(parsed, n), mismatches)
	if byStatus[StatusFailed] > 0 {
		t.Errorf("%d models failed", byStatus[StatusFailed])
	}
	if ratio(parsed, n) < dbtParseFloor {
		t.Errorf("column-level parse rate %.3f below floor %.3f", ratio(parsed, n), dbtParseFloor)
	}
}

// dbtParseFloor is the share of dbt models that must parse at column
// level: the current figure, never lowered.
const dbtParseFloor = 1.0
