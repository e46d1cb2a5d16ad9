package check

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/weftdata/weft/extractors"
	"github.com/weftdata/weft/extractors/databricks"
	"github.com/weftdata/weft/extractors/dbt"
	"github.com/weftdata/weft/extractors/snowflake"
	"github.com/weftdata/weft/graph"
	"github.com/weftdata/weft/internal/demogen/demo"
	"github.com/weftdata/weft/weave"
)

// The demo tests check pull requests made from the Acme Bank demo
// (fixtures/demo) against its production graph: every source of
// fixtures/demo/weft.yaml extracted and woven as weft snapshot does.

const demoDir = "../fixtures/demo"

type demoProd struct {
	g        *graph.Graph
	account  string   // the dbt source's account, for the PR's namespace
	types    []string // source types in weft.yaml
	err      error
	loadOnce sync.Once
}

var prod demoProd

// demoBase returns the demo's production graph, built once per test binary.
func demoBase(t *testing.T) *demoProd {
	t.Helper()
	prod.loadOnce.Do(func() { prod.err = prod.load(context.Background()) })
	if prod.err != nil {
		t.Fatalf("demo production graph from %s/weft.yaml: %v", demoDir, prod.err)
	}
	return &prod
}

// pathKeys are the config keys that name files, relative to weft.yaml.
var pathKeys = []string{"manifest", "catalog", "run_results", "export", "private_key_file"}

// load reads weft.yaml and runs each source's extractor into one weave,
// like weft snapshot (whose config loader lives in package main).
func (p *demoProd) load(ctx context.Context) error {
	data, err := os.ReadFile(filepath.Join(demoDir, "weft.yaml"))
	if err != nil {
		return err
	}
	var cfg struct {
		Sources []map[string]any `yaml:"sources"`
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		return err
	}
	w := weave.New(weave.Options{Columns: true})
	for i, src := range cfg.Sources {
		typ, _ := src["type"].(string)
		delete(src, "type")
		for _, k := range pathKeys {
			if v, ok := src[k].(string); ok && v != "" && !filepath.IsAbs(v) {
				src[k] = filepath.Join(demoDir, v)
			}
		}
		raw, err := yaml.Marshal(src)
		if err != nil {
			return err
		}
		var ex extractors.Extractor
		switch typ {
		case "dbt":
			var c dbt.Config
			if err = yaml.Unmarshal(raw, &c); err == nil {
				p.account = c.Account
				ex, err = dbt.New(c)
			}
		case "snowflake":
			var c snowflake.Config
			if err = yaml.Unmarshal(raw, &c); err == nil {
				ex, err = snowflake.New(c)
			}
		case "databricks":
			var c databricks.Config
			if err = yaml.Unmarshal(raw, &c); err == nil {
				ex, err = databricks.New(c)
			}
		default:
			return fmt.Errorf("sources[%d]: source type %q is new to this test: add it to check/demo_test.go", i, typ)
		}
		if err != nil {
			return fmt.Errorf("sources[%d] (%s): %w", i, typ, err)
		}
		p.types = append(p.types, typ)
		if err := ex.Extract(ctx, func(b extractors.Batch) error { w.Add(b); return nil }); err != nil {
			return fmt.Errorf("sources[%d] (%s): %w", i, typ, err)
		}
	}
	p.g, _, err = w.Build(ctx)
	return err
}

// prPatch is a pull request on the demo's dbt project.
type prPatch struct {
	edits   map[string][][2]string // file → (old → new), each old found exactly once
	remove  []string               // files to delete
	add     map[string]string      // new files
	lenient bool                   // the project is one dbt compiles but demogen's strict mode refuses
	catalog bool                   // pass the PR's catalog.json (types)
}

