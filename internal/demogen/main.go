// Command demogen builds the dbt artifacts of the weft demo (fixtures/demo/dbt/target:
// manifest.json, catalog.json, run_results.json) from the dbt project sources, the way
// `dbt build` and `dbt docs generate` on Snowflake would write them, without dbt or a
// warehouse. Output is deterministic: fixed timestamps and ids, ordered keys. The work
// is done by package demo, which tests use to generate patched copies of the project.
//
//	go run ./internal/demogen            # regenerate
//	go run ./internal/demogen -check     # fail if the checked-in artifacts are stale
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/weftdata/weft/internal/demogen/demo"
)

func main() {
	dir := flag.String("project", "fixtures/demo/dbt", "dbt project directory")
	check := flag.Bool("check", false, "compare with the files in target/ instead of writing them")
	flag.Parse()
	if err := run(*dir, *check); err != nil {
		fmt.Fprintln(os.Stderr, "demogen:", err)
		os.Exit(1)
	}
}

func run(dir string, check bool) error {
	a, err := demo.Generate(dir, demo.Options{})
	if err != nil {
		return err
	}
	files := []struct {
		name string
		data []byte
	}{
		{"manifest.json", a.Manifest},
		{"catalog.json", a.Catalog},
		{"run_results.json", a.RunResults},
	}
	target := filepath.Join(dir, "target")
	var stale []string
	for _, f := range files {
		path := filepath.Join(target, f.name)
		if check {
			old, err := os.ReadFile(path)
			if err != nil || !bytes.Equal(old, f.data) {
				stale = append(stale, path)
			}
			continue
		}
		if err := os.MkdirAll(target, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, f.data, 0o644); err != nil {
			return err
		}
		fmt.Printf("wrote %s (%d bytes)\n", path, len(f.data))
	}
	if len(stale) > 0 {
		return fmt.Errorf("stale artifacts, run `go run ./internal/demogen`: %v", stale)
	}
	if check {
		fmt.Println("demo artifacts are up to date")
	}
	return nil
}
