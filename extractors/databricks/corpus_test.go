package databricks

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/weftdata/weft/extractors"
	"github.com/weftdata/weft/internal/corpus"
)

// corpusNames gives each corpus file the export name of its API, so that
// it goes through the offline decoder exactly as an export would.
var corpusNames = map[string]string{
	"datahub_openlineage_event/databricks_mergeinto_start_event.json": "openlineage-mergeinto.json",
	"openmetadata/databricks_dataset.json":                            "query-history.json",
	"openmetadata/databricks_pipeline_history.json":                   "runs-list.json",
	"openmetadata/databricks_pipeline_resource.json":                  "jobs-list.json",
	"terraform_provider_exporter/get-dlt-pipeline.json":               "pipeline-123.json",
	"terraform_provider_exporter/get-job-12.json":                     "job-12.json",
	"terraform_provider_exporter/get-job-14.json":                     "job-14.json",
	"terraform_provider_exporter/get-job-15.json":                     "job-15.json",
	"terraform_provider_exporter/get-job-16.json":                     "job-16.json",
	"terraform_provider_exporter/get-job-17.json":                     "job-17.json",
	"terraform_provider_exporter/get-jobs-list.json":                  "jobs-list.json",
	"terraform_provider_exporter/get-queries.json":                    "queries.json",
	"terraform_provider_exporter/get-query.json":                      "query-16c4f969.json",
	"terraform_provider_exporter/get-sql-query.json":                  "query-legacy.json",
	"terraform_provider_exporter/run-job-child.json":                  "job-932035899730845.json",
	"terraform_provider_exporter/run-job-main.json":                   "job-1047501313827425.json",
}

// TestCorpus runs every corpus response through the offline decoder, one
// file per export, and records what each gave (counts only: the corpus is
// not copied into the repository). get-job-16.json is not strict JSON and
// must give a located error.
func TestCorpus(t *testing.T) {
	// Public Databricks API responses collected from other projects' test
	// data (see its SOURCES.md); not part of the repository.
	corpusDir := corpus.Dir(t, "databricks")
	var files []string
	err := filepath.WalkDir(corpusDir, func(path string, de os.DirEntry, err error) error {
		if err != nil || de.IsDir() || !strings.HasSuffix(path, ".json") {
			return err
		}
		rel, _ := filepath.Rel(corpusDir, path)
		files = append(files, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for _, rel := range files {
		name, ok := corpusNames[rel]
		if !ok {
			t.Errorf("corpus file %s has no export name: add it to corpusNames", rel)
			continue
		}
		data, err := os.ReadFile(filepath.Join(corpusDir, rel))
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
		e, err := New(Config{Host: "https://adb-1.2.azuredatabricks.net", Export: dir})
		if err != nil {
			t.Fatal(err)
		}
		var bs []extractors.Batch
		err = e.Extract(context.Background(), func(b extractors.Batch) error { bs = append(bs, b); return nil })
		if err != nil {
			msg := strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "")
			fmt.Fprintf(&out, "%s as %s: error: %s\n", rel, name, msg)
			continue
		}
		g, ss := merged(bs)
		fmt.Fprintf(&out, "%s as %s: datasets=%d jobs=%d runs=%d edges=%d column_edges=%d statements=%d findings=%d",
			rel, name, len(g.Datasets), len(g.Jobs), len(g.Runs), len(g.Edges), len(g.ColumnEdges), len(ss), len(g.Findings))
		if fileKind(name) == kindQueries {
			// Saved queries become statements only when a sql_task ran
			// them; check that their text decodes.
			qs, err := decodeQueries(name, data)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, q := range qs {
				if strings.TrimSpace(q.text()) != "" {
					n++
				}
			}
			fmt.Fprintf(&out, " saved_queries=%d with_text=%d", len(qs), n)
		}
		out.WriteString("\n")
	}
	got := out.String()
	checkGolden(t, "corpus.golden", got)
	if !strings.Contains(got, "get-job-16.json as job-16.json: error: job-16.json:28:13: not valid JSON") {
		t.Errorf("get-job-16.json's trailing comma did not give a located error:\n%s", got)
	}
}
