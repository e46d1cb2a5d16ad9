package dbt

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/tidwall/gjson"
)

// checkArtifact validates one of the optional artifacts (catalog,
// run_results) and returns its parsed document.
func checkArtifact(file string, data string, kind, what, hint string) (gjson.Result, error) {
	if err := checkJSON(file, data); err != nil {
		return gjson.Result{}, err
	}
	doc := gjson.Parse(data)
	if !doc.IsObject() {
		return gjson.Result{}, notArtifact(file, what, hint, "")
	}
	url := doc.Get("metadata.dbt_schema_version").String()
	if url == "" {
		return gjson.Result{}, notArtifact(file, what, hint, "")
	}
	if k, _, ok := schemaKind(url); ok && k != kind || !ok && !strings.Contains(url, kind) {
		return gjson.Result{}, notArtifact(file, what, hint, url)
	}
	return doc, nil
}

type catalogColumn struct {
	name, typ, comment string
	index              int
}

// readCatalog merges catalog.json's columns into the nodes: the catalog
// knows the warehouse's column names, types and order; the manifest knows
// descriptions and tests. Catalog entries for nodes the manifest does not
// have are ignored (a catalog from another run).
func (p *Project) readCatalog(ctx context.Context, data string) error {
	doc, err := checkArtifact(p.files.catalog, data, "catalog", "catalog", "target/catalog.json (from \"dbt docs generate\")")
	if err != nil {
		return err
	}
	for _, key := range []string{"nodes", "sources"} {
		if err := ctx.Err(); err != nil {
			return err
		}
		doc.Get(key).ForEach(func(k, v gjson.Result) bool {
			n := p.byID[k.String()]
			if n == nil {
				return true
			}
			var cols []catalogColumn
			v.ForEach(func(fk, fv gjson.Result) bool {
				switch fk.String() {
				case "metadata":
					n.CatalogRelationType = fv.Get("type").String()
				case "columns":
					fv.ForEach(func(ck, cv gjson.Result) bool {
						c := catalogColumn{name: ck.String()}
						cv.ForEach(func(ak, av gjson.Result) bool {
							switch ak.String() {
							case "name":
								c.name = av.String()
							case "type":
								c.typ = av.String()
							case "comment":
								c.comment = av.String()
							case "index":
								c.index = int(av.Int())
							}
							return true
						})
						cols = append(cols, c)
						return true
					})
				}
				return true
			})
			n.Columns = mergeCatalogColumns(cols, n.Columns)
			return true
		})
	}
	return nil
}

// mergeCatalogColumns orders columns by catalog index (stable, so equal
// indexes keep file order), takes descriptions from matching manifest
// columns, and appends manifest-only columns in manifest order.
func mergeCatalogColumns(cat []catalogColumn, manifest []Column) []Column {
	if len(cat) == 0 {
		return manifest
	}
	slices.SortStableFunc(cat, func(a, b catalogColumn) int { return a.index - b.index })
	used := make([]bool, len(manifest))
	out := make([]Column, 0, len(cat)+len(manifest))
	for _, c := range cat {
		col := Column{Name: c.name, Type: c.typ, Description: c.comment, Index: c.index}
		if i := columnIndex(manifest, c.name, c.name); i >= 0 && !used[i] {
			used[i] = true
			col.Documented = true
			if manifest[i].Description != "" {
				col.Description = manifest[i].Description
			}
			if col.Type == "" {
				col.Type = manifest[i].Type
			}
		}
		out = append(out, col)
	}
	for i, c := range manifest {
		if !used[i] {
			out = append(out, c)
		}
	}
	return out
}

type runResult struct {
	status        string
	executionTime float64
	started       time.Time
	completed     time.Time
}

// readRunResults records each node's last status, time and duration.
func (p *Project) readRunResults(data string) error {
	doc, err := checkArtifact(p.files.runResults, data, "run-results", "run_results", "target/run_results.json")
	if err != nil {
		return err
	}
	p.runs = map[string]runResult{}
	var generated time.Time
	doc.Get("metadata").ForEach(func(k, v gjson.Result) bool {
		switch k.String() {
		case "invocation_id":
			p.runInvocation = v.String()
		case "generated_at":
			generated = parseTime(v.String())
		}
		return true
	})
	doc.Get("results").ForEach(func(_, v gjson.Result) bool {
		var id string
		r := runResult{}
		v.ForEach(func(k, f gjson.Result) bool {
			switch k.String() {
			case "unique_id":
				id = f.String()
			case "status":
				r.status = f.String()
			case "execution_time":
				r.executionTime = f.Float()
			case "timing":
				f.ForEach(func(_, t gjson.Result) bool {
					if t.Get("name").String() == "execute" {
						r.started = parseTime(t.Get("started_at").String())
						r.completed = parseTime(t.Get("completed_at").String())
					}
					return true
				})
			}
			return true
		})
		n := p.byID[id]
		if n == nil {
			return true
		}
		if r.completed.IsZero() {
			r.completed = generated
		}
		n.ran = true
		n.LastStatus = r.status
		n.ExecutionTime = r.executionTime
		if !r.completed.IsZero() {
			n.LastRunAt = r.completed.UTC().Format(time.RFC3339Nano)
		}
		p.runs[id] = r
		return true
	})
	return nil
}

// parseTime reads dbt's timestamps: RFC 3339, sometimes without a zone
// (then UTC, as dbt writes them).
func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}
