package databricks

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/databricks/databricks-sdk-go/service/catalog"
	"github.com/databricks/databricks-sdk-go/service/jobs"
	"github.com/databricks/databricks-sdk-go/service/sql"
)

// File kinds of an offline export. A file's kind comes from its name; see
// docs/databricks.md for the table of names.
const (
	kindConnections   = "connections"
	kindCatalogs      = "catalogs"
	kindTables        = "tables"
	kindJobs          = "jobs"
	kindRunsList      = "runs-list"
	kindRun           = "run"
	kindRunOutput     = "run-output"
	kindQueries       = "queries"
	kindTableLineage  = lineageTable
	kindColumnLineage = lineageColumn
	kindRESTTable     = "lineage-table"
	kindRESTColumn    = "lineage-column"
	kindQueryHistory  = "query-history"
	kindOpenLineage   = "openlineage"
	kindPipelines     = "pipelines"
)

// filePatterns maps name prefixes to kinds, longest prefix first.
var filePatterns = []struct{ prefix, kind, doc string }{
	{"run-output-", kindRunOutput, "run-output-<task_run_id>.json"},
	{"runs-list", kindRunsList, "runs-list*.json"},
	{"run-", kindRun, "run-<run_id>.json"},
	{"jobs-list", kindJobs, "jobs-list*.json"},
	{"job-", kindJobs, "job-<job_id>.json"},
	{"queries", kindQueries, "queries*.json"},
	{"query-history", kindQueryHistory, "query-history*.json"},
	{"query-", kindQueries, "query-<id>.json"},
	{"connections", kindConnections, "connections*.json"},
	{"catalogs", kindCatalogs, "catalogs*.json"},
	{"tables", kindTables, "tables*.json"},
	{"table_lineage", kindTableLineage, "table_lineage*.json"},
	{"column_lineage", kindColumnLineage, "column_lineage*.json"},
	{"lineage-table-", kindRESTTable, "lineage-table-<catalog.schema.table>.json"},
	{"lineage-column-", kindRESTColumn, "lineage-column-<catalog.schema.table.column>.json"},
	{"openlineage", kindOpenLineage, "openlineage*.json"},
	{"pipeline", kindPipelines, "pipeline-<id>.json, pipelines*.json"},
}

// fileKind returns the kind of an export file name, or "".
func fileKind(name string) string {
	if !strings.HasSuffix(name, ".json") {
		return ""
	}
	best := ""
	kind := ""
	for _, p := range filePatterns {
		if strings.HasPrefix(name, p.prefix) && len(p.prefix) > len(best) {
			best, kind = p.prefix, p.kind
		}
	}
	return kind
}

func knownPatterns() string {
	var s []string
	for _, p := range filePatterns {
		s = append(s, p.doc)
	}
	slices.Sort(s)
	return strings.Join(s, ", ")
}

// exportFile is one file of an offline export.
type exportFile struct {
	name string // base name, used in errors
	path string
	kind string
}

// offline reads an export folder. It implements source.
type offline struct {
	dir   string
	files map[string][]exportFile // by kind, sorted by name
	// indexes built on first use
	runs      map[int64]exportFile
	outputs   map[int64]exportFile
	artifacts map[int64]exportFile // dbt-artifacts-<task_run_id>.tar.gz or folder
	queries   map[string]savedQuery
	limit     int64 // of one dbt artifacts archive
}

// dbtArtifactsPrefix names the dbt artifacts of a dbt task run in an
// export: dbt-artifacts-<task_run_id>.tar.gz (the archive behind the run
// output's artifacts_link, as downloaded) or a folder
// dbt-artifacts-<task_run_id>/ holding the unpacked archive
// (target/manifest.json, and optionally catalog.json and run_results.json
// next to it).
const dbtArtifactsPrefix = "dbt-artifacts-"

// artifactsID returns the task run id of a dbt artifacts archive or
// folder name; ok is false for other names.
func artifactsID(name string, dir bool) (id int64, ok bool, err error) {
	if !strings.HasPrefix(name, dbtArtifactsPrefix) {
		return 0, false, nil
	}
	rest := strings.TrimPrefix(name, dbtArtifactsPrefix)
	if !dir {
		var cut bool
		for _, ext := range []string{".tar.gz", ".tgz", ".tar"} {
			if r, found := strings.CutSuffix(rest, ext); found {
				rest, cut = r, true
				break
			}
		}
		if !cut {
			return 0, false, nil
		}
	}
	id, err = strconv.ParseInt(rest, 10, 64)
	if err != nil {
		return 0, true, fmt.Errorf("name must be %s<task_run_id>.tar.gz (or a folder %s<task_run_id>) with a numeric run id", dbtArtifactsPrefix, dbtArtifactsPrefix)
	}
	return id, true, nil
}

