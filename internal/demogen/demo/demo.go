// Package demo builds the dbt artifacts of a dbt project the way `dbt build`
// and `dbt docs generate` on Snowflake would write them (manifest.json v12,
// catalog.json v1, run_results.json v6), without dbt or a warehouse. It
// renders the Jinja subset the weft demo project (fixtures/demo/dbt) uses.
//
// Command demogen writes the demo's artifacts with it; tests use it to
// generate the manifest of a patched copy of the project, a pull request
// in miniature.
package demo

import "fmt"

// Artifacts are the encoded files of target/: two-space indented JSON with
// a final newline, deterministic for a given project.
type Artifacts struct {
	Manifest   []byte
	Catalog    []byte
	RunResults []byte
}

// Options change how Generate treats a project dbt itself would accept
// only at compile time.
type Options struct {
	// Lenient writes the artifacts of a project whose models' YAML columns
	// differ from what their compiled SQL returns, or whose refs form a
	// cycle, instead of failing. The catalog then holds what the SQL
	// returns, typed from the YAML where a name matches (TEXT otherwise),
	// which is what the warehouse would hold after the build. Strict mode
	// (the default) keeps the checked-in demo honest; lenient mode makes
	// broken pull requests for tests.
	Lenient bool
}

// Generate reads the dbt project in dir and returns its artifacts.
func Generate(dir string, opts Options) (Artifacts, error) {
	p, err := loadProject(dir)
	if err != nil {
		return Artifacts{}, err
	}
	b, err := newBuild(p, opts)
	if err != nil {
		return Artifacts{}, err
	}
	rr, err := b.runResults()
	if err != nil {
		return Artifacts{}, err
	}
	var a Artifacts
	for _, f := range []struct {
		name string
		v    any
		dst  *[]byte
	}{
		{"manifest.json", b.manifest(), &a.Manifest},
		{"catalog.json", b.catalog(), &a.Catalog},
		{"run_results.json", rr, &a.RunResults},
	} {
		data, err := encodeFile(f.v)
		if err != nil {
			return Artifacts{}, fmt.Errorf("%s: %w", f.name, err)
		}
		*f.dst = data
	}
	return a, nil
}
