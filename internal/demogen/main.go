// Command demogen builds the dbt artifacts of the weft demo (fixtures/demo/dbt/target:
// manifest.json, catalog.json, run_results.json) from the dbt project sources, the way
// `dbt build` and `dbt docs generate` on Snowflake would write them, without dbt or a
// warehouse. Output is deterministic: fixed timestamps and ids, ordered keys.
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
	p, err := loadProject(dir)
	if err != nil {
		return err
	}
	b, err := newBuild(p)
	if err != nil {
		return err
	}
	rr, err := b.runResults()
	if err != nil {
		return err
	}
	files := []struct {
		name string
		v    any
	}{
		{"manifest.json", b.manifest()},
		{"catalog.json", b.catalog()},
		{"run_results.json", rr},
	}
	target := filepath.Join(dir, "target")
	var stale []string
	for _, f := range files {
		data, err := encodeFile(f.v)
		if err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
		path := filepath.Join(target, f.name)
		if check {
			old, err := os.ReadFile(path)
			if err != nil || !bytes.Equal(old, data) {
				stale = append(stale, path)
			}
			continue
		}
		if err := os.MkdirAll(target, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return err
		}
		fmt.Printf("wrote %s (%d bytes)\n", path, len(data))
	}
	if len(stale) > 0 {
		return fmt.Errorf("stale artifacts, run `go run ./internal/demogen`: %v", stale)
	}
	if check {
		fmt.Println("demo artifacts are up to date")
	}
	return nil
}
