package databricks

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/databricks/databricks-sdk-go/service/jobs"

	"github.com/weftdata/weft/extractors"
	"github.com/weftdata/weft/extractors/dbt"
	"github.com/weftdata/weft/graph"
)

// defaultArtifactsLimit bounds what weft reads of one dbt task's artifacts
// archive: the compressed download, and each artifact file kept from it.
// The uncompressed archive may be up to artifactsExpansion times larger
// (a gzip bomb stops there).
const defaultArtifactsLimit int64 = 512 << 20

const artifactsExpansion = 8

// dbtFiles are the dbt artifacts found for one dbt task run.
type dbtFiles struct {
	// from names where they came from in messages: "the artifacts link"
	// (never the link itself) or the export file.
	from string
	// dir is the directory of manifest.json inside the archive or folder
	// ("target"); catalog.json and run_results.json are taken from it.
	dir                          string
	manifest, catalog, runResult []byte
}

// file names an artifact in messages and finding locations:
// "target/manifest.json".
func (f *dbtFiles) file(base string) string {
	if f.dir == "" || f.dir == "." {
		return base
	}
	return f.dir + "/" + base
}

// artifactsUnavailable is a dbt artifacts archive that cannot be read for
// a reason that is not broken data (the link expired or is forbidden, the
// archive is too large, it has no manifest). It becomes a finding, not a
// failed extraction.
type artifactsUnavailable struct{ reason string }

func (e *artifactsUnavailable) Error() string { return e.reason }

// artifactNames are the dbt artifacts weft keeps from an archive.
var artifactNames = []string{"manifest.json", "catalog.json", "run_results.json"}

