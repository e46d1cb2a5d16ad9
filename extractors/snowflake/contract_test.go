package snowflake

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/weftdata/weft/extractors"
	"github.com/weftdata/weft/extractors/extractortest"
)

// TestContract runs the shared extractor contract on the demo export (as
// JSON lines, in one batch per day and in 6-hour chunks, and as CSV), on
// the deduplicated CSV export in testdata, and online against the fake
// with a schema batch first.
func TestContract(t *testing.T) {
	csvDir := t.TempDir()
	demoAsCSV(t, filepath.Join(csvDir, "history.csv"))
	fake := newFake(t, demoExport)
	online := demoWindow(fake.config())
	online.Columns = true
	online.ChunkSize = 12 * time.Hour

	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"demo", Config{Account: "acmebank-prod", Export: demoExport}},
		{"demo-6h-selects", Config{Account: "acmebank-prod", Export: demoExport, ChunkSize: 6 * time.Hour, IncludeSelects: true}},
		{"demo-csv", Config{Account: "acmebank-prod", Export: "history.csv", Dir: csvDir}},
		{"dedup-csv", Config{Account: "acmebank-prod", Export: filepath.Join("testdata", "dedup.csv")}},
		{"online", online},
	} {
		t.Run(tc.name, func(t *testing.T) {
			extractortest.Run(t, func(t *testing.T) extractors.Extractor {
				e, err := New(tc.cfg)
				if err != nil {
					t.Fatal(err)
				}
				return e
			})
		})
	}
}

// TestStatementFields checks what the contract leaves open: every
// statement names the account's namespace, its query id and its job, and
// include_selects keeps SELECTs.
func TestStatementFields(t *testing.T) {
	e, err := New(Config{Account: "acmebank-prod", Export: demoExport, IncludeSelects: true})
	if err != nil {
		t.Fatal(err)
	}
	selects := 0
	for _, b := range collect(t, e) {
		for _, st := range b.Statements {
			if st.Dialect != extractors.DialectSnowflake || st.Namespace != "snowflake://acmebank-prod" ||
				st.Origin.Extractor != "snowflake" || st.Origin.QueryID == "" || st.Job.IsZero() {
				t.Errorf("incomplete statement %+v", st)
			}
			if strings.HasPrefix(st.SQL, "SELECT") {
				selects++
			}
		}
	}
	if selects == 0 {
		t.Error("include_selects: no SELECT statements")
	}
}