// prArtifacts generates the PR's artifacts from a patched copy of
// fixtures/demo/dbt.
func prArtifacts(t *testing.T, p prPatch) demo.Artifacts {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "dbt")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(demoDir, "dbt"))); err != nil {
		t.Fatal(err)
	}
	for _, f := range slices.Sorted(mapKeys(p.edits)) {
		path := filepath.Join(dir, f)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		for _, r := range p.edits[f] {
			if n := strings.Count(s, r[0]); n != 1 {
				t.Fatalf("patch %s: %q occurs %d times, want 1 (did the demo change?)", f, r[0], n)
			}
			s = strings.Replace(s, r[0], r[1], 1)
		}
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range p.remove {
		if err := os.Remove(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	for f, content := range p.add {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	a, err := demo.Generate(dir, demo.Options{Lenient: p.lenient})
	if err != nil {
		t.Fatalf("demogen on the patched project: %v", err)
	}
	return a
}

// prBuild generates the PR's manifest (and catalog) with prArtifacts and
// weaves it with column lineage, as weft check does.
func prBuild(t *testing.T, account string, p prPatch) built {
	t.Helper()
	ctx := context.Background()
	proj := prProject(t, account, p)
	w := weave.New(weave.Options{Columns: true})
	w.Add(extractors.Batch{Graph: proj.Graph(), Statements: proj.Statements()})
	g, _, err := w.Build(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return built{project: proj, g: g, outputs: w.Outputs()}
}

// prProject loads the PR's project from prArtifacts.
func prProject(t *testing.T, account string, p prPatch) *dbt.Project {
	t.Helper()
	a := prArtifacts(t, p)
	var cat []byte
	if p.catalog {
		cat = a.Catalog
	}
	proj, err := dbt.Load(context.Background(), a.Manifest, cat, nil, dbt.Options{Account: account})
	if err != nil {
		t.Fatal(err)
	}
	return proj
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// exitCode is weft check's exit code for findings at --fail-on threshold.
func exitCode(fs []Finding, threshold string) int {
	for _, f := range fs {
		if AtLeast(f.Severity, threshold) {
			return 1
		}
	}
	return 0
}

// Patches of the demo, shared by the tests below.
var (
	// fct_loans stops selecting interest_rate, in its SQL and its YAML.
	dropInterestRate = prPatch{edits: map[string][][2]string{
		"models/marts/fct_loans.sql": {{"    loans.interest_rate,\n", ""}},
		"models/marts/_marts__models.yml": {{
			"      - name: interest_rate\n        description: Current nominal annual interest rate as a decimal fraction.\n        data_type: number(9,6)\n", ""}},
	}}
	renameInterestRate = prPatch{edits: map[string][][2]string{
		"models/marts/fct_loans.sql": {{"    loans.interest_rate,\n", "    loans.interest_rate                                     as annual_interest_rate,\n"}},
		"models/marts/_marts__models.yml": {{
			"      - name: interest_rate\n        description: Current nominal annual interest rate as a decimal fraction.",
			"      - name: annual_interest_rate\n        description: Current nominal annual interest rate as a decimal fraction."}},
	}}
)

const (
	demoNS          = "snowflake://acmebank-prod/"
	demoFctLoans    = "ANALYTICS.MARTS.FCT_LOANS"
	demoFctLoanRisk = "ANALYTICS.MARTS.FCT_LOAN_RISK"
)

type demoWant struct {
	rule, subject, severity string
	file                    string
	line                    int    // 0: not checked
	message                 string // a substring
	affected                []string
	hopType                 string // a hop of this type reaches the first affected
}

// demoRuleCases are a pull request per rule; TestDemoRules checks their
// findings, TestIncrementalMatchesFull that an incremental check finds
// the same.
var demoRuleCases = []struct {
	name     string
	pr       prPatch
	want     []demoWant
	wantExit int
}{
	{
		name: "drop a column read downstream",
		pr:   dropInterestRate,
		want: []demoWant{{
			rule: RuleRemovedColumn, subject: demoFctLoans + ".INTEREST_RATE", severity: graph.SeverityError,
			file: "models/marts/fct_loans.sql", message: "column INTEREST_RATE was removed from " + demoFctLoans,
			affected: []string{demoNS + demoFctLoanRisk + ".INTEREST_RATE"},
		}},
		wantExit: 1,
	},
	{
		name: "drop a column used only in a filter",
		pr: prPatch{edits: map[string][][2]string{
			"models/marts/fct_loans.sql": {{"    loans.loan_status,\n", ""}},
			"models/marts/_marts__models.yml": {{
				"      - name: loan_status\n        description: Lifecycle status.\n        data_type: varchar\n", ""}},
		}},
		want: []demoWant{{
			rule: RuleRemovedColumn, subject: demoFctLoans + ".LOAN_STATUS", severity: graph.SeverityError,
			file: "models/marts/fct_loans.sql", affected: []string{demoNS + demoFctLoanRisk},
			hopType: graph.Indirect + "/" + graph.SubtypeFilter,
		}},
		wantExit: 1,
	},
	{
		name: "rename a column",
		pr:   renameInterestRate,
		want: []demoWant{{
			rule: RuleRenamedColumn, subject: demoFctLoans + ".INTEREST_RATE", severity: graph.SeverityError,
			file: "models/marts/fct_loans.sql", line: 37, message: "renamed to ANNUAL_INTEREST_RATE",
			affected: []string{demoNS + demoFctLoanRisk + ".INTEREST_RATE"},
		}},
		wantExit: 1,
	},
	{
		name: "remove a model a dashboard reads",
		pr: prPatch{
			edits: map[string][][2]string{
				"models/exposures.yml": {{"      - ref('fct_delinquency_monthly')\n", ""}},
			},
			remove: []string{"models/marts/fct_delinquency_monthly.sql"},
		},
		want: []demoWant{{
			rule: RuleRemovedNode, subject: "ANALYTICS.MARTS.FCT_DELINQUENCY_MONTHLY", severity: graph.SeverityError,
			file: "models/marts/fct_delinquency_monthly.sql", message: "model model.acme_risk.fct_delinquency_monthly was removed",
			affected: []string{"dbt://acme_risk/exposure.acme_risk.portfolio_risk_dashboard"},
		}},
		wantExit: 1,
	},
	{
		name: "read a column the upstream does not have",
		pr: prPatch{edits: map[string][][2]string{
			"models/staging/core_banking/stg_core_banking__loans.sql": {{"        term_months,\n", "        term_months,\n        risk_grade,\n"}},
			"models/staging/core_banking/_core_banking__models.yml": {{
				"      - name: term_months\n        description: Contractual term in months.\n        data_type: number(38,0)\n",
				"      - name: term_months\n        description: Contractual term in months.\n        data_type: number(38,0)\n      - name: risk_grade\n        data_type: varchar\n"}},
		}},
		want: []demoWant{{
			rule: RuleUnknownColumn, subject: "RAW.CORE_BANKING.LOANS.RISK_GRADE", severity: graph.SeverityError,
			file: "models/staging/core_banking/stg_core_banking__loans.sql", line: 21, message: "reads column RISK_GRADE",
		}},
		wantExit: 1,
	},
	{
		name: "read a relation that exists nowhere",
		pr: prPatch{add: map[string]string{
			"models/marts/fct_loan_fees.sql":  "select\n    fee_id,\n    loan_id,\n    fee_amount\nfrom RAW.CORE_BANKING.LOAN_FEES_V2\n",
			"models/marts/_fct_loan_fees.yml": "version: 2\nmodels:\n  - name: fct_loan_fees\n    columns:\n      - name: fee_id\n        data_type: number\n      - name: loan_id\n        data_type: number\n      - name: fee_amount\n        data_type: number(18,2)\n",
		}},
		want: []demoWant{{
			rule: RuleDanglingRef, subject: demoNS + "RAW.CORE_BANKING.LOAN_FEES_V2", severity: graph.SeverityError,
			file: "models/marts/fct_loan_fees.sql", line: 5,
		}},
		wantExit: 1,
	},
	{
		name: "change a column's type",
		pr:   interestRateAsText,
		want: []demoWant{{
			rule: RuleTypeChanged, subject: demoFctLoans + ".INTEREST_RATE", severity: graph.SeverityWarning,
			file: "models/marts/fct_loans.sql", message: "to TEXT",
			affected: []string{demoNS + demoFctLoanRisk + ".INTEREST_RATE"},
		}},
		wantExit: 0, // a warning: exit 1 only with --fail-on warning
	},
	{
		name: "break an enforced contract",
		pr: prPatch{lenient: true, edits: map[string][][2]string{
			"models/marts/fct_loan_risk.sql": {{
				",\n    (loans.days_past_due >= 90 or loans.is_written_off)                     as is_default", ""}},
		}},
		want: []demoWant{{
			rule: RuleContractViolation, subject: demoFctLoanRisk, severity: graph.SeverityError,
			file: "models/marts/fct_loan_risk.sql", message: "declared but not produced by the SQL: IS_DEFAULT",
		}},
		wantExit: 1,
	},
	{
		name: "create a cycle",
		pr: prPatch{lenient: true, edits: map[string][][2]string{
			"models/staging/core_banking/stg_core_banking__loans.sql": {{
				"from {{ source('core_banking', 'loans') }}",
				"from {{ source('core_banking', 'loans') }} where loan_id not in (select loan_id from {{ ref('fct_loans') }})"}},
		}},
		want: []demoWant{{
			rule: RuleCycle, subject: "model.acme_risk.fct_loans", severity: graph.SeverityError,
			file:    "models/marts/fct_loans.sql",
			message: "dependency cycle: model.acme_risk.fct_loans -> model.acme_risk.int_loans__with_reference -> model.acme_risk.stg_core_banking__loans -> model.acme_risk.fct_loans",
		}},
		wantExit: 1,
	},
}

func TestDemoRules(t *testing.T) {
	base := demoBase(t)
	for _, tc := range demoRuleCases {
		t.Run(tc.name, func(t *testing.T) {
			pr := prBuild(t, base.account, tc.pr)
			fs := Run(Input{Base: base.g, PR: pr.g, Project: pr.project, Outputs: pr.outputs})
			for _, w := range tc.want {
				f := find(t, fs, w.rule, w.subject)
				if f.Severity != w.severity || f.File != w.file || (w.line != 0 && f.Line != w.line) {
					t.Errorf("%s %s: severity, location = %s, %s:%d; want %s, %s:%d", w.rule, w.subject, f.Severity, f.File, f.Line, w.severity, w.file, w.line)
				}
				if !strings.Contains(f.Message, w.message) {
					t.Errorf("%s %s: message = %q, want it to contain %q", w.rule, w.subject, f.Message, w.message)
				}
				got := affectedIDs(f)
				for _, a := range w.affected {
					if !slices.Contains(got, a) {
						t.Errorf("%s %s: affected = %q, want it to include %s", w.rule, w.subject, got, a)
					}
				}
				if w.hopType != "" && len(f.Affected) > 0 {
					i := slices.Index(got, w.affected[0])
					if i < 0 || !slices.ContainsFunc(f.Affected[i].Path, func(h Hop) bool { return h.Type == w.hopType }) {
						t.Errorf("%s %s: no %s hop reaches %s", w.rule, w.subject, w.hopType, w.affected[0])
					}
				}
			}
			if got := exitCode(fs, graph.SeverityError); got != tc.wantExit {
				t.Errorf("exit code = %d, want %d; findings %q", got, tc.wantExit, rules(fs))
			}
			if got := exitCode(fs, graph.SeverityWarning); got != 1 {
				t.Errorf("exit code with --fail-on warning = %d, want 1", got)
			}
			t.Logf("findings: %q", rules(fs))
		})
	}
}

// TestDemoUnchanged: the demo's own manifest, with or without its catalog,
// against its production graph has no findings.
func TestDemoUnchanged(t *testing.T) {
	base := demoBase(t)
	for _, catalog := range []bool{false, true} {
		t.Run(fmt.Sprintf("catalog=%v", catalog), func(t *testing.T) {
			pr := prBuild(t, base.account, prPatch{catalog: catalog})
			if fs := Run(Input{Base: base.g, PR: pr.g, Project: pr.project, Outputs: pr.outputs}); len(fs) != 0 {
				var b bytes.Buffer
				_ = Write(&b, "text", NewReport("demo", fs))
				t.Errorf("unchanged demo: %d findings, want none:\n%s", len(fs), b.String())
			}
		})
	}
}

// TestDemoDropColumnReadByDatabricks is the headline: the PR drops
// interest_rate from fct_loans, which the Databricks feature job reads
// through the sf_analytics foreign catalog. The check fails and shows the
// path to main.risk_features.loan_features, naming the foreign catalog.
func TestDemoDropColumnReadByDatabricks(t *testing.T) {
	base := demoBase(t)
	if !slices.Contains(base.types, "databricks") {
		t.Skipf("%s/weft.yaml has no databricks source yet (sources: %v): the cross-platform case runs once it does", demoDir, base.types)
	}
	pr := prBuild(t, base.account, dropInterestRate)
	fs := Run(Input{Base: base.g, PR: pr.g, Project: pr.project, Outputs: pr.outputs})
	if got := exitCode(fs, graph.SeverityError); got != 1 {
		t.Errorf("exit code = %d, want 1", got)
	}
	f := find(t, fs, RuleRemovedColumn, "ANALYTICS.MARTS.FCT_LOANS.INTEREST_RATE")
	var hit *Affected
	for i, a := range f.Affected {
		if a.Platform == string(graph.Databricks) && strings.EqualFold(a.Name, "main.risk_features.loan_features") {
			hit = &f.Affected[i]
			break
		}
	}
	if hit == nil {
		var b bytes.Buffer
		_ = Write(&b, "text", NewReport("demo", []Finding{f}))
		t.Fatalf("main.risk_features.loan_features is not among the affected:\n%s", b.String())
	}
	crossing := slices.IndexFunc(hit.Path, func(h Hop) bool {
		return strings.HasPrefix(h.From, "snowflake://") && strings.HasPrefix(h.To, "databricks://")
	})
	if crossing < 0 {
		t.Fatalf("path to %s never crosses from Snowflake to Databricks: %+v", hit.ID, hit.Path)
	}
	if via := hit.Path[crossing].Via; !strings.Contains(strings.ToLower(via), "sf_analytics.marts.fct_loans") {
		t.Errorf("the Snowflake → Databricks hop's via = %q, want it to name the foreign catalog identity sf_analytics.marts.fct_loans", via)
	}
	t.Logf("path: %s", pathString(hit.Path))
}

// demoPRFixtures are the pull requests checked in under fixtures/demo/pr
// for the CLI scripts (cmd/weft/testdata/script/check_demo.txtar): which
// patch, and which of its generated files.
var demoPRFixtures = []struct {
	dir   string
	pr    prPatch
	files []string
}{
	{"drop_interest_rate", dropInterestRate, []string{"manifest.json"}},
	{"interest_rate_as_text", interestRateAsText, []string{"catalog.json"}},
}

// interestRateAsText declares fct_loans.interest_rate varchar: the
// catalog types it TEXT.
var interestRateAsText = prPatch{catalog: true, edits: map[string][][2]string{
	"models/marts/_marts__models.yml": {{
		"interest rate as a decimal fraction.\n        data_type: number(9,6)\n",
		"interest rate as a decimal fraction.\n        data_type: varchar\n"}},
}}

// TestDemoPRFixturesUpToDate regenerates the checked-in PR artifacts from
// the demo project; run go test ./check -update after changing the demo.
func TestDemoPRFixturesUpToDate(t *testing.T) {
	for _, fx := range demoPRFixtures {
		t.Run(fx.dir, func(t *testing.T) {
			a := prArtifacts(t, fx.pr)
			for _, name := range fx.files {
				got := map[string][]byte{"manifest.json": a.Manifest, "catalog.json": a.Catalog}[name]
				path := filepath.Join(demoDir, "pr", fx.dir, name)
				if *update {
					if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, got, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test ./check -update)", err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s is stale: the demo changed (run go test ./check -update and review the diff)", path)
				}
			}
		})
	}
}
