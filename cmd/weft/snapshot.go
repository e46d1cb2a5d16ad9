package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/weftdata/weft/extractors"
	"github.com/weftdata/weft/graph"
	"github.com/weftdata/weft/weave"
)

// defaultConfigFile is read by snapshot when no source is given.
const defaultConfigFile = "weft.yaml"

// maxListedFindings is how many warnings the summary lists before
// "and N more".
const maxListedFindings = 10

type snapshotOptions struct {
	io       iostreams
	logger   *slog.Logger
	loader   configLoader
	explicit map[string]bool // flags given on the command line

	configPath    string
	dbtManifest   string
	dbtCatalog    string
	dbtRunResults string
	dbtAccount    string
	noColumns     bool
	output        string
	format        string
	workers       int
	fromStore     string
	asOf          string

	links []linkRule // the config's links:, set by sources
}

func newSnapshotCmd(a *app, reg registry, runF func(context.Context, *snapshotOptions) error) *cobra.Command {
	opts := &snapshotOptions{}
	cmd := &cobra.Command{
		Use:   "snapshot [flags]",
		Short: "Extract lineage from the configured sources and write the graph",
		Long: strings.TrimSpace(`
Extract lineage once and write the lineage graph as JSON.

Sources come from a config file (--config weft.yaml, see the README for its
keys) or, for a dbt project, straight from flags (--dbt-manifest and
friends). With neither, ./weft.yaml is read if it exists. Independent
sources are extracted in parallel; their SQL is then parsed for
column-level lineage (skip that with --no-columns for a faster,
table-level graph).

With --from-store, nothing is extracted: the graph is read from the store
"weft extract" keeps (the current edges, or those valid at --as-of).

The graph goes to stdout, or to the file named by -o, which is replaced
atomically: a failed run never leaves a half-written file. Its format is
documented in docs/graph-format.md. A summary (datasets by kind, edges,
statements parsed, findings) goes to stderr.

Unreadable input (a truncated or foreign manifest) fails with exit code 1.
Problems weft can work around (an unknown manifest version, a depends_on
pointing at a missing node) are findings: listed in the summary, kept in the
graph, exit code 0.`),
		Example: examples(`
  # a dbt project: run "dbt compile" (or docs generate) first
  weft snapshot --dbt-manifest target/manifest.json --dbt-catalog target/catalog.json -o graph.json

  # every source listed in a config file
  weft snapshot --config weft.yaml -o graph.json

  # the current graph of the store weft extract keeps, or a past one
  weft snapshot --from-store weft.db -o graph.json
  weft snapshot --from-store weft.db --as-of 2026-10-01T00:00:00Z -o graph-october.json

  # table-level lineage only, to stdout
  weft snapshot --dbt-manifest target/manifest.json --no-columns | jq '.edges | length'`),
		Args: exactArgs(0, "no arguments (sources are given with flags)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.io = a.io
			opts.logger = a.logger
			opts.loader = configLoader{registry: reg, getenv: a.getenv, logger: a.logger}
			opts.explicit = map[string]bool{}
			cmd.Flags().Visit(func(f *pflag.Flag) { opts.explicit[f.Name] = true })
			if err := opts.validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runSnapshot(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.configPath, "config", "c", "", "config file listing the sources (default ./weft.yaml when no source flag is given)")
	f.StringVar(&opts.dbtManifest, "dbt-manifest", "", "dbt `manifest.json` (from dbt compile, run, build or docs generate)")
	f.StringVar(&opts.dbtCatalog, "dbt-catalog", "", "dbt `catalog.json` (from dbt docs generate), for column types")
	f.StringVar(&opts.dbtRunResults, "dbt-run-results", "", "dbt `run_results.json`, for each node's last status and time")
	f.StringVar(&opts.dbtAccount, "dbt-account", "", "warehouse `account` or host the dbt project builds into, e.g. acme-prod (names the namespace)")
	f.BoolVar(&opts.noColumns, "no-columns", false, "skip SQL parsing: table-level lineage only")
	f.StringVarP(&opts.output, "output", "o", "-", "write the graph to `file` (- for stdout)")
	f.StringVar(&opts.format, "format", "json", "output format: json (for OpenLineage, DOT, Mermaid or HTML use weft export)")
	f.IntVar(&opts.workers, "workers", 0, "statements parsed in parallel (0: one per CPU)")
	f.StringVar(&opts.fromStore, "from-store", "", "write the graph of the lineage store `weft.db` (from weft extract) instead of extracting")
	f.StringVar(&opts.asOf, "as-of", "", "with --from-store, the graph valid at `time` (RFC 3339 or a date) instead of now")
	return cmd
}

// validate checks flag combinations that cobra cannot.
func (o *snapshotOptions) validate() error {
	if o.format != "json" {
		return usageErrorf("unsupported --format %q (valid: json; other formats: weft export)", o.format)
	}
	if o.workers < 0 {
		return usageErrorf("--workers must be 0 or more, got %d", o.workers)
	}
	if o.fromStore != "" {
		for _, name := range []string{"config", "dbt-manifest", "no-columns", "workers"} {
			if o.explicit[name] {
				return usageErrorf("--from-store reads the store: it cannot be combined with --%s", name)
			}
		}
	}
	if o.asOf != "" {
		if o.fromStore == "" {
			return usageErrorf("--as-of needs --from-store (a graph file has no history)")
		}
		if _, err := parseTime(o.asOf); err != nil {
			return usageErrorf("--as-of: %v", err)
		}
	}
	if o.dbtManifest == "" {
		for _, name := range []string{"dbt-catalog", "dbt-run-results", "dbt-account"} {
			if o.explicit[name] {
				return usageErrorf("--%s needs --dbt-manifest", name)
			}
		}
	}
	return nil
}

// sources builds the sources the flags name: those of the config file and
// a dbt project given by flags.
func (o *snapshotOptions) sources() ([]source, error) {
	var out []source
	path := o.configPath
	if path == "" && o.dbtManifest == "" {
		if _, err := os.Stat(defaultConfigFile); err != nil {
			return nil, usageErrorf("no sources: pass --dbt-manifest FILE or --config weft.yaml (no ./%s here)", defaultConfigFile)
		}
		path = defaultConfigFile
		o.logger.Info("using config file", "path", path)
	}
	if path != "" {
		cfg, err := o.loader.loadConfigFile(path)
		if err != nil {
			return nil, err
		}
		out = append(out, cfg.Sources...)
		o.links = cfg.Links
	}
	if o.dbtManifest != "" {
		src, err := o.loader.fromFlags("dbt", [][2]string{
			{"manifest", o.dbtManifest},
			{"catalog", o.dbtCatalog},
			{"run_results", o.dbtRunResults},
			{"account", o.dbtAccount},
		})
		if err != nil {
			return nil, err
		}
		for _, s := range out {
			if s.Name == src.Name {
				return nil, usageErrorf("--dbt-manifest: %s already defines a source named %q; use one or the other", s.Location, src.Name)
			}
		}
		out = append(out, src)
	}
	return out, nil
}

func runSnapshot(ctx context.Context, opts *snapshotOptions) error {
	if opts.fromStore != "" {
		return runSnapshotFromStore(ctx, opts)
	}
	srcs, err := opts.sources()
	if err != nil {
		return err
	}
	w := weave.New(weave.Options{
		Columns: !opts.noColumns,
		Workers: opts.workers,
		Logger:  opts.logger,
		Progress: func(done, total int) {
			opts.logger.Info("parsing statements", "done", done, "total", total)
		},
	})
	if err := extractAll(ctx, opts.logger, srcs, w); err != nil {
		return err
	}
	g, stats, err := w.Build(ctx)
	if err != nil {
		return fmt.Errorf("build graph: %w", err)
	}
	if len(opts.links) > 0 {
		applyLinks(g, opts.links)
		if g, err = unify(ctx, opts.logger, g); err != nil {
			return err
		}
	}
	if err := writeGraphFile(opts.output, opts.io.Out, g); err != nil {
		return err
	}
	writeSnapshotSummary(opts.io.Err, g, stats, srcs, opts.noColumns, opts.output)
	return nil
}

// runSnapshotFromStore writes the graph of a store, now or as of a time.
func runSnapshotFromStore(ctx context.Context, opts *snapshotOptions) error {
	var asOf time.Time
	if opts.asOf != "" {
		asOf, _ = parseTime(opts.asOf)
	}
	g, err := readStoreGraph(ctx, opts.fromStore, asOf)
	if err != nil {
		return err
	}
	if err := writeGraphFile(opts.output, opts.io.Out, g); err != nil {
		return err
	}
	when := "now"
	if !asOf.IsZero() {
		when = "as of " + asOf.Format(time.RFC3339)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "store       %s, %s\n", opts.fromStore, when)
	kinds := map[string]int{}
	for _, d := range g.Datasets {
		kinds[string(d.Kind)]++
	}
	fmt.Fprintf(&b, "datasets    %d%s\n", len(g.Datasets), countList(kinds))
	types := map[string]int{}
	for _, e := range g.ColumnEdges {
		types[e.Type]++
	}
	fmt.Fprintf(&b, "edges       %d table, %d column%s\n", len(g.Edges), len(g.ColumnEdges), countList(types))
	if opts.output != "-" && opts.output != "" {
		fmt.Fprintf(&b, "wrote %s\n", opts.output)
	}
	io.WriteString(opts.io.Err, b.String())
	return nil
}

// extractAll runs every source's extractor, in parallel, feeding batches to
// w. When one fails the others are cancelled; every failure is reported.
func extractAll(parent context.Context, logger *slog.Logger, srcs []source, w *weave.Weaver) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	var (
		mu   sync.Mutex // guards w and errs
		errs = make([]error, len(srcs))
		wg   sync.WaitGroup
	)
	for i, src := range srcs {
		wg.Go(func() {
			logger.Info("extracting", "source", src.Name, "type", src.Type)
			batches := 0
			err := src.Extractor.Extract(ctx, func(b extractors.Batch) error {
				mu.Lock()
				defer mu.Unlock()
				w.Add(b)
				batches++
				return nil
			})
			if c, ok := src.Extractor.(io.Closer); ok {
				if cerr := c.Close(); cerr != nil && err == nil {
					err = fmt.Errorf("close: %w", cerr)
				}
			}
			if err != nil {
				errs[i] = err
				cancel()
				return
			}
			logger.Info("extracted", "source", src.Name, "batches", batches)
		})
	}
	wg.Wait()
	var out []error
	for i, err := range errs {
		if err == nil || errors.Is(err, context.Canceled) {
			// Nothing to report, or cancelled because another source
			// failed (reported itself) or the user interrupted.
			continue
		}
		if len(srcs) > 1 {
			err = fmt.Errorf("%s: %w", srcs[i], err)
		}
		out = append(out, err)
	}
	if len(out) == 0 && parent.Err() != nil {
		return fmt.Errorf("interrupted: %w", parent.Err())
	}
	return errors.Join(out...)
}

// writeGraphFile encodes g to path, or to stdout when path is "-". A file
// is written to a temporary name in the same directory and renamed into
// place, so readers never see a partial graph.
func writeGraphFile(path string, stdout io.Writer, g *graph.Graph) error {
	if path == "-" || path == "" {
		return graph.Encode(stdout, g)
	}
	return writeFileAtomic(path, func(w io.Writer) error { return graph.Encode(w, g) })
}

// writeSnapshotSummary prints what the snapshot holds, for people.
func writeSnapshotSummary(w io.Writer, g *graph.Graph, st weave.Stats, srcs []source, noColumns bool, output string) {
	var b strings.Builder

	names := make([]string, len(srcs))
	for i, s := range srcs {
		names[i] = s.String()
	}
	fmt.Fprintf(&b, "sources     %s\n", strings.Join(names, ", "))

	kinds := map[string]int{}
	for _, d := range g.Datasets {
		kinds[string(d.Kind)]++
	}
	fmt.Fprintf(&b, "datasets    %d%s\n", len(g.Datasets), countList(kinds))

	types := map[string]int{}
	for _, e := range g.ColumnEdges {
		types[e.Type]++
	}
	fmt.Fprintf(&b, "edges       %d table, %d column%s\n", len(g.Edges), len(g.ColumnEdges), countList(types))

	if noColumns {
		fmt.Fprintf(&b, "statements  %d not parsed (--no-columns)\n", st.Statements)
	} else {
		fmt.Fprintf(&b, "statements  %d (%d distinct): %d full, %d partial, %d table-only, %d failed, %d skipped\n",
			st.Statements, st.Distinct, st.Full, st.Partial, st.TableOnly, st.Failed, st.Skipped)
	}

	sev := map[string]int{}
	for _, f := range g.Findings {
		sev[f.Severity]++
	}
	fmt.Fprintf(&b, "findings    %d%s\n", len(g.Findings), countList(sev))
	listed := 0
	var shown []graph.Finding
	for _, f := range sortedFindings(g.Findings) {
		if f.Severity == graph.SeverityInfo {
			continue
		}
		shown = append(shown, f)
	}
	for _, f := range shown {
		if listed == maxListedFindings {
			fmt.Fprintf(&b, "  and %d more (see \"findings\" in the graph)\n", len(shown)-listed)
			break
		}
		fmt.Fprintf(&b, "  %s\n", formatFinding(f))
		listed++
	}
	if output != "-" && output != "" {
		fmt.Fprintf(&b, "wrote %s\n", output)
	}
	io.WriteString(w, b.String())
}

// countList renders counts as ": 3 model, 2 source", largest first, ties by
// name; empty when there is nothing to list.
func countList(m map[string]int) string {
	type kc struct {
		k string
		n int
	}
	var l []kc
	for k, n := range m {
		if k == "" {
			k = "unknown"
		}
		l = append(l, kc{k, n})
	}
	if len(l) == 0 {
		return ""
	}
	sort.Slice(l, func(i, j int) bool {
		if l[i].n != l[j].n {
			return l[i].n > l[j].n
		}
		return l[i].k < l[j].k
	})
	parts := make([]string, len(l))
	for i, x := range l {
		parts[i] = fmt.Sprintf("%d %s", x.n, x.k)
	}
	return ": " + strings.Join(parts, ", ")
}

// sortedFindings orders findings errors first, then by location.
func sortedFindings(fs []graph.Finding) []graph.Finding {
	rank := map[string]int{graph.SeverityError: 0, graph.SeverityWarning: 1, graph.SeverityInfo: 2}
	out := append([]graph.Finding(nil), fs...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if rank[a.Severity] != rank[b.Severity] {
			return rank[a.Severity] < rank[b.Severity]
		}
		if a.Location != b.Location {
			return a.Location < b.Location
		}
		return a.Message < b.Message
	})
	return out
}

// formatFinding renders a finding compiler-style: "warning: loc: message".
func formatFinding(f graph.Finding) string {
	if f.Location != "" {
		return fmt.Sprintf("%s: %s: %s", f.Severity, f.Location, f.Message)
	}
	return fmt.Sprintf("%s: %s", f.Severity, f.Message)
}
