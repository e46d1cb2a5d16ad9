package main

import (
	"github.com/weftdata/weft/extractors/dbt"
)

// sourceRegistry returns the source types weft.yaml can name. Adding a
// source: register its New here with the yaml keys of its Config that hold
// file paths, and document its keys in the README.
func sourceRegistry() registry {
	return registry{
		"dbt": newSourceType(dbt.New, "manifest", "catalog", "run_results"),
	}
}
