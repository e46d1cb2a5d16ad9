package snowflake

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"
)

// record is one row of an export file, in either of its two forms:
//
//   - raw: one logged query (QUERY_ID, START_TIME, ...), as a plain
//     QUERY_HISTORY ⋈ ACCESS_HISTORY export gives;
//   - deduplicated: one query shape per bucket (QUERY_COUNT,
//     FIRST_QUERY_ID, ...), as the export query in docs/snowflake.md gives.
type record struct {
	QueryID      string
	Start        time.Time
	ParamHash    string
	QueryHash    string
	RootHash     string
	Bucket       time.Time
	Count        int64
	FirstQueryID string
	LastQueryID  string
	FirstStart   time.Time
	LastStart    time.Time
	Text         string
	Type         string
	Database     string
	Schema       string
	User         string
	Role         string
	Warehouse    string
	SessionID    string
	RootQueryID  string
	Tag          string
	Status       string
	Direct       NullJSON
	Base         NullJSON
	Modified     NullJSON
}

// row turns a record into a Row (Count 1 for a raw record).
func (r *record) row() Row {
	row := Row{
		Hash:     shape(r.ParamHash, r.QueryHash, r.Text),
		RootHash: r.RootHash,
		Bucket:   r.Bucket,
		Count:    r.Count, FirstQueryID: r.FirstQueryID, LastQueryID: r.LastQueryID,
		FirstStart: r.FirstStart, LastStart: r.LastStart,
		QueryText: r.Text, QueryType: strings.ToUpper(r.Type), Database: r.Database, Schema: r.Schema,
		User: r.User, Role: r.Role, Warehouse: r.Warehouse, SessionID: r.SessionID,
		RootQueryID: r.RootQueryID, QueryTag: r.Tag, ExecutionStatus: strings.ToUpper(r.Status),
		DirectObjectsAccessed: r.Direct, BaseObjectsAccessed: r.Base, ObjectsModified: r.Modified,
	}
	if row.Count <= 0 {
		row.Count = 1
	}
	if row.FirstQueryID == "" {
		row.FirstQueryID = r.QueryID
	}
	if row.LastQueryID == "" {
		row.LastQueryID = row.FirstQueryID
	}
	if row.FirstStart.IsZero() {
		row.FirstStart = r.Start
	}
	if row.LastStart.IsZero() {
		row.LastStart = row.FirstStart
	}
	return row
}

// field identifies a column of an export.
type field int

const (
	fNone field = iota
	fQueryID
	fStart
	fParamHash
	fQueryHash
	fRootHash
	fBucket
	fCount
	fFirstQueryID
	fLastQueryID
	fFirstStart
	fLastStart
	fText
	fType
	fDatabase
	fSchema
	fUser
	fRole
	fWarehouse
	fSessionID
	fRootQueryID
	fTag
	fStatus
	fDirect
	fBase
	fModified
)

// fieldOf maps a column name (any case) to its field. Besides
// Snowflake's own names it accepts the short names of generic query-log
// exports (query, timestamp, user, database).
func fieldOf(name string) field {
	switch strings.ToUpper(strings.TrimSpace(name)) {
	case "QUERY_ID":
		return fQueryID
	case "START_TIME", "TIMESTAMP", "QUERY_START_TIME":
		return fStart
	case "QUERY_PARAMETERIZED_HASH":
		return fParamHash
	case "QUERY_HASH":
		return fQueryHash
	case "ROOT_QUERY_HASH":
		return fRootHash
	case "BUCKET":
		return fBucket
	case "QUERY_COUNT":
		return fCount
	case "FIRST_QUERY_ID":
		return fFirstQueryID
	case "LAST_QUERY_ID":
		return fLastQueryID
	case "FIRST_START_TIME":
		return fFirstStart
	case "LAST_START_TIME":
		return fLastStart
	case "QUERY_TEXT", "QUERY", "SQL":
		return fText
	case "QUERY_TYPE":
		return fType
	case "DATABASE_NAME", "DATABASE":
		return fDatabase
	case "SCHEMA_NAME", "SCHEMA":
		return fSchema
	case "USER_NAME", "USER":
		return fUser
	case "ROLE_NAME":
		return fRole
	case "WAREHOUSE_NAME":
		return fWarehouse
	case "SESSION_ID":
		return fSessionID
	case "ROOT_QUERY_ID":
		return fRootQueryID
	case "QUERY_TAG":
		return fTag
	case "EXECUTION_STATUS":
		return fStatus
	case "DIRECT_OBJECTS_ACCESSED":
		return fDirect
	case "BASE_OBJECTS_ACCESSED":
		return fBase
	case "OBJECTS_MODIFIED":
		return fModified
	}
	return fNone
}