// readArtifactsArchive reads a dbt artifacts archive as Databricks serves
// it (a gzip-compressed tar of the project's target/ and logs/; a plain tar
// is accepted too) and keeps manifest.json, catalog.json and
// run_results.json. limit bounds each kept file; the whole uncompressed
// stream is bounded by artifactsExpansion*limit.
func readArtifactsArchive(r io.Reader, limit int64) (map[string][]byte, error) {
	br := bufio.NewReader(r)
	magic, err := br.Peek(2)
	if err != nil && len(magic) == 0 {
		return nil, errors.New("empty archive (want a .tar.gz of dbt's target/ folder)")
	}
	var stream io.Reader = br
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("not a gzip archive: %v", err)
		}
		defer zr.Close()
		stream = zr
	}
	lr := &limitedReader{r: stream, n: artifactsExpansion * limit}
	tr := tar.NewReader(lr)
	found := map[string][]byte{}
	for n := 0; ; n++ {
		h, err := tr.Next()
		if err == io.EOF {
			if n == 0 {
				return nil, errors.New("not a tar archive: no entries")
			}
			return found, nil
		}
		if err != nil {
			if lr.over {
				return nil, errTooLarge
			}
			if n == 0 {
				return nil, fmt.Errorf("not a tar.gz archive: %v", err)
			}
			return nil, fmt.Errorf("archive entry %d: %v", n+1, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		name := path.Clean(strings.TrimPrefix(h.Name, "./"))
		if !slices.Contains(artifactNames, path.Base(name)) {
			continue
		}
		if h.Size > limit {
			return nil, errTooLarge
		}
		data, err := io.ReadAll(io.LimitReader(tr, limit+1))
		if err != nil {
			if lr.over {
				return nil, errTooLarge
			}
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		found[name] = data
	}
}

// errTooLarge is an archive beyond the limit.
var errTooLarge = errors.New("too large")

// limitedReader is io.LimitReader that remembers it hit the limit.
type limitedReader struct {
	r    io.Reader
	n    int64
	over bool
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		l.over = true
		return 0, errTooLarge
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

// readArtifactsDir reads the dbt artifacts of an unpacked archive: dir
// holds target/manifest.json (or manifest.json itself).
func readArtifactsDir(ctx context.Context, dir string, limit int64) (map[string][]byte, error) {
	found := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if de.IsDir() || !de.Type().IsRegular() || !slices.Contains(artifactNames, de.Name()) {
			return nil
		}
		fi, err := de.Info()
		if err != nil {
			return err
		}
		if fi.Size() > limit {
			return errTooLarge
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		found[filepath.ToSlash(rel)] = data
		return nil
	})
	return found, err
}

// pickArtifacts chooses the manifest nearest the archive's root (ties: the
// first by name) and the catalog and run results next to it. ok is false
// when there is no manifest.
func pickArtifacts(found map[string][]byte) (f dbtFiles, ok bool) {
	var manifests []string
	for name := range found {
		if path.Base(name) == "manifest.json" {
			manifests = append(manifests, name)
		}
	}
	if len(manifests) == 0 {
		return f, false
	}
	slices.SortFunc(manifests, func(a, b string) int {
		if d := strings.Count(a, "/") - strings.Count(b, "/"); d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	f.dir = path.Dir(manifests[0])
	f.manifest = found[manifests[0]]
	f.catalog = found[f.file("catalog.json")]
	f.runResult = found[f.file("run_results.json")]
	return f, true
}

// jobTypeDBTInvocation is the job of a dbt invocation run inside a
// Databricks dbt task.
const jobTypeDBTInvocation = "dbt_invocation"

// dbtArtifacts reads the dbt artifacts of a dbt task run, when its source
// has them, and adds the dbt project to the batch. Artifacts that cannot
// be had (an expired or forbidden link, a manifest-less archive, one over
// the size limit) give a finding; a broken archive or manifest fails with
// the run's id.
func (e *Extractor) dbtArtifacts(ctx context.Context, src source, d *decoder, b *extractors.Batch, ref taskRef, out *jobs.RunOutput) error {
	files, err := src.dbtArtifacts(ctx, ref, out)
	var un *artifactsUnavailable
	if errors.As(err, &un) {
		d.setRunProp(b.Graph, ref.TaskRunID, "dbt_artifacts", "unavailable")
		b.Graph.AddFinding(graph.Finding{Severity: graph.SeverityWarning, Code: "dbt_artifacts_unavailable",
			Location: fmt.Sprintf("databricks run %d", ref.TaskRunID), Subject: ref.Job.Name,
			Message: fmt.Sprintf("task %s: dbt artifacts not read: %s; the dbt project's lineage is missing from this run", ref.TaskKey, un.reason)})
		return nil
	}
	if err != nil || files == nil {
		return err
	}
	return d.addDBTProject(ctx, b, ref, files)
}

// addDBTProject hands a dbt task's artifacts to the dbt extractor and adds
// its graph and statements to the batch. The project's relations are
// Unity Catalog tables of this workspace: the dbt namespace is the
// workspace's (databricks://<host>), names catalog.schema.table in lower
// case as dbt-databricks renders them; the task's catalog and schema are
// the statements' defaults where the manifest has none. The dbt invocation
// becomes a run whose parent is the task run, so that the dbt nodes' runs
// (children of the invocation) chain up to the Databricks job run.
func (d *decoder) addDBTProject(ctx context.Context, b *extractors.Batch, ref taskRef, f *dbtFiles) error {
	where := fmt.Sprintf("databricks run %d", ref.TaskRunID)
	p, err := dbt.Load(ctx, f.manifest, f.catalog, f.runResult, dbt.Options{
		Account:        strings.TrimPrefix(d.ns, "databricks://"),
		ManifestFile:   f.file("manifest.json"),
		CatalogFile:    f.file("catalog.json"),
		RunResultsFile: f.file("run_results.json"),
	})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%s: dbt artifacts (%s): %v", where, f.from, err)
	}
	pg := p.Graph()
	for i := range pg.Findings {
		pg.Findings[i].Location = where + ": " + pg.Findings[i].Location
	}
	if p.Platform != graph.Databricks {
		pg.AddFinding(graph.Finding{Severity: graph.SeverityWarning, Code: "dbt_adapter_mismatch",
			Location: where + ": " + f.file("manifest.json"), Subject: p.Name,
			Message: fmt.Sprintf("dbt task %s ran adapter %q, not databricks: its relations are in namespace %s, apart from the workspace's tables", ref.TaskKey, p.AdapterType, p.Namespace)})
	}

	taskRun := itoa(ref.TaskRunID)
	invocations := map[string]bool{}
	if p.InvocationID != "" {
		invocations[p.InvocationID] = true
	}
	for _, r := range pg.Runs {
		if r.Parent != "" {
			invocations[r.Parent] = true
		}
	}
	state := ""
	if r := b.Graph.Runs[taskRun]; r != nil {
		state = r.State
	}
	job := graph.JobID{Namespace: p.DBTNamespace, Name: "dbt-run-" + p.Name}
	if len(invocations) > 0 {
		pg.AddJob(graph.Job{ID: job, Type: jobTypeDBTInvocation, Properties: map[string]string{
			"dbt_project": p.Name, "adapter_type": p.AdapterType}})
	}
	for _, id := range slices.Sorted(maps.Keys(invocations)) {
		rp := map[string]string{"dbt_project": p.Name, "databricks_task_run_id": taskRun}
		setProp(rp, "dbt_version", p.DBTVersion)
		pg.AddRun(graph.Run{ID: id, Job: job, Parent: taskRun, State: state, Start: ref.Start, End: ref.End, Properties: rp})
	}
	b.Graph.Merge(pg)
	d.setRunProp(b.Graph, ref.TaskRunID, "dbt_artifacts", "read")
	d.setRunProp(b.Graph, ref.TaskRunID, "dbt_project", p.Name)
	if p.InvocationID != "" {
		d.setRunProp(b.Graph, ref.TaskRunID, "dbt_invocation_id", p.InvocationID)
	}

	last := ref.End
	if last.IsZero() {
		last = ref.Start
	}
	for _, s := range p.Statements() {
		if s.DefaultDatabase == "" {
			s.DefaultDatabase = lowerName(ref.DBTCatalog)
		}
		if s.DefaultSchema == "" {
			s.DefaultSchema = lowerName(ref.DBTSchema)
		}
		if s.Origin.RunID == "" {
			s.Origin.RunID = taskRun
		}
		s.FirstSeen, s.LastSeen = ref.Start, last
		b.Statements = append(b.Statements, s)
	}
	return nil
}

// setRunProp sets a property of a run already in g.
func (d *decoder) setRunProp(g *graph.Graph, runID int64, k, v string) {
	if r := g.Runs[itoa(runID)]; r != nil {
		r.Properties = mergeProp(r.Properties, k, v)
	}
}
