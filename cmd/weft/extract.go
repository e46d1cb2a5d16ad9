package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/weftdata/weft/extractors"
	"github.com/weftdata/weft/graph"
	"github.com/weftdata/weft/store"
	"github.com/weftdata/weft/weave"
)

// defaultStoreFile is the store weft extract writes when neither --store
// nor the config's store: names one.
const defaultStoreFile = "weft.db"

// progressInterval is how often weft extract prints a progress line when
// stderr is not a terminal.
const progressInterval = 10 * time.Second

type extractOptions struct {
	io       iostreams
	logger   *slog.Logger
	loader   configLoader
	errTTY   bool // stderr is a terminal: draw a progress bar
	jsonLog  bool // logs are JSON lines, for a log shipper
	interval time.Duration

	configPath string
	storePath  string
	retention  string
	progress   string
	workers    int
	now        string // hidden: the run's clock (tests, replays)
}

func newExtractCmd(a *app, reg registry, runF func(context.Context, *extractOptions) error) *cobra.Command {
	opts := &extractOptions{}
	cmd := &cobra.Command{
		Use:   "extract --config weft.yaml [--store weft.db]",
		Short: "Extract lineage incrementally into the store (the scheduled job)",
		Long: strings.TrimSpace(`
Extract lineage from every source of a config file into the lineage store,
reading only what is new since the last successful run.

This is the command to schedule (cron, Airflow, a Databricks job) every
hour or so. Each source runs in parallel with the others and starts from
its watermark in the store: Snowflake and Databricks read the time chunks
after the last committed one, a dbt manifest is read whole and replaces
what the previous manifest said (so a removed model's edges end). Each
batch (one time chunk, one manifest) is analysed for column-level lineage
and committed in one transaction together with its watermark: a run that
fails or is killed keeps everything committed before, and the next run
carries on from there without counting anything twice.

Query-log edges (Snowflake, Databricks) that have not been seen for
--retention or the config's retention: (default 30d) end. Ended edges stay in the store:
"weft lineage --store weft.db --as-of TIME" answers as of any past time,
and "weft snapshot --from-store weft.db" writes the current graph.

The store is --store, else the config's store: key (relative to the
config file), else ./weft.db. Secrets are never written to it.

Progress goes to stderr: a bar on a terminal, a line every 10 seconds
otherwise, then a summary per source, with the error of each source that
failed. If a source fails, the others still commit, and weft exits with
code 1.`),
		Example: examples(`
  # every hour from cron
  0 * * * *  cd /srv/weft && weft extract --config weft.yaml --store /var/lib/weft/weft.db --log-format json

  # then ask the store
  weft lineage upstream fct_loan_risk --store weft.db
  weft lineage upstream fct_loan_risk --store weft.db --as-of 2026-10-01T00:00:00Z
  weft snapshot --from-store weft.db -o graph.json`),
		Args: exactArgs(0, "no arguments (sources come from --config)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.io = a.io
			opts.logger = a.logger
			opts.jsonLog = a.logFormat == "json"
			opts.loader = configLoader{registry: reg, getenv: a.getenv, logger: a.logger}
			opts.errTTY = isTerminal(a.io.Err)
			opts.interval = progressInterval
			if err := opts.validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runExtract(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.configPath, "config", "c", defaultConfigFile, "config `file` listing the sources")
	f.StringVar(&opts.storePath, "store", "", "lineage store `file` (default: the config's store:, else ./weft.db)")
	f.StringVar(&opts.retention, "retention", "", "end query-log edges not seen for `duration` (30d, 720h; default: the config's retention:, else 30d)")
	f.StringVar(&opts.progress, "progress", "auto", "progress on stderr: auto (a bar on a terminal, else lines), bar, lines or off")
	f.IntVar(&opts.workers, "workers", 0, "statements parsed in parallel per source (0: one per CPU)")
	f.StringVar(&opts.now, "now", "", "record the run as happening at `time` (RFC 3339), for tests and replays")
	f.MarkHidden("now")
	return cmd
}

func (o *extractOptions) validate() error {
	switch o.progress {
	case "auto", "bar", "lines", "off":
	default:
		return usageErrorf("invalid --progress %q (valid: auto, bar, lines, off)", o.progress)
	}
	if o.workers < 0 {
		return usageErrorf("--workers must be 0 or more, got %d", o.workers)
	}
	if o.retention != "" {
		if d, err := parseDuration(o.retention); err != nil {
			return usageErrorf("--retention: %v", err)
		} else if d <= 0 {
			return usageErrorf("--retention must be positive, got %q", o.retention)
		}
	}
	if o.now != "" {
		if _, err := parseTime(o.now); err != nil {
			return usageErrorf("--now: %v", err)
		}
	}
	return nil
}

// parseTime reads a point in time for --as-of and --now: RFC 3339, or a
// date (midnight UTC).
func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("invalid time %q (expected RFC 3339 like 2026-10-01T00:00:00Z, or a date like 2026-10-01)", s)
}

// sourceResult is how one source did in a run.
type sourceResult struct {
	src       source
	err       error
	batches   int
	from      time.Time // the watermark the source started from; zero if none
	watermark time.Time // the last watermark committed
	parse     weave.Stats
	commit    store.CommitStats
	elapsed   time.Duration
}

func runExtract(ctx context.Context, opts *extractOptions) error {
	cfg, err := opts.loader.loadConfigFile(opts.configPath)
	if err != nil {
		return err
	}
	path := cmpOr(opts.storePath, cfg.Store, defaultStoreFile)
	retention := cfg.Retention
	if opts.retention != "" {
		retention, _ = parseDuration(opts.retention)
	}
	if retention == 0 {
		retention = store.DefaultRetention
	}
	clock := time.Now
	if opts.now != "" {
		t, _ := parseTime(opts.now)
		clock = func() time.Time { return t }
	}

	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("store %s: %w", path, err)
		}
	}
	st, err := store.Open(ctx, path)
	if err != nil {
		return err
	}
	defer st.Close()
	runID, err := st.BeginRun(ctx, clock())
	if err != nil {
		return fmt.Errorf("store %s: %w", path, err)
	}
	opts.logger.Info("extract run", "run", runID, "store", path, "sources", len(cfg.Sources))

	prog := newProgress(opts.io.Err, cfg.Sources, opts.progressMode(), opts.interval)
	prog.start()
	results := make([]sourceResult, len(cfg.Sources))
	runPhase := func(replace bool, schema *graph.Graph) {
		var wg sync.WaitGroup
		for i, src := range cfg.Sources {
			if src.Replace != replace {
				continue
			}
			wg.Go(func() {
				results[i] = extractSource(ctx, opts, st, runID, clock, cfg.Links, src, prog, schema)
				prog.done(i, results[i].err)
			})
		}
		wg.Wait()
	}
	// Whole-truth sources (dbt manifests) go first: they are quick, and the
	// query logs' SQL then resolves against every column the store knows
	// (select * from a dbt model expands), without copying it per batch.
	runPhase(true, nil)
	schema, serr := st.Graph(ctx, time.Time{})
	if serr != nil {
		opts.logger.Warn("reading the stored graph for column resolution", "error", serr)
		schema = nil
	}
	runPhase(false, schema)
	prog.stop()

	// Expire query-log edges not seen within the retention, unless the run
	// was interrupted (then nothing more is written but the run's record).
	var runErr error
	var expired store.CommitStats
	if ctx.Err() != nil {
		runErr = fmt.Errorf("interrupted: %w", ctx.Err())
	} else if expired, err = st.Expire(ctx, clock(), retention); err != nil {
		runErr = err
	}
	outcomes := map[string]error{}
	for _, r := range results {
		outcomes[r.src.Name] = r.err
	}
	// Record the run even when interrupted: the context is done, the
	// record is not.
	if err := st.FinishRun(context.WithoutCancel(ctx), runID, clock(), outcomes, runErr); err != nil {
		runErr = errors.Join(runErr, err)
	}
	counts, cerr := st.Counts(context.WithoutCancel(ctx))
	writeExtractSummary(opts.io.Err, path, runID, results, expired, retention, counts, cerr)

	// Each source's error is in the summary above: the final message only
	// counts them, so that it is not printed twice.
	failed := 0
	for _, r := range results {
		if r.err != nil && !(ctx.Err() != nil && errors.Is(r.err, context.Canceled)) {
			failed++
		}
	}
	if failed > 0 {
		head := fmt.Errorf("%d of %s failed (see above)", failed, plural(len(results), "source", "sources"))
		return errors.Join(head, runErr)
	}
	return runErr
}

