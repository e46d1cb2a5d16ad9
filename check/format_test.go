package check

import (
	"bytes"
	"encoding/xml"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/weftdata/weft/graph"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// sampleReport has one finding of each severity, with paths that cross a
// platform boundary and characters every format must escape.
func sampleReport() Report {
	return NewReport("prod-graph.json", []Finding{
		{
			Rule: RuleRemovedColumn, Severity: graph.SeverityError,
			Subject: "ANALYTICS.MARTS.FCT_LOANS.INTEREST_RATE",
			Message: "column INTEREST_RATE was removed from ANALYTICS.MARTS.FCT_LOANS but 2 downstream nodes still read it",
			File:    "models/marts/fct_loans.sql", Line: 12,
			Affected: []Affected{
				{
					ID: "databricks://adb-1/main.risk_features.loan_features.interest_rate", Name: "main.risk_features.loan_features",
					Column: "interest_rate", Platform: "databricks", Kind: "table",
					Path: []Hop{{
						From: "snowflake://acme/ANALYTICS.MARTS.FCT_LOANS.INTEREST_RATE",
						To:   "databricks://adb-1/main.risk_features.loan_features.interest_rate",
						Type: "DIRECT/IDENTITY",
						Via:  "databricks databricks run 77 (parsed); read as sf_analytics.marts.fct_loans: foreign catalog sf_analytics mirrors Snowflake database ANALYTICS",
					}},
				},
				{
					ID: "snowflake://acme/ANALYTICS.MARTS.RPT_BIG", Name: "ANALYTICS.MARTS.RPT_BIG", Platform: "snowflake", Kind: "model",
					Path: []Hop{{From: "snowflake://acme/ANALYTICS.MARTS.FCT_LOANS.INTEREST_RATE", To: "snowflake://acme/ANALYTICS.MARTS.RPT_BIG", Type: "INDIRECT/FILTER", Via: "dbt model.acme.rpt_big (parsed)"}},
				},
			},
		},
		{
			Rule: RuleTypeChanged, Severity: graph.SeverityWarning,
			Subject: "ANALYTICS.MARTS.FCT_LOANS.PRINCIPAL",
			Message: "column PRINCIPAL changed type from NUMBER to VARCHAR | and <b>1</b> downstream node read it: 100%",
		},
	})
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./check -update)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", name, diff)
	}
}

func TestFormatsGolden(t *testing.T) {
	for _, format := range Formats {
		t.Run(format, func(t *testing.T) {
			var b bytes.Buffer
			if err := Write(&b, format, sampleReport()); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, "report."+format+".golden", b.Bytes())
		})
	}
}

func TestUnknownFormat(t *testing.T) {
	err := Write(&bytes.Buffer{}, "yaml", sampleReport())
	if err == nil || !strings.Contains(err.Error(), `unknown format "yaml" (known: github, json, junit, markdown, sarif, text)`) {
		t.Errorf("err = %v", err)
	}
}

func TestSARIFValidatesAgainstSchema(t *testing.T) {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	f, err := os.Open("testdata/sarif-2.1.0-subset.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddResource("sarif.json", doc); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile("sarif.json")
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]Report{"findings": sampleReport(), "empty": NewReport("base", nil)} {
		var b bytes.Buffer
		if err := Write(&b, "sarif", r); err != nil {
			t.Fatal(err)
		}
		inst, err := jsonschema.UnmarshalJSON(&b)
		if err != nil {
			t.Fatal(err)
		}
		if err := schema.Validate(inst); err != nil {
			t.Errorf("%s: SARIF does not validate: %v", name, err)
		}
	}
	// The schema is not vacuous: a wrong level is rejected.
	bad, _ := jsonschema.UnmarshalJSON(strings.NewReader(`{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"weft"}},"results":[{"level":"fatal","message":{"text":"x"}}]}]}`))
	if err := schema.Validate(bad); err == nil {
		t.Error("schema accepted level \"fatal\"")
	}
}

func TestJUnitIsWellFormed(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, "junit", sampleReport()); err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("junit output is not XML: %v", err)
	}
	if doc.Failures != 2 || doc.Tests != 2+len(Rules)-2 {
		t.Errorf("tests=%d failures=%d, want %d and 2", doc.Tests, doc.Failures, len(Rules))
	}
}

func TestMarkdownStaysUnderTheCommentLimit(t *testing.T) {
	var fs []Finding
	for i := range 2000 {
		fs = append(fs, Finding{
			Rule: RuleRemovedColumn, Severity: graph.SeverityError,
			Subject: fmt.Sprintf("ANALYTICS.MARTS.M%04d.C", i), Message: strings.Repeat("long message ", 10),
			Affected: []Affected{{ID: "snowflake://x/A.B.C", Path: []Hop{{From: "a", To: "b", Type: "DIRECT/IDENTITY", Via: "dbt"}}}},
		})
	}
	var b bytes.Buffer
	if err := Write(&b, "markdown", NewReport("base", fs)); err != nil {
		t.Fatal(err)
	}
	if b.Len() > markdownLimit {
		t.Errorf("markdown is %d characters, over %d", b.Len(), markdownLimit)
	}
	if !strings.Contains(b.String(), "_Truncated:") {
		t.Error("no truncation note")
	}
	if !strings.HasPrefix(b.String(), "### weft check\n\nweft check: 2000 errors") {
		t.Errorf("summary is not first: %.80q", b.String())
	}
}

func TestGitHubAnnotationsEscape(t *testing.T) {
	var b bytes.Buffer
	r := NewReport("base", []Finding{{Rule: RuleCycle, Severity: graph.SeverityError, Subject: "x", File: "models/a,b.sql", Line: 3, Message: "50% done\nnext"}})
	if err := Write(&b, "github", r); err != nil {
		t.Fatal(err)
	}
	want := "::error file=models/a%2Cb.sql,line=3,title=weft cycle::50%25 done%0Anext\n"
	if b.String() != want {
		t.Errorf("got %q\nwant %q", b.String(), want)
	}
}
