package main

import "testing"

// TestArtifactsUpToDate fails when the project under fixtures/demo/dbt changed and the
// artifacts in its target/ were not regenerated with `go run ./internal/demogen`.
func TestArtifactsUpToDate(t *testing.T) {
	if err := run("../../fixtures/demo/dbt", true); err != nil {
		t.Fatal(err)
	}
}
