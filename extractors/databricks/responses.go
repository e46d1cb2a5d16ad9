package databricks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/databricks/databricks-sdk-go/service/catalog"
	"github.com/databricks/databricks-sdk-go/service/jobs"
	"github.com/databricks/databricks-sdk-go/service/sql"

	"github.com/weftdata/weft/extractors"
	"github.com/weftdata/weft/graph"
)

// unmarshal decodes one API response strictly. Errors name the file (or
// API call) with line and column, and never echo the document.
func unmarshal(where string, data []byte, v any) error {
	err := json.Unmarshal(data, v)
	if err == nil {
		return nil
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := lineCol(data, se.Offset)
		return fmt.Errorf("%s:%d:%d: not valid JSON (offset %d): %v", where, line, col, se.Offset, se)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		line, col := lineCol(data, te.Offset)
		return fmt.Errorf("%s:%d:%d: unexpected JSON %s for %s", where, line, col, te.Value, fieldOf(te))
	}
	return fmt.Errorf("%s: %v", where, err)
}

func fieldOf(te *json.UnmarshalTypeError) string {
	if te.Field != "" {
		return "field " + te.Field
	}
	return te.Type.String()
}

// lineCol turns a byte offset into a 1-based line and column. A syntax
// error's offset is just past the offending byte.
func lineCol(data []byte, off int64) (int, int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	if off > 0 {
		off--
	}
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(off) - bytes.LastIndexByte(before, '\n')
	return line, col
}

// isArray reports whether a document is a JSON array (some exports hold a
// bare list of items instead of the API's envelope).
func isArray(data []byte) bool {
	t := bytes.TrimLeft(data, " \t\r\n\xef\xbb\xbf")
	return len(t) > 0 && t[0] == '['
}

// decodeRunsList decodes a jobs/runs/list page.
func decodeRunsList(where string, data []byte) ([]jobs.BaseRun, error) {
	if isArray(data) {
		var runs []jobs.BaseRun
		return runs, unmarshal(where, data, &runs)
	}
	var page jobs.ListRunsResponse
	if err := unmarshal(where, data, &page); err != nil {
		return nil, err
	}
	return page.Runs, nil
}

// decodeRun decodes a jobs/runs/get response.
func decodeRun(where string, data []byte) (jobs.Run, error) {
	var r jobs.Run
	if err := unmarshal(where, data, &r); err != nil {
		return r, err
	}
	if r.RunId == 0 {
		return r, fmt.Errorf("%s: no run_id (is this a jobs/runs/get response?)", where)
	}
	return r, nil
}

// decodeRunOutput decodes a jobs/runs/get-output response.
func decodeRunOutput(where string, data []byte) (jobs.RunOutput, error) {
	var o jobs.RunOutput
	return o, unmarshal(where, data, &o)
}

// decodeJobs decodes a jobs/get response, a jobs/list page or a bare
// list of jobs.
func decodeJobs(where string, data []byte) ([]jobs.BaseJob, error) {
	if isArray(data) {
		var js []jobs.BaseJob
		return js, unmarshal(where, data, &js)
	}
	var probe struct {
		Jobs  json.RawMessage `json:"jobs"`
		JobID int64           `json:"job_id"`
	}
	if err := unmarshal(where, data, &probe); err != nil {
		return nil, err
	}
	if probe.Jobs != nil || probe.JobID == 0 {
		var page jobs.ListJobsResponse
		return page.Jobs, unmarshal(where, data, &page)
	}
	var j jobs.Job
	if err := unmarshal(where, data, &j); err != nil {
		return nil, err
	}
	return []jobs.BaseJob{{JobId: j.JobId, Settings: j.Settings, CreatorUserName: j.CreatorUserName, CreatedTime: j.CreatedTime}}, nil
}

// savedQuery is a Databricks SQL saved query, in either the current shape
// (/api/2.0/sql/queries: query_text, catalog, schema) or the legacy one
// (/api/2.0/preview/sql/queries: query).
type savedQuery struct {
	ID          string `json:"id"`
	QueryText   string `json:"query_text"`
	Query       string `json:"query"`
	Catalog     string `json:"catalog"`
	Schema      string `json:"schema"`
	DisplayName string `json:"display_name"`
	Name        string `json:"name"`
}

