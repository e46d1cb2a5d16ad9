// Package databricks extracts lineage from a Databricks workspace: job runs
// and the SQL their tasks ran (for dbt tasks, the dbt project in the run's
// artifacts archive, read by the dbt extractor), Unity Catalog lineage (the
// system.access.table_lineage and column_lineage system tables, read
// through a SQL warehouse, or the lineage-tracking REST API for listed
// tables), Unity Catalog metadata (tables, columns, storage locations,
// foreign catalogs and their connections) and, optionally, the SQL
// warehouses' query history.
//
// It reads a live workspace through databricks-sdk-go, or an export: a
// folder of recorded API responses decoded by the same functions.
package databricks

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/databricks/databricks-sdk-go/config"
	"github.com/databricks/databricks-sdk-go/service/catalog"
	"github.com/databricks/databricks-sdk-go/service/jobs"
	"github.com/databricks/databricks-sdk-go/service/sql"

	"github.com/weftdata/weft/extractors"
	"github.com/weftdata/weft/graph"
)

// Extractor reads one Databricks workspace or export.
type Extractor struct {
	cfg  Config
	host string // workspace host, names the namespace
	ns   string
	log  *slog.Logger

	// now and sdkLoaders are for tests: the clock that closes an open
	// window, and the SDK config loaders (nil: env and ~/.databrickscfg).
	now        func() time.Time
	sdkLoaders []config.Loader
	// artifactsLimit bounds a dbt artifacts archive (tests lower it).
	artifactsLimit int64
}

var _ extractors.Extractor = (*Extractor)(nil)