func openExport(dir string, limit int64) (*offline, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("databricks export: %w", err)
	}
	o := &offline{dir: dir, files: map[string][]exportFile{}, runs: map[int64]exportFile{}, outputs: map[int64]exportFile{},
		artifacts: map[int64]exportFile{}, limit: limit}
	var unknown []string
	for _, e := range entries {
		name := e.Name()
		if id, ok, err := artifactsID(name, e.IsDir()); ok {
			if err != nil {
				return nil, fmt.Errorf("%s: %v", filepath.Join(dir, name), err)
			}
			o.artifacts[id] = exportFile{name: name, path: filepath.Join(dir, name), kind: "dbt-artifacts"}
			continue
		}
		if e.IsDir() || !strings.HasSuffix(name, ".json") {
			continue // READMEs and the like
		}
		k := fileKind(name)
		if k == "" {
			unknown = append(unknown, name)
			continue
		}
		f := exportFile{name: name, path: filepath.Join(dir, name), kind: k}
		switch k {
		case kindRun, kindRunOutput:
			prefix := "run-"
			if k == kindRunOutput {
				prefix = "run-output-"
			}
			id, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(name, prefix), ".json"), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%s: name must be %s<id>.json with a numeric run id", f.path, prefix)
			}
			if k == kindRun {
				o.runs[id] = f
			} else {
				o.outputs[id] = f
			}
		}
		o.files[k] = append(o.files[k], f)
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("databricks export %s: unrecognised file names %s (known: %s)", dir, strings.Join(unknown, ", "), knownPatterns())
	}
	for k := range o.files {
		sort.Slice(o.files[k], func(i, j int) bool { return o.files[k][i].name < o.files[k][j].name })
	}
	return o, nil
}

func (o *offline) read(f exportFile) ([]byte, error) {
	data, err := os.ReadFile(f.path)
	if err != nil {
		return nil, fmt.Errorf("databricks export: %w", err)
	}
	return data, nil
}

func (o *offline) connections(ctx context.Context) ([]catalog.ConnectionInfo, error) {
	var all []catalog.ConnectionInfo
	for _, f := range o.files[kindConnections] {
		data, err := o.read(f)
		if err != nil {
			return nil, err
		}
		cs, err := decodeConnections(f.path, data)
		if err != nil {
			return nil, err
		}
		all = append(all, cs...)
	}
	return all, nil
}

func (o *offline) catalogs(ctx context.Context) ([]catalog.CatalogInfo, error) {
	var all []catalog.CatalogInfo
	for _, f := range o.files[kindCatalogs] {
		data, err := o.read(f)
		if err != nil {
			return nil, err
		}
		cs, err := decodeCatalogs(f.path, data)
		if err != nil {
			return nil, err
		}
		all = append(all, cs...)
	}
	return all, nil
}

func (o *offline) tables(ctx context.Context, cats []catalog.CatalogInfo, fn func(catalog.TableInfo) error) error {
	for _, f := range o.files[kindTables] {
		data, err := o.read(f)
		if err != nil {
			return err
		}
		ts, err := decodeTables(f.path, data)
		if err != nil {
			return err
		}
		for _, t := range ts {
			if err := fn(t); err != nil {
				return err
			}
		}
	}
	return nil
}

func (o *offline) jobs(ctx context.Context) ([]jobs.BaseJob, error) {
	var all []jobs.BaseJob
	for _, f := range o.files[kindJobs] {
		data, err := o.read(f)
		if err != nil {
			return nil, err
		}
		js, err := decodeJobs(f.path, data)
		if err != nil {
			return nil, err
		}
		all = append(all, js...)
	}
	return all, nil
}

