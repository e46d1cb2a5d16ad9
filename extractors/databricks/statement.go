package databricks

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/weftdata/weft/graph"
)

// Statement Execution API shapes (POST /api/2.0/sql/statements/, GET
// /api/2.0/sql/statements/{id}, GET .../result/chunks/{n}). weft decodes
// them itself instead of through the SDK's typed sql.ResultData, whose
// DataArray [][]string turns SQL NULL into "": for lineage a NULL target
// means "read only", which "" would hide.

type statementResponse struct {
	StatementID string          `json:"statement_id"`
	Status      statementStatus `json:"status"`
	Manifest    *resultManifest `json:"manifest,omitempty"`
	Result      *resultData     `json:"result,omitempty"`
}

type statementStatus struct {
	State string          `json:"state"` // PENDING, RUNNING, SUCCEEDED, FAILED, CANCELED, CLOSED
	Error *statementError `json:"error,omitempty"`
}

type statementError struct {
	ErrorCode string `json:"error_code"`
	Message   string `json:"message"`
}

type resultManifest struct {
	Format string `json:"format"`
	Schema struct {
		Columns []struct {
			Name     string `json:"name"`
			TypeName string `json:"type_name"`
			Position int    `json:"position"`
		} `json:"columns"`
	} `json:"schema"`
	TotalChunkCount int   `json:"total_chunk_count"`
	TotalRowCount   int64 `json:"total_row_count"`
	Truncated       bool  `json:"truncated"`
}

type resultData struct {
	ChunkIndex            int             `json:"chunk_index"`
	RowOffset             int64           `json:"row_offset"`
	RowCount              int64           `json:"row_count"`
	NextChunkIndex        *int            `json:"next_chunk_index,omitempty"`
	NextChunkInternalLink string          `json:"next_chunk_internal_link,omitempty"`
	DataArray             json.RawMessage `json:"data_array,omitempty"`
	ExternalLinks         []externalLink  `json:"external_links,omitempty"`

	dataOffset int // offset of DataArray in the response, for errors
}

type externalLink struct {
	ChunkIndex     int               `json:"chunk_index"`
	ExternalLink   string            `json:"external_link"`
	HTTPHeaders    map[string]string `json:"http_headers,omitempty"`
	NextChunkIndex *int              `json:"next_chunk_index,omitempty"`
}

// columns returns the result's column names in position order.
func (m *resultManifest) columns() []string {
	if m == nil {
		return nil
	}
	cols := make([]string, len(m.Schema.Columns))
	for i, c := range m.Schema.Columns {
		p := c.Position
		if p < 0 || p >= len(cols) || cols[p] != "" {
			p = i
		}
		cols[p] = c.Name
	}
	return cols
}

// eachRow calls fn for every row of a JSON_ARRAY data_array: an array of
// arrays of strings or nulls. The row slice and its strings are only valid
// during the call (strings point into a reused buffer only when escaped;
// otherwise they alias data). It is a hand-written scanner because
// encoding/json into [][]*string allocates per cell and was the
// bottleneck at a million rows.
func eachRow(data []byte, fn func(row [][]byte, null []bool) error) error {
	return eachRowAt(data, 0, fn)
}

