package graph

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"math/bits"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Decode reads a graph written by Encode. It rejects documents of another
// format version and reports JSON errors with their line and column, and
// values of the wrong type with their line, column and field path.
//
// Decode reads what encoding/json would read into the graph's types, and
// reports the same errors, but in one pass over the bytes without
// reflection: a production graph is hundreds of megabytes, and repeated
// strings (namespaces, dataset and column names, extractors) are stored
// once. In particular:
//
//   - Unknown fields are ignored at every level, whatever their value, so
//     that a newer weft can add fields to version 1 (see docs/graph-format.md).
//   - Field names match exactly or, failing that, case-insensitively, as in
//     encoding/json.
//   - null leaves a field as it is, except for lists and properties, which
//     it empties.
//   - A repeated field decodes into the value already there: the last
//     string wins, objects and lists are merged element by element.
//   - The first error wins, in this order: invalid JSON, a missing or
//     unknown weft_graph_version, a value of the wrong type, an invalid
//     entity (an empty id).
func Decode(r io.Reader) (*Graph, error) {
	data, err := readAll(r)
	if err != nil {
		return nil, fmt.Errorf("read graph: %w", err)
	}
	d := newDecoder(data)
	var doc decodedDoc
	d.document(&doc)
	if d.syntax != nil {
		line, col := lineCol(data, int64(d.syntax.off))
		return nil, fmt.Errorf("decode graph: line %d, column %d: %s", line, col, d.syntax.msg)
	}
	if doc.version != FormatVersion {
		if doc.version == 0 {
			return nil, fmt.Errorf("decode graph: no weft_graph_version field (not a weft graph?)")
		}
		return nil, fmt.Errorf("decode graph: weft_graph_version %d is not supported (this weft reads version %d)", doc.version, FormatVersion)
	}
	if e := d.valueErr; e != nil {
		line, col := lineCol(data, int64(e.off))
		return nil, fmt.Errorf("decode graph: line %d, column %d: %s: %s", line, col, e.field, e.msg)
	}
	return doc.graph()
}

// readAll reads r whole, in one allocation when r knows its size (a file,
// a bytes.Reader).
func readAll(r io.Reader) ([]byte, error) {
	size := 0
	switch v := r.(type) {
	case interface{ Len() int }:
		size = v.Len()
	case interface{ Stat() (fs.FileInfo, error) }:
		if fi, err := v.Stat(); err == nil && fi.Mode().IsRegular() {
			size = int(fi.Size())
		}
	}
	buf := bytes.NewBuffer(make([]byte, 0, size+bytes.MinRead))
	_, err := buf.ReadFrom(r)
	return buf.Bytes(), err
}

// decodedDoc is the document as read, before it becomes a Graph. The
// top-level lists are chunked so that they never move while they grow: the
// graph's maps point into them.
type decodedDoc struct {
	version     int
	datasets    chunked[Dataset]
	jobs        chunked[Job]
	runs        chunked[Run]
	edges       chunked[Edge]
	columnEdges chunked[ColumnEdge]
	findings    []Finding
}

// graph checks the entities and builds the graph. Lists keep the
// normalisation Encode relies on (sorted, no duplicates), and entities
// listed twice are merged.
func (doc *decodedDoc) graph() (*Graph, error) {
	g := &Graph{
		Datasets:    make(map[DatasetID]*Dataset, doc.datasets.n),
		Jobs:        make(map[JobID]*Job, doc.jobs.n),
		Runs:        make(map[string]*Run, doc.runs.n),
		Edges:       make(map[EdgeID]*Edge, doc.edges.n),
		ColumnEdges: make(map[ColumnEdgeID]*ColumnEdge, doc.columnEdges.n),
	}
	for i, d := range doc.datasets.all() {
		if d.ID.Name == "" {
			return nil, fmt.Errorf("decode graph: datasets[%d]: empty id.name", i)
		}
		if _, dup := g.Datasets[d.ID]; dup {
			g.AddDataset(*d)
			continue
		}
		d.Identities = normIdentities(d.Identities)
		for j := range d.Columns {
			d.Columns[j].Tests = normStrings(d.Columns[j].Tests)
		}
		g.Datasets[d.ID] = d
	}
	for i, j := range doc.jobs.all() {
		if j.ID.IsZero() {
			return nil, fmt.Errorf("decode graph: jobs[%d]: empty id", i)
		}
		if _, dup := g.Jobs[j.ID]; dup {
			g.AddJob(*j)
			continue
		}
		g.Jobs[j.ID] = j
	}
	for i, r := range doc.runs.all() {
		if r.ID == "" {
			return nil, fmt.Errorf("decode graph: runs[%d]: empty id", i)
		}
		if _, dup := g.Runs[r.ID]; dup {
			g.AddRun(*r)
			continue
		}
		r.Start, r.End = r.Start.UTC(), r.End.UTC()
		g.Runs[r.ID] = r
	}
	for i, e := range doc.edges.all() {
		if e.From.IsZero() || e.To.IsZero() {
			return nil, fmt.Errorf("decode graph: edges[%d]: empty from or to", i)
		}
		if cur, dup := g.Edges[e.EdgeID]; dup {
			cur.Evidence = mergeEvidence(cur.Evidence, e.Evidence)
			continue
		}
		e.Evidence = normEvidence(e.Evidence)
		g.Edges[e.EdgeID] = e
	}
	for i, e := range doc.columnEdges.all() {
		if e.From.Dataset.IsZero() || e.To.Dataset.IsZero() {
			return nil, fmt.Errorf("decode graph: column_edges[%d]: empty from or to dataset", i)
		}
		if cur, dup := g.ColumnEdges[e.ColumnEdgeID]; dup {
			cur.Evidence = mergeEvidence(cur.Evidence, e.Evidence)
			continue
		}
		e.Evidence = normEvidence(e.Evidence)
		g.ColumnEdges[e.ColumnEdgeID] = e
	}
	g.Findings = normFindings(doc.findings)
	return g, nil
}

