package dbtgen

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestGenerate(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"tiny", Options{Models: 1, Sources: 1, Columns: 1}},
		{"small", Options{Models: 40, Sources: 6, Columns: 8, TestsPerModel: 4, Seed: 7}},
		{"sql", Options{Models: 40, Sources: 6, Columns: 8, TestsPerModel: 2, SQL: true, Project: "bank"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a, b bytes.Buffer
			if err := Generate(&a, tt.opts); err != nil {
				t.Fatal(err)
			}
			if err := Generate(&b, tt.opts); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Error("two runs with the same options differ")
			}
			var m struct {
				Metadata struct {
					Version string `json:"dbt_schema_version"`
				} `json:"metadata"`
				Nodes map[string]struct {
					ResourceType string              `json:"resource_type"`
					Columns      map[string]struct{} `json:"columns"`
					CompiledCode *string             `json:"compiled_code"`
					DependsOn    struct {
						Nodes []string `json:"nodes"`
					} `json:"depends_on"`
				} `json:"nodes"`
				Sources map[string]struct {
					Columns map[string]struct{} `json:"columns"`
				} `json:"sources"`
			}
			if err := json.Unmarshal(a.Bytes(), &m); err != nil {
				t.Fatalf("not valid JSON: %v", err)
			}
			counts := map[string]int{}
			for id, n := range m.Nodes {
				counts[n.ResourceType]++
				for _, d := range n.DependsOn.Nodes {
					if _, ok := m.Nodes[d]; !ok {
						if _, ok := m.Sources[d]; !ok {
							t.Errorf("%s depends on missing %s", id, d)
						}
					}
				}
				if n.ResourceType != "model" {
					continue
				}
				if len(n.Columns) != tt.opts.Columns {
					t.Errorf("%s has %d columns, want %d", id, len(n.Columns), tt.opts.Columns)
				}
				if tt.opts.SQL != (n.CompiledCode != nil) {
					t.Errorf("%s: compiled_code present = %v, want %v", id, n.CompiledCode != nil, tt.opts.SQL)
				}
				if n.CompiledCode != nil && !strings.Contains(*n.CompiledCode, "from ") {
					t.Errorf("%s: compiled SQL reads nothing: %q", id, *n.CompiledCode)
				}
			}
			want := map[string]int{"model": tt.opts.Models}
			if tt.opts.TestsPerModel > 0 {
				want["test"] = tt.opts.Models * tt.opts.TestsPerModel
			}
			if diff := cmp.Diff(want, counts); diff != "" {
				t.Errorf("node counts (-want +got):\n%s", diff)
			}
			if len(m.Sources) != tt.opts.Sources {
				t.Errorf("got %d sources, want %d", len(m.Sources), tt.opts.Sources)
			}
			if !strings.HasSuffix(m.Metadata.Version, "/manifest/v12.json") {
				t.Errorf("schema version %q", m.Metadata.Version)
			}
		})
	}
}

func TestGenerateRejectsEmpty(t *testing.T) {
	if err := Generate(&bytes.Buffer{}, Options{}); err == nil {
		t.Error("no error for zero models")
	}
}