func (q savedQuery) text() string {
	if q.QueryText != "" {
		return q.QueryText
	}
	return q.Query
}

func fromSDKQuery(q *sql.Query) savedQuery {
	return savedQuery{ID: q.Id, QueryText: q.QueryText, Catalog: q.Catalog, Schema: q.Schema, DisplayName: q.DisplayName}
}

// decodeQueries decodes a saved query, a list page ({"results": [...]})
// or a bare list.
func decodeQueries(where string, data []byte) ([]savedQuery, error) {
	if isArray(data) {
		var qs []savedQuery
		return qs, unmarshal(where, data, &qs)
	}
	var page struct {
		Results []savedQuery `json:"results"`
		savedQuery
	}
	if err := unmarshal(where, data, &page); err != nil {
		return nil, err
	}
	if page.Results != nil {
		return page.Results, nil
	}
	if page.ID == "" {
		return nil, fmt.Errorf("%s: neither a saved query (id) nor a list of them (results)", where)
	}
	return []savedQuery{page.savedQuery}, nil
}

// decodeCatalogs decodes a catalogs list page or one catalog.
func decodeCatalogs(where string, data []byte) ([]catalog.CatalogInfo, error) {
	var page struct {
		Catalogs []catalog.CatalogInfo `json:"catalogs"`
		Name     string                `json:"name"`
	}
	if err := unmarshal(where, data, &page); err != nil {
		return nil, err
	}
	if page.Catalogs != nil || page.Name == "" {
		return page.Catalogs, nil
	}
	var c catalog.CatalogInfo
	return []catalog.CatalogInfo{c}, unmarshal(where, data, &c)
}

// decodeConnections decodes a connections list page or one connection.
func decodeConnections(where string, data []byte) ([]catalog.ConnectionInfo, error) {
	var page struct {
		Connections []catalog.ConnectionInfo `json:"connections"`
		Name        string                   `json:"name"`
	}
	if err := unmarshal(where, data, &page); err != nil {
		return nil, err
	}
	if page.Connections != nil || page.Name == "" {
		return page.Connections, nil
	}
	var c catalog.ConnectionInfo
	return []catalog.ConnectionInfo{c}, unmarshal(where, data, &c)
}

// decodeTables decodes a tables list page or one table.
func decodeTables(where string, data []byte) ([]catalog.TableInfo, error) {
	var page struct {
		Tables   []catalog.TableInfo `json:"tables"`
		Name     string              `json:"name"`
		FullName string              `json:"full_name"`
	}
	if err := unmarshal(where, data, &page); err != nil {
		return nil, err
	}
	if page.Tables != nil || page.Name == "" && page.FullName == "" {
		return page.Tables, nil
	}
	var t catalog.TableInfo
	return []catalog.TableInfo{t}, unmarshal(where, data, &t)
}

// decodeQueryHistory decodes a /api/2.0/sql/history/queries page or a
// bare list of queries.
func decodeQueryHistory(where string, data []byte) ([]sql.QueryInfo, error) {
	if isArray(data) {
		var qs []sql.QueryInfo
		return qs, unmarshal(where, data, &qs)
	}
	var page sql.ListQueriesResponse
	return page.Res, unmarshal(where, data, &page)
}

// decodeStatement decodes a Statement Execution API response (the POST or
// a GET of the statement).
func decodeStatement(where string, data []byte) (*statementResponse, error) {
	var s statementResponse
	fields, err := objectFields(data)
	if err != nil {
		if uerr := unmarshal(where, data, &s); uerr != nil {
			return nil, uerr
		}
		return nil, fmt.Errorf("%s: %v", where, err)
	}
	result, hasResult := fields["result"]
	delete(fields, "result")
	small, _ := json.Marshal(rawFields(fields))
	if err := unmarshal(where, small, &s); err != nil {
		return nil, err
	}
	if hasResult && string(result) != "null" {
		if s.Result, err = decodeResultData(where, result, cap(data)-cap(result)); err != nil {
			return nil, err
		}
	}
	if err := s.err(where); err != nil {
		return nil, err
	}
	return &s, nil
}

