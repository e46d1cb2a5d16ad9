package dbt

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/weftdata/weft/extractors"
)

// FuzzLoad feeds arbitrary manifests (and the acme catalog) to Load: no
// panics, and input that loads builds a graph and statements the same way
// twice. Seeds are the testdata manifests; plain go test replays them.
func FuzzLoad(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "*", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"metadata":{"dbt_schema_version":"https://schemas.getdbt.com/dbt/manifest/v4.json","adapter_type":"spark"},"nodes":{"model.a.b":{"resource_type":"model","depends_on":{"nodes":["model.a.b","x"]},"relation_name":"a.b"}}}`))
	catalog, err := os.ReadFile(filepath.Join("testdata", "acme_risk", "catalog.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, manifest []byte) {
		p, err := Load(t.Context(), manifest, catalog, nil, Options{})
		if err != nil {
			if p != nil {
				t.Fatal("Load returned a project and an error")
			}
			return
		}
		first := dumpBatch(extractors.Batch{Graph: p.Graph(), Statements: p.Statements()})
		p2, err := Load(t.Context(), manifest, catalog, nil, Options{})
		if err != nil {
			t.Fatalf("second Load failed: %v", err)
		}
		if second := dumpBatch(extractors.Batch{Graph: p2.Graph(), Statements: p2.Statements()}); first != second {
			t.Fatal("two loads of the same input differ")
		}
	})
}
