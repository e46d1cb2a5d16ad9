package snowflake

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
)

// Row is one query shape in one time bucket: the unit weft reads from
// Snowflake (deduplicated there) or builds from an export (deduplicated
// locally). A raw export row (one logged query) is a Row with Count 1 and
// the same first and last query.
type Row struct {
	Hash     string    // QUERY_PARAMETERIZED_HASH (or QUERY_HASH, or a hash of the text)
	RootHash string    // ROOT_QUERY_HASH: the shape of the CALL this query ran in, if any
	Bucket   time.Time // start of the chunk the row was counted in

	Count        int64
	FirstQueryID string
	LastQueryID  string
	FirstStart   time.Time
	LastStart    time.Time

	// Attributes of the first query of the bucket.
	QueryText       string
	QueryType       string
	Database        string
	Schema          string
	User            string
	Role            string
	Warehouse       string
	SessionID       string
	RootQueryID     string
	QueryTag        string
	ExecutionStatus string

	// ACCESS_HISTORY arrays as JSON text. NULL (no access history row, or a
	// Standard edition account) is Valid false, which is not the same as
	// an empty array.
	DirectObjectsAccessed NullJSON
	BaseObjectsAccessed   NullJSON
	ObjectsModified       NullJSON
}

// NullJSON is JSON text that may be SQL NULL.
type NullJSON struct {
	Text  string
	Valid bool
}

// shapeKey identifies a Row for deduplication.
type shapeKey struct {
	hash, rootHash, rootQueryID string
	bucket                      int64 // unix nanoseconds of the bucket start
}

// shape returns the deduplication hash of a query.
func shape(parameterizedHash, queryHash, text string) string {
	switch {
	case parameterizedHash != "":
		return parameterizedHash
	case queryHash != "":
		return queryHash
	}
	// Generic exports have no hash: fingerprint the text with whitespace
	// collapsed so re-indented copies of a query count as one shape.
	h := sha256.New()
	for i, f := range strings.Fields(text) {
		if i > 0 {
			h.Write([]byte{' '})
		}
		h.Write([]byte(f))
	}
	return "text:" + hex.EncodeToString(h.Sum(nil)[:16])
}

// before reports whether query (t, id) ran before (u, jd); ties on the
// start time break on the query id, as the SQL's ORDER key does.
func before(t time.Time, id string, u time.Time, jd string) bool {
	if !t.Equal(u) {
		return t.Before(u)
	}
	return id < jd
}

// merge folds o (same key) into r: counts add, the first query's
// attributes win.
func (r *Row) merge(o *Row) {
	r.Count += o.Count
	if before(o.FirstStart, o.FirstQueryID, r.FirstStart, r.FirstQueryID) {
		count, last, lastStart := r.Count, r.LastQueryID, r.LastStart
		*r = *o
		r.Count, r.LastQueryID, r.LastStart = count, last, lastStart
	}
	if before(r.LastStart, r.LastQueryID, o.LastStart, o.LastQueryID) {
		r.LastQueryID, r.LastStart = o.LastQueryID, o.LastStart
	}
}

// accessObject is one element of DIRECT_OBJECTS_ACCESSED,
// BASE_OBJECTS_ACCESSED or OBJECTS_MODIFIED.
type accessObject struct {
	ObjectDomain string         `json:"objectDomain"`
	ObjectName   string         `json:"objectName"`
	StageKind    string         `json:"stageKind"`
	Location     string         `json:"location"`
	Columns      []accessColumn `json:"columns"`
}

type accessColumn struct {
	ColumnName    string         `json:"columnName"`
	DirectSources []accessSource `json:"directSources"`
	BaseSources   []accessSource `json:"baseSources"`
}

type accessSource struct {
	ColumnName   string `json:"columnName"`
	ObjectDomain string `json:"objectDomain"`
	ObjectName   string `json:"objectName"`
}
