package snowflake

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/weftdata/weft/extractors"
	"github.com/weftdata/weft/graph"
)

// Evidence methods and job types this package writes.
const (
	extractorName     = "snowflake"
	methodAccess      = "access_history"
	jobTypeQuery      = "snowflake_query"
	jobTypeProcedure  = "snowflake_procedure"
	propTemporary     = graph.PropTemporary
	propSessionID     = "session_id"
	findingBadAccess  = "bad_access_history"
	findingEmptyQuery = "empty_query_text"
)

// decoder turns rows into a Batch. It is pure: no I/O, no clock.
type decoder struct {
	ns string
	f  filter
}

// decode returns the statements and the graph fragment of one chunk's
// rows (sorted). watermark is the chunk's end.
func (d decoder) decode(rows []Row, watermark time.Time) extractors.Batch {
	g := graph.New()
	temps := d.tempTables(rows)
	var stmts []extractors.Statement
	for i := range rows {
		if st, ok := d.row(g, &rows[i], temps); ok {
			stmts = append(stmts, st)
		}
	}
	return extractors.Batch{Graph: g, Statements: stmts, Watermark: watermark}
}

// tempTables finds the tables created by CREATE TEMPORARY in rows, keyed by
// name, with the session that created them.
func (d decoder) tempTables(rows []Row) map[string]string {
	temps := map[string]string{}
	for i := range rows {
		r := &rows[i]
		switch r.QueryType {
		case "CREATE_TABLE", "CREATE_TABLE_AS_SELECT", "":
		default:
			continue
		}
		if name, ok := createTempTable(r.QueryText, r.Database, r.Schema); ok {
			if cur, seen := temps[name]; !seen || r.SessionID < cur {
				temps[name] = r.SessionID
			}
		}
	}
	return temps
}

// origin returns the row's origin: its first query.
func (r *Row) origin() extractors.Origin {
	return extractors.Origin{Extractor: extractorName, QueryID: r.FirstQueryID}
}

// job returns the job a row belongs to: its stored procedure (a CALL and
// the queries it ran are one job), or its query shape.
func (d decoder) job(r *Row) (graph.JobID, string) {
	switch {
	case r.QueryType == "CALL":
		return graph.JobID{Namespace: d.ns, Name: "procedure/" + r.Hash}, jobTypeProcedure
	case r.RootHash != "":
		return graph.JobID{Namespace: d.ns, Name: "procedure/" + r.RootHash}, jobTypeProcedure
	}
	return graph.JobID{Namespace: d.ns, Name: "query/" + r.Hash}, jobTypeQuery
}

// dbtTag is the part of a dbt query tag weft reads: the JSON that
// dbt-snowflake-query-tags (and similar macros) put in QUERY_TAG.
type dbtTag struct {
	NodeID       string `json:"node_id"`
	UniqueID     string `json:"unique_id"`
	ProjectName  string `json:"project_name"`
	InvocationID string `json:"invocation_id"`
	App          string `json:"app"`
}

func parseDBTTag(tag string) (dbtTag, bool) {
	tag = strings.TrimSpace(tag)
	if !strings.HasPrefix(tag, "{") {
		return dbtTag{}, false
	}
	var t dbtTag
	if json.Unmarshal([]byte(tag), &t) != nil {
		return dbtTag{}, false
	}
	if t.NodeID == "" {
		t.NodeID = t.UniqueID
	}
	return t, t.NodeID != ""
}

