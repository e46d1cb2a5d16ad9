package main

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

var update = flag.Bool("update", false, "rewrite the expected output in testdata/script/*.txtar")

func TestMain(m *testing.M) {
	// The crash test re-executes this binary as weft (see crash_test.go).
	if os.Getenv(childEnv) == "1" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	testscript.Main(m, map[string]func(){
		"weft": func() {
			os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
		},
	})
}

// TestScripts runs the CLI end to end: each testdata/script/*.txtar is a
// session of weft commands with their expected stdout, stderr and exit
// codes. Run "go test ./cmd/weft -update" to rewrite the expected output
// after a deliberate change, then review the diff.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		UpdateScripts:       *update,
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup: func(env *testscript.Env) error {
			// The repository root, for scripts that read shared fixtures.
			wd, err := os.Getwd()
			if err != nil {
				return err
			}
			repo := filepath.Join(wd, "..", "..")
			env.Setenv("REPO", repo)
			// The demo on all three platforms, for demo.txtar: weft.yaml
			// paths are relative to the file, so this one is absolute.
			demo := filepath.Join(repo, "fixtures", "demo")
			return os.WriteFile(filepath.Join(env.WorkDir, "demo-all.yaml"), []byte(strings.NewReplacer("DEMO", demo).Replace(demoAllYAML)), 0o644)
		},
	})
}

const demoAllYAML = `sources:
  - type: dbt
    name: acme_risk
    account: acmebank-prod
    manifest: DEMO/dbt/target/manifest.json
    catalog: DEMO/dbt/target/catalog.json
    run_results: DEMO/dbt/target/run_results.json
  - type: snowflake
    name: prod
    account: acmebank-prod
    export: DEMO/snowflake/query_history.jsonl
  - type: databricks
    name: ml
    host: https://adb-4711.12.azuredatabricks.net
    export: DEMO/databricks
`