// eachRowAt is eachRow for data found at offset base of a document.
func eachRowAt(data []byte, base int, fn func(row [][]byte, null []bool) error) error {
	s := scanner{b: data, base: base}
	s.ws()
	if s.eof() {
		return nil
	}
	if s.peek() == 'n' { // "data_array": null
		return s.lit("null")
	}
	if err := s.expect('['); err != nil {
		return err
	}
	var row [][]byte
	var null []bool
	s.ws()
	if !s.eof() && s.peek() == ']' {
		s.i++
		return nil
	}
	for n := 0; ; n++ {
		s.ws()
		if err := s.expect('['); err != nil {
			return fmt.Errorf("row %d: %w", n, err)
		}
		row, null = row[:0], null[:0]
		s.ws()
		if !s.eof() && s.peek() == ']' {
			s.i++
		} else {
			for {
				s.ws()
				v, isNull, err := s.value()
				if err != nil {
					return fmt.Errorf("row %d cell %d: %w", n, len(row), err)
				}
				row, null = append(row, v), append(null, isNull)
				s.ws()
				if s.eof() {
					return fmt.Errorf("row %d: unexpected end of data", n)
				}
				c := s.b[s.i]
				s.i++
				if c == ']' {
					break
				}
				if c != ',' {
					return fmt.Errorf("row %d: offset %d: expected , or ] but found %q", n, s.off()-1, c)
				}
			}
		}
		if err := fn(row, null); err != nil {
			return err
		}
		s.ws()
		if s.eof() {
			return errors.New("data_array: unexpected end of data")
		}
		c := s.b[s.i]
		s.i++
		if c == ']' {
			return nil
		}
		if c != ',' {
			return fmt.Errorf("data_array: offset %d: expected , or ] after row %d but found %q", s.off()-1, n, c)
		}
	}
}

type scanner struct {
	b    []byte
	i    int
	base int // offset of b in the document, for errors
}

func (s *scanner) off() int { return s.base + s.i }

func (s *scanner) eof() bool  { return s.i >= len(s.b) }
func (s *scanner) peek() byte { return s.b[s.i] }

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) expect(c byte) error {
	if s.eof() {
		return fmt.Errorf("unexpected end of data, expected %q", c)
	}
	if s.b[s.i] != c {
		return fmt.Errorf("offset %d: expected %q but found %q", s.off(), c, s.b[s.i])
	}
	s.i++
	return nil
}

func (s *scanner) lit(w string) error {
	if len(s.b)-s.i < len(w) || string(s.b[s.i:s.i+len(w)]) != w {
		return fmt.Errorf("offset %d: invalid literal", s.off())
	}
	s.i += len(w)
	return nil
}

// value scans a string, null, number or boolean cell. JSON_ARRAY results
// hold only strings and nulls; other scalars are returned as their text.
func (s *scanner) value() ([]byte, bool, error) {
	if s.eof() {
		return nil, false, errors.New("unexpected end of data")
	}
	switch c := s.b[s.i]; {
	case c == '"':
		start := s.i + 1
		for j := start; j < len(s.b); j++ {
			switch s.b[j] {
			case '"':
				s.i = j + 1
				return s.b[start:j], false, nil
			case '\\':
				return s.escaped()
			}
		}
		return nil, false, errors.New("unterminated string")
	case c == 'n':
		return nil, true, s.lit("null")
	case c == 't':
		return []byte("true"), false, s.lit("true")
	case c == 'f':
		return []byte("false"), false, s.lit("false")
	case c == '-' || c >= '0' && c <= '9':
		start := s.i
		for s.i < len(s.b) && (s.b[s.i] == '-' || s.b[s.i] == '+' || s.b[s.i] == '.' || s.b[s.i] == 'e' || s.b[s.i] == 'E' || s.b[s.i] >= '0' && s.b[s.i] <= '9') {
			s.i++
		}
		return s.b[start:s.i], false, nil
	default:
		return nil, false, fmt.Errorf("offset %d: unexpected %q (cells must be strings or null)", s.off(), c)
	}
}

// escaped decodes a string with escapes through encoding/json (rare: names
// with quotes or backslashes).
func (s *scanner) escaped() ([]byte, bool, error) {
	start := s.i
	j := start + 1
	for ; j < len(s.b); j++ {
		if s.b[j] == '\\' {
			j++
			continue
		}
		if s.b[j] == '"' {
			break
		}
	}
	if j >= len(s.b) {
		return nil, false, errors.New("unterminated string")
	}
	var str string
	if err := json.Unmarshal(s.b[start:j+1], &str); err != nil {
		return nil, false, fmt.Errorf("offset %d: %v", s.base+start, err)
	}
	s.i = j + 1
	return []byte(str), false, nil
}