// row adds one row's observations to g and returns its statement.
func (d decoder) row(g *graph.Graph, r *Row, temps map[string]string) (extractors.Statement, bool) {
	origin := r.origin()
	jobID, jobType := d.job(r)
	job := graph.Job{ID: jobID, Type: jobType, Properties: map[string]string{}}
	setProp := func(m map[string]string, k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	runProps := map[string]string{}
	if jobType == jobTypeQuery || r.QueryType == "CALL" {
		job.SQL = r.QueryText
		setProp(job.Properties, "query_type", r.QueryType)
		setProp(job.Properties, "database", r.Database)
		setProp(job.Properties, "schema", r.Schema)
		setProp(job.Properties, "warehouse", r.Warehouse)
		setProp(job.Properties, "role", r.Role)
		setProp(job.Properties, "user", r.User)
		setProp(job.Properties, "query_parameterized_hash", r.Hash)
	}
	if t, ok := parseDBTTag(r.QueryTag); ok {
		setProp(job.Properties, "dbt_node_id", t.NodeID)
		if t.ProjectName != "" {
			job.Properties["dbt_job"] = "dbt://" + t.ProjectName + "/" + t.NodeID
		}
		setProp(runProps, "dbt_invocation_id", t.InvocationID)
	} else if r.QueryTag != "" && jobType == jobTypeQuery {
		job.Properties["query_tag"] = r.QueryTag
	}
	g.AddJob(job)
	for _, id := range []string{r.FirstQueryID, r.LastQueryID} {
		if id == "" {
			continue
		}
		run := graph.Run{ID: id, Job: jobID, Parent: r.RootQueryID, State: r.ExecutionStatus, Properties: runProps}
		if id == r.FirstQueryID {
			run.Start = r.FirstStart
		} else {
			run.Start = r.LastStart
		}
		setProp(run.Properties, propSessionID, r.SessionID)
		g.AddRun(run)
	}

	ev := graph.Evidence{
		Extractor: extractorName, Origin: origin.String(), Method: methodAccess, Job: jobID,
		FirstSeen: r.FirstStart, LastSeen: r.LastStart, Count: r.Count, Confidence: 1,
	}
	inScope := d.access(g, r, temps, ev)

	if name, ok := createTempTable(r.QueryText, r.Database, r.Schema); ok {
		if d.f.database(firstPart(name)) {
			g.AddDataset(d.tempDataset(name, temps[name]))
			inScope = true
		}
	}
	if r.QueryType == "CALL" {
		return extractors.Statement{}, false // the CALL text has no lineage; its children do
	}
	if strings.TrimSpace(r.QueryText) == "" {
		g.AddFinding(graph.Finding{
			Severity: graph.SeverityWarning, Code: findingEmptyQuery, Location: origin.String(),
			Message: "query text is empty (was it redacted in the export?)",
		})
		return extractors.Statement{}, false
	}
	if !inScope && !d.f.database(r.Database) {
		return extractors.Statement{}, false
	}
	return extractors.Statement{
		SQL: r.QueryText, Dialect: extractors.DialectSnowflake, Namespace: d.ns,
		DefaultDatabase: r.Database, DefaultSchema: r.Schema,
		Job: jobID, Origin: origin,
		Count: r.Count, FirstSeen: r.FirstStart, LastSeen: r.LastStart,
		Session: r.SessionID,
	}, true
}

func (d decoder) tempDataset(name, session string) graph.Dataset {
	ds := graph.Dataset{
		ID: graph.DatasetID{Namespace: d.ns, Name: name}, Platform: graph.Snowflake, Kind: graph.KindTemp,
		Properties: map[string]string{propTemporary: "true"},
	}
	if session != "" {
		ds.Properties[propSessionID] = session
	}
	return ds
}

// access adds what ACCESS_HISTORY says about the row: datasets with the
// columns read and written, table edges from the objects read to the
// objects written, and column edges from directSources. It reports
// whether the row touched an object in scope (or had no access history).
func (d decoder) access(g *graph.Graph, r *Row, temps map[string]string, ev graph.Evidence) bool {
	if !r.DirectObjectsAccessed.Valid && !r.ObjectsModified.Valid {
		return d.f.database(r.Database)
	}
	direct, err1 := parseObjects(r.DirectObjectsAccessed)
	modified, err2 := parseObjects(r.ObjectsModified)
	for _, e := range []struct {
		col string
		err error
	}{{"DIRECT_OBJECTS_ACCESSED", err1}, {"OBJECTS_MODIFIED", err2}} {
		if e.err != nil {
			g.AddFinding(graph.Finding{
				Severity: graph.SeverityWarning, Code: findingBadAccess, Location: ev.Origin,
				Message: fmt.Sprintf("%s: %v (the statement is still parsed)", e.col, e.err),
			})
		}
	}
	inScope := false
	add := func(o *accessObject, withColumns bool) (graph.DatasetID, bool) {
		ds, ok := d.dataset(o, temps, withColumns)
		if !ok {
			return graph.DatasetID{}, false
		}
		inScope = true
		g.AddDataset(ds)
		return ds.ID, true
	}
	var reads []graph.DatasetID
	for i := range direct {
		if id, ok := add(&direct[i], true); ok {
			reads = append(reads, id)
		}
	}
	for i := range modified {
		m := &modified[i]
		to, ok := add(m, true)
		if !ok {
			continue
		}
		for _, from := range reads {
			if from != to {
				g.AddEdge(from, to, ev)
			}
		}
		for _, c := range m.Columns {
			if c.ColumnName == "" {
				continue
			}
			toCol := graph.ColumnID{Dataset: to, Column: foldColumn(c.ColumnName)}
			for _, s := range c.DirectSources {
				src := accessObject{ObjectDomain: s.ObjectDomain, ObjectName: s.ObjectName}
				fromDS, ok := d.dataset(&src, temps, false)
				if !ok || s.ColumnName == "" {
					continue
				}
				fromDS.Columns = []graph.Column{{Name: foldColumn(s.ColumnName)}}
				g.AddDataset(fromDS)
				if fromDS.ID != to {
					g.AddEdge(fromDS.ID, to, ev)
				}
				g.AddColumnEdge(graph.ColumnEdgeID{
					From: graph.ColumnID{Dataset: fromDS.ID, Column: foldColumn(s.ColumnName)},
					To:   toCol, Type: graph.Direct, Subtype: graph.SubtypeTransformation,
				}, ev)
			}
		}
	}
	return inScope || (len(direct) == 0 && len(modified) == 0 && d.f.database(r.Database))
}

func parseObjects(j NullJSON) ([]accessObject, error) {
	if !j.Valid || strings.TrimSpace(j.Text) == "" {
		return nil, nil
	}
	var objs []accessObject
	if err := json.Unmarshal([]byte(j.Text), &objs); err != nil {
		return nil, fmt.Errorf("not a JSON array of objects: %v", err)
	}
	return objs, nil
}

// kindOf maps an ACCESS_HISTORY objectDomain to a dataset kind; ok is false
// for objects that hold no data (functions, procedures, policies).
func kindOf(domain string) (graph.Kind, bool) {
	switch strings.ToUpper(domain) {
	case "TABLE", "DYNAMIC TABLE", "ICEBERG TABLE", "HYBRID TABLE", "EVENT TABLE", "":
		return graph.KindTable, true
	case "VIEW", "MATERIALIZED VIEW", "SECURE VIEW":
		return graph.KindView, true
	case "EXTERNAL TABLE":
		return graph.KindExternal, true
	case "STAGE":
		return graph.KindStage, true
	case "STREAM":
		return graph.Kind("stream"), true
	}
	return "", false
}

// dataset returns the dataset for an access-history object, or false when
// the object holds no data or is outside the databases in scope.
func (d decoder) dataset(o *accessObject, temps map[string]string, withColumns bool) (graph.Dataset, bool) {
	kind, ok := kindOf(o.ObjectDomain)
	if !ok || o.ObjectName == "" {
		return graph.Dataset{}, false
	}
	name := foldName(o.ObjectName)
	if !d.f.database(firstPart(name)) {
		return graph.Dataset{}, false
	}
	ds := graph.Dataset{Platform: graph.Snowflake, Kind: kind}
	if kind == graph.KindStage {
		name = "@" + name
		ds.Properties = map[string]string{}
		if o.Location != "" {
			ds.Properties["location"] = o.Location
		}
		if o.StageKind != "" {
			ds.Properties["stage_kind"] = o.StageKind
		}
	} else if session, ok := temps[name]; ok {
		ds = d.tempDataset(name, session)
	}
	ds.ID = graph.DatasetID{Namespace: d.ns, Name: name}
	if withColumns {
		for _, c := range o.Columns {
			if c.ColumnName != "" {
				ds.Columns = append(ds.Columns, graph.Column{Name: foldColumn(c.ColumnName)})
			}
		}
	}
	return ds, true
}

// foldName canonicalises a dotted Snowflake name: unquoted parts upper
// case, quoted parts as written without their quotes, joined as
// graph.JoinName joins them (the name sqlparse's tables get), so that a
// part with a dot or a quote stays one part.
func foldName(s string) string {
	if !strings.ContainsRune(s, '"') {
		return strings.ToUpper(s)
	}
	return graph.JoinName(foldParts(s)...)
}

// foldColumn canonicalises a column name like a part of foldName; a column
// name is one identifier, so it is not quoted again.
func foldColumn(s string) string {
	if !strings.ContainsRune(s, '"') {
		return strings.ToUpper(s)
	}
	return strings.Join(foldParts(s), ".")
}

// foldParts folds the parts of a name that has quotes.
func foldParts(s string) []string {
	parts, err := graph.SplitName(s)
	if err != nil {
		return []string{s}
	}
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = graph.Fold(graph.Snowflake, p.Text, p.Quoted)
	}
	return out
}