func (s *statementResponse) err(where string) error {
	switch s.Status.State {
	case "FAILED", "CANCELED", "CLOSED":
		msg := ""
		if e := s.Status.Error; e != nil {
			msg = ": " + e.ErrorCode + ": " + e.Message
		}
		return fmt.Errorf("%s: statement %s %s%s", where, s.StatementID, strings.ToLower(s.Status.State), msg)
	}
	return nil
}

// decodeChunk decodes a GET .../result/chunks/{n} response.
func decodeChunk(where string, data []byte) (*resultData, error) {
	return decodeResultData(where, data, 0)
}

// historyWriteTypes are the statement types of the query history that can
// write data; the rest (SELECT, SHOW, DESCRIBE, SET, USE, ...) carry no
// lineage and are counted, not parsed.
var historyWriteTypes = []string{"COPY", "CREATE", "INSERT", "MERGE", "REPLACE", "UPDATE"}

// addQueryHistory turns finished writing statements of the SQL warehouses'
// query history into Statements, one per distinct text with its count and
// first and last time. It returns how many queries it skipped.
func (d *decoder) addQueryHistory(g *graph.Graph, b *extractors.Batch, qs []sql.QueryInfo) int {
	type key struct{ text, warehouse string }
	idx := map[key]int{}
	skipped := 0
	for _, q := range qs {
		if q.Status != "" && q.Status != sql.QueryStatusFinished || !slices.Contains(historyWriteTypes, string(q.StatementType)) ||
			strings.TrimSpace(q.QueryText) == "" {
			skipped++
			continue
		}
		wh := q.WarehouseId
		if wh == "" {
			wh = q.EndpointId
		}
		t := millis(q.QueryStartTimeMs)
		k := key{q.QueryText, wh}
		if i, ok := idx[k]; ok {
			s := &b.Statements[i]
			s.Count++
			if t.Before(s.FirstSeen) {
				s.FirstSeen = t
			}
			if t.After(s.LastSeen) {
				s.LastSeen = t
			}
			continue
		}
		var job graph.JobID
		if wh != "" {
			job = graph.JobID{Namespace: d.ns, Name: "warehouses/" + wh}
			g.AddJob(graph.Job{ID: job, Type: jobTypeWarehouse, Properties: map[string]string{"warehouse_id": wh}})
		}
		idx[k] = len(b.Statements)
		b.Statements = append(b.Statements, extractors.Statement{
			SQL:       q.QueryText,
			Dialect:   extractors.DialectDatabricks,
			Namespace: d.ns,
			Job:       job,
			Origin:    extractors.Origin{Extractor: extractorName, QueryID: q.QueryId},
			Count:     1,
			FirstSeen: t,
			LastSeen:  t,
		})
	}
	return skipped
}

// Lineage-tracking REST API shapes (/api/2.0/lineage-tracking/...). The
// SDK v0.60.0 has no typed client for them.
type restTableLineage struct {
	Upstreams   []restLineageItem `json:"upstreams"`
	Downstreams []restLineageItem `json:"downstreams"`
}

type restLineageItem struct {
	TableInfo *struct {
		Name             string `json:"name"`
		CatalogName      string `json:"catalog_name"`
		SchemaName       string `json:"schema_name"`
		TableType        string `json:"table_type"`
		LineageTimestamp string `json:"lineage_timestamp"`
	} `json:"tableInfo"`
	FileInfo *struct {
		Path             string `json:"path"`
		LineageTimestamp string `json:"lineage_timestamp"`
	} `json:"fileInfo"`
	JobInfos       []restEntity `json:"jobInfos"`
	NotebookInfos  []restEntity `json:"notebookInfos"`
	PipelineInfos  []restEntity `json:"pipelineInfos"`
	QueryInfos     []restEntity `json:"queryInfos"`
	DashboardInfos []restEntity `json:"dashboardInfos"`
}

type restEntity struct {
	JobID            json.Number `json:"job_id"`
	NotebookID       json.Number `json:"notebook_id"`
	PipelineID       string      `json:"pipeline_id"`
	QueryID          string      `json:"query_id"`
	DashboardID      string      `json:"dashboard_id"`
	LineageTimestamp string      `json:"lineage_timestamp"`
}