// skipValue moves past one JSON value of any kind. It checks structure
// (brackets, quotes) but not every token: values it skips are validated
// when they are decoded.
func (s *scanner) skipValue() error {
	s.ws()
	if s.eof() {
		return errors.New("unexpected end of data")
	}
	switch c := s.b[s.i]; c {
	case '{', '[':
		depth := 0
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					s.i++
					return nil
				}
			case '"':
				if _, _, err := s.value(); err != nil {
					return err
				}
				continue
			}
			s.i++
		}
		return errors.New("unexpected end of data")
	default:
		_, _, err := s.value()
		return err
	}
}

// objectFields splits a JSON object into its top-level keys and the raw
// bytes of their values, without decoding them. It lets large arrays
// (data_array) skip encoding/json, which validates and copies every byte.
func objectFields(data []byte) (map[string][]byte, error) {
	s := scanner{b: data}
	s.ws()
	if !s.eof() && s.b[s.i] == 0xef { // UTF-8 BOM
		s.i += 3
		s.ws()
	}
	if err := s.expect('{'); err != nil {
		return nil, err
	}
	fields := map[string][]byte{}
	s.ws()
	if !s.eof() && s.peek() == '}' {
		s.i++
		return fields, nil
	}
	for {
		s.ws()
		if s.eof() || s.peek() != '"' {
			return nil, fmt.Errorf("offset %d: expected an object key", s.i)
		}
		k, _, err := s.value()
		if err != nil {
			return nil, err
		}
		key := string(k)
		s.ws()
		if err := s.expect(':'); err != nil {
			return nil, err
		}
		s.ws()
		start := s.i
		if err := s.skipValue(); err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		fields[key] = data[start:s.i]
		s.ws()
		if s.eof() {
			return nil, errors.New("unexpected end of data")
		}
		c := s.b[s.i]
		s.i++
		if c == '}' {
			break
		}
		if c != ',' {
			return nil, fmt.Errorf("offset %d: expected , or } but found %q", s.i-1, c)
		}
	}
	s.ws()
	if !s.eof() {
		return nil, fmt.Errorf("offset %d: data after the object", s.i)
	}
	return fields, nil
}

// decodeResultData decodes a result chunk: small fields through
// encoding/json, data_array kept raw for eachRow.
func decodeResultData(where string, data []byte, base int) (*resultData, error) {
	fields, err := objectFields(data)
	if err != nil {
		// Let encoding/json locate the syntax error.
		var rd resultData
		if uerr := unmarshal(where, data, &rd); uerr != nil {
			return nil, uerr
		}
		return nil, fmt.Errorf("%s: %v", where, err)
	}
	rows := fields["data_array"]
	delete(fields, "data_array")
	var rd resultData
	if len(fields) > 0 {
		small, _ := json.Marshal(rawFields(fields))
		if err := unmarshal(where, small, &rd); err != nil {
			return nil, err
		}
	}
	rd.DataArray = rows
	if rows != nil {
		// rows is a subslice of data: its offset is the difference of caps.
		rd.dataOffset = base + cap(data) - cap(rows)
	}
	return &rd, nil
}

// rawFields marshals back into an object of raw values.
type rawFields map[string][]byte

func (r rawFields) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, k := range slices.Sorted(maps.Keys(r)) {
		v := r[k]
		if i > 0 {
			b = append(b, ',')
		}
		kb, _ := json.Marshal(k)
		b = append(b, kb...)
		b = append(b, ':')
		b = append(b, v...)
	}
	return append(b, '}'), nil
}

// lineageKindTable and lineageKindColumn name the two system tables.
const (
	lineageTable  = "table_lineage"
	lineageColumn = "column_lineage"
)

// lineageCols holds the positions of the columns weft reads from a
// lineage result, -1 when absent. Columns are found by name, so exports
// of SELECT * decode as well as weft's own aggregated query.
type lineageCols struct {
	srcTable, srcPath, srcType, srcCol    int
	tgtTable, tgtPath, tgtType, tgtCol    int
	entityType, entityID, entityRunID     int
	jobID, jobRunID, eventTime, firstSeen int
	lastSeen, eventCount, entityMetadata  int
}