// firstPart returns the database of a DB.SCHEMA.NAME (or @DB.SCHEMA.NAME),
// a canonical name whose parts may be quoted by graph.JoinName.
func firstPart(name string) string {
	name = strings.TrimPrefix(name, "@")
	if parts, err := graph.SplitName(name); err == nil {
		return parts[0].Text
	}
	db, _, _ := strings.Cut(name, ".")
	return db
}

// createTempTable reports whether sql starts with CREATE [OR REPLACE]
// [LOCAL|GLOBAL] TEMP|TEMPORARY|VOLATILE TABLE, and returns the table's
// name qualified with the session's database and schema. This is a
// keyword check on the statement's first words, not a parse: it only
// decides which datasets are session temp tables.
func createTempTable(sql, db, schema string) (string, bool) {
	s := sqlWords{s: sql}
	if !s.keyword("CREATE") {
		return "", false
	}
	if s.keyword("OR") && !s.keyword("REPLACE") {
		return "", false
	}
	if !s.keyword("LOCAL") {
		s.keyword("GLOBAL")
	}
	if !s.keyword("TEMPORARY") && !s.keyword("TEMP") && !s.keyword("VOLATILE") {
		return "", false
	}
	if !s.keyword("TABLE") {
		return "", false
	}
	if s.keyword("IF") && !(s.keyword("NOT") && s.keyword("EXISTS")) {
		return "", false
	}
	parts := s.name()
	switch len(parts) {
	case 1:
		parts = []string{db, schema, parts[0]}
	case 2:
		parts = []string{db, parts[0], parts[1]}
	case 3:
	default:
		return "", false
	}
	// Without a session database or schema (generic exports) the name
	// stays as qualified as the statement wrote it, which is how a parser
	// given the same empty defaults names it.
	var q []string
	for _, p := range parts {
		if p != "" {
			q = append(q, p)
		}
	}
	return graph.JoinName(q...), true
}