// chunked is a list stored in chunks of at most maxChunk elements, so that
// appending never copies and pointers to elements stay valid. Like a slice
// decoded by encoding/json, it keeps elements past its length: a repeated
// list decodes into the elements of the one before.
type chunked[T any] struct {
	chunks [][]T
	n      int
}

const maxChunk = 4096

// all yields the list's elements with their indexes.
func (l *chunked[T]) all() iter.Seq2[int, *T] {
	return func(yield func(int, *T) bool) {
		i := 0
		for _, c := range l.chunks {
			for j := range c {
				if i == l.n || !yield(i, &c[j]) {
					return
				}
				i++
			}
		}
	}
}

// decodeChunked decodes a JSON list into l, each element with elem.
func decodeChunked[T any](d *decoder, l *chunked[T], typ string, elem func(*decoder, *T)) {
	ok, null := d.openArray(typ)
	if null {
		*l = chunked[T]{}
	}
	if !ok {
		return
	}
	i, c, off := 0, 0, 0
	for first := true; d.nextElem(&first); i++ {
		if c == len(l.chunks) {
			// Every chunk so far is full, so i is their total size: the
			// chunks double up to maxChunk.
			l.chunks = append(l.chunks, make([]T, min(max(i, 16), maxChunk)))
		}
		elem(d, &l.chunks[c][off])
		if off++; off == len(l.chunks[c]) {
			c, off = c+1, 0
		}
	}
	if i == 0 {
		l.chunks = nil
	}
	l.n = i
}

// decodeSlice decodes a JSON list into s and returns it, the way
// encoding/json does: element i decodes into s[i] when it exists, extra
// elements of s are cut off, and an empty list gives an empty slice. A
// list read into an empty s is gathered in *scratch first, so that the
// result is allocated once at its final size, out of *slab when slab is
// not nil: many short lists (columns, evidence) then take few allocations.
func decodeSlice[T any](d *decoder, s []T, typ string, elem func(*decoder, *T), scratch, slab *[]T) []T {
	ok, null := d.openArray(typ)
	if null {
		return nil
	}
	if !ok {
		return s
	}
	var zero T
	if cap(s) == 0 {
		buf := (*scratch)[:0]
		for first := true; d.nextElem(&first); {
			buf = append(buf, zero)
			elem(d, &buf[len(buf)-1])
		}
		s = carve(slab, len(buf))
		copy(s, buf)
		clear(buf)
		*scratch = buf[:0]
		return s
	}
	i := 0
	for first := true; d.nextElem(&first); i++ {
		if i == len(s) {
			if i < cap(s) {
				s = s[:i+1]
			} else {
				s = append(s, zero)
			}
		}
		elem(d, &s[i])
	}
	if i == 0 {
		return []T{}
	}
	return s[:i]
}

// carve returns a slice of n zero elements cut from *slab, with no room to
// grow into its neighbours, or a new slice when slab is nil or n is large.
func carve[T any](slab *[]T, n int) []T {
	const slabSize = 4096
	if slab == nil || n > slabSize/16 {
		return make([]T, n)
	}
	if cap(*slab)-len(*slab) < n {
		*slab = make([]T, 0, slabSize)
	}
	l := len(*slab)
	*slab = (*slab)[:l+n]
	return (*slab)[l : l+n : l+n]
}

