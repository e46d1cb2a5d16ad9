package databricks

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/databricks/databricks-sdk-go/service/jobs"

	"github.com/weftdata/weft/extractors"
	"github.com/weftdata/weft/graph"
)

// Evidence methods of the edges this extractor emits.
const (
	// MethodUnityCatalog marks table edges from Unity Catalog lineage
	// (system.access.table_lineage).
	MethodUnityCatalog = "unity_catalog"
	// MethodUnityCatalogColumns marks column edges from Unity Catalog
	// (system.access.column_lineage). Unity Catalog does not say how a
	// column was derived, so weft records DIRECT/TRANSFORMATION.
	MethodUnityCatalogColumns = "unity_catalog (untyped: recorded as DIRECT/TRANSFORMATION)"
	// MethodUnityCatalogREST and MethodUnityCatalogRESTColumns mark edges
	// from the lineage-tracking REST API.
	MethodUnityCatalogREST        = "unity_catalog_rest"
	MethodUnityCatalogRESTColumns = "unity_catalog_rest (untyped: recorded as DIRECT/TRANSFORMATION)"
	// MethodOpenLineage marks edges from OpenLineage events found in an
	// export (the Spark integration on Databricks).
	MethodOpenLineage = "openlineage"
)

// extractorName is the Evidence.Extractor and Origin.Extractor value.
const extractorName = "databricks"

// Job types.
const (
	jobTypeJob       = "databricks_job"
	jobTypeTask      = "databricks_task"
	jobTypeNotebook  = "databricks_notebook"
	jobTypePipeline  = "databricks_pipeline"
	jobTypeQuery     = "databricks_sql_query"
	jobTypeDashboard = "databricks_dashboard"
	jobTypeWarehouse = "databricks_sql_warehouse"
)

// decoder turns API responses into graph fragments and statements. One
// decoder serves one Extract call: it remembers what earlier responses said
// (foreign catalogs and their connections, which job a run belongs to) so
// that lineage rows decoded later link to them. It does no I/O.
type decoder struct {
	ns   string // databricks://<host>
	host string

	catalogs    map[string]catalogInfo    // by catalog name, lower case
	connections map[string]connectionInfo // by connection name
	runJobs     map[string]graph.JobID    // run id (job and task runs) -> job
	origins     map[string]string         // run id -> "databricks run <id>"
	strs        map[string]string         // interned names
}

func newDecoder(host, ns string) *decoder {
	return &decoder{
		ns:          ns,
		host:        host,
		catalogs:    map[string]catalogInfo{},
		connections: map[string]connectionInfo{},
		runJobs:     map[string]graph.JobID{},
		origins:     map[string]string{},
		strs:        map[string]string{},
	}
}

// intern returns a shared copy of b's text: lineage rows repeat the same
// table and column names millions of times.
func (d *decoder) intern(b []byte) string {
	if s, ok := d.strs[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(d.strs) < 1<<20 {
		d.strs[s] = s
	}
	return s
}

func (d *decoder) internString(s string) string {
	if v, ok := d.strs[s]; ok {
		return v
	}
	if len(d.strs) < 1<<20 {
		d.strs[s] = s
	}
	return s
}

// table returns the dataset ID of a Unity Catalog table full name.
func (d *decoder) table(fullName string) graph.DatasetID {
	return graph.DatasetID{Namespace: d.ns, Name: lowerName(fullName)}
}

// lowerName folds a Unity Catalog name: UC compares names
// case-insensitively and stores them in lower case. Backquotes some exports
// keep are dropped.
func lowerName(s string) string {
	if strings.IndexByte(s, '`') >= 0 {
		s = strings.ReplaceAll(s, "`", "")
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' || c >= 0x80 {
			return strings.ToLower(s)
		}
	}
	return s
}

// pathDataset names a storage path the OpenLineage way: namespace
// scheme://authority, name the path ("abfss://c@acct.dfs.core.windows.net",
// "raw/loans"); dbfs:/x becomes namespace "dbfs", name "/x".
func pathDataset(p string) graph.DatasetID {
	u, err := url.Parse(p)
	if err != nil || u.Scheme == "" {
		return graph.DatasetID{Namespace: "file", Name: p}
	}
	if u.Host == "" {
		return graph.DatasetID{Namespace: u.Scheme, Name: u.Path}
	}
	ns := u.Scheme + "://" + u.Host
	if u.User != nil {
		ns = u.Scheme + "://" + u.User.Username() + "@" + u.Host
	}
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" {
		name = "/"
	}
	return graph.DatasetID{Namespace: ns, Name: strings.TrimSuffix(name, "/")}
}