func (o *extractOptions) progressMode() string {
	if o.progress != "auto" {
		return o.progress
	}
	if o.errTTY {
		return "bar"
	}
	return "lines"
}

// extractSource runs one source from its watermark and commits each batch.
// A whole-truth source (dbt) is woven and committed once, with
// ReplaceSource.
func extractSource(ctx context.Context, opts *extractOptions, st *store.Store, runID int64, clock func() time.Time,
	links []linkRule, src source, prog *progress, schema *graph.Graph) (res sourceResult) {
	res.src = src
	began := time.Now()
	defer func() { res.elapsed = time.Since(began) }()
	logger := opts.logger.With("source", src.Name, "type", src.Type)

	ext := src.Extractor
	if src.From != nil {
		wm, ok, err := st.Watermark(ctx, src.Name)
		if err != nil {
			res.err = err
			return res
		}
		if ok {
			res.from = wm
			if ext, err = src.From(wm); err != nil {
				res.err = fmt.Errorf("resume from watermark %s: %w", wm.Format(time.RFC3339), err)
				return res
			}
		}
	}
	if c, ok := ext.(io.Closer); ok {
		defer func() {
			if err := c.Close(); err != nil && res.err == nil {
				res.err = fmt.Errorf("close: %w", err)
			}
		}()
	}
	logger.Info("extracting", "from", res.from)

	newWeaver := func() *weave.Weaver {
		return weave.New(weave.Options{Columns: true, Workers: opts.workers, Logger: logger, Schema: schema})
	}
	build := func(w *weave.Weaver) (*graph.Graph, error) {
		g, ps, err := w.Build(ctx)
		if err != nil {
			return nil, fmt.Errorf("analyse: %w", err)
		}
		addParseStats(&res.parse, ps)
		applyLinks(g, links)
		return g, nil
	}
	addCommit := func(cs store.CommitStats) {
		res.commit.Datasets += cs.Datasets
		res.commit.NewEdges += cs.NewEdges
		res.commit.NewColumns += cs.NewColumns
		res.commit.Evidence += cs.Evidence
		res.commit.EndedEdges += cs.EndedEdges
		res.commit.EndedColumn += cs.EndedColumn
		res.commit.EndedDatasets += cs.EndedDatasets
	}

	var whole *weave.Weaver
	if src.Replace {
		whole = newWeaver()
	}
	err := ext.Extract(ctx, func(b extractors.Batch) error {
		res.batches++
		if whole != nil {
			whole.Add(b)
			return nil
		}
		w := newWeaver()
		w.Add(b)
		g, err := build(w)
		if err != nil {
			return err
		}
		cs, err := st.Commit(ctx, src.Name, g, b.Watermark, store.CommitOptions{Now: clock(), RunID: runID})
		if err != nil {
			return err
		}
		addCommit(cs)
		if !b.Watermark.IsZero() && b.Watermark.After(res.watermark) {
			res.watermark = b.Watermark
		}
		prog.batch(cs)
		logger.Debug("committed batch", "watermark", b.Watermark, "new_edges", cs.NewEdges, "new_column_edges", cs.NewColumns)
		return nil
	})
	if err == nil && whole != nil {
		var g *graph.Graph
		if g, err = build(whole); err == nil {
			var cs store.CommitStats
			if cs, err = st.ReplaceSource(ctx, src.Name, g, store.CommitOptions{Now: clock(), RunID: runID}); err == nil {
				addCommit(cs)
				prog.batch(cs)
			}
		}
	}
	if err != nil {
		res.err = err
		if opts.jsonLog {
			// A log shipper reads the JSON lines, not the summary: the
			// error belongs in them, as a field it can alert on.
			logger.Error("source failed", "batches", res.batches, "error", err)
		} else {
			// The summary prints the error on the same stderr; logging
			// it too would print it twice.
			logger.Info("source failed", "batches", res.batches)
		}
		return res
	}
	logger.Info("extracted", "batches", res.batches, "new_edges", res.commit.NewEdges, "ended_edges", res.commit.EndedEdges)
	return res
}