type restColumnLineage struct {
	UpstreamCols   []restColumn `json:"upstream_cols"`
	DownstreamCols []restColumn `json:"downstream_cols"`
}

type restColumn struct {
	Name             string `json:"name"`
	CatalogName      string `json:"catalog_name"`
	SchemaName       string `json:"schema_name"`
	TableName        string `json:"table_name"`
	TableType        string `json:"table_type"`
	LineageTimestamp string `json:"lineage_timestamp"`
}

// restTime parses the REST API's "2024-11-25 14:00:59.0" timestamps.
func restTime(s string) time.Time {
	for _, layout := range []string{"2006-01-02 15:04:05.999999999", time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// restEvidence returns one Evidence per entity (job, notebook, ...) the
// REST API names for an edge, or one workspace-level Evidence.
func (d *decoder) restEvidence(it restLineageItem, ts, method, table string) []graph.Evidence {
	var evs []graph.Evidence
	add := func(prefix, id, lts string) {
		if id == "" {
			return
		}
		if lts == "" {
			lts = ts
		}
		t := restTime(lts)
		job := graph.JobID{Namespace: d.ns, Name: prefix + id}
		evs = append(evs, graph.Evidence{Extractor: extractorName, Origin: "databricks " + prefix + id, Method: method,
			Job: job, FirstSeen: t, LastSeen: t, Count: 1, Confidence: 1})
	}
	for _, e := range it.JobInfos {
		add("jobs/", e.JobID.String(), e.LineageTimestamp)
	}
	for _, e := range it.NotebookInfos {
		add("notebooks/", e.NotebookID.String(), e.LineageTimestamp)
	}
	for _, e := range it.PipelineInfos {
		add("pipelines/", e.PipelineID, e.LineageTimestamp)
	}
	for _, e := range it.QueryInfos {
		add("queries/", e.QueryID, e.LineageTimestamp)
	}
	for _, e := range it.DashboardInfos {
		add("dashboards/", e.DashboardID, e.LineageTimestamp)
	}
	if len(evs) == 0 {
		t := restTime(ts)
		evs = append(evs, graph.Evidence{Extractor: extractorName, Origin: "databricks lineage-tracking " + table,
			Method: method, FirstSeen: t, LastSeen: t, Count: 1, Confidence: 1})
	}
	return evs
}

// addRESTTableLineage records the table-lineage REST response for table.
func (d *decoder) addRESTTableLineage(g *graph.Graph, table string, l restTableLineage) {
	self := d.table(table)
	d.ensureTable(g, self, graph.KindTable)
	other := func(it restLineageItem) (graph.DatasetID, string, bool) {
		switch {
		case it.TableInfo != nil && it.TableInfo.Name != "":
			ti := it.TableInfo
			id := d.table(ti.CatalogName + "." + ti.SchemaName + "." + ti.Name)
			d.ensureTable(g, id, lineageKind(ti.TableType))
			return id, ti.LineageTimestamp, true
		case it.FileInfo != nil && it.FileInfo.Path != "":
			id := pathDataset(it.FileInfo.Path)
			ensureDataset(g, id, graph.Stage, graph.KindStage)
			return id, it.FileInfo.LineageTimestamp, true
		}
		return graph.DatasetID{}, "", false
	}
	for _, it := range l.Upstreams {
		if id, ts, ok := other(it); ok {
			for _, ev := range d.restEvidence(it, ts, MethodUnityCatalogREST, table) {
				d.addJobOf(g, ev.Job)
				g.AddEdge(id, self, ev)
			}
		}
	}
	for _, it := range l.Downstreams {
		if id, ts, ok := other(it); ok {
			for _, ev := range d.restEvidence(it, ts, MethodUnityCatalogREST, table) {
				d.addJobOf(g, ev.Job)
				g.AddEdge(self, id, ev)
			}
		}
	}
}

func (d *decoder) addJobOf(g *graph.Graph, j graph.JobID) {
	if j.IsZero() {
		return
	}
	if _, ok := g.Jobs[j]; !ok {
		g.AddJob(graph.Job{ID: j, Type: entityJobType(j.Name)})
	}
}

// addRESTColumnLineage records the column-lineage REST response for one
// column of table.
func (d *decoder) addRESTColumnLineage(g *graph.Graph, table, column string, l restColumnLineage) {
	self := graph.ColumnID{Dataset: d.table(table), Column: lowerName(column)}
	d.ensureTable(g, self.Dataset, graph.KindTable)
	add := func(c restColumn, up bool) {
		if c.Name == "" || c.TableName == "" {
			return
		}
		o := graph.ColumnID{Dataset: d.table(c.CatalogName + "." + c.SchemaName + "." + c.TableName), Column: lowerName(c.Name)}
		d.ensureTable(g, o.Dataset, lineageKind(c.TableType))
		t := restTime(c.LineageTimestamp)
		ev := graph.Evidence{Extractor: extractorName, Origin: "databricks lineage-tracking " + table + "." + column,
			Method: MethodUnityCatalogRESTColumns, FirstSeen: t, LastSeen: t, Count: 1, Confidence: 1}
		id := graph.ColumnEdgeID{From: o, To: self, Type: graph.Direct, Subtype: graph.SubtypeTransformation}
		if !up {
			id.From, id.To = self, o
		}
		g.AddColumnEdge(id, ev)
	}
	for _, c := range l.UpstreamCols {
		add(c, true)
	}
	for _, c := range l.DownstreamCols {
		add(c, false)
	}
}

// OpenLineage run events, as the OpenLineage Spark integration emits them
// on Databricks. Exports may carry them next to API responses.
type olEvent struct {
	EventTime string `json:"eventTime"`
	EventType string `json:"eventType"`
	Run       struct {
		RunID string `json:"runId"`
	} `json:"run"`
	Job struct {
		Namespace string `json:"namespace"`
		Name      string `json:"name"`
	} `json:"job"`
	Inputs  []olDataset `json:"inputs"`
	Outputs []olDataset `json:"outputs"`
}

type olDataset struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Facets    struct {
		Schema *struct {
			Fields []struct {
				Name string `json:"name"`
				Type string `json:"type"`
			} `json:"fields"`
		} `json:"schema"`
		ColumnLineage *struct {
			Fields map[string]struct {
				InputFields []struct {
					Namespace       string `json:"namespace"`
					Name            string `json:"name"`
					Field           string `json:"field"`
					Transformations []struct {
						Type    string `json:"type"`
						Subtype string `json:"subtype"`
					} `json:"transformations"`
				} `json:"inputFields"`
			} `json:"fields"`
		} `json:"columnLineage"`
	} `json:"facets"`
}

// decodeOpenLineage decodes one event, a JSON array of events, or JSON
// lines.
func decodeOpenLineage(where string, data []byte) ([]olEvent, error) {
	if isArray(data) {
		var evs []olEvent
		return evs, unmarshal(where, data, &evs)
	}
	var evs []olEvent
	dec := json.NewDecoder(bytes.NewReader(data))
	for i := 1; ; i++ {
		var ev olEvent
		if err := dec.Decode(&ev); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, fmt.Errorf("%s: event %d: %v", where, i, err)
		}
		evs = append(evs, ev)
	}
	return evs, nil
}

