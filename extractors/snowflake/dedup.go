package snowflake

import (
	"cmp"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

// window is the time range of a run and how it is cut into chunks.
type window struct {
	from, to time.Time // either may be zero (offline: open)
	size     time.Duration
	loc      *time.Location
}

// aligned returns the chunk boundary at or before t: a multiple of size in
// the window's time zone (midnight for a day).
func (w window) aligned(t time.Time) time.Time {
	_, off := t.In(w.loc).Zone()
	d := time.Duration(off) * time.Second
	return t.Add(d).Truncate(w.size).Add(-d)
}

// chunkStart returns the start of the chunk holding t.
func (w window) chunkStart(t time.Time) time.Time {
	s := w.aligned(t)
	if !w.from.IsZero() && s.Before(w.from) {
		s = w.from
	}
	return s
}

// chunkEnd returns the end of the chunk starting at start.
func (w window) chunkEnd(start time.Time) time.Time {
	e := w.aligned(start).Add(w.size)
	if !w.to.IsZero() && e.After(w.to) {
		e = w.to
	}
	return e
}

// contains reports whether t is inside the window.
func (w window) contains(t time.Time) bool {
	return (w.from.IsZero() || !t.Before(w.from)) && (w.to.IsZero() || t.Before(w.to))
}

// chunks returns the chunks of [from, to); both must be set.
func (w window) chunks() [][2]time.Time {
	var out [][2]time.Time
	for s := w.from; s.Before(w.to); {
		e := w.chunkEnd(s)
		out = append(out, [2]time.Time{s, e})
		s = e
	}
	return out
}

// chunk is the rows of one time chunk, deduplicated and sorted.
type chunk struct {
	start, end time.Time
	rows       []Row
}

// dedup deduplicates raw export rows locally, the way the history query
// does inside Snowflake: one Row per query shape (and stored procedure)
// per chunk. Memory grows with the number of shapes per chunk, not with
// the number of logged queries.
type dedup struct {
	w      window
	f      filter
	types  map[string]bool
	chunks map[int64]*chunkAgg

	Read, Kept int64 // logged queries read and kept (Count-weighted)
}

type chunkAgg struct {
	start time.Time
	rows  map[shapeKey]*Row
	calls map[string]string // CALL query id → its shape
}

func newDedup(w window, f filter, types []string) *dedup {
	d := &dedup{w: w, f: f, types: map[string]bool{}, chunks: map[int64]*chunkAgg{}}
	for _, t := range types {
		d.types[t] = true
	}
	return d
}

// keep applies the filters the history query applies in Snowflake:
// successful statements of the types in scope, by users in scope, inside
// the window. Generic exports without a type or status are kept.
func (d *dedup) keep(r *Row) bool {
	if r.ExecutionStatus != "" && r.ExecutionStatus != "SUCCESS" {
		return false
	}
	if r.QueryType != "" && !d.types[r.QueryType] {
		return false
	}
	if (len(d.f.inclUser) > 0 || len(d.f.exclUser) > 0) && !d.f.user(r.User) {
		return false
	}
	return r.FirstStart.IsZero() || d.w.contains(r.FirstStart)
}

// add counts one row.
func (d *dedup) add(r Row) {
	d.Read += r.Count
	if !d.keep(&r) {
		return
	}
	d.Kept += r.Count
	var start time.Time
	if !r.FirstStart.IsZero() {
		start = d.w.chunkStart(r.FirstStart)
	}
	// Chunks start on whole minutes (or at the window's start), so Unix
	// seconds tell them apart and, unlike UnixNano, keep their order for
	// any year an export can spell. Rows without a time come first.
	ck := start.Unix()
	if start.IsZero() {
		ck = math.MinInt64
	}
	c := d.chunks[ck]
	if c == nil {
		c = &chunkAgg{start: start, rows: map[shapeKey]*Row{}, calls: map[string]string{}}
		d.chunks[ck] = c
	}
	r.Bucket = start
	if r.QueryType == "CALL" {
		c.calls[r.FirstQueryID] = r.Hash
		c.calls[r.LastQueryID] = r.Hash
	}
	k := shapeKey{hash: r.Hash, rootHash: r.RootHash, bucket: ck}
	if r.RootHash == "" {
		k.rootQueryID = r.RootQueryID
	}
	if cur := c.rows[k]; cur != nil {
		cur.merge(&r)
		return
	}
	c.rows[k] = &r
}

// finish resolves stored procedure children to their CALL's shape and
// returns the chunks in time order, rows sorted by first query.
func (d *dedup) finish() []chunk {
	keys := slices.Sorted(maps.Keys(d.chunks))
	out := make([]chunk, 0, len(keys))
	for _, ck := range keys {
		c := d.chunks[ck]
		rows := make(map[shapeKey]*Row, len(c.rows))
		for k, r := range c.rows {
			if k.rootQueryID != "" {
				if h, ok := c.calls[k.rootQueryID]; ok {
					k.rootQueryID, k.rootHash = "", h
					r.RootHash = h
				}
			}
			if cur := rows[k]; cur != nil {
				cur.merge(r)
				continue
			}
			rows[k] = r
		}
		ch := chunk{start: c.start, rows: make([]Row, 0, len(rows))}
		if !c.start.IsZero() {
			ch.end = d.w.chunkEnd(c.start)
		}
		for _, r := range rows {
			ch.rows = append(ch.rows, *r)
		}
		sortRows(ch.rows)
		out = append(out, ch)
	}
	return out
}

// sortRows orders rows as the history query does: by first query.
func sortRows(rows []Row) {
	slices.SortFunc(rows, func(a, b Row) int {
		return cmp.Or(
			a.FirstStart.Compare(b.FirstStart),
			strings.Compare(a.FirstQueryID, b.FirstQueryID),
			strings.Compare(a.Hash, b.Hash),
			strings.Compare(a.RootHash, b.RootHash),
			strings.Compare(a.RootQueryID, b.RootQueryID),
		)
	})
}