// maxDepth is encoding/json's limit on nesting.
const maxDepth = 10000

// maxIntern is the length of the longest string Decode deduplicates:
// longer ones (SQL, descriptions) rarely repeat.
const maxIntern = 512

// decoder reads one graph document. Errors do not stop it at once: a
// syntax error moves it to the end of the input, which ends every loop;
// the first value error is kept while the rest of the input is checked
// for syntax errors, which take precedence, as in encoding/json.
type decoder struct {
	data  []byte
	pos   int
	depth int
	key   []byte   // the key nextMember read: aliases data or buf
	path  []string // JSON field names down to the current value
	buf   []byte   // unquoted strings with escapes

	syntax   *decodeError
	valueErr *decodeError

	strs   map[string]string
	recent *[1 << 13]string
	times  map[string]time.Time

	// Scratch lists and slabs for decodeSlice.
	columns, columnSlab    []Column
	tests                  []string
	evidence, evidenceSlab []Evidence
}

type decodeError struct {
	off   int // byte offset, as encoding/json counts it
	field string
	msg   string
}

func newDecoder(data []byte) *decoder {
	return &decoder{
		data:   data,
		path:   make([]string, 0, 8),
		strs:   make(map[string]string, 1024),
		recent: new([1 << 13]string),
		times:  make(map[string]time.Time, 64),
	}
}

// fail records a syntax error at off and ends decoding.
func (d *decoder) fail(msg string, off int) {
	if d.syntax == nil {
		d.syntax = &decodeError{off: off, msg: msg}
	}
	d.pos = len(d.data)
}

func (d *decoder) eof() { d.fail("unexpected end of JSON input", len(d.data)) }

// badByte reports the byte at d.pos as out of place in context ctx.
func (d *decoder) badByte(ctx string) {
	if d.pos >= len(d.data) {
		d.eof()
		return
	}
	d.fail("invalid character "+quoteChar(d.data[d.pos])+" "+ctx, d.pos+1)
}

// badInValue is badByte inside a literal, a number or an escape. At the end
// of the input, encoding/json's scanner is fed a space to finish the value,
// and the error is what it says about that space.
func (d *decoder) badInValue(ctx string) {
	if d.pos >= len(d.data) {
		d.fail("invalid character ' ' "+ctx, len(d.data))
		return
	}
	d.badByte(ctx)
}

// quoteChar formats c for an error message as encoding/json does.
func quoteChar(c byte) string {
	switch c {
	case '\'':
		return `'\''`
	case '"':
		return `'"'`
	}
	s := strconv.Quote(string(rune(c)))
	return "'" + s[1:len(s)-1] + "'"
}

// typeError records that the value just read, which ended at d.pos or
// started at off-1 for an object or list, cannot be stored as typ.
func (d *decoder) typeError(off int, value, typ string) {
	d.valueError(off, "cannot use JSON "+value+" as "+typ)
}

func (d *decoder) valueError(off int, msg string) {
	if d.valueErr == nil {
		d.valueErr = &decodeError{off: off, field: strings.Join(d.path, "."), msg: msg}
	}
}

// space marks JSON's white space.
var space = [256]bool{' ': true, '\n': true, '\t': true, '\r': true}

func (d *decoder) ws() {
	for d.pos < len(d.data) && space[d.data[d.pos]] {
		d.pos++
	}
}

// begin skips white space and returns the first byte of the next value,
// or 0 after a syntax error.
func (d *decoder) begin() byte {
	d.ws()
	if d.pos >= len(d.data) {
		d.eof()
		return 0
	}
	c := d.data[d.pos]
	switch c {
	case '{', '[', '"', 't', 'f', 'n', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return c
	}
	d.badByte("looking for beginning of value")
	return 0
}

func (d *decoder) push() bool {
	if d.depth++; d.depth > maxDepth {
		d.badByte("exceeded max depth")
		return false
	}
	d.pos++
	return true
}

// openObject starts reading a value that should be an object of Go type
// typ. It reports whether it is one, with its '{' read; null is read and
// anything else skipped as a type error.
func (d *decoder) openObject(typ string) bool {
	switch d.begin() {
	case '{':
		return d.push()
	case 0:
	case 'n':
		d.literal("null")
	default:
		d.mismatch(typ)
	}
	return false
}

// openArray is openObject for a list. null is reported so that the caller
// can empty the list, as encoding/json does.
func (d *decoder) openArray(typ string) (ok, null bool) {
	switch d.begin() {
	case '[':
		return d.push(), false
	case 0:
	case 'n':
		d.literal("null")
		return false, d.syntax == nil
	default:
		d.mismatch(typ)
	}
	return false, false
}

