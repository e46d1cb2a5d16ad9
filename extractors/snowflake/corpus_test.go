package snowflake

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/weftdata/weft/graph"
	"github.com/weftdata/weft/internal/corpus"
)

// corpusFile is a file of the shared corpus (see internal/corpus and the
// corpus's SOURCES.md): query logs other projects use in their tests. It is
// not part of the repository: these tests skip when it is absent.
func corpusFile(t *testing.T, rel string) string {
	t.Helper()
	p := filepath.Join(corpus.Dir(t), rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("corpus file %s not available: %v", p, err)
	}
	return p
}

// TestCorpusDataHubSessionTempTables reads DataHub's sql-queries input
// (query, timestamp, user, session_id): generic logs without types or
// hashes still give one statement per query shape, with sessions, and the
// temp tables are marked.
func TestCorpusDataHubSessionTempTables(t *testing.T) {
	path := corpusFile(t, "snowflake/datahub_sql_queries/input/session-temp-tables.jsonl")
	e, err := New(Config{Account: "acme-x", Export: path})
	if err != nil {
		t.Fatal(err)
	}
	batches := collect(t, e)
	var sessions []string
	n := 0
	for _, b := range batches {
		for _, st := range b.Statements {
			n++
			sessions = append(sessions, st.Session)
		}
	}
	if n != 5 || strings.Join(sessions, ",") != "session1,session1,session1,session2,session2" {
		t.Errorf("%d statements, sessions %v", n, sessions)
	}
	g := merged(batches)
	for _, name := range []string{"TEMP_USER_STATS", "TEMP_ACTIVE_USERS", "TEMP_RECENT_ORDERS"} {
		d := g.Datasets[graph.DatasetID{Namespace: "snowflake://acme-x", Name: name}]
		if d == nil || !d.IsTemp() {
			t.Errorf("temp table %s not marked: %+v", name, d)
		}
	}
}

// TestCorpusDataHubDeduplication: the same text logged several times is
// one statement with a count.
func TestCorpusDataHubDeduplication(t *testing.T) {
	path := corpusFile(t, "snowflake/datahub_sql_queries/input/query-deduplication.jsonl")
	e, err := New(Config{Account: "acme-x", Export: path})
	if err != nil {
		t.Fatal(err)
	}
	var counts []int64
	for _, b := range collect(t, e) {
		for _, st := range b.Statements {
			counts = append(counts, st.Count)
		}
	}
	// 9 logged queries, 4 distinct texts: 3x, 2x, 2x, 2x
	total := int64(0)
	for _, c := range counts {
		total += c
	}
	if len(counts) != 4 || total != 9 {
		t.Errorf("counts %v, want 4 shapes of 9 queries", counts)
	}
}

// TestCorpusOpenMetadataQueryLog reads a generic CSV log ("query,
// database") of 834 analytics queries (30 distinct).
func TestCorpusOpenMetadataQueryLog(t *testing.T) {
	path := corpusFile(t, "querylog_generic/openmetadata/query_log")
	e, err := New(Config{Account: "acme-x", Export: path})
	if err != nil {
		t.Fatal(err)
	}
	n, total := 0, int64(0)
	for _, b := range collect(t, e) {
		for _, st := range b.Statements {
			n++
			total += st.Count
			if st.DefaultDatabase == "" || st.SQL == "" {
				t.Fatalf("statement without database or SQL: %+v", st)
			}
		}
	}
	if total != 834 || n == 0 || n > 834 {
		t.Errorf("%d shapes of %d queries, want 834 queries", n, total)
	}
	t.Logf("%d logged queries, %d distinct shapes", total, n)
}