func newLineageCols(names []string) lineageCols {
	c := lineageCols{-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1}
	for i, n := range names {
		p := map[string]*int{
			"source_table_full_name": &c.srcTable, "source_path": &c.srcPath, "source_type": &c.srcType,
			"source_column_name": &c.srcCol, "target_table_full_name": &c.tgtTable, "target_path": &c.tgtPath,
			"target_type": &c.tgtType, "target_column_name": &c.tgtCol, "entity_type": &c.entityType,
			"entity_id": &c.entityID, "entity_run_id": &c.entityRunID, "job_id": &c.jobID,
			"job_run_id": &c.jobRunID, "event_time": &c.eventTime, "first_seen": &c.firstSeen,
			"last_seen": &c.lastSeen, "event_count": &c.eventCount, "entity_metadata": &c.entityMetadata,
		}[n]
		if p != nil {
			*p = i
		}
	}
	return c
}

// lineageDecoder turns rows of one lineage result into graph edges.
type lineageDecoder struct {
	d     *decoder
	g     *graph.Graph
	kind  string // lineageTable or lineageColumn
	cols  lineageCols
	where string // "system.access.column_lineage" for errors
	times map[string]time.Time
	rows  int64
	// Counters for the batch's findings.
	readOnly, noSource int64
}

func (d *decoder) newLineageDecoder(g *graph.Graph, kind string, columns []string) (*lineageDecoder, error) {
	ld := &lineageDecoder{d: d, g: g, kind: kind, cols: newLineageCols(columns),
		where: "system.access." + kind, times: map[string]time.Time{}}
	c := ld.cols
	if c.srcTable < 0 && c.srcPath < 0 || c.tgtTable < 0 && c.tgtPath < 0 {
		return nil, fmt.Errorf("%s: result has no source_table_full_name/source_path or target_table_full_name/target_path column (columns: %v)", ld.where, columns)
	}
	if kind == lineageColumn && (c.srcCol < 0 || c.tgtCol < 0) {
		return nil, fmt.Errorf("%s: result has no source_column_name/target_column_name column (columns: %v)", ld.where, columns)
	}
	return ld, nil
}

func cell(row [][]byte, null []bool, i int) ([]byte, bool) {
	if i < 0 || i >= len(row) || null[i] || len(row[i]) == 0 {
		return nil, false
	}
	return row[i], true
}

// parseTime reads the ISO-8601 timestamps the API returns
// ("2024-11-25T14:00:59.123Z"), caching by text: a chunk repeats them.
func (ld *lineageDecoder) parseTime(b []byte) (time.Time, error) {
	if t, ok := ld.times[string(b)]; ok {
		return t, nil
	}
	s := string(b)
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		// Databricks SQL also renders "2024-11-25 14:00:59.123".
		t, err = time.Parse("2006-01-02 15:04:05.999999999", s)
		if err != nil {
			return time.Time{}, fmt.Errorf("bad timestamp %q", s)
		}
	}
	t = t.UTC()
	if len(ld.times) > 1<<16 {
		clear(ld.times)
	}
	ld.times[s] = t
	return t, nil
}

// entityMeta is entity_metadata when a result carries it as a JSON object.
type entityMeta struct {
	JobInfo *struct {
		JobID    json.Number `json:"job_id"`
		JobRunID json.Number `json:"job_run_id"`
	} `json:"job_info"`
	DLTPipelineInfo *struct {
		PipelineID string `json:"dlt_pipeline_id"`
		UpdateID   string `json:"dlt_update_id"`
	} `json:"dlt_pipeline_info"`
}