// listRuns returns the runs of every runs-list file, plus runs only
// recorded as run-<id>.json. An export is not windowed: from and to are
// ignored.
func (o *offline) listRuns(ctx context.Context, from, to time.Time, fn func(jobs.BaseRun) error) error {
	seen := map[int64]bool{}
	for _, f := range o.files[kindRunsList] {
		data, err := o.read(f)
		if err != nil {
			return err
		}
		runs, err := decodeRunsList(f.path, data)
		if err != nil {
			return err
		}
		for _, r := range runs {
			seen[r.RunId] = true
			if err := fn(r); err != nil {
				return err
			}
		}
	}
	for _, f := range o.files[kindRun] {
		id, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(f.name, "run-"), ".json"), 10, 64)
		if !seen[id] {
			if err := fn(jobs.BaseRun{RunId: id}); err != nil {
				return err
			}
		}
	}
	return ctx.Err()
}

func (o *offline) getRun(ctx context.Context, b jobs.BaseRun) (jobs.Run, error) {
	f, ok := o.runs[b.RunId]
	if !ok {
		return baseRun(b), nil // the list entry is all the export has
	}
	data, err := o.read(f)
	if err != nil {
		return jobs.Run{}, err
	}
	return decodeRun(f.path, data)
}

func (o *offline) runOutput(ctx context.Context, taskRunID int64) (*jobs.RunOutput, error) {
	f, ok := o.outputs[taskRunID]
	if !ok {
		return nil, nil
	}
	data, err := o.read(f)
	if err != nil {
		return nil, err
	}
	out, err := decodeRunOutput(f.path, data)
	return &out, err
}

// dbtArtifacts reads the recorded dbt artifacts of a dbt task run, whether
// or not its recorded output has an artifacts link (exports should not
// keep the link: it is a credential).
func (o *offline) dbtArtifacts(ctx context.Context, ref taskRef, out *jobs.RunOutput) (*dbtFiles, error) {
	f, ok := o.artifacts[ref.TaskRunID]
	if !ok {
		return nil, nil
	}
	var found map[string][]byte
	fi, err := os.Stat(f.path)
	if err != nil {
		return nil, fmt.Errorf("databricks export: %w", err)
	}
	if fi.IsDir() {
		found, err = readArtifactsDir(ctx, f.path, o.limit)
	} else {
		var r *os.File
		if r, err = os.Open(f.path); err != nil {
			return nil, fmt.Errorf("databricks export: %w", err)
		}
		defer r.Close()
		found, err = readArtifactsArchive(r, o.limit)
	}
	if errors.Is(err, errTooLarge) {
		return nil, &artifactsUnavailable{fmt.Sprintf("%s is over weft's limit of %d bytes", f.name, o.limit)}
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%s: databricks run %d: dbt artifacts: %v", f.path, ref.TaskRunID, err)
	}
	files, ok := pickArtifacts(found)
	if !ok {
		return nil, &artifactsUnavailable{fmt.Sprintf("%s has no manifest.json (want target/manifest.json)", f.name)}
	}
	files.from = f.name
	return &files, nil
}

func (o *offline) savedQuery(ctx context.Context, id string) (*savedQuery, error) {
	if o.queries == nil {
		o.queries = map[string]savedQuery{}
		for _, f := range o.files[kindQueries] {
			data, err := o.read(f)
			if err != nil {
				return nil, err
			}
			qs, err := decodeQueries(f.path, data)
			if err != nil {
				return nil, err
			}
			for _, q := range qs {
				o.queries[q.ID] = q
			}
		}
	}
	q, ok := o.queries[id]
	if !ok {
		return nil, nil
	}
	return &q, nil
}

// lineage replays recorded statement results: <kind>*.json holds the
// statement response (manifest and first chunk); <base>.chunk-<n>.json
// holds chunk n of the statement in <base>.json.
func (o *offline) lineage(ctx context.Context, kind string, from, to time.Time, fn func(columns []string, rd *resultData) error) error {
	files := o.files[kind]
	chunks := map[string][]exportFile{}
	var heads []exportFile
	for _, f := range files {
		base, n, ok := strings.Cut(strings.TrimSuffix(f.name, ".json"), ".chunk-")
		if ok {
			if _, err := strconv.Atoi(n); err != nil {
				return fmt.Errorf("%s: chunk files are named <statement>.chunk-<n>.json", f.path)
			}
			chunks[base] = append(chunks[base], f)
			continue
		}
		heads = append(heads, f)
	}
	for _, h := range heads {
		data, err := o.read(h)
		if err != nil {
			return err
		}
		st, err := decodeStatement(h.path, data)
		if err != nil {
			return err
		}
		if st.Manifest == nil {
			return fmt.Errorf("%s: statement response has no manifest (is this a chunk? name chunks <statement>.chunk-<n>.json)", h.path)
		}
		cols := st.Manifest.columns()
		if err := fn(cols, st.Result); err != nil {
			return fmt.Errorf("%s: %w", h.name, err)
		}
		base := strings.TrimSuffix(h.name, ".json")
		cs := chunks[base]
		delete(chunks, base)
		slices.SortFunc(cs, func(a, b exportFile) int { return chunkNum(a.name) - chunkNum(b.name) })
		for _, c := range cs {
			if err := ctx.Err(); err != nil {
				return err
			}
			data, err := o.read(c)
			if err != nil {
				return err
			}
			rd, err := decodeChunk(c.path, data)
			if err != nil {
				return err
			}
			if err := fn(cols, rd); err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
		}
	}
	if len(chunks) > 0 {
		bases := slices.Sorted(maps.Keys(chunks))
		return fmt.Errorf("%s: chunk without statement file %s.json", chunks[bases[0]][0].path, bases[0])
	}
	return nil
}

