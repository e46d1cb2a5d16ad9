package graph

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFold(t *testing.T) {
	tests := []struct {
		p      Platform
		ident  string
		quoted bool
		want   string
	}{
		{Snowflake, "fct_Loans", false, "FCT_LOANS"},
		{Snowflake, "fct_Loans", true, "fct_Loans"},
		{Databricks, "Main", false, "main"},
		{Databricks, "Main", true, "Main"},
		{Postgres, "Orders", false, "orders"},
		{Spark, "X", false, "x"},
		{DuckDB, "X", false, "x"},
		{Redshift, "X", false, "x"},
		{Athena, "X", false, "x"},
		{BigQuery, "MyTable", false, "MyTable"},
		{DBT, "My_Metric", false, "My_Metric"},
		{Platform("other"), "Mixed", false, "Mixed"},
	}
	for _, tt := range tests {
		if got := Fold(tt.p, tt.ident, tt.quoted); got != tt.want {
			t.Errorf("Fold(%s, %q, %v) = %q, want %q", tt.p, tt.ident, tt.quoted, got, tt.want)
		}
	}
}

func TestFoldIdempotent(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	platforms := []Platform{Snowflake, Databricks, Postgres, BigQuery, DuckDB, Spark, Athena, Redshift, DBT, Stage}
	for range 2000 {
		s := randomIdent(r)
		for _, p := range platforms {
			once := Fold(p, s, false)
			if twice := Fold(p, once, false); twice != once {
				t.Fatalf("Fold(%s) not idempotent on %q: %q then %q", p, s, once, twice)
			}
			if Fold(p, s, true) != s {
				t.Fatalf("Fold(%s, %q, quoted) changed the identifier", p, s)
			}
		}
	}
}

func randomIdent(r *rand.Rand) string {
	const alphabet = "aBcD_ 1.\"`éß"
	runes := []rune(alphabet)
	n := r.IntN(6)
	out := make([]rune, n)
	for i := range out {
		out[i] = runes[r.IntN(len(runes))]
	}
	return string(out)
}

func TestSplitJoinRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 5000 {
		parts := make([]string, 1+r.IntN(4))
		for i := range parts {
			parts[i] = randomIdent(r)
		}
		name := JoinName(parts...)
		got, err := SplitName(name)
		if err != nil {
			t.Fatalf("SplitName(%q) (from %q): %v", name, parts, err)
		}
		texts := make([]string, len(got))
		for i, p := range got {
			texts[i] = p.Text
		}
		if d := cmp.Diff(parts, texts); d != "" {
			t.Fatalf("SplitName(JoinName(parts)) for %q (-want +got):\n%s", name, d)
		}
	}
}