// nextMember reads up to the next member's value: the comma, the key, into
// d.key, and the colon. It reports false at the end of the object (or
// after a syntax error); *first says whether no member was read yet.
func (d *decoder) nextMember(first *bool) bool {
	d.ws()
	if d.pos >= len(d.data) {
		d.eof()
		return false
	}
	c := d.data[d.pos]
	if c == '}' {
		d.pos++
		d.depth--
		return false
	}
	if *first {
		*first = false
	} else {
		if c != ',' {
			d.badByte("after object key:value pair")
			return false
		}
		d.pos++
		d.ws()
		if d.pos >= len(d.data) {
			d.eof()
			return false
		}
		c = d.data[d.pos]
	}
	if c != '"' {
		d.badByte("looking for beginning of object key string")
		return false
	}
	key, ok := d.scanString()
	if !ok {
		return false
	}
	d.key = key
	d.ws()
	if d.pos >= len(d.data) {
		d.eof()
		return false
	}
	if d.data[d.pos] != ':' {
		d.badByte("after object key")
		return false
	}
	d.pos++
	return true
}

// nextElem reads up to the next element of a list, and reports false at
// its end (or after a syntax error).
func (d *decoder) nextElem(first *bool) bool {
	d.ws()
	if d.pos >= len(d.data) {
		d.eof()
		return false
	}
	switch c := d.data[d.pos]; {
	case c == ']':
		d.pos++
		d.depth--
		return false
	case *first:
		*first = false
	case c != ',':
		d.badByte("after array element")
		return false
	default:
		d.pos++
	}
	return true
}

// skip reads and checks a value without storing it.
func (d *decoder) skip() {
	switch d.begin() {
	case 0:
	case '{':
		if d.push() {
			for first := true; d.nextMember(&first); {
				d.skip()
			}
		}
	case '[':
		if d.push() {
			for first := true; d.nextElem(&first); {
				d.skip()
			}
		}
	case '"':
		d.scanString()
	case 't':
		d.literal("true")
	case 'f':
		d.literal("false")
	case 'n':
		d.literal("null")
	default:
		d.number()
	}
}

// mismatch skips the value at d.pos, which cannot be stored as typ, and
// records a type error at the offset encoding/json gives: just inside an
// object or a list, just after anything else.
func (d *decoder) mismatch(typ string) {
	var value string
	off := -1
	switch d.data[d.pos] {
	case '{':
		value, off = "object", d.pos+1
	case '[':
		value, off = "array", d.pos+1
	case '"':
		value = "string"
	case 't', 'f':
		value = "bool"
	default:
		value = "number"
	}
	d.skip()
	if off < 0 {
		off = d.pos
	}
	d.typeError(off, value, typ)
}

