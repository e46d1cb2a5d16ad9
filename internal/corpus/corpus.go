// Package corpus locates the shared test corpus: real dbt manifests, query
// logs, API responses and other projects' lineage cases that nobody here
// wrote. Tests read it in place, never copy it into the project, and skip
// with a clear message when it is absent, so a clone of the project alone
// still passes its tests.
//
// The corpus is ../shared/corpus next to the repository root, or the folder
// named by $WEFT_CORPUS.
package corpus

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Env names the environment variable that overrides the corpus location.
const Env = "WEFT_CORPUS"

// Root returns the corpus folder, or an error saying where it looked.
func Root() (string, error) {
	if env := os.Getenv(Env); env != "" {
		if _, err := os.Stat(env); err != nil {
			return "", fmt.Errorf("$%s=%s: %w", Env, env, err)
		}
		return env, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	// Tests run in their package's folder: walk up to the module root.
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
	root := filepath.Join(filepath.Dir(dir), "shared", "corpus")
	if _, err := os.Stat(root); err != nil {
		return "", fmt.Errorf("%s: %w", root, err)
	}
	return root, nil
}

// Dir returns the corpus subfolder elem (for example "dbt"), or skips the
// test with a message saying how to provide it.
func Dir(t testing.TB, elem ...string) string {
	t.Helper()
	root, err := Root()
	if err != nil {
		t.Skipf("shared corpus not found (%v): set %s to its folder to run this test", err, Env)
	}
	dir := filepath.Join(append([]string{root}, elem...)...)
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("corpus folder %s not found: %v", dir, err)
	}
	return dir
}

// DBTProject is one folder of the corpus's dbt artifacts: a manifest and,
// when the project shipped them, a catalog and run results.
type DBTProject struct {
	Name                          string // the folder's name
	Manifest, Catalog, RunResults string // paths; empty when absent
}

// DBTProjects lists the dbt corpus's projects in folder order, or skips the
// test when the corpus (or every manifest in it) is absent.
func DBTProjects(t testing.TB) []DBTProject {
	t.Helper()
	dir := Dir(t, "dbt")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []DBTProject
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		files, err := filepath.Glob(filepath.Join(dir, e.Name(), "*.json"))
		if err != nil {
			t.Fatal(err)
		}
		p := DBTProject{Name: e.Name()}
		for _, f := range files {
			base := strings.ToLower(filepath.Base(f))
			switch {
			case strings.Contains(base, "manifest"):
				p.Manifest = f
			case strings.Contains(base, "catalog"):
				p.Catalog = f
			case strings.Contains(base, "run_results"):
				p.RunResults = f
			}
		}
		if p.Manifest != "" {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		t.Skipf("no manifests in %s", dir)
	}
	return out
}