// New validates cfg. It does no I/O.
func New(cfg Config) (*Extractor, error) {
	host, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	ns := "databricks://" + host
	if cfg.Namespace != "" {
		ns = cfg.Namespace
		if !strings.HasPrefix(ns, "databricks://") {
			ns = "databricks://" + ns
		}
	}
	if cfg.Lookback == 0 {
		cfg.Lookback = DefaultLookback
	}
	if cfg.Chunk == 0 {
		cfg.Chunk = DefaultChunk
	}
	if cfg.MaxRunWait == 0 {
		cfg.MaxRunWait = DefaultMaxRunWait
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Extractor{cfg: cfg, host: host, ns: ns, log: log, now: time.Now, artifactsLimit: defaultArtifactsLimit}, nil
}

// Namespace returns the OpenLineage namespace of the workspace's datasets,
// databricks://<host>.
func (e *Extractor) Namespace() string { return e.ns }

// source is where responses come from: an export folder or the live
// workspace. Both hand the decoder the same API shapes.
type source interface {
	connections(ctx context.Context) ([]catalog.ConnectionInfo, error)
	catalogs(ctx context.Context) ([]catalog.CatalogInfo, error)
	tables(ctx context.Context, cats []catalog.CatalogInfo, fn func(catalog.TableInfo) error) error
	jobs(ctx context.Context) ([]jobs.BaseJob, error)
	listRuns(ctx context.Context, from, to time.Time, fn func(jobs.BaseRun) error) error
	getRun(ctx context.Context, b jobs.BaseRun) (jobs.Run, error)
	runOutput(ctx context.Context, taskRunID int64) (*jobs.RunOutput, error)
	// dbtArtifacts returns the dbt artifacts of a dbt task run, or nil
	// when there are none. out is the run's output (may be nil). An
	// *artifactsUnavailable error is a finding, not a failure.
	dbtArtifacts(ctx context.Context, ref taskRef, out *jobs.RunOutput) (*dbtFiles, error)
	savedQuery(ctx context.Context, id string) (*savedQuery, error)
	lineage(ctx context.Context, kind string, from, to time.Time, fn func(columns []string, rd *resultData) error) error
	restTargets(ctx context.Context, tables []string) ([]string, [][2]string, error)
	restTableLineage(ctx context.Context, table string) (*restTableLineage, error)
	restColumnLineage(ctx context.Context, table, column string) (*restColumnLineage, error)
	queryHistory(ctx context.Context, from, to time.Time) ([]sql.QueryInfo, error)
	openLineage(ctx context.Context) ([]olEvent, error)
	pipelines(ctx context.Context) ([]pipelineInfo, error)
}

// window is one chunk of the extraction window.
type window struct{ from, to time.Time }

// windows splits the configured window into chunks. An export is one
// unbounded window.
func (e *Extractor) windows() []window {
	if e.cfg.Export != "" {
		return []window{{}}
	}
	to := e.cfg.To
	if to.IsZero() {
		to = e.now().UTC().Truncate(time.Second)
	}
	from := e.cfg.From
	if from.IsZero() {
		from = to.Add(-e.cfg.Lookback)
	}
	var ws []window
	for f := from; f.Before(to); f = f.Add(e.cfg.Chunk) {
		ws = append(ws, window{f.UTC(), minTime(f.Add(e.cfg.Chunk), to).UTC()})
	}
	return ws
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// runsSeen is what one Extract call remembers about the job runs it read.
type runsSeen struct {
	now  time.Time      // when Extract started: the age of active runs counts to it
	seen map[int64]bool // job runs read, so that a run listed twice is read once
	// hold is the start of the oldest run that was still active when read
	// (and not older than MaxRunWait); zero if none. No watermark goes
	// past it, so that the next extraction lists the run again.
	hold time.Time
}

// Extract reads the workspace (or export) and calls emit with, first, a
// batch of Unity Catalog metadata and REST lineage (no watermark), then one
// batch per window chunk in time order, each with the chunk's end as its
// Watermark (an export gives one batch without watermark).
//
// A job run still active when read holds the watermarks back: from its
// chunk on, no batch's watermark goes past the run's start, so that an
// extraction resuming from the watermark lists the run again and reads it
// once it has finished. Runs and lineage events after that start are read
// again too; runs merge by run id and evidence by its origin (the run), so
// nothing counts twice, and within one Extract call each run is read once.
// A run active for longer than Config.MaxRunWait stops holding the
// watermark (and is logged and reported).
func (e *Extractor) Extract(ctx context.Context, emit func(extractors.Batch) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var src source
	if e.cfg.Export != "" {
		o, err := openExport(e.cfg.Export, e.artifactsLimit)
		if err != nil {
			return err
		}
		src = o
	} else {
		w, err := e.newOnline()
		if err != nil {
			return err
		}
		src = w
	}
	d := newDecoder(e.host, e.ns)
	b, err := e.metadata(ctx, src, d)
	if err != nil {
		return err
	}
	if err := emit(b); err != nil {
		return err
	}
	rs := &runsSeen{now: e.now().UTC(), seen: map[int64]bool{}}
	for _, w := range e.windows() {
		b, err := e.window(ctx, src, d, w, rs)
		if err != nil {
			return err
		}
		if err := emit(b); err != nil {
			return err
		}
	}
	return nil
}

// metadata reads what has no time window: connections, catalogs, tables
// and columns, job definitions, REST lineage, OpenLineage events.
func (e *Extractor) metadata(ctx context.Context, src source, d *decoder) (extractors.Batch, error) {
	b := extractors.Batch{Graph: graph.New()}
	g := b.Graph
	conns, err := src.connections(ctx)
	if err != nil {
		return b, err
	}
	for _, c := range conns {
		d.addConnection(c)
	}
	cats, err := src.catalogs(ctx)
	if err != nil {
		return b, err
	}
	for _, c := range cats {
		d.addCatalog(c)
	}
	for _, c := range cats {
		if c.CatalogType != "FOREIGN_CATALOG" {
			continue
		}
		if _, ok := d.connections[c.ConnectionName]; !ok {
			g.AddFinding(graph.Finding{Severity: graph.SeverityWarning, Code: "unknown_connection",
				Location: "unity catalog catalogs", Subject: lowerName(c.Name),
				Message: fmt.Sprintf("foreign catalog %s uses connection %q, which the connections list does not have: its tables get no cross-platform identity", lowerName(c.Name), c.ConnectionName)})
		} else if _, ok := d.identity(graph.DatasetID{Namespace: d.ns, Name: lowerName(c.Name) + ".s.t"}); !ok {
			g.AddFinding(graph.Finding{Severity: graph.SeverityInfo, Code: "unmapped_foreign_catalog",
				Location: "unity catalog catalogs", Subject: lowerName(c.Name),
				Message: fmt.Sprintf("foreign catalog %s over a %s connection: weft has no identity rule for it", lowerName(c.Name), d.connections[c.ConnectionName].Type)})
		}
	}
	if err := src.tables(ctx, e.tableCatalogs(cats), func(t catalog.TableInfo) error {
		d.addTable(g, &b, t)
		return nil
	}); err != nil {
		return b, err
	}
	js, err := src.jobs(ctx)
	if err != nil {
		return b, err
	}
	for _, j := range js {
		d.addJobDefinition(g, j.JobId, j.Settings)
	}
	ps, err := src.pipelines(ctx)
	if err != nil {
		return b, err
	}
	for _, p := range ps {
		d.addPipeline(g, p)
	}
	tables, columns, err := src.restTargets(ctx, e.cfg.Tables)
	if err != nil {
		return b, err
	}
	for _, t := range tables {
		l, err := src.restTableLineage(ctx, t)
		if err != nil {
			return b, err
		}
		if l != nil {
			d.addRESTTableLineage(g, t, *l)
		}
	}
	for _, tc := range columns {
		l, err := src.restColumnLineage(ctx, tc[0], tc[1])
		if err != nil {
			return b, err
		}
		if l != nil {
			d.addRESTColumnLineage(g, tc[0], tc[1], *l)
		}
	}
	evs, err := src.openLineage(ctx)
	if err != nil {
		return b, err
	}
	for _, ev := range evs {
		d.addOpenLineage(g, ev)
	}
	sortStatements(b.Statements)
	return b, ctx.Err()
}

// tableCatalogs returns the catalogs whose tables are read.
func (e *Extractor) tableCatalogs(cats []catalog.CatalogInfo) []catalog.CatalogInfo {
	var out []catalog.CatalogInfo
	for _, c := range cats {
		name := lowerName(c.Name)
		switch {
		case len(e.cfg.Catalogs) > 0:
			if !slices.ContainsFunc(e.cfg.Catalogs, func(s string) bool { return lowerName(s) == name }) {
				continue
			}
		case name == "system" || name == "samples" || name == "__databricks_internal" ||
			c.CatalogType == catalog.CatalogTypeSystemCatalog || c.CatalogType == "INTERNAL_CATALOG":
			continue
		}
		out = append(out, c)
	}
	return out
}

// window reads the job runs and lineage of one window chunk.
func (e *Extractor) window(ctx context.Context, src source, d *decoder, w window, rs *runsSeen) (extractors.Batch, error) {
	b := extractors.Batch{Graph: graph.New()}
	g := b.Graph
	var refs []taskRef
	err := src.listRuns(ctx, w.from, w.to, func(br jobs.BaseRun) error {
		// runs/list pages shift when runs start while it is read: a run
		// can come twice, and its statements must not.
		if rs.seen[br.RunId] {
			return nil
		}
		rs.seen[br.RunId] = true
		r, err := src.getRun(ctx, br)
		if err != nil {
			return err
		}
		held := e.activeRun(g, d, rs, w, r)
		for _, ref := range d.addRun(g, r) {
			// A task still running has no output yet; the run is read
			// again once it has finished.
			if !(held && ref.Active) {
				refs = append(refs, ref)
			}
		}
		return nil
	})
	if err != nil {
		return b, err
	}
	if !w.to.IsZero() {
		b.Watermark = w.to
		if !rs.hold.IsZero() && rs.hold.Before(w.to) {
			b.Watermark = rs.hold
		}
	}
	for _, ref := range refs {
		if err := e.taskSQL(ctx, src, d, &b, ref); err != nil {
			return b, err
		}
	}
	if e.cfg.Export != "" || e.cfg.WarehouseID != "" {
		for _, kind := range []string{lineageTable, lineageColumn} {
			var ld *lineageDecoder
			err := src.lineage(ctx, kind, w.from, w.to, func(cols []string, rd *resultData) error {
				if ld == nil {
					var err error
					if ld, err = d.newLineageDecoder(g, kind, cols); err != nil {
						return err
					}
				}
				return ld.decodeChunk(rd)
			})
			if err != nil {
				return b, err
			}
			if ld != nil {
				for _, f := range ld.findings() {
					g.AddFinding(f)
				}
			}
		}
	}
	if e.cfg.IncludeQueryHistory || e.cfg.Export != "" {
		qs, err := src.queryHistory(ctx, w.from, w.to)
		if err != nil {
			return b, err
		}
		if skipped := d.addQueryHistory(g, &b, qs); skipped > 0 {
			g.AddFinding(graph.Finding{Severity: graph.SeverityInfo, Code: "query_history_skipped",
				Location: "sql/history/queries",
				Message:  fmt.Sprintf("%d of %d queries skipped (not finished, or a statement type that writes nothing)", skipped, len(qs))})
		}
	}
	sortStatements(b.Statements)
	return b, ctx.Err()
}

// activeRun reports a job run that had not finished when read, and
// returns whether it holds the watermark back: online, unless it has been
// active for longer than MaxRunWait. An export is read once, so there its
// run is only reported.
func (e *Extractor) activeRun(g *graph.Graph, d *decoder, rs *runsSeen, w window, r jobs.Run) bool {
	state := activeState(r.State, r.Status)
	if state == "" {
		return false
	}
	loc := "databricks run " + itoa(r.RunId)
	subject := d.runJobID(r).Name
	name := r.RunName
	if name == "" {
		name = subject
	}
	if e.cfg.Export != "" {
		g.AddFinding(graph.Finding{Severity: graph.SeverityInfo, Code: "run_active", Location: loc, Subject: subject,
			Message: fmt.Sprintf("run of %s was %s when exported: its tasks that had not finished have no output in the export (record the run again once it has finished)", name, state)})
		return false
	}
	start := millis(r.StartTime)
	if start.Before(w.from) {
		start = w.from // no start, or the API listed it early: hold no further back than the chunk
	}
	if age := rs.now.Sub(start); age > e.cfg.MaxRunWait {
		e.log.Warn("databricks run still active after max_run_wait: the watermark moves past it and the run is not read again",
			"run_id", r.RunId, "job", subject, "state", state, "start", start, "max_run_wait", e.cfg.MaxRunWait)
		g.AddFinding(graph.Finding{Severity: graph.SeverityWarning, Code: "run_still_active", Location: loc, Subject: subject,
			Message: fmt.Sprintf("run of %s has been %s since %s, longer than max_run_wait (%s): the watermark no longer waits for it, and what its unfinished tasks ran is not read (raise max_run_wait for longer runs; to read it once it has finished, extract a window that covers its start, e.g. weft snapshot with from/to)",
				name, state, start.Format(time.RFC3339), e.cfg.MaxRunWait)})
		return false
	}
	if rs.hold.IsZero() || start.Before(rs.hold) {
		rs.hold = start
	}
	e.log.Info("databricks run still active: the watermark stays at its start until it has finished",
		"run_id", r.RunId, "job", subject, "state", state, "start", start)
	g.AddFinding(graph.Finding{Severity: graph.SeverityInfo, Code: "run_active", Location: loc, Subject: subject,
		Message: fmt.Sprintf("run of %s is %s: the watermark stays at its start (%s), so that the next extraction reads it again once it has finished", name, state, start.Format(time.RFC3339Nano))})
	return true
}

// taskSQL finds the SQL a sql_task ran: the executed text from
// runs/get-output, else the saved query's text; for a dbt_task, the dbt
// project in its artifacts.
func (e *Extractor) taskSQL(ctx context.Context, src source, d *decoder, b *extractors.Batch, ref taskRef) error {
	g := b.Graph
	n := len(b.Statements)
	out, err := src.runOutput(ctx, ref.TaskRunID)
	if err != nil {
		return err
	}
	if out != nil {
		d.addRunOutput(g, b, ref, *out)
	}
	if ref.Kind == "dbt" {
		return e.dbtArtifacts(ctx, src, d, b, ref, out)
	}
	if len(b.Statements) > n || ref.Kind == "sql_alert" || ref.Kind == "sql_dashboard" {
		return nil
	}
	if ref.QueryID != "" {
		q, err := src.savedQuery(ctx, ref.QueryID)
		if err != nil {
			return err
		}
		if q != nil && strings.TrimSpace(q.text()) != "" {
			d.addTaskSQL(g, b, ref, q.text(), q.Catalog, q.Schema)
			return nil
		}
	}
	what := "sql file " + ref.File
	if ref.QueryID != "" {
		what = "saved query " + ref.QueryID
	}
	g.AddFinding(graph.Finding{Severity: graph.SeverityWarning, Code: "sql_text_unavailable",
		Location: fmt.Sprintf("databricks run %d", ref.TaskRunID), Subject: ref.Job.Name,
		Message: fmt.Sprintf("task %s: the SQL it ran is not available (no run output, and %s could not be read): no lineage from it", ref.TaskKey, what)})
	return nil
}

// sortStatements orders statements deterministically whatever order the
// API listed runs in.
func sortStatements(ss []extractors.Statement) {
	slices.SortStableFunc(ss, func(a, b extractors.Statement) int {
		return cmp.Or(
			a.FirstSeen.Compare(b.FirstSeen),
			strings.Compare(a.Origin.RunID, b.Origin.RunID),
			strings.Compare(a.Origin.QueryID, b.Origin.QueryID),
			strings.Compare(a.Origin.NodeID, b.Origin.NodeID),
			strings.Compare(a.SQL, b.SQL),
		)
	})
}