// literal reads true, false or null, whose first byte is at d.pos.
func (d *decoder) literal(word string) {
	for i := 1; i < len(word); i++ {
		if p := d.pos + i; p >= len(d.data) || d.data[p] != word[i] {
			d.pos = p
			d.badInValue("in literal " + word + " (expecting " + quoteChar(word[i]) + ")")
			return
		}
	}
	d.pos += len(word)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// number reads a number starting at d.pos and returns its text, or nil
// after a syntax error.
func (d *decoder) number() []byte {
	data, start, i := d.data, d.pos, d.pos
	digits := func() {
		for i < len(data) && isDigit(data[i]) {
			i++
		}
	}
	bad := func(ctx string) []byte {
		d.pos = i
		d.badInValue(ctx)
		return nil
	}
	if data[i] == '-' {
		if i++; i >= len(data) || !isDigit(data[i]) {
			return bad("in numeric literal")
		}
	}
	if data[i] == '0' {
		i++
	} else {
		digits()
	}
	if i < len(data) && data[i] == '.' {
		if i++; i >= len(data) || !isDigit(data[i]) {
			return bad("after decimal point in numeric literal")
		}
		digits()
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		if i++; i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i >= len(data) || !isDigit(data[i]) {
			return bad("in exponent of numeric literal")
		}
		digits()
	}
	d.pos = i
	return data[start:i]
}

// plain marks the bytes a string can hold without an escape: printable
// ASCII other than the quote and the backslash.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// scanString reads the string starting at d.pos (a quote) and returns its
// contents unquoted as encoding/json unquotes them (invalid UTF-8 becomes
// U+FFFD). The result aliases d.data or d.buf: copy it to keep it.
func (d *decoder) scanString() ([]byte, bool) {
	data := d.data
	start := d.pos + 1
	i := start
	for i < len(data) && plain[data[i]] {
		i++
	}
	if i < len(data) && data[i] == '"' {
		d.pos = i + 1
		return data[start:i], true
	}
	// Slow path: escapes, control characters or non-ASCII bytes.
	escaped := false
	for {
		if i >= len(data) {
			d.eof()
			return nil, false
		}
		switch c := data[i]; {
		case c == '"':
			d.pos = i + 1
			s := data[start:i]
			if !escaped && utf8.Valid(s) {
				return s, true
			}
			d.buf = unquote(d.buf[:0], s)
			return d.buf, true
		case c == '\\':
			escaped = true
			i++
			if i >= len(data) {
				d.pos = i
				d.badInValue("in string escape code")
				return nil, false
			}
			switch data[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				i++
				for range 4 {
					if i >= len(data) || !isHex(data[i]) {
						d.pos = i
						d.badInValue(`in \u hexadecimal character escape`)
						return nil, false
					}
					i++
				}
			default:
				d.pos = i
				d.badByte("in string escape code")
				return nil, false
			}
		case c < 0x20:
			d.pos = i
			d.badByte("in string literal")
			return nil, false
		default:
			i++
		}
	}
}

func isHex(c byte) bool {
	return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// unquote appends the string s, checked by scanString, to b with its
// escapes decoded and invalid UTF-8 replaced, as encoding/json's
// unquoteBytes does.
func unquote(b, s []byte) []byte {
	for r := 0; r < len(s); {
		switch c := s[r]; {
		case c == '\\':
			r++
			switch s[r] {
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				rr := hex4(s[r+1:])
				r += 5
				if utf16.IsSurrogate(rr) {
					if r+6 <= len(s) && s[r] == '\\' && s[r+1] == 'u' {
						if dec := utf16.DecodeRune(rr, hex4(s[r+2:])); dec != unicode.ReplacementChar {
							b = utf8.AppendRune(b, dec)
							r += 6
							continue
						}
					}
					rr = unicode.ReplacementChar
				}
				b = utf8.AppendRune(b, rr)
				continue
			default: // " \ /
				b = append(b, s[r])
			}
			r++
		case c < utf8.RuneSelf:
			b = append(b, c)
			r++
		default:
			rr, size := utf8.DecodeRune(s[r:])
			b = utf8.AppendRune(b, rr)
			r += size
		}
	}
	return b
}

// hex4 decodes four hex digits, already checked.
func hex4(s []byte) rune {
	var r rune
	for _, c := range s[:4] {
		switch {
		case c <= '9':
			c -= '0'
		case c <= 'F':
			c -= 'A' - 10
		default:
			c -= 'a' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

// intern returns b as a string, the same string for the same bytes. A
// small direct-mapped cache in front of the map answers most lookups
// (the same namespace, extractor or column type over and over) with one
// comparison.
func (d *decoder) intern(b []byte) string {
	if len(b) > maxIntern {
		return string(b)
	}
	slot := &d.recent[quickHash(b)&(uint64(len(d.recent))-1)]
	if *slot == string(b) {
		return *slot
	}
	s, ok := d.strs[string(b)]
	if !ok {
		s = string(b)
		d.strs[s] = s
	}
	*slot = s
	return s
}

// quickHash hashes the length and the first and last eight bytes of b:
// enough to tell apart names that differ at either end.
func quickHash(b []byte) uint64 {
	var h uint64
	if n := len(b); n >= 8 {
		h = binary.LittleEndian.Uint64(b) ^ bits.RotateLeft64(binary.LittleEndian.Uint64(b[n-8:]), 31)
	} else {
		for _, c := range b {
			h = h<<8 | uint64(c)
		}
	}
	h = (h ^ uint64(len(b))) * 0x9e3779b97f4a7c15
	return h >> 40
}

// str decodes a string into *p, a string field of Go type typ; intern
// says whether its value is likely to repeat.
func (d *decoder) str(p *string, typ string, intern bool) {
	switch d.begin() {
	case '"':
		if b, ok := d.scanString(); ok {
			if intern {
				*p = d.intern(b)
			} else {
				*p = string(b)
			}
		}
	case 0:
	case 'n':
		d.literal("null")
	default:
		d.mismatch(typ)
	}
}

// integer decodes an integer that fits in bits bits.
func (d *decoder) integer(typ string, bits int) (int64, bool) {
	switch c := d.begin(); {
	case c == 0:
	case c == 'n':
		d.literal("null")
	case c == '-' || isDigit(c):
		lit := d.number()
		if lit == nil {
			return 0, false
		}
		if n, ok := smallInt(lit); ok && bits == 64 {
			return n, true
		}
		n, err := strconv.ParseInt(string(lit), 10, bits)
		if err != nil {
			d.typeError(d.pos, "number "+string(lit), typ)
			return 0, false
		}
		return n, true
	default:
		d.mismatch(typ)
	}
	return 0, false
}

// smallInt parses lit when it is a plain integer of up to 18 digits.
func smallInt(lit []byte) (int64, bool) {
	neg := lit[0] == '-'
	if neg {
		lit = lit[1:]
	}
	if len(lit) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range lit {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

func (d *decoder) float(p *float64) {
	switch c := d.begin(); {
	case c == 0:
	case c == 'n':
		d.literal("null")
	case c == '-' || isDigit(c):
		lit := d.number()
		if lit == nil {
			return
		}
		if n, ok := smallInt(lit); ok && lit[0] != '-' && n < 1<<53 {
			*p = float64(n)
			return
		}
		f, err := strconv.ParseFloat(string(lit), 64)
		if err != nil {
			d.typeError(d.pos, "number "+string(lit), "float64")
			return
		}
		*p = f
	default:
		d.mismatch("float64")
	}
}

// time decodes a timestamp as time.Time's UnmarshalJSON does: from the
// bytes between the quotes, escapes and all.
func (d *decoder) time(p *time.Time) {
	switch d.begin() {
	case 0:
		return
	case 'n':
		d.literal("null")
		return
	case '"':
	default:
		d.mismatch("time.Time")
		return
	}
	start := d.pos
	if _, ok := d.scanString(); !ok {
		return
	}
	raw := d.data[start:d.pos]
	if t, ok := d.times[string(raw)]; ok {
		*p = t
		return
	}
	var t time.Time
	if err := t.UnmarshalJSON(raw); err != nil {
		d.valueError(d.pos, err.Error())
		return
	}
	if len(d.times) < 1<<14 {
		d.times[string(raw)] = t
	}
	*p = t
}

// props decodes properties into m, which it returns.
func (d *decoder) props(m map[string]string) map[string]string {
	switch d.begin() {
	case '{':
		if !d.push() {
			return m
		}
	case 0:
		return m
	case 'n':
		d.literal("null")
		return nil
	default:
		d.mismatch("map[string]string")
		return m
	}
	if m == nil {
		m = map[string]string{}
	}
	for first := true; d.nextMember(&first); {
		k := d.intern(d.key)
		var v string
		d.str(&v, "string", true)
		m[k] = v
	}
	return m
}

// fields are the JSON names of a struct's fields.
type fields struct {
	names  []string
	folded []string
}

func newFields(names ...string) *fields {
	f := &fields{names: names}
	for _, n := range names {
		f.folded = append(f.folded, string(foldName([]byte(n))))
	}
	return f
}

// match returns the field name that key selects, or "" for an unknown
// key. Like encoding/json, it prefers an exact match and falls back on a
// case-insensitive one.
func (f *fields) match(key []byte) string {
	for _, n := range f.names {
		if string(key) == n {
			return n
		}
	}
	folded := foldName(key)
	for i, n := range f.folded {
		if string(folded) == n {
			return f.names[i]
		}
	}
	return ""
}

// foldName returns key folded as encoding/json folds field names.
func foldName(key []byte) []byte {
	out := make([]byte, 0, len(key))
	for i := 0; i < len(key); {
		if c := key[i]; c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			out = append(out, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(key[i:])
		out = utf8.AppendRune(out, foldRune(r))
		i += n
	}
	return out
}

// foldRune returns the smallest rune of r's case-folding set.
func foldRune(r rune) rune {
	for {
		r2 := unicode.SimpleFold(r)
		if r2 <= r {
			return r2
		}
		r = r2
	}
}

// member starts decoding the value of the member d.key, which f names,
// and returns its name, "" for an unknown field, and the depth of d.path
// to go back to afterwards.
func (d *decoder) member(f *fields) (string, int) {
	name := f.match(d.key)
	n := len(d.path)
	if name != "" {
		d.path = append(d.path, name)
	}
	return name, n
}

var (
	documentFields   = newFields("weft_graph_version", "datasets", "jobs", "runs", "edges", "column_edges", "findings")
	idFields         = newFields("namespace", "name")
	datasetFields    = newFields("id", "platform", "kind", "description", "columns", "identities", "properties")
	columnFields     = newFields("name", "type", "description", "tests")
	identityFields   = newFields("id", "reason")
	jobFields        = newFields("id", "type", "sql", "properties")
	runFields        = newFields("id", "job", "parent", "state", "start", "end", "properties")
	edgeFields       = newFields("from", "to", "evidence")
	columnEdgeFields = newFields("from", "to", "type", "subtype", "evidence")
	columnIDFields   = newFields("dataset", "column")
	evidenceFields   = newFields("extractor", "origin", "method", "job", "first_seen", "last_seen", "count", "confidence")
	findingFields    = newFields("severity", "code", "location", "subject", "message")
)

// document decodes the whole input into doc.
func (d *decoder) document(doc *decodedDoc) {
	if d.openObject("graph.document") {
		for first := true; d.nextMember(&first); {
			name, n := d.member(documentFields)
			switch name {
			case "weft_graph_version":
				if v, ok := d.integer("int", strconv.IntSize); ok {
					doc.version = int(v)
				}
			case "datasets":
				decodeChunked(d, &doc.datasets, "[]graph.Dataset", (*decoder).dataset)
			case "jobs":
				decodeChunked(d, &doc.jobs, "[]graph.Job", (*decoder).job)
			case "runs":
				decodeChunked(d, &doc.runs, "[]graph.Run", (*decoder).run)
			case "edges":
				decodeChunked(d, &doc.edges, "[]graph.Edge", (*decoder).edge)
			case "column_edges":
				decodeChunked(d, &doc.columnEdges, "[]graph.ColumnEdge", (*decoder).columnEdge)
			case "findings":
				doc.findings = decodeSlice(d, doc.findings, "[]graph.Finding", (*decoder).finding, new([]Finding), nil)
			default:
				d.skip()
			}
			d.path = d.path[:n]
		}
	}
	if d.syntax == nil {
		d.ws()
		if d.pos < len(d.data) {
			d.badByte("after top-level value")
		}
	}
}

// datasetID decodes a {"namespace", "name"} object; typ is its Go type.
func (d *decoder) datasetID(id *DatasetID, typ string) {
	if !d.openObject(typ) {
		return
	}
	for first := true; d.nextMember(&first); {
		name, n := d.member(idFields)
		switch name {
		case "namespace":
			d.str(&id.Namespace, "string", true)
		case "name":
			d.str(&id.Name, "string", true)
		default:
			d.skip()
		}
		d.path = d.path[:n]
	}
}

func (d *decoder) jobID(id *JobID) { d.datasetID((*DatasetID)(id), "graph.JobID") }

func (d *decoder) dataset(ds *Dataset) {
	if !d.openObject("graph.Dataset") {
		return
	}
	for first := true; d.nextMember(&first); {
		name, n := d.member(datasetFields)
		switch name {
		case "id":
			d.datasetID(&ds.ID, "graph.DatasetID")
		case "platform":
			d.str((*string)(&ds.Platform), "graph.Platform", true)
		case "kind":
			d.str((*string)(&ds.Kind), "graph.Kind", true)
		case "description":
			d.str(&ds.Description, "string", true)
		case "columns":
			ds.Columns = decodeSlice(d, ds.Columns, "[]graph.Column", (*decoder).column, &d.columns, &d.columnSlab)
		case "identities":
			ds.Identities = decodeSlice(d, ds.Identities, "[]graph.Identity", (*decoder).identity, new([]Identity), nil)
		case "properties":
			ds.Properties = d.props(ds.Properties)
		default:
			d.skip()
		}
		d.path = d.path[:n]
	}
}

func (d *decoder) column(c *Column) {
	if !d.openObject("graph.Column") {
		return
	}
	for first := true; d.nextMember(&first); {
		name, n := d.member(columnFields)
		switch name {
		case "name":
			d.str(&c.Name, "string", true)
		case "type":
			d.str(&c.Type, "string", true)
		case "description":
			d.str(&c.Description, "string", true)
		case "tests":
			c.Tests = decodeSlice(d, c.Tests, "[]string", func(d *decoder, s *string) { d.str(s, "string", true) }, &d.tests, nil)
		default:
			d.skip()
		}
		d.path = d.path[:n]
	}
}

func (d *decoder) identity(id *Identity) {
	if !d.openObject("graph.Identity") {
		return
	}
	for first := true; d.nextMember(&first); {
		name, n := d.member(identityFields)
		switch name {
		case "id":
			d.datasetID(&id.ID, "graph.DatasetID")
		case "reason":
			d.str(&id.Reason, "string", true)
		default:
			d.skip()
		}
		d.path = d.path[:n]
	}
}

func (d *decoder) job(j *Job) {
	if !d.openObject("graph.Job") {
		return
	}
	for first := true; d.nextMember(&first); {
		name, n := d.member(jobFields)
		switch name {
		case "id":
			d.jobID(&j.ID)
		case "type":
			d.str(&j.Type, "string", true)
		case "sql":
			d.str(&j.SQL, "string", false)
		case "properties":
			j.Properties = d.props(j.Properties)
		default:
			d.skip()
		}
		d.path = d.path[:n]
	}
}

func (d *decoder) run(r *Run) {
	if !d.openObject("graph.Run") {
		return
	}
	for first := true; d.nextMember(&first); {
		name, n := d.member(runFields)
		switch name {
		case "id":
			d.str(&r.ID, "string", false)
		case "job":
			d.jobID(&r.Job)
		case "parent":
			d.str(&r.Parent, "string", true)
		case "state":
			d.str(&r.State, "string", true)
		case "start":
			d.time(&r.Start)
		case "end":
			d.time(&r.End)
		case "properties":
			r.Properties = d.props(r.Properties)
		default:
			d.skip()
		}
		d.path = d.path[:n]
	}
}

func (d *decoder) edge(e *Edge) {
	if !d.openObject("graph.Edge") {
		return
	}
	for first := true; d.nextMember(&first); {
		name, n := d.member(edgeFields)
		switch name {
		case "from", "to":
			// encoding/json names the embedded struct in the field path.
			d.path = append(d.path[:n], "EdgeID", name)
			if name == "from" {
				d.datasetID(&e.From, "graph.DatasetID")
			} else {
				d.datasetID(&e.To, "graph.DatasetID")
			}
		case "evidence":
			e.Evidence = decodeSlice(d, e.Evidence, "[]graph.Evidence", (*decoder).evidenceItem, &d.evidence, &d.evidenceSlab)
		default:
			d.skip()
		}
		d.path = d.path[:n]
	}
}

func (d *decoder) columnEdge(e *ColumnEdge) {
	if !d.openObject("graph.ColumnEdge") {
		return
	}
	for first := true; d.nextMember(&first); {
		name, n := d.member(columnEdgeFields)
		if name != "" && name != "evidence" {
			d.path = append(d.path[:n], "ColumnEdgeID", name)
		}
		switch name {
		case "from":
			d.columnID(&e.From)
		case "to":
			d.columnID(&e.To)
		case "type":
			d.str(&e.Type, "string", true)
		case "subtype":
			d.str(&e.Subtype, "string", true)
		case "evidence":
			e.Evidence = decodeSlice(d, e.Evidence, "[]graph.Evidence", (*decoder).evidenceItem, &d.evidence, &d.evidenceSlab)
		default:
			d.skip()
		}
		d.path = d.path[:n]
	}
}

func (d *decoder) columnID(c *ColumnID) {
	if !d.openObject("graph.ColumnID") {
		return
	}
	for first := true; d.nextMember(&first); {
		name, n := d.member(columnIDFields)
		switch name {
		case "dataset":
			d.datasetID(&c.Dataset, "graph.DatasetID")
		case "column":
			d.str(&c.Column, "string", true)
		default:
			d.skip()
		}
		d.path = d.path[:n]
	}
}

func (d *decoder) evidenceItem(ev *Evidence) {
	if !d.openObject("graph.Evidence") {
		return
	}
	for first := true; d.nextMember(&first); {
		name, n := d.member(evidenceFields)
		switch name {
		case "extractor":
			d.str(&ev.Extractor, "string", true)
		case "origin":
			d.str(&ev.Origin, "string", true)
		case "method":
			d.str(&ev.Method, "string", true)
		case "job":
			d.jobID(&ev.Job)
		case "first_seen":
			d.time(&ev.FirstSeen)
		case "last_seen":
			d.time(&ev.LastSeen)
		case "count":
			if v, ok := d.integer("int64", 64); ok {
				ev.Count = v
			}
		case "confidence":
			d.float(&ev.Confidence)
		default:
			d.skip()
		}
		d.path = d.path[:n]
	}
}

func (d *decoder) finding(f *Finding) {
	if !d.openObject("graph.Finding") {
		return
	}
	for first := true; d.nextMember(&first); {
		name, n := d.member(findingFields)
		switch name {
		case "severity":
			d.str(&f.Severity, "string", true)
		case "code":
			d.str(&f.Code, "string", true)
		case "location":
			d.str(&f.Location, "string", true)
		case "subject":
			d.str(&f.Subject, "string", true)
		case "message":
			d.str(&f.Message, "string", false)
		default:
			d.skip()
		}
		d.path = d.path[:n]
	}
}
