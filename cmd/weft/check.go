package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/weftdata/weft/check"
	"github.com/weftdata/weft/extractors"
	"github.com/weftdata/weft/extractors/dbt"
	"github.com/weftdata/weft/graph"
	"github.com/weftdata/weft/weave"
)

type checkOptions struct {
	io     iostreams
	logger *slog.Logger

	manifest     string
	catalog      string
	account      string
	base         string
	store        string
	baseManifest string
	baseCatalog  string
	format       string
	failOn       string
	output       string
	full         bool
}

// exitError carries an exit code other than the default failure code:
// weft check exits 2 on unreadable input, 1 on findings.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }
func (e *exitError) ExitCode() int { return e.code }

// inputError marks err as unreadable input (exit 2), unless the run was
// interrupted: that is a failure (exit 1), not the input's fault.
func inputError(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &exitError{code: exitUsage, err: err}
}

func newCheckCmd(a *app, runF func(context.Context, *checkOptions) error) *cobra.Command {
	opts := &checkOptions{}
	cmd := &cobra.Command{
		Use:   "check --manifest target/manifest.json [--base graph.json | --store weft.db | --base-manifest prod/manifest.json]",
		Short: "Fail a dbt pull request that would break lineage downstream, in any platform",
		Long: strings.TrimSpace(`
Compare a pull request's compiled dbt project with production and report
what the change breaks downstream: in dbt, and beyond it in Snowflake views
and queries and Databricks jobs and tables, when the production graph has
them (a weft snapshot or the weft store of all your sources).

Rules (each finding names its rule):
  removed_node        a removed model, source, seed or snapshot still used downstream
  removed_column      a removed column still used downstream; a column used only in a
                      WHERE or JOIN counts too (INDIRECT lineage)
  renamed_column      same expression under a new name, while downstream reads the old one
  unknown_column      compiled SQL reads a column its upstream does not have
  dangling_ref        compiled SQL reads a relation that is neither a dbt node nor in production
  type_changed        a column used downstream changed type (warning; needs --catalog)
  contract_violation  an enforced contract's columns differ from the SQL's output
  cycle               the dbt DAG has a dependency cycle

The production graph is --base (a graph.json from weft snapshot), --store (the
database weft extract keeps), or --base-manifest (the production manifest,
dbt only). What a model provides is read from its compiled SQL, not its YAML.
Only the models the PR changes, and those downstream of them, are analysed
again; the rest keep production's analysis (--full analyses everything).

Exit codes: 0 when no finding is at or above --fail-on, 1 when one is,
2 for bad flags or unreadable input.`),
		Example: strings.TrimSpace(`
  # in CI, after dbt compile, against last night's production snapshot
  weft check --manifest target/manifest.json --base prod-graph.json

  # a Markdown report for a sticky PR comment, failing on warnings too
  weft check --manifest target/manifest.json --base prod-graph.json \
    --format markdown --fail-on warning -o weft-check.md

  # dbt only: compare with the production manifest
  weft check --manifest target/manifest.json --base-manifest prod/manifest.json

  # analyse every model's SQL again instead of only what the PR changed
  weft check --manifest target/manifest.json --base prod-graph.json --full`),
		Args: exactArgs(0, "no arguments (inputs are given with flags)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.io = a.io
			opts.logger = a.logger
			if err := opts.validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runCheck(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.manifest, "manifest", "", "the pull request's compiled dbt `manifest.json` (required)")
	f.StringVar(&opts.catalog, "catalog", "", "the pull request's `catalog.json`, for column types")
	f.StringVar(&opts.account, "account", "", "warehouse `account` the project builds into (default: taken from the base graph)")
	f.StringVar(&opts.base, "base", "", "production lineage `graph.json` (from weft snapshot)")
	f.StringVar(&opts.store, "store", "", "production lineage store `weft.db` (from weft extract)")
	f.StringVar(&opts.baseManifest, "base-manifest", "", "production dbt `manifest.json` (dbt-only comparison)")
	f.StringVar(&opts.baseCatalog, "base-catalog", "", "production `catalog.json`, with --base-manifest")
	f.StringVar(&opts.format, "format", "text", "report format: "+strings.Join(check.Formats, ", "))
	f.StringVar(&opts.failOn, "fail-on", "error", "lowest severity that fails the check: error or warning")
	f.StringVarP(&opts.output, "output", "o", "-", "write the report to `file` (- for stdout)")
	f.BoolVar(&opts.full, "full", false, "analyse the SQL of every model, not only what the pull request changed")
	return cmd
}

func (o *checkOptions) validate() error {
	if o.manifest == "" {
		return usageErrorf("--manifest is required (the pull request's target/manifest.json)")
	}
	n := 0
	for _, s := range []string{o.base, o.store, o.baseManifest} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		return usageErrorf("give exactly one of --base, --store or --base-manifest (got %d)", n)
	}
	if o.baseCatalog != "" && o.baseManifest == "" {
		return usageErrorf("--base-catalog needs --base-manifest")
	}
	switch o.failOn {
	case graph.SeverityError, graph.SeverityWarning:
	default:
		return usageErrorf("unknown --fail-on %q (valid: error, warning)", o.failOn)
	}
	for _, f := range check.Formats {
		if f == o.format {
			return nil
		}
	}
	return usageErrorf("unknown --format %q (valid: %s)", o.format, strings.Join(check.Formats, ", "))
}

func runCheck(ctx context.Context, opts *checkOptions) error {
	base, baseOutputs, baseName, err := loadBase(ctx, opts)
	if err != nil {
		return inputError(err)
	}
	account := opts.account
	if account == "" {
		account = accountFromBase(base)
	}
	proj, err := loadDBT(ctx, opts.manifest, opts.catalog, account)
	if err != nil {
		return inputError(err)
	}
	pr, err := check.BuildPR(ctx, proj, base, check.BuildOptions{Full: opts.full, Logger: opts.logger, BaseOutputs: baseOutputs})
	if err != nil {
		return inputError(err)
	}
	findings := check.Run(check.Input{Base: base, PR: pr.Graph, Project: proj, Outputs: pr.Outputs, BaseOutputs: baseOutputs})
	report := check.NewReport(baseName, findings)
	write := func(w io.Writer) error { return check.Write(w, opts.format, report) }
	if opts.output == "-" || opts.output == "" {
		err = write(opts.io.Out)
	} else {
		err = writeFileAtomic(opts.output, write)
	}
	if err != nil {
		return err
	}
	failing := 0
	for _, f := range findings {
		if check.AtLeast(f.Severity, opts.failOn) {
			failing++
		}
	}
	if opts.output != "-" && opts.output != "" {
		fmt.Fprintf(opts.io.Err, "%s (%s, %s); wrote %s\n", plural(len(findings), "finding", "findings"),
			plural(report.Errors, "error", "errors"), plural(report.Warnings, "warning", "warnings"), opts.output)
	}
	if failing > 0 {
		return fmt.Errorf("check failed: %s at or above %s", plural(failing, "finding", "findings"), opts.failOn)
	}
	return nil
}

// loadBase reads the production graph the PR is compared with, and for a
// production manifest the output columns its SQL produces.
func loadBase(ctx context.Context, opts *checkOptions) (*graph.Graph, map[graph.DatasetID][]string, string, error) {
	switch {
	case opts.base != "":
		g, err := readGraphFile(opts.base)
		return g, nil, opts.base, err
	case opts.store != "":
		g, err := readStoreGraph(ctx, opts.store, time.Time{})
		return g, nil, opts.store, err
	}
	b, err := buildDBT(ctx, opts.logger, opts.baseManifest, opts.baseCatalog, opts.account)
	if err != nil {
		return nil, nil, "", err
	}
	return b.graph, b.outputs, opts.baseManifest, nil
}

// accountFromBase finds the warehouse account of the dbt project in the
// base graph, so that the PR's relations get the same namespace
// ("snowflake://acme-prod" → "acme-prod").
func accountFromBase(g *graph.Graph) string {
	counts := map[string]int{}
	for id, d := range g.Datasets {
		if d.Properties["dbt_unique_id"] == "" {
			continue
		}
		if _, acct, ok := strings.Cut(id.Namespace, "://"); ok {
			counts[acct]++
		}
	}
	best, n := "", 0
	for acct, c := range counts {
		if c > n || c == n && acct < best {
			best, n = acct, c
		}
	}
	return best
}

type dbtBuild struct {
	project *dbt.Project
	graph   *graph.Graph
	outputs map[graph.DatasetID][]string
}

// loadDBT loads a dbt project's artifacts.
func loadDBT(ctx context.Context, manifest, catalog, account string) (*dbt.Project, error) {
	ex, err := dbt.New(dbt.Config{Manifest: manifest, Catalog: catalog, Account: account})
	if err != nil {
		return nil, err
	}
	return ex.Load(ctx)
}

// buildDBT loads a dbt project and weaves its column-level graph.
func buildDBT(ctx context.Context, logger *slog.Logger, manifest, catalog, account string) (dbtBuild, error) {
	p, err := loadDBT(ctx, manifest, catalog, account)
	if err != nil {
		return dbtBuild{}, err
	}
	w := weave.New(weave.Options{Columns: true, Logger: logger})
	w.Add(extractors.Batch{Graph: p.Graph(), Statements: p.Statements()})
	g, _, err := w.Build(ctx)
	if err != nil {
		return dbtBuild{}, err
	}
	return dbtBuild{project: p, graph: g, outputs: w.Outputs()}, nil
}