func chunkNum(name string) int {
	_, n, _ := strings.Cut(strings.TrimSuffix(name, ".json"), ".chunk-")
	i, _ := strconv.Atoi(n)
	return i
}

func (o *offline) restTableLineage(ctx context.Context, table string) (*restTableLineage, error) {
	for _, f := range o.files[kindRESTTable] {
		if strings.TrimSuffix(strings.TrimPrefix(f.name, "lineage-table-"), ".json") != table {
			continue
		}
		data, err := o.read(f)
		if err != nil {
			return nil, err
		}
		var l restTableLineage
		return &l, unmarshal(f.path, data, &l)
	}
	return nil, nil
}

// restTargets lists the tables and columns an export has REST lineage
// for, limited to want when it is not empty.
func (o *offline) restTargets(ctx context.Context, want []string) (tables []string, columns [][2]string, err error) {
	keep := func(t string) bool {
		return len(want) == 0 || slices.ContainsFunc(want, func(w string) bool { return lowerName(w) == lowerName(t) })
	}
	for _, f := range o.files[kindRESTTable] {
		if t := strings.TrimSuffix(strings.TrimPrefix(f.name, "lineage-table-"), ".json"); keep(t) {
			tables = append(tables, t)
		}
	}
	for _, f := range o.files[kindRESTColumn] {
		full := strings.TrimSuffix(strings.TrimPrefix(f.name, "lineage-column-"), ".json")
		parts := strings.SplitN(full, ".", 4)
		if len(parts) != 4 {
			return nil, nil, fmt.Errorf("%s: name must be lineage-column-<catalog.schema.table.column>.json", f.path)
		}
		if t := strings.Join(parts[:3], "."); keep(t) {
			columns = append(columns, [2]string{t, parts[3]})
		}
	}
	return tables, columns, nil
}

func (o *offline) restColumnLineage(ctx context.Context, table, column string) (*restColumnLineage, error) {
	name := "lineage-column-" + table + "." + column + ".json"
	for _, f := range o.files[kindRESTColumn] {
		if f.name != name {
			continue
		}
		data, err := o.read(f)
		if err != nil {
			return nil, err
		}
		var l restColumnLineage
		return &l, unmarshal(f.path, data, &l)
	}
	return nil, nil
}

func (o *offline) queryHistory(ctx context.Context, from, to time.Time) ([]sql.QueryInfo, error) {
	var all []sql.QueryInfo
	for _, f := range o.files[kindQueryHistory] {
		data, err := o.read(f)
		if err != nil {
			return nil, err
		}
		qs, err := decodeQueryHistory(f.path, data)
		if err != nil {
			return nil, err
		}
		all = append(all, qs...)
	}
	return all, nil
}

func (o *offline) openLineage(ctx context.Context) ([]olEvent, error) {
	var all []olEvent
	for _, f := range o.files[kindOpenLineage] {
		data, err := o.read(f)
		if err != nil {
			return nil, err
		}
		evs, err := decodeOpenLineage(f.path, data)
		if err != nil {
			return nil, err
		}
		all = append(all, evs...)
	}
	return all, nil
}

func (o *offline) pipelines(ctx context.Context) ([]pipelineInfo, error) {
	var all []pipelineInfo
	for _, f := range o.files[kindPipelines] {
		data, err := o.read(f)
		if err != nil {
			return nil, err
		}
		ps, err := decodePipelines(f.path, data)
		if err != nil {
			return nil, err
		}
		all = append(all, ps...)
	}
	return all, nil
}
