package graph

import (
	"io"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// encoder writes the graph document by hand rather than through
// encoding/json: the document of a 10,000-model project has half a million
// columns, and reflection plus a separate indent pass took several times
// longer and allocated six times the output size. The output is valid JSON
// that encoding/json decodes into the same document type (Decode relies on
// that, and the round-trip tests check it).
type encoder struct {
	w   io.Writer
	buf []byte
	err error
}

func (e *encoder) flush() {
	if e.err == nil && len(e.buf) > 0 {
		_, e.err = e.w.Write(e.buf)
	}
	e.buf = e.buf[:0]
}

func (e *encoder) raw(s string) {
	e.buf = append(e.buf, s...)
	if len(e.buf) >= 64<<10 {
		e.flush()
	}
}

func (e *encoder) str(s string) { e.buf = appendString(e.buf, s) }

// key writes `"name": ` at the start of an indented line, preceded by a
// comma when it is not the first member.
func (e *encoder) key(indent string, first bool, name string) {
	if !first {
		e.raw(",")
	}
	e.raw("\n")
	e.raw(indent)
	e.str(name)
	e.raw(": ")
}

// inlineKey writes `"name": ` inside a one-line object.
func (e *encoder) inlineKey(first bool, name string) {
	if !first {
		e.raw(", ")
	}
	e.str(name)
	e.raw(": ")
}

// list writes an indented array of n elements; elem writes element i at the
// given indent, without a leading newline.
func (e *encoder) list(indent string, n int, elem func(i int, indent string)) {
	if n == 0 {
		e.raw("[]")
		return
	}
	e.raw("[")
	inner := indent + "  "
	for i := range n {
		if i > 0 {
			e.raw(",")
		}
		e.raw("\n")
		e.raw(inner)
		elem(i, inner)
	}
	e.raw("\n")
	e.raw(indent)
	e.raw("]")
}

func (e *encoder) document(doc document) {
	e.raw("{")
	e.key("  ", true, "weft_graph_version")
	e.raw(strconv.Itoa(doc.Version))
	e.key("  ", false, "datasets")
	e.list("  ", len(doc.Datasets), func(i int, in string) { e.dataset(&doc.Datasets[i], in) })
	e.key("  ", false, "jobs")
	e.list("  ", len(doc.Jobs), func(i int, in string) { e.job(&doc.Jobs[i], in) })
	e.key("  ", false, "runs")
	e.list("  ", len(doc.Runs), func(i int, in string) { e.run(&doc.Runs[i], in) })
	e.key("  ", false, "edges")
	e.list("  ", len(doc.Edges), func(i int, in string) {
		ed := &doc.Edges[i]
		inner := in + "  "
		e.raw("{")
		e.key(inner, true, "from")
		e.datasetID(ed.From)
		e.key(inner, false, "to")
		e.datasetID(ed.To)
		e.key(inner, false, "evidence")
		e.evidence(ed.Evidence, inner)
		e.raw("\n" + in + "}")
	})
	e.key("  ", false, "column_edges")
	e.list("  ", len(doc.ColumnEdges), func(i int, in string) {
		ed := &doc.ColumnEdges[i]
		inner := in + "  "
		e.raw("{")
		e.key(inner, true, "from")
		e.columnID(ed.From)
		e.key(inner, false, "to")
		e.columnID(ed.To)
		e.key(inner, false, "type")
		e.str(ed.Type)
		e.key(inner, false, "subtype")
		e.str(ed.Subtype)
		e.key(inner, false, "evidence")
		e.evidence(ed.Evidence, inner)
		e.raw("\n" + in + "}")
	})
	e.key("  ", false, "findings")
	e.list("  ", len(doc.Findings), func(i int, _ string) {
		f := &doc.Findings[i]
		e.raw("{")
		e.inlineKey(true, "severity")
		e.str(f.Severity)
		e.inlineKey(false, "code")
		e.str(f.Code)
		if f.Location != "" {
			e.inlineKey(false, "location")
			e.str(f.Location)
		}
		if f.Subject != "" {
			e.inlineKey(false, "subject")
			e.str(f.Subject)
		}
		e.inlineKey(false, "message")
		e.str(f.Message)
		e.raw("}")
	})
	e.raw("\n}\n")
}

func (e *encoder) datasetID(id DatasetID) {
	e.raw(`{"namespace": `)
	e.str(id.Namespace)
	e.raw(`, "name": `)
	e.str(id.Name)
	e.raw("}")
}

func (e *encoder) jobID(id JobID) {
	e.raw(`{"namespace": `)
	e.str(id.Namespace)
	e.raw(`, "name": `)
	e.str(id.Name)
	e.raw("}")
}

func (e *encoder) columnID(id ColumnID) {
	e.raw(`{"dataset": `)
	e.datasetID(id.Dataset)
	if id.Column != "" {
		e.raw(`, "column": `)
		e.str(id.Column)
	}
	e.raw("}")
}

func (e *encoder) dataset(d *Dataset, in string) {
	inner := in + "  "
	e.raw("{")
	e.key(inner, true, "id")
	e.datasetID(d.ID)
	e.key(inner, false, "platform")
	e.str(string(d.Platform))
	e.key(inner, false, "kind")
	e.str(string(d.Kind))
	if d.Description != "" {
		e.key(inner, false, "description")
		e.str(d.Description)
	}
	if len(d.Columns) > 0 {
		e.key(inner, false, "columns")
		e.list(inner, len(d.Columns), func(i int, _ string) {
			c := &d.Columns[i]
			e.raw(`{"name": `)
			e.str(c.Name)
			if c.Type != "" {
				e.raw(`, "type": `)
				e.str(c.Type)
			}
			if c.Description != "" {
				e.raw(`, "description": `)
				e.str(c.Description)
			}
			if len(c.Tests) > 0 {
				e.raw(`, "tests": [`)
				for j, t := range c.Tests {
					if j > 0 {
						e.raw(", ")
					}
					e.str(t)
				}
				e.raw("]")
			}
			e.raw("}")
		})
	}
	if len(d.Identities) > 0 {
		e.key(inner, false, "identities")
		e.list(inner, len(d.Identities), func(i int, _ string) {
			e.raw(`{"id": `)
			e.datasetID(d.Identities[i].ID)
			e.raw(`, "reason": `)
			e.str(d.Identities[i].Reason)
			e.raw("}")
		})
	}
	e.props(d.Properties, inner)
	e.raw("\n" + in + "}")
}

func (e *encoder) job(j *Job, in string) {
	inner := in + "  "
	e.raw("{")
	e.key(inner, true, "id")
	e.jobID(j.ID)
	e.key(inner, false, "type")
	e.str(j.Type)
	if j.SQL != "" {
		e.key(inner, false, "sql")
		e.str(j.SQL)
	}
	e.props(j.Properties, inner)
	e.raw("\n" + in + "}")
}

func (e *encoder) run(r *Run, in string) {
	inner := in + "  "
	e.raw("{")
	e.key(inner, true, "id")
	e.str(r.ID)
	e.key(inner, false, "job")
	e.jobID(r.Job)
	if r.Parent != "" {
		e.key(inner, false, "parent")
		e.str(r.Parent)
	}
	if r.State != "" {
		e.key(inner, false, "state")
		e.str(r.State)
	}
	if !r.Start.IsZero() {
		e.key(inner, false, "start")
		e.time(r.Start)
	}
	if !r.End.IsZero() {
		e.key(inner, false, "end")
		e.time(r.End)
	}
	e.props(r.Properties, inner)
	e.raw("\n" + in + "}")
}

// props writes a properties member with sorted keys, or nothing when empty.
func (e *encoder) props(p map[string]string, in string) {
	if len(p) == 0 {
		return
	}
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	e.key(in, false, "properties")
	e.raw("{")
	for i, k := range keys {
		e.key(in+"  ", i == 0, k)
		e.str(p[k])
	}
	e.raw("\n" + in + "}")
}

func (e *encoder) evidence(evs []Evidence, in string) {
	e.list(in, len(evs), func(i int, _ string) {
		ev := &evs[i]
		e.raw(`{"extractor": `)
		e.str(ev.Extractor)
		e.raw(`, "origin": `)
		e.str(ev.Origin)
		if ev.Method != "" {
			e.raw(`, "method": `)
			e.str(ev.Method)
		}
		if !ev.Job.IsZero() {
			e.raw(`, "job": `)
			e.jobID(ev.Job)
		}
		if !ev.FirstSeen.IsZero() {
			e.raw(`, "first_seen": `)
			e.time(ev.FirstSeen)
		}
		if !ev.LastSeen.IsZero() {
			e.raw(`, "last_seen": `)
			e.time(ev.LastSeen)
		}
		if ev.Count != 0 {
			e.raw(`, "count": `)
			e.buf = strconv.AppendInt(e.buf, ev.Count, 10)
		}
		if ev.Confidence != 0 {
			e.raw(`, "confidence": `)
			e.buf = appendFloat(e.buf, ev.Confidence)
		}
		e.raw("}")
	})
}

func (e *encoder) time(t time.Time) {
	e.buf = append(e.buf, '"')
	e.buf = t.AppendFormat(e.buf, time.RFC3339Nano)
	e.buf = append(e.buf, '"')
}

// appendFloat formats f as encoding/json does. JSON has no NaN or
// infinity; they are written as 0 rather than failing the whole snapshot
// over a confidence score.
func appendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, '0')
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// Clean up e-09 to e-9, as encoding/json does.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Control characters, quotes and
// backslashes are escaped, U+2028 and U+2029 too (so the output can be
// embedded in JavaScript), and invalid UTF-8 becomes U+FFFD, as
// encoding/json does. HTML characters are not escaped: the file is data,
// and SQL reads better with its < and > intact.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, "\\ufffd"...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
