package demo

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// patchedProject copies the demo project to a temporary directory and
// applies edits: file → (old → new) replacements.
func patchedProject(t *testing.T, edits map[string][][2]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "dbt")
	if err := os.CopyFS(dir, os.DirFS("../../../fixtures/demo/dbt")); err != nil {
		t.Fatal(err)
	}
	for file, reps := range edits {
		path := filepath.Join(dir, file)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		for _, r := range reps {
			if !strings.Contains(s, r[0]) {
				t.Fatalf("%s: %q not found", file, r[0])
			}
			s = strings.Replace(s, r[0], r[1], 1)
		}
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// catalogColumns lists a catalog node's column names in index order.
func catalogColumns(t *testing.T, catalog []byte, uid string) []string {
	t.Helper()
	var doc struct {
		Nodes map[string]struct {
			Columns map[string]struct {
				Name  string
				Index int
			}
		}
	}
	if err := json.Unmarshal(catalog, &doc); err != nil {
		t.Fatal(err)
	}
	cols := doc.Nodes[uid].Columns
	out := make([]string, len(cols))
	for _, c := range cols {
		out[c.Index-1] = c.Name
	}
	return out
}

func TestGenerateLenient(t *testing.T) {
	// The SQL stops returning is_default; the YAML (and contract) still declare it.
	breakContract := map[string][][2]string{"models/marts/fct_loan_risk.sql": {{
		",\n    (loans.days_past_due >= 90 or loans.is_written_off)                     as is_default", "",
	}}}
	// stg loans reads fct_loans: a cycle.
	cycle := map[string][][2]string{"models/staging/core_banking/stg_core_banking__loans.sql": {{
		"from {{ source('core_banking', 'loans') }}",
		"from {{ source('core_banking', 'loans') }} where loan_id not in (select loan_id from {{ ref('fct_loans') }})",
	}}}
	tests := []struct {
		name      string
		edits     map[string][][2]string
		strictErr string
		uid       string
		wantLast  string // the last catalog column in lenient mode
	}{
		{"contract", breakContract, "fct_loan_risk.sql: compiled SQL returns", "model.acme_risk.fct_loan_risk", "RESTRUCTURE_COUNT"},
		{"cycle", cycle, "dependency cycle through", "model.acme_risk.stg_core_banking__loans", "LOADED_AT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := patchedProject(t, tc.edits)
			_, err := Generate(dir, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.strictErr) {
				t.Fatalf("strict: err = %v, want %q", err, tc.strictErr)
			}
			a, err := Generate(dir, Options{Lenient: true})
			if err != nil {
				t.Fatalf("lenient: %v", err)
			}
			cols := catalogColumns(t, a.Catalog, tc.uid)
			if len(cols) == 0 || cols[len(cols)-1] != tc.wantLast {
				t.Errorf("catalog columns of %s = %v, want last %s", tc.uid, cols, tc.wantLast)
			}
		})
	}
}

func TestGenerateMatchesCheckedInArtifacts(t *testing.T) {
	a, err := Generate("../../../fixtures/demo/dbt", Options{Lenient: true})
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../../../fixtures/demo/dbt/target/manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(a.Manifest)); diff != "" {
		t.Errorf("lenient mode changes a valid project's manifest (-checked-in +generated):\n%.2000s", diff)
	}
}