// sqlWords walks the first words of a statement, skipping blanks and
// comments.
type sqlWords struct {
	s string
	i int
}

func (w *sqlWords) skip() {
	for w.i < len(w.s) {
		switch c := w.s[w.i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			w.i++
		case strings.HasPrefix(w.s[w.i:], "--") || strings.HasPrefix(w.s[w.i:], "//"):
			if j := strings.IndexByte(w.s[w.i:], '\n'); j >= 0 {
				w.i += j + 1
			} else {
				w.i = len(w.s)
			}
		case strings.HasPrefix(w.s[w.i:], "/*"):
			if j := strings.Index(w.s[w.i+2:], "*/"); j >= 0 {
				w.i += j + 4
			} else {
				w.i = len(w.s)
			}
		default:
			return
		}
	}
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// keyword consumes the next word if it is kw (any case).
func (w *sqlWords) keyword(kw string) bool {
	w.skip()
	j := w.i
	for j < len(w.s) && isIdentByte(w.s[j]) {
		j++
	}
	if strings.EqualFold(w.s[w.i:j], kw) {
		w.i = j
		return true
	}
	return false
}

// name consumes a dotted identifier: unquoted parts upper-cased, quoted
// parts as written.
func (w *sqlWords) name() []string {
	var parts []string
	for {
		w.skip()
		if w.i >= len(w.s) {
			return parts
		}
		if w.s[w.i] == '"' {
			var b strings.Builder
			j := w.i + 1
			for j < len(w.s) {
				if w.s[j] == '"' {
					if j+1 < len(w.s) && w.s[j+1] == '"' {
						b.WriteByte('"')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(w.s[j])
				j++
			}
			if j >= len(w.s) {
				return nil
			}
			parts = append(parts, b.String())
			w.i = j + 1
		} else {
			j := w.i
			for j < len(w.s) && isIdentByte(w.s[j]) {
				j++
			}
			if j == w.i {
				return nil
			}
			parts = append(parts, strings.ToUpper(w.s[w.i:j]))
			w.i = j
		}
		w.skip()
		if w.i < len(w.s) && w.s[w.i] == '.' {
			w.i++
			continue
		}
		return parts
	}
}