// set stores a text value (CSV cell, or a JSON scalar rendered as text)
// into r. null says the value was SQL NULL.
func (r *record) set(f field, v string, null bool) error {
	var err error
	switch f {
	case fQueryID:
		r.QueryID = v
	case fStart:
		r.Start, err = parseTime(v)
	case fParamHash:
		r.ParamHash = v
	case fQueryHash:
		r.QueryHash = v
	case fRootHash:
		r.RootHash = v
	case fBucket:
		r.Bucket, err = parseTime(v)
	case fCount:
		if v != "" {
			r.Count, err = strconv.ParseInt(v, 10, 64)
		}
	case fFirstQueryID:
		r.FirstQueryID = v
	case fLastQueryID:
		r.LastQueryID = v
	case fFirstStart:
		r.FirstStart, err = parseTime(v)
	case fLastStart:
		r.LastStart, err = parseTime(v)
	case fText:
		r.Text = v
	case fType:
		r.Type = v
	case fDatabase:
		r.Database = v
	case fSchema:
		r.Schema = v
	case fUser:
		r.User = v
	case fRole:
		r.Role = v
	case fWarehouse:
		r.Warehouse = v
	case fSessionID:
		r.SessionID = v
	case fRootQueryID:
		r.RootQueryID = v
	case fTag:
		r.Tag = v
	case fStatus:
		r.Status = v
	case fDirect:
		r.Direct = NullJSON{Text: v, Valid: !null}
	case fBase:
		r.Base = NullJSON{Text: v, Valid: !null}
	case fModified:
		r.Modified = NullJSON{Text: v, Valid: !null}
	}
	return err
}

// timeLayouts are the timestamp spellings seen in Snowflake exports:
// Snowsight/SnowSQL's default TIMESTAMP_LTZ output, ISO 8601 with or
// without zone, and a plain date-time (taken as UTC).
func timeLayouts() []string {
	return []string{
		time.RFC3339Nano,
		"2006-01-02 15:04:05.999999999 -0700",
		"2006-01-02 15:04:05.999999999 -07:00",
		"2006-01-02 15:04:05.999999999Z07:00",
		"2006-01-02T15:04:05.999999999",
		"2006-01-02 15:04:05.999999999",
		"2006-01-02",
	}
}

// parseTime parses an export timestamp: one of timeLayouts, or a number of
// seconds (or milliseconds, microseconds, nanoseconds, told apart by size)
// since the epoch, as Snowflake's JSON rowsets and some exports write it.
func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if c := s[0]; c >= '0' && c <= '9' && !strings.ContainsAny(s, "-:T ") {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("bad timestamp %q", s)
		}
		return epoch(s, f), nil
	}
	for _, l := range timeLayouts() {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("bad timestamp %q (want ISO 8601, \"2006-01-02 15:04:05.000 -0700\" or epoch seconds)", s)
}

// epoch converts a number of seconds, milliseconds, microseconds or
// nanoseconds since the epoch. Seconds with a fraction are parsed exactly
// from the text, not through the float.
func epoch(s string, f float64) time.Time {
	switch {
	case f >= 1e17:
		n, _ := strconv.ParseInt(s, 10, 64)
		return time.Unix(0, n).UTC()
	case f >= 1e14:
		return time.UnixMicro(int64(f)).UTC()
	case f >= 1e11:
		return time.UnixMilli(int64(f)).UTC()
	}
	sec, frac, _ := strings.Cut(s, ".")
	n, _ := strconv.ParseInt(sec, 10, 64)
	var ns int64
	if frac != "" {
		frac = (frac + "000000000")[:9]
		ns, _ = strconv.ParseInt(frac, 10, 64)
	}
	return time.Unix(n, ns).UTC()
}

// exportReader streams the records of an export file.
type exportReader struct {
	name string // for messages
	next func(*record) (line int, err error)
}

// newExportReader detects the format of r (gzip is undone first; JSON
// lines when the first non-blank byte is '{', CSV with a header row
// otherwise) and returns a reader over its records.
func newExportReader(name string, r io.Reader) (*exportReader, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	if b, err := br.Peek(2); err == nil && b[0] == 0x1f && b[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		br = bufio.NewReaderSize(zr, 1<<20)
	}
	first := byte(0)
	for i := 1; ; i++ {
		b, err := br.Peek(i)
		if err != nil {
			break // empty or all blank: CSV reader reports no header
		}
		if c := b[i-1]; c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != 0xEF && c != 0xBB && c != 0xBF {
			first = c
			break
		}
	}
	if first == '{' {
		return jsonLinesReader(name, br), nil
	}
	return csvReader(name, br)
}