// addOpenLineage records an event's datasets and edges. Names and
// namespaces are kept as the producer wrote them.
func (d *decoder) addOpenLineage(g *graph.Graph, ev olEvent) {
	t, _ := time.Parse(time.RFC3339Nano, ev.EventTime)
	t = t.UTC()
	job := graph.JobID{Namespace: ev.Job.Namespace, Name: ev.Job.Name}
	if !job.IsZero() {
		g.AddJob(graph.Job{ID: job, Type: "openlineage_job"})
	}
	e := graph.Evidence{Extractor: extractorName, Origin: "openlineage run " + ev.Run.RunID, Method: MethodOpenLineage,
		Job: job, FirstSeen: t, LastSeen: t, Count: 1, Confidence: 1}
	if ev.Run.RunID != "" {
		g.AddRun(graph.Run{ID: ev.Run.RunID, Job: job, State: ev.EventType, Start: t})
	}
	dataset := func(ds olDataset) graph.DatasetID {
		id := graph.DatasetID{Namespace: ds.Namespace, Name: ds.Name}
		out := graph.Dataset{ID: id, Platform: graph.Stage, Kind: graph.KindTable}
		if ds.Facets.Schema != nil {
			for _, f := range ds.Facets.Schema.Fields {
				out.Columns = append(out.Columns, graph.Column{Name: f.Name, Type: f.Type})
			}
		}
		g.AddDataset(out)
		return id
	}
	var ins []graph.DatasetID
	for _, in := range ev.Inputs {
		ins = append(ins, dataset(in))
	}
	for _, o := range ev.Outputs {
		oid := dataset(o)
		for _, in := range ins {
			if in != oid {
				g.AddEdge(in, oid, e)
			}
		}
		if o.Facets.ColumnLineage == nil {
			continue
		}
		ce := e
		ce.Method = MethodOpenLineage
		for field, fl := range o.Facets.ColumnLineage.Fields {
			for _, in := range fl.InputFields {
				from := graph.ColumnID{Dataset: graph.DatasetID{Namespace: in.Namespace, Name: in.Name}, Column: in.Field}
				to := graph.ColumnID{Dataset: oid, Column: field}
				ts := in.Transformations
				if len(ts) == 0 {
					g.AddColumnEdge(graph.ColumnEdgeID{From: from, To: to, Type: graph.Direct, Subtype: graph.SubtypeTransformation}, ce)
				}
				for _, tr := range ts {
					g.AddColumnEdge(graph.ColumnEdgeID{From: from, To: to, Type: tr.Type, Subtype: tr.Subtype}, ce)
				}
			}
		}
	}
}

