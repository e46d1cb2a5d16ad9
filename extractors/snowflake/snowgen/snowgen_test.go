package snowgen

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestGenerate(t *testing.T) {
	var a, b bytes.Buffer
	opts := Options{Queries: 500, Shapes: 20}
	if err := Generate(&a, opts); err != nil {
		t.Fatal(err)
	}
	if err := Generate(&b, opts); err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() {
		t.Error("the same options gave different bytes")
	}
	lines := strings.Split(strings.TrimSuffix(a.String(), "\n"), "\n")
	if len(lines) != 500 {
		t.Fatalf("%d lines, want 500", len(lines))
	}
	hashes := map[string]bool{}
	for i, l := range lines {
		var row map[string]any
		if err := json.Unmarshal([]byte(l), &row); err != nil {
			t.Fatalf("line %d is not JSON: %v", i+1, err)
		}
		hashes[row["QUERY_PARAMETERIZED_HASH"].(string)] = true
	}
	if len(hashes) != 20 {
		t.Errorf("%d shapes, want 20", len(hashes))
	}
	if err := Generate(&a, Options{}); err == nil {
		t.Error("empty options accepted")
	}
}