func TestSplitName(t *testing.T) {
	tests := []struct {
		in      string
		want    []Ident
		wantErr bool
	}{
		{in: "a.b.c", want: []Ident{{Text: "a"}, {Text: "b"}, {Text: "c"}}},
		{in: `DB."My.Schema".t`, want: []Ident{{Text: "DB"}, {Text: "My.Schema", Quoted: true}, {Text: "t"}}},
		{in: "`main`.`a``b`.x", want: []Ident{{Text: "main", Quoted: true}, {Text: "a`b", Quoted: true}, {Text: "x"}}},
		{in: `"say ""hi"""`, want: []Ident{{Text: `say "hi"`, Quoted: true}}},
		{in: ` a . b `, want: []Ident{{Text: "a"}, {Text: "b"}}},
		{in: `"open.x`, wantErr: true},
		{in: `"a"b`, wantErr: true},
	}
	for _, tt := range tests {
		got, err := SplitName(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("SplitName(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if d := cmp.Diff(tt.want, got); d != "" {
			t.Errorf("SplitName(%q) (-want +got):\n%s", tt.in, d)
		}
	}
}

func TestName(t *testing.T) {
	tests := []struct {
		p     Platform
		parts []string
		want  string
	}{
		{Snowflake, []string{"analytics", `"Marts"`, "fct_loans"}, "ANALYTICS.Marts.FCT_LOANS"},
		{Databricks, []string{"Main", "`Risk`", "Features"}, "main.Risk.features"},
		{Snowflake, []string{"db", `"a.b"`, "t"}, `DB."a.b".T`},
		{BigQuery, []string{"proj", "ds", "Tbl"}, "proj.ds.Tbl"},
	}
	for _, tt := range tests {
		if got := Name(tt.p, tt.parts...); got != tt.want {
			t.Errorf("Name(%s, %q) = %q, want %q", tt.p, tt.parts, got, tt.want)
		}
	}
	got, err := NormalizeName(Snowflake, `analytics.marts."Fct"`)
	if err != nil || got != "ANALYTICS.MARTS.Fct" {
		t.Errorf(`NormalizeName(Snowflake, analytics.marts."Fct") = %q, %v`, got, err)
	}
	if _, err := NormalizeName(Snowflake, `a."b`); err == nil {
		t.Error("NormalizeName with an unterminated quote: no error")
	}
}

func TestLookup(t *testing.T) {
	sf := "snowflake://acmebank-prod"
	fct := DatasetID{Namespace: sf, Name: "ANALYTICS.MARTS.FCT_LOANS"}
	stg := DatasetID{Namespace: sf, Name: "ANALYTICS.STAGING.FCT_LOANS"}
	dbx := DatasetID{Namespace: "databricks://adb-1.azuredatabricks.net", Name: "main.risk.features"}
	g := New()
	g.AddDataset(Dataset{ID: fct, Columns: []Column{{Name: "LOAN_ID"}, {Name: "AMOUNT"}}, Identities: []Identity{{ID: DatasetID{Namespace: "databricks://adb-1.azuredatabricks.net", Name: "sf_mirror.marts.fct_loans"}, Reason: "foreign catalog"}}})
	g.AddDataset(Dataset{ID: stg, Columns: []Column{{Name: "LOAN_ID"}, {Name: "loan_id"}}})
	g.AddDataset(Dataset{ID: dbx})
	onlyEdge := DatasetID{Namespace: sf, Name: "RAW.LOANS.PAYMENTS"}
	g.AddEdge(onlyEdge, stg, Evidence{Extractor: "sql"})
	g.AddColumnEdge(ColumnEdgeID{From: ColumnID{Dataset: fct, Column: "LOAN_ID"}, To: ColumnID{Dataset: dbx, Column: "loan_key"}, Type: Direct, Subtype: SubtypeIdentity}, Evidence{Extractor: "sql"})

	tests := []struct {
		ref     string
		want    []DatasetID
		wantErr string
	}{
		{ref: "ANALYTICS.MARTS.FCT_LOANS", want: []DatasetID{fct}},
		{ref: "snowflake://acmebank-prod/ANALYTICS.MARTS.FCT_LOANS", want: []DatasetID{fct}},
		{ref: "analytics.marts.fct_loans", want: []DatasetID{fct}},
		{ref: "MARTS.FCT_LOANS", want: []DatasetID{fct}},
		{ref: "sf_mirror.marts.fct_loans", want: []DatasetID{fct}},
		{ref: "features", want: []DatasetID{dbx}},
		{ref: "payments", want: []DatasetID{onlyEdge}},
		{ref: "fct_loans", want: []DatasetID{fct, stg}, wantErr: `"fct_loans" is ambiguous: it matches snowflake://acmebank-prod/ANALYTICS.MARTS.FCT_LOANS, snowflake://acmebank-prod/ANALYTICS.STAGING.FCT_LOANS`},
		{ref: "nope", wantErr: `no dataset matches "nope": not found`},
		{ref: "LOANS", wantErr: `no dataset matches "LOANS": not found`},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			got, err := g.Lookup(tt.ref)
			if gotErr := errString(err); gotErr != tt.wantErr {
				t.Errorf("Lookup(%q) error = %q, want %q", tt.ref, gotErr, tt.wantErr)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("Lookup(%q) (-want +got):\n%s", tt.ref, d)
			}
		})
	}

	colTests := []struct {
		ref     string
		want    []ColumnID
		wantErr string
	}{
		{ref: "MARTS.FCT_LOANS.LOAN_ID", want: []ColumnID{{Dataset: fct, Column: "LOAN_ID"}}},
		{ref: "snowflake://acmebank-prod/ANALYTICS.MARTS.FCT_LOANS.amount", want: []ColumnID{{Dataset: fct, Column: "AMOUNT"}}},
		{ref: "features.loan_key", want: []ColumnID{{Dataset: dbx, Column: "loan_key"}}},
		{ref: `features."loan_key"`, want: []ColumnID{{Dataset: dbx, Column: "loan_key"}}},
		{ref: "STAGING.FCT_LOANS.loan_id", want: []ColumnID{{Dataset: stg, Column: "loan_id"}}},
		{ref: "STAGING.FCT_LOANS.Loan_Id", want: []ColumnID{{Dataset: stg, Column: "LOAN_ID"}, {Dataset: stg, Column: "loan_id"}}, wantErr: `"STAGING.FCT_LOANS.Loan_Id" is ambiguous: it matches snowflake://acmebank-prod/ANALYTICS.STAGING.FCT_LOANS.LOAN_ID, snowflake://acmebank-prod/ANALYTICS.STAGING.FCT_LOANS.loan_id`},
		{ref: "fct_loans.loan_id", want: []ColumnID{{Dataset: fct, Column: "loan_id"}, {Dataset: stg, Column: "loan_id"}}, wantErr: `"fct_loans.loan_id" is ambiguous: it matches snowflake://acmebank-prod/ANALYTICS.MARTS.FCT_LOANS.loan_id, snowflake://acmebank-prod/ANALYTICS.STAGING.FCT_LOANS.loan_id`},
		{ref: "MARTS.FCT_LOANS.nope", wantErr: `dataset snowflake://acmebank-prod/ANALYTICS.MARTS.FCT_LOANS has no column "nope": not found`},
		{ref: "fct_loans", wantErr: `column reference "fct_loans": want DATASET.COLUMN`},
	}
	for _, tt := range colTests {
		t.Run(tt.ref, func(t *testing.T) {
			got, err := g.LookupColumn(tt.ref)
			if gotErr := errString(err); gotErr != tt.wantErr {
				t.Errorf("LookupColumn(%q) error = %q, want %q", tt.ref, gotErr, tt.wantErr)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("LookupColumn(%q) (-want +got):\n%s", tt.ref, d)
			}
		})
	}

	_, err := g.Lookup("nope")
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("Lookup(nope) error %v does not wrap ErrNotFound", err)
	}
	_, err = g.Lookup("fct_loans")
	var amb *AmbiguousError
	if !errors.As(err, &amb) || len(amb.Candidates) != 2 {
		t.Errorf("Lookup(fct_loans) error %v is not an *AmbiguousError with 2 candidates", err)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
