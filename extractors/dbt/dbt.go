package dbt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/weftdata/weft/extractors"
)

// Config configures the dbt extractor. Paths are read by Extract, never by
// New.
type Config struct {
	// Manifest is the path to target/manifest.json. Required.
	Manifest string `yaml:"manifest"`
	// Catalog is the path to target/catalog.json ("dbt docs generate"):
	// column types and order. Optional.
	Catalog string `yaml:"catalog"`
	// RunResults is the path to target/run_results.json: each node's last
	// status and run time. Optional.
	RunResults string `yaml:"run_results"`
	// Account is the warehouse account or host the dbt profile targets
	// (Snowflake "<org>-<account>", the Databricks workspace host,
	// "host:port" for Postgres). It makes dbt datasets land in the same
	// namespace as the warehouse extractor's. Empty means "default", with
	// an info finding.
	Account string `yaml:"account"`
	// Name overrides the dbt project name of the "dbt://<name>" namespace
	// (default: the manifest's project name).
	Name string `yaml:"name"`
	// ProjectDir is the dbt project directory (where dbt_project.yml is).
	// Seeds whose columns neither the catalog nor the manifest lists take
	// them from the header row of their CSV file, looked for under
	// ProjectDir, then the directory above the manifest's (target/..), then
	// the manifest's root_path. A file that is not found is no error.
	//
	// Not a weft.yaml key yet (cmd/weft resolves path keys and lists the
	// valid ones in its messages); the default finds the seeds of a
	// project whose manifest is in <project>/target.
	ProjectDir string `yaml:"-"`
	// SkipSeedFiles turns off reading seed CSV headers.
	SkipSeedFiles bool `yaml:"-"`
}

// Extractor reads one dbt project's artifacts.
type Extractor struct {
	cfg Config
}

var _ extractors.Extractor = (*Extractor)(nil)

// New validates cfg. It does no I/O.
func New(cfg Config) (*Extractor, error) {
	if cfg.Manifest == "" {
		return nil, errors.New("dbt: manifest is required (the path to target/manifest.json)")
	}
	return &Extractor{cfg: cfg}, nil
}

// Extract reads the artifacts and emits one Batch: the project's graph and
// the compiled SQL of its models, snapshots and analyses, sorted by
// unique_id.
func (e *Extractor) Extract(ctx context.Context, emit func(extractors.Batch) error) error {
	p, err := e.Load(ctx)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return emit(extractors.Batch{Graph: p.Graph(), Statements: p.Statements()})
}

// Load reads and parses the configured artifacts without building the
// graph, for callers that need the dbt nodes themselves.
func (e *Extractor) Load(ctx context.Context) (*Project, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	manifest, err := readFile(e.cfg.Manifest, "manifest")
	if err != nil {
		return nil, err
	}
	catalog, err := readFile(e.cfg.Catalog, "catalog")
	if err != nil {
		return nil, err
	}
	runResults, err := readFile(e.cfg.RunResults, "run_results")
	if err != nil {
		return nil, err
	}
	p, err := load(ctx, manifest, catalog, runResults, Options{
		Account:        e.cfg.Account,
		Name:           e.cfg.Name,
		ManifestFile:   displayName(e.cfg.Manifest),
		CatalogFile:    displayName(e.cfg.Catalog),
		RunResultsFile: displayName(e.cfg.RunResults),
	})
	if err != nil {
		return nil, err
	}
	if !e.cfg.SkipSeedFiles {
		// target/manifest.json sits in <project>/target.
		above := filepath.Dir(filepath.Dir(e.cfg.Manifest))
		if err := p.ReadSeedHeaders(ctx, e.cfg.ProjectDir, above); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// readFile reads an artifact into a string; an empty path means "not
// given". Reading into a builder sized from Stat makes the string without
// the extra copy that string(os.ReadFile(...)) costs: manifests of big
// projects run to hundreds of megabytes.
func readFile(path, what string) (string, error) {
	if path == "" {
		return "", nil
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("read dbt %s: %w", what, err)
	}
	defer f.Close()
	var b strings.Builder
	if fi, err := f.Stat(); err == nil && fi.Size() > 0 {
		b.Grow(int(fi.Size()) + 1)
	}
	if _, err := io.Copy(&b, f); err != nil {
		return "", fmt.Errorf("read dbt %s: %w", what, err)
	}
	return b.String(), nil
}

// displayName is the path as the user gave it, cleaned, for messages.
func displayName(path string) string {
	if path == "" {
		return ""
	}
	return filepath.Clean(path)
}
