package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestREADMEConfig loads the weft.yaml example of the README with the real
// registry, so that the documented keys stay valid.
func TestREADMEConfig(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Skipf("no README: %v", err)
	}
	_, rest, ok := strings.Cut(string(data), "```yaml\n# weft.yaml")
	if !ok {
		t.Fatal("README has no weft.yaml example (a ```yaml block starting with \"# weft.yaml\")")
	}
	example, _, _ := strings.Cut("# weft.yaml"+rest, "```")
	env := map[string]string{"WEFT_KEY_PASSPHRASE": "secret"}
	l := configLoader{registry: sourceRegistry(), getenv: func(k string) string { return env[k] }}
	srcs, err := l.load("README.md", ".", []byte(example))
	if err != nil {
		t.Fatalf("README's weft.yaml example does not load:\n%v", err)
	}
	var got []string
	for _, s := range srcs {
		got = append(got, s.String())
	}
	if want := `dbt source "acme_risk", snowflake source "prod", databricks source "ml"`; strings.Join(got, ", ") != want {
		t.Errorf("sources = %s, want %s", strings.Join(got, ", "), want)
	}
}