func addParseStats(a *weave.Stats, b weave.Stats) {
	a.Statements += b.Statements
	a.Distinct += b.Distinct
	a.Full += b.Full
	a.Partial += b.Partial
	a.TableOnly += b.TableOnly
	a.Failed += b.Failed
	a.Skipped += b.Skipped
}

func cmpOr(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// writeExtractSummary prints, for people, what each source did and what
// the store holds now.
func writeExtractSummary(w io.Writer, path string, runID int64, results []sourceResult, expired store.CommitStats,
	retention time.Duration, counts store.Counts, countErr error) {
	var b strings.Builder
	fmt.Fprintf(&b, "store       %s (run %d)\n", path, runID)
	width := 0
	for _, r := range results {
		width = max(width, len(r.src.String()))
	}
	for _, r := range results {
		status := "ok"
		if r.err != nil {
			status = "FAILED"
		}
		fmt.Fprintf(&b, "  %-*s  %-6s %s, %s", width, r.src.String(), status, r.elapsed.Round(time.Millisecond), plural(r.batches, "batch", "batches"))
		if !r.from.IsZero() {
			fmt.Fprintf(&b, " from %s", r.from.Format(time.RFC3339))
		}
		if !r.watermark.IsZero() {
			fmt.Fprintf(&b, ", watermark %s", r.watermark.Format(time.RFC3339))
		}
		fmt.Fprintf(&b, ": %d new table edges, %d new column edges", r.commit.NewEdges, r.commit.NewColumns)
		if r.commit.EndedEdges+r.commit.EndedColumn > 0 {
			fmt.Fprintf(&b, ", %d table and %d column edges ended", r.commit.EndedEdges, r.commit.EndedColumn)
		}
		if r.parse.Statements > 0 {
			fmt.Fprintf(&b, "; %d statements (%d distinct): %d full, %d partial, %d table-only, %d failed",
				r.parse.Statements, r.parse.Distinct, r.parse.Full, r.parse.Partial, r.parse.TableOnly, r.parse.Failed)
		}
		b.WriteString("\n")
		if r.err != nil {
			fmt.Fprintf(&b, "  %-*s  error: %v\n", width, "", r.err)
		}
	}
	fmt.Fprintf(&b, "expired     %d table edges, %d column edges, %d datasets not seen for %s\n",
		expired.EndedEdges, expired.EndedColumn, expired.EndedDatasets, formatRetention(retention))
	if countErr != nil {
		fmt.Fprintf(&b, "counts      %v\n", countErr)
	} else {
		fmt.Fprintf(&b, "current     %d table edges, %d column edges (%d datasets, %d jobs, %d runs recorded)\n",
			counts.Edges, counts.ColumnEdges, counts.Datasets, counts.Jobs, counts.Runs)
	}
	io.WriteString(w, b.String())
}

// formatRetention renders whole days as "30d".
func formatRetention(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

// progress reports a run's progress on stderr: a redrawn bar on a terminal,
// or a line every interval otherwise.
type progress struct {
	w        io.Writer
	mode     string // bar, lines or off
	interval time.Duration
	names    []string
	began    time.Time

	mu       sync.Mutex
	finished map[int]error
	batches  int
	edges    int64 // new table and column edges
	lastDraw time.Time
	quit     chan struct{}
	wg       sync.WaitGroup
}

func newProgress(w io.Writer, srcs []source, mode string, interval time.Duration) *progress {
	p := &progress{w: w, mode: mode, interval: interval, finished: map[int]error{}, quit: make(chan struct{}), began: time.Now()}
	for _, s := range srcs {
		p.names = append(p.names, s.Name)
	}
	return p
}

func (p *progress) start() {
	if p.mode != "lines" || p.interval <= 0 {
		return
	}
	p.wg.Go(func() {
		t := time.NewTicker(p.interval)
		defer t.Stop()
		for {
			select {
			case <-p.quit:
				return
			case <-t.C:
				p.mu.Lock()
				fmt.Fprintf(p.w, "progress: %s\n", p.statusLocked())
				p.mu.Unlock()
			}
		}
	})
}

func (p *progress) stop() {
	close(p.quit)
	p.wg.Wait()
	if p.mode == "bar" {
		p.mu.Lock()
		fmt.Fprint(p.w, "\r\033[K")
		p.mu.Unlock()
	}
}

func (p *progress) batch(cs store.CommitStats) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.batches++
	p.edges += cs.NewEdges + cs.NewColumns
	p.drawLocked(false)
}

func (p *progress) done(i int, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.finished[i] = err
	p.drawLocked(true)
}

// statusLocked describes the run so far.
func (p *progress) statusLocked() string {
	var running []string
	for i, n := range p.names {
		if _, ok := p.finished[i]; !ok {
			running = append(running, n)
		}
	}
	s := fmt.Sprintf("%d/%d sources done, %d batches committed, %d new edges, %s",
		len(p.finished), len(p.names), p.batches, p.edges, time.Since(p.began).Round(time.Second))
	if len(running) > 0 {
		s += "; running: " + strings.Join(running, ", ")
	}
	return s
}

const barWidth = 24

func (p *progress) drawLocked(force bool) {
	if p.mode != "bar" || (!force && time.Since(p.lastDraw) < 100*time.Millisecond) {
		return
	}
	p.lastDraw = time.Now()
	filled := barWidth * len(p.finished) / max(len(p.names), 1)
	fmt.Fprintf(p.w, "\r\033[K[%s%s] %s", strings.Repeat("#", filled), strings.Repeat(".", barWidth-filled), p.statusLocked())
}

// plural renders "1 batch" or "3 batches".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
