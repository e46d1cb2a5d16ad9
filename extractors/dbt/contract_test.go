package dbt

import (
	"path/filepath"
	"testing"

	"github.com/weftdata/weft/extractors"
	"github.com/weftdata/weft/extractors/extractortest"
)

// TestContract runs the shared extractor contract on the test project and
// on the demo's artifacts.
func TestContract(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  func(t *testing.T) Config
	}{
		{"acme_risk", func(*testing.T) Config { return acmeConfig() }},
		{"demo", demoConfig},
		{"semantic", func(*testing.T) Config {
			return Config{Manifest: filepath.Join("testdata", "semantic", "target", "manifest.json"), Account: "shop"}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			extractortest.Run(t, func(t *testing.T) extractors.Extractor {
				e, err := New(tc.cfg(t))
				if err != nil {
					t.Fatal(err)
				}
				return e
			})
		})
	}
}

// TestStatementsAreDBT: what the contract leaves open, every statement is
// attributed to dbt and to its node.
func TestStatementsAreDBT(t *testing.T) {
	e, err := New(acmeConfig())
	if err != nil {
		t.Fatal(err)
	}
	b := extractOne(t, e)
	if len(b.Statements) == 0 {
		t.Fatal("no statements")
	}
	for _, s := range b.Statements {
		if s.Origin.Extractor != "dbt" || s.Origin.NodeID == "" {
			t.Errorf("statement origin %+v, want extractor dbt and a node id", s.Origin)
		}
	}
}