// entity returns the job and run a lineage row was recorded in.
func (ld *lineageDecoder) entity(row [][]byte, null []bool) (graph.JobID, string) {
	d, c := ld.d, ld.cols
	typ, _ := cell(row, null, c.entityType)
	id, _ := cell(row, null, c.entityID)
	runID, _ := cell(row, null, c.entityRunID)
	jobID, _ := cell(row, null, c.jobID)
	jobRunID, _ := cell(row, null, c.jobRunID)
	if meta, ok := cell(row, null, c.entityMetadata); ok && len(jobID) == 0 {
		var m entityMeta
		if json.Unmarshal(meta, &m) == nil && m.JobInfo != nil {
			jobID, jobRunID = []byte(m.JobInfo.JobID.String()), []byte(m.JobInfo.JobRunID.String())
		}
	}
	// A row recorded inside a job run (any entity type) belongs to that
	// run; the run is known from the Jobs API when it is in the window.
	if len(jobRunID) > 0 || string(typ) == "JOB" && len(runID) > 0 {
		run := jobRunID
		if len(run) == 0 {
			run = runID
		}
		r := d.intern(run)
		if j, ok := d.runJobs[r]; ok {
			return j, r
		}
		jid := jobID
		if len(jid) == 0 && string(typ) == "JOB" {
			jid = id
		}
		if len(jid) > 0 {
			j := graph.JobID{Namespace: d.ns, Name: d.intern(append([]byte("jobs/"), jid...))}
			return j, r
		}
		return graph.JobID{}, r
	}
	if len(id) == 0 {
		return graph.JobID{}, d.intern(runID)
	}
	var prefix string
	switch string(typ) {
	case "JOB":
		prefix = "jobs/"
	case "NOTEBOOK":
		prefix = "notebooks/"
	case "PIPELINE":
		prefix = "pipelines/"
	case "DBSQL_QUERY":
		prefix = "queries/"
	case "DASHBOARD_V3", "DBSQL_DASHBOARD":
		prefix = "dashboards/"
	default:
		prefix = lowerName(string(typ)) + "/"
	}
	return graph.JobID{Namespace: d.ns, Name: d.intern(append([]byte(prefix), id...))}, d.intern(runID)
}

func entityJobType(name string) string {
	switch {
	case len(name) > 5 && name[:5] == "jobs/":
		return jobTypeJob
	case len(name) > 10 && name[:10] == "notebooks/":
		return jobTypeNotebook
	case len(name) > 10 && name[:10] == "pipelines/":
		return jobTypePipeline
	case len(name) > 8 && name[:8] == "queries/":
		return jobTypeQuery
	case len(name) > 11 && name[:11] == "dashboards/":
		return jobTypeDashboard
	}
	return "databricks_entity"
}

// endpoint returns the dataset at one end of a lineage row: a table, or a
// storage path when the table is NULL.
func (ld *lineageDecoder) endpoint(row [][]byte, null []bool, tableCol, pathCol, typeCol int) (graph.DatasetID, graph.Kind, bool) {
	if t, ok := cell(row, null, tableCol); ok {
		typ, _ := cell(row, null, typeCol)
		return graph.DatasetID{Namespace: ld.d.ns, Name: ld.d.internString(lowerName(ld.d.intern(t)))}, lineageKind(string(typ)), true
	}
	if p, ok := cell(row, null, pathCol); ok {
		return pathDataset(ld.d.intern(p)), graph.KindStage, true
	}
	return graph.DatasetID{}, "", false
}