// pipelineInfo is a Lakeflow Declarative (DLT) pipeline from
// /api/2.0/pipelines/{id} or the pipelines list.
type pipelineInfo struct {
	PipelineID string `json:"pipeline_id"`
	Name       string `json:"name"`
	Spec       *struct {
		Catalog   string `json:"catalog"`
		Target    string `json:"target"`
		Schema    string `json:"schema"`
		Storage   string `json:"storage"`
		Libraries []struct {
			Notebook *struct {
				Path string `json:"path"`
			} `json:"notebook"`
			File *struct {
				Path string `json:"path"`
			} `json:"file"`
		} `json:"libraries"`
	} `json:"spec"`
}

// decodePipelines decodes one pipeline, a list page ({"statuses": [...]})
// or a bare list.
func decodePipelines(where string, data []byte) ([]pipelineInfo, error) {
	if isArray(data) {
		var ps []pipelineInfo
		return ps, unmarshal(where, data, &ps)
	}
	var page struct {
		Statuses []pipelineInfo `json:"statuses"`
		pipelineInfo
	}
	if err := unmarshal(where, data, &page); err != nil {
		return nil, err
	}
	if page.Statuses != nil {
		return page.Statuses, nil
	}
	if page.PipelineID == "" {
		return nil, fmt.Errorf("%s: neither a pipeline (pipeline_id) nor a list of them (statuses)", where)
	}
	return []pipelineInfo{page.pipelineInfo}, nil
}

// addPipeline records a pipeline as a job; UC lineage rows of entity type
// PIPELINE link to it.
func (d *decoder) addPipeline(g *graph.Graph, p pipelineInfo) {
	if p.PipelineID == "" {
		return
	}
	props := map[string]string{"pipeline_id": p.PipelineID}
	setProp(props, "name", p.Name)
	if s := p.Spec; s != nil {
		setProp(props, "catalog", s.Catalog)
		schema := s.Schema
		if schema == "" {
			schema = s.Target
		}
		setProp(props, "schema", schema)
		setProp(props, "storage", s.Storage)
		var libs []string
		for _, l := range s.Libraries {
			switch {
			case l.Notebook != nil:
				libs = append(libs, l.Notebook.Path)
			case l.File != nil:
				libs = append(libs, l.File.Path)
			}
		}
		setProp(props, "libraries", strings.Join(libs, "; "))
	}
	g.AddJob(graph.Job{ID: graph.JobID{Namespace: d.ns, Name: "pipelines/" + p.PipelineID}, Type: jobTypePipeline, Properties: props})
}