func millis(ms int64) time.Time {
	if ms <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// jobID names a Databricks job by its numeric id: names are not unique in
// a workspace and can change, ids cannot. The name is a property.
func (d *decoder) jobID(jobID int64) graph.JobID {
	return graph.JobID{Namespace: d.ns, Name: "jobs/" + itoa(jobID)}
}

func (d *decoder) taskJobID(jobID int64, taskKey string) graph.JobID {
	return graph.JobID{Namespace: d.ns, Name: "jobs/" + itoa(jobID) + "/tasks/" + taskKey}
}

// submitJobID names one-time runs (runs/submit), which have no job.
func (d *decoder) submitJobID(runID int64) graph.JobID {
	return graph.JobID{Namespace: d.ns, Name: "runs/" + itoa(runID)}
}

// runJobID is the job of a job run: the job it belongs to, or the run
// itself for a one-time run.
func (d *decoder) runJobID(r jobs.Run) graph.JobID {
	if r.JobId == 0 {
		return d.submitJobID(r.RunId)
	}
	return d.jobID(r.JobId)
}

// runOrigin is the Evidence.Origin of an observation made in a run.
func (d *decoder) runOrigin(runID string) string {
	if o, ok := d.origins[runID]; ok {
		return o
	}
	o := "databricks run " + runID
	if len(d.origins) < 1<<20 {
		d.origins[runID] = o
	}
	return o
}

// taskRef is a task run whose output may hold SQL text.
type taskRef struct {
	JobRunID  int64
	TaskRunID int64
	TaskKey   string
	Job       graph.JobID
	Kind      string // sql_query, sql_file, sql_alert, sql_dashboard, dbt
	QueryID   string // saved query of a sql_task.query
	File      string // sql_task.file path
	// DBTCatalog and DBTSchema are a dbt_task's catalog and schema: the
	// defaults of its project's statements.
	DBTCatalog, DBTSchema string
	Start                 time.Time
	End                   time.Time
	// Active is set when the task run had not finished when read: it
	// has no output yet.
	Active bool
}

// baseRun converts a runs/list entry into the runs/get shape.
func baseRun(b jobs.BaseRun) jobs.Run {
	return jobs.Run{
		AttemptNumber:        b.AttemptNumber,
		CreatorUserName:      b.CreatorUserName,
		Description:          b.Description,
		EndTime:              b.EndTime,
		GitSource:            b.GitSource,
		JobId:                b.JobId,
		JobParameters:        b.JobParameters,
		JobRunId:             b.JobRunId,
		NumberInJob:          b.NumberInJob,
		OriginalAttemptRunId: b.OriginalAttemptRunId,
		RunId:                b.RunId,
		RunName:              b.RunName,
		RunPageUrl:           b.RunPageUrl,
		RunType:              b.RunType,
		StartTime:            b.StartTime,
		State:                b.State,
		Status:               b.Status,
		Tasks:                b.Tasks,
		Trigger:              b.Trigger,
	}
}

// runState is the state weft records for a run or task run: its result
// (SUCCESS, FAILED, ...) once it has finished, or its life cycle state. It
// is empty while the run is active: graph merges choose between two
// states by their text, not by which observation is newer, so a RUNNING
// recorded now would never give way to the SUCCESS read once the run has
// finished.
func runState(s *jobs.RunState, st *jobs.RunStatus) string {
	if activeState(s, st) != "" {
		return ""
	}
	if s != nil {
		if s.ResultState != "" {
			return string(s.ResultState)
		}
		if s.LifeCycleState != "" {
			return string(s.LifeCycleState)
		}
	}
	if st != nil {
		if st.TerminationDetails != nil && st.TerminationDetails.Code != "" {
			return string(st.TerminationDetails.Code)
		}
		return string(st.State)
	}
	return ""
}

// activeState returns the life cycle state of a run or task run that has
// not finished (PENDING, QUEUED, RUNNING, BLOCKED, WAITING_FOR_RETRY,
// TERMINATING, or a state this version does not know), or "" when it has
// finished (TERMINATED, SKIPPED, INTERNAL_ERROR, or a result state) or the
// response says nothing about it. Jobs API 2.2 reports both the status
// object and the older state object; either one saying the run is over is
// enough.
func activeState(s *jobs.RunState, st *jobs.RunStatus) string {
	var active string
	if st != nil && st.State != "" {
		if st.State == jobs.RunLifecycleStateV2StateTerminated {
			return ""
		}
		active = string(st.State)
	}
	if s != nil && (s.LifeCycleState != "" || s.ResultState != "") {
		switch s.LifeCycleState {
		case jobs.RunLifeCycleStateTerminated, jobs.RunLifeCycleStateSkipped, jobs.RunLifeCycleStateInternalError:
			return ""
		}
		if s.ResultState != "" {
			return ""
		}
		if active == "" {
			active = string(s.LifeCycleState)
		}
	}
	return active
}

func setProp(m map[string]string, k, v string) {
	if v != "" {
		m[k] = v
	}
}

func gitProps(m map[string]string, gs *jobs.GitSource) {
	if gs == nil {
		return
	}
	setProp(m, "git_url", gs.GitUrl)
	setProp(m, "git_branch", gs.GitBranch)
	setProp(m, "git_tag", gs.GitTag)
	setProp(m, "git_provider", string(gs.GitProvider))
	commit := gs.GitCommit
	if gs.GitSnapshot != nil && gs.GitSnapshot.UsedCommit != "" {
		commit = gs.GitSnapshot.UsedCommit
	}
	setProp(m, "git_commit", commit)
}

// addRun records a job run (runs/get or runs/list with tasks) as graph jobs
// and runs, and returns the task runs whose output can hold SQL.
func (d *decoder) addRun(g *graph.Graph, r jobs.Run) []taskRef {
	runID := itoa(r.RunId)
	job := d.runJobID(r)
	jp := map[string]string{}
	if r.JobId != 0 {
		jp["job_id"] = itoa(r.JobId)
	}
	if r.RunType != jobs.RunTypeSubmitRun {
		setProp(jp, "name", r.RunName)
	}
	gitProps(jp, r.GitSource)
	delete(jp, "git_commit") // a run property: it changes per run
	g.AddJob(graph.Job{ID: job, Type: jobTypeJob, Properties: jp})

	rp := map[string]string{"run_id": runID}
	if r.JobId != 0 {
		rp["job_id"] = itoa(r.JobId)
	}
	setProp(rp, "run_name", r.RunName)
	setProp(rp, "run_type", string(r.RunType))
	setProp(rp, "trigger", string(r.Trigger))
	setProp(rp, "run_page_url", r.RunPageUrl)
	setProp(rp, "creator", r.CreatorUserName)
	if r.OriginalAttemptRunId != 0 && r.OriginalAttemptRunId != r.RunId {
		rp["original_attempt_run_id"] = itoa(r.OriginalAttemptRunId)
	}
	for _, p := range r.JobParameters {
		v := p.Value
		if v == "" {
			v = p.Default
		}
		setProp(rp, "param."+p.Name, v)
	}
	gitProps(rp, r.GitSource)
	run := graph.Run{
		ID:         runID,
		Job:        job,
		State:      runState(r.State, r.Status),
		Start:      millis(r.StartTime),
		End:        millis(r.EndTime),
		Properties: rp,
	}
	if r.JobRunId != 0 && r.JobRunId != r.RunId {
		run.Parent = itoa(r.JobRunId) // a task run fetched on its own
	}
	g.AddRun(run)
	d.runJobs[runID] = job

	var refs []taskRef
	tasks := slices.Clone(r.Tasks)
	tasks = append(tasks, r.Iterations...)
	for _, t := range tasks {
		if ref, ok := d.addTask(g, r, job, t); ok {
			refs = append(refs, ref)
		}
	}
	return refs
}

// addTask records one task run of job run r.
func (d *decoder) addTask(g *graph.Graph, r jobs.Run, parent graph.JobID, t jobs.RunTask) (taskRef, bool) {
	if t.TaskKey == "" {
		return taskRef{}, false
	}
	job := d.taskJobID(r.JobId, t.TaskKey)
	if r.JobId == 0 {
		job = graph.JobID{Namespace: d.ns, Name: parent.Name + "/tasks/" + t.TaskKey}
	}
	jp := map[string]string{"task_key": t.TaskKey}
	if r.JobId != 0 {
		jp["job_id"] = itoa(r.JobId)
	}
	ref := taskRef{JobRunID: r.RunId, TaskRunID: t.RunId, TaskKey: t.TaskKey, Job: job,
		Start: millis(t.StartTime), End: millis(t.EndTime), Active: activeState(t.State, t.Status) != ""}
	kind := taskProps(jp, t.SqlTask, t.DbtTask, t.NotebookTask, t.SparkPythonTask, t.PipelineTask,
		t.SparkJarTask != nil, t.PythonWheelTask != nil, t.RunJobTask, t.SparkSubmitTask != nil, t.ForEachTask != nil, t.ConditionTask != nil)
	jp["task_type"] = kind
	if t.SqlTask != nil {
		switch {
		case t.SqlTask.Query != nil:
			ref.Kind, ref.QueryID = "sql_query", t.SqlTask.Query.QueryId
		case t.SqlTask.File != nil:
			ref.Kind, ref.File = "sql_file", t.SqlTask.File.Path
		case t.SqlTask.Alert != nil:
			ref.Kind = "sql_alert"
		case t.SqlTask.Dashboard != nil:
			ref.Kind = "sql_dashboard"
		}
	}
	if t.DbtTask != nil {
		ref.Kind = "dbt"
		ref.DBTCatalog, ref.DBTSchema = t.DbtTask.Catalog, t.DbtTask.Schema
	}
	g.AddJob(graph.Job{ID: job, Type: jobTypeTask, Properties: jp})

	if t.RunId == 0 {
		return taskRef{}, false
	}
	taskRunID := itoa(t.RunId)
	rp := map[string]string{"run_id": taskRunID, "task_key": t.TaskKey}
	gitProps(rp, t.GitSource)
	if t.GitSource == nil {
		gitProps(rp, r.GitSource)
	}
	setProp(rp, "run_page_url", t.RunPageUrl)
	if t.AttemptNumber > 0 {
		rp["attempt_number"] = strconv.Itoa(t.AttemptNumber)
	}
	parentRun := itoa(r.RunId)
	if t.RunId == r.RunId {
		parentRun = ""
	}
	g.AddRun(graph.Run{
		ID:         taskRunID,
		Job:        job,
		Parent:     parentRun,
		State:      runState(t.State, t.Status),
		Start:      millis(t.StartTime),
		End:        millis(t.EndTime),
		Properties: rp,
	})
	d.runJobs[taskRunID] = job
	return ref, ref.Kind != ""
}

// taskProps writes what a task does into props and returns its type.
func taskProps(p map[string]string, sqlT *jobs.SqlTask, dbt *jobs.DbtTask, nb *jobs.NotebookTask,
	py *jobs.SparkPythonTask, pl *jobs.PipelineTask, jar, wheel bool, runJob *jobs.RunJobTask,
	submit, forEach, cond bool) string {
	switch {
	case sqlT != nil:
		setProp(p, "warehouse_id", sqlT.WarehouseId)
		switch {
		case sqlT.Query != nil:
			setProp(p, "query_id", sqlT.Query.QueryId)
		case sqlT.File != nil:
			setProp(p, "sql_file", sqlT.File.Path)
			setProp(p, "sql_file_source", string(sqlT.File.Source))
		case sqlT.Alert != nil:
			setProp(p, "alert_id", sqlT.Alert.AlertId)
		case sqlT.Dashboard != nil:
			setProp(p, "dashboard_id", sqlT.Dashboard.DashboardId)
		}
		return "sql_task"
	case dbt != nil:
		setProp(p, "dbt_commands", strings.Join(dbt.Commands, "; "))
		setProp(p, "dbt_catalog", dbt.Catalog)
		setProp(p, "dbt_schema", dbt.Schema)
		setProp(p, "dbt_project_directory", dbt.ProjectDirectory)
		setProp(p, "warehouse_id", dbt.WarehouseId)
		return "dbt_task"
	case nb != nil:
		setProp(p, "notebook_path", nb.NotebookPath)
		setProp(p, "notebook_source", string(nb.Source))
		return "notebook_task"
	case py != nil:
		setProp(p, "python_file", py.PythonFile)
		return "spark_python_task"
	case pl != nil:
		setProp(p, "pipeline_id", pl.PipelineId)
		return "pipeline_task"
	case jar:
		return "spark_jar_task"
	case wheel:
		return "python_wheel_task"
	case runJob != nil:
		if runJob.JobId != 0 {
			p["run_job_id"] = itoa(runJob.JobId)
		}
		return "run_job_task"
	case submit:
		return "spark_submit_task"
	case forEach:
		return "for_each_task"
	case cond:
		return "condition_task"
	}
	return "unknown"
}

// addJobDefinition records a job from jobs/get or jobs/list: its name and
// tasks, with no run.
func (d *decoder) addJobDefinition(g *graph.Graph, jobIDNum int64, s *jobs.JobSettings) {
	if jobIDNum == 0 {
		return
	}
	job := d.jobID(jobIDNum)
	jp := map[string]string{"job_id": itoa(jobIDNum)}
	if s == nil {
		g.AddJob(graph.Job{ID: job, Type: jobTypeJob, Properties: jp})
		return
	}
	setProp(jp, "name", s.Name)
	gitProps(jp, s.GitSource)
	g.AddJob(graph.Job{ID: job, Type: jobTypeJob, Properties: jp})
	for _, t := range s.Tasks {
		if t.TaskKey == "" {
			continue
		}
		tp := map[string]string{"task_key": t.TaskKey, "job_id": itoa(jobIDNum)}
		tp["task_type"] = taskProps(tp, t.SqlTask, t.DbtTask, t.NotebookTask, t.SparkPythonTask, t.PipelineTask,
			t.SparkJarTask != nil, t.PythonWheelTask != nil, t.RunJobTask, t.SparkSubmitTask != nil, t.ForEachTask != nil, t.ConditionTask != nil)
		g.AddJob(graph.Job{ID: d.taskJobID(jobIDNum, t.TaskKey), Type: jobTypeTask, Properties: tp})
	}
}

// addRunOutput records what runs/get-output says about a task run: the
// executed SQL text (a Statement for the parser) or the dbt artifacts.
func (d *decoder) addRunOutput(g *graph.Graph, b *extractors.Batch, ref taskRef, out jobs.RunOutput) {
	if out.SqlOutput != nil && out.SqlOutput.QueryOutput != nil && strings.TrimSpace(out.SqlOutput.QueryOutput.QueryText) != "" {
		qo := out.SqlOutput.QueryOutput
		d.addTaskSQL(g, b, ref, qo.QueryText, "", "")
		if qo.WarehouseId != "" {
			if r := g.Runs[itoa(ref.TaskRunID)]; r != nil {
				r.Properties = mergeProp(r.Properties, "warehouse_id", qo.WarehouseId)
			}
		}
	}
	if out.DbtOutput != nil && out.DbtOutput.ArtifactsLink != "" {
		// The link is a presigned URL: a credential. Record only that
		// artifacts exist; reading them (Extractor.dbtArtifacts) turns
		// this into "read" or "unavailable".
		if r := g.Runs[itoa(ref.TaskRunID)]; r != nil {
			r.Properties = mergeProp(r.Properties, "dbt_artifacts", "available")
		}
	}
}

func mergeProp(m map[string]string, k, v string) map[string]string {
	if m == nil {
		m = map[string]string{}
	}
	m[k] = v
	return m
}

// addTaskSQL emits the SQL a task ran as a Statement attributed to the
// task's job and run.
func (d *decoder) addTaskSQL(g *graph.Graph, b *extractors.Batch, ref taskRef, text, catalog, schema string) {
	if j := g.Jobs[ref.Job]; j != nil && j.SQL == "" {
		j.SQL = text
	}
	last := ref.End
	if last.IsZero() {
		last = ref.Start
	}
	b.Statements = append(b.Statements, extractors.Statement{
		SQL:             text,
		Dialect:         extractors.DialectDatabricks,
		Namespace:       d.ns,
		DefaultDatabase: lowerName(catalog),
		DefaultSchema:   lowerName(schema),
		Job:             ref.Job,
		Origin: extractors.Origin{
			Extractor: extractorName,
			QueryID:   ref.QueryID,
			RunID:     itoa(ref.TaskRunID),
		},
		FirstSeen: ref.Start,
		LastSeen:  last,
	})
}