func jsonLinesReader(name string, br *bufio.Reader) *exportReader {
	line := 0
	var buf []byte
	er := &exportReader{name: name}
	er.next = func(rec *record) (int, error) {
		for {
			b, err := br.ReadSlice('\n')
			if errors.Is(err, bufio.ErrBufferFull) {
				// a line longer than the buffer: gather it
				buf = append(buf[:0], b...)
				for errors.Is(err, bufio.ErrBufferFull) {
					b, err = br.ReadSlice('\n')
					buf = append(buf, b...)
				}
				b = buf
			}
			if err != nil && !errors.Is(err, io.EOF) {
				return line, fmt.Errorf("%s:%d: %w", name, line+1, err)
			}
			if len(b) == 0 && errors.Is(err, io.EOF) {
				return line, io.EOF
			}
			line++
			if len(bytes.TrimSpace(b)) == 0 {
				if errors.Is(err, io.EOF) {
					return line, io.EOF
				}
				continue
			}
			// gjson walks the line once without building a map: the
			// export is the hot path of a scheduled job. Only a bad line
			// pays for encoding/json, for its error message.
			if !gjson.ValidBytes(b) {
				var probe any
				jerr := json.Unmarshal(b, &probe)
				if jerr == nil {
					jerr = errors.New("invalid JSON")
				}
				return line, fmt.Errorf("%s:%d: %v", name, line, jerr)
			}
			doc := gjson.ParseBytes(b)
			if !doc.IsObject() {
				return line, fmt.Errorf("%s:%d: want one JSON object per line, found %s", name, line, doc.Type)
			}
			*rec = record{}
			var verr error
			doc.ForEach(func(k, v gjson.Result) bool {
				f := fieldOf(k.Str)
				if f == fNone {
					return true
				}
				text, null := gjsonText(v)
				if err := rec.set(f, text, null); err != nil {
					verr = fmt.Errorf("%s:%d: %s: %v", name, line, strings.ToUpper(k.Str), err)
					return false
				}
				return true
			})
			if verr != nil {
				return line, verr
			}
			return line, nil
		}
	}
	return er
}

// gjsonText renders a JSON value as the text a CSV cell would hold, like
// jsonText.
func gjsonText(v gjson.Result) (string, bool) {
	switch v.Type {
	case gjson.Null:
		return "", true
	case gjson.String:
		return v.Str, false
	}
	return v.Raw, false
}

func csvReader(name string, br *bufio.Reader) (*exportReader, error) {
	cr := csv.NewReader(br)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true // "a", "b" as some exporters write it
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: empty export (want JSON lines or CSV with a header row)", name)
	}
	if err != nil {
		return nil, csvError(name, 0, err)
	}
	header = slices.Clone(header) // ReuseRecord overwrites it
	fields := make([]field, len(header))
	known := 0
	for i, h := range header {
		h = strings.TrimPrefix(h, "\uFEFF")
		fields[i] = fieldOf(h)
		if fields[i] != fNone {
			known++
		}
	}
	if !hasField(fields, fText) {
		return nil, fmt.Errorf("%s:1: header has no QUERY_TEXT column (got %s)", name, strings.Join(header, ", "))
	}
	er := &exportReader{name: name}
	line, _ := cr.FieldPos(0)
	er.next = func(rec *record) (int, error) {
		cells, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return line, io.EOF
		}
		if err != nil {
			// FieldPos panics after a failed Read
			return line, csvError(name, line, err)
		}
		line, _ = cr.FieldPos(0)
		*rec = record{}
		for i, c := range cells {
			if i >= len(fields) || fields[i] == fNone {
				continue
			}
			// CSV has no NULL: an empty cell is NULL, "[]" is an empty array.
			if err := rec.set(fields[i], c, c == ""); err != nil {
				return line, fmt.Errorf("%s:%d: %s: %v", name, line, strings.ToUpper(header[i]), err)
			}
		}
		return line, nil
	}
	return er, nil
}

// csvError locates a CSV read error compiler-style: "file:line:column: "
// for a syntax error, else "file:line: " with the line after the last
// record read (last).
func csvError(name string, last int, err error) error {
	if pe, ok := errors.AsType[*csv.ParseError](err); ok {
		return fmt.Errorf("%s:%d:%d: %v", name, pe.Line, pe.Column, pe.Err)
	}
	return fmt.Errorf("%s:%d: %w", name, last+1, err)
}

func hasField(fs []field, f field) bool { return slices.Contains(fs, f) }