// row decodes one lineage row into the graph.
func (ld *lineageDecoder) row(row [][]byte, null []bool) error {
	ld.rows++
	d, g, c := ld.d, ld.g, ld.cols
	src, srcKind, okS := ld.endpoint(row, null, c.srcTable, c.srcPath, c.srcType)
	tgt, tgtKind, okT := ld.endpoint(row, null, c.tgtTable, c.tgtPath, c.tgtType)
	switch {
	case !okT:
		// A pure read: the dataset exists, no edge.
		ld.readOnly++
		if okS {
			ld.ensure(src, srcKind)
		}
		return nil
	case !okS:
		ld.noSource++
		ld.ensure(tgt, tgtKind)
		return nil
	}
	job, run := ld.entity(row, null)
	ev := graph.Evidence{Extractor: extractorName, Method: MethodUnityCatalog, Job: job, Count: 1, Confidence: 1}
	if run != "" {
		ev.Origin = d.runOrigin(run)
	} else if !job.IsZero() {
		ev.Origin = "databricks " + job.Name
	} else {
		ev.Origin = "databricks unity catalog"
	}
	var first, last time.Time
	if b, ok := cell(row, null, c.firstSeen); ok {
		t, err := ld.parseTime(b)
		if err != nil {
			return fmt.Errorf("first_seen: %w", err)
		}
		first = t
	}
	if b, ok := cell(row, null, c.lastSeen); ok {
		t, err := ld.parseTime(b)
		if err != nil {
			return fmt.Errorf("last_seen: %w", err)
		}
		last = t
	}
	if b, ok := cell(row, null, c.eventTime); ok {
		t, err := ld.parseTime(b)
		if err != nil {
			return fmt.Errorf("event_time: %w", err)
		}
		first, last = t, t
	}
	if first.IsZero() {
		first = last
	}
	if last.IsZero() {
		last = first
	}
	ev.FirstSeen, ev.LastSeen = first, last
	if b, ok := cell(row, null, c.eventCount); ok {
		n, err := strconv.ParseInt(string(b), 10, 64)
		if err != nil {
			return fmt.Errorf("event_count: bad number %q", b)
		}
		ev.Count = n
	}
	ld.ensure(src, srcKind)
	ld.ensure(tgt, tgtKind)
	if !job.IsZero() {
		if _, ok := g.Jobs[job]; !ok {
			g.AddJob(graph.Job{ID: job, Type: entityJobType(job.Name)})
		}
	}
	ensureRun(g, run, job)

	if ld.kind == lineageTable {
		g.AddEdge(src, tgt, ev)
		return nil
	}
	sc, ok1 := cell(row, null, c.srcCol)
	tc, ok2 := cell(row, null, c.tgtCol)
	if !ok1 || !ok2 {
		ld.noSource++
		return nil
	}
	ev.Method = MethodUnityCatalogColumns
	g.AddColumnEdge(graph.ColumnEdgeID{
		From:    graph.ColumnID{Dataset: src, Column: d.internString(lowerName(d.intern(sc)))},
		To:      graph.ColumnID{Dataset: tgt, Column: d.internString(lowerName(d.intern(tc)))},
		Type:    graph.Direct,
		Subtype: graph.SubtypeTransformation,
	}, ev)
	return nil
}

func (ld *lineageDecoder) ensure(id graph.DatasetID, k graph.Kind) {
	if id.Namespace == ld.d.ns {
		ld.d.ensureTable(ld.g, id, k)
		return
	}
	ensureDataset(ld.g, id, graph.Stage, graph.KindStage)
}

// decodeChunk decodes one result chunk's rows.
func (ld *lineageDecoder) decodeChunk(rd *resultData) error {
	if rd == nil {
		return nil
	}
	n := 0
	err := eachRowAt(rd.DataArray, rd.dataOffset, func(row [][]byte, null []bool) error {
		n++
		if err := ld.row(row, null); err != nil {
			return fmt.Errorf("row %d: %w", rd.RowOffset+int64(n)-1, err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s chunk %d: %w", ld.where, rd.ChunkIndex, err)
	}
	return nil
}

// findings reports rows that gave no edge, so totals are never hidden.
func (ld *lineageDecoder) findings() []graph.Finding {
	var fs []graph.Finding
	if ld.readOnly > 0 {
		fs = append(fs, graph.Finding{Severity: graph.SeverityInfo, Code: "read_only_lineage",
			Location: ld.where, Message: fmt.Sprintf("%d of %d rows record a read without a target (no edge)", ld.readOnly, ld.rows)})
	}
	if ld.noSource > 0 {
		fs = append(fs, graph.Finding{Severity: graph.SeverityInfo, Code: "write_without_source",
			Location: ld.where, Message: fmt.Sprintf("%d of %d rows record a write without a source table or column (no edge)", ld.noSource, ld.rows)})
	}
	return fs
}
