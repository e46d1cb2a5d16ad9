package dbt

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

// checkJSON returns nil when data is one valid JSON document, and otherwise
// an error that says where it breaks: "manifest.json:1203:17: truncated
// JSON at byte 91509 (inside nodes.model.shop.orders.columns)". gjson.Valid
// is the fast check; only invalid input pays for the slower token walk
// that finds the position and the JSON path.
func checkJSON(name string, data string) error {
	if len(strings.TrimSpace(data)) == 0 {
		return fmt.Errorf("%s: empty file", name)
	}
	if gjson.Valid(data) {
		return nil
	}
	offset, path, reason := locateJSONError(data)
	line, col := lineCol(data, offset)
	where := ""
	if path != "" {
		where = " (inside " + path + ")"
	}
	if offset >= len(data) {
		return fmt.Errorf("%s:%d:%d: truncated JSON: input ends at byte %d%s; re-run dbt to regenerate it", name, line, col, offset, where)
	}
	return fmt.Errorf("%s:%d:%d: invalid JSON at byte %d%s: %s", name, line, col, offset, where, reason)
}

// locateJSONError walks data token by token, keeping the path to the
// current value, and returns the byte offset of the first error, that
// path, and encoding/json's description of the error.
func locateJSONError(data string) (offset int, path string, reason string) {
	type frame struct {
		object bool
		key    string // object: the current key
		index  int    // array: the current index
		// wantKey: in an object, the next string token is a key.
		wantKey bool
	}
	var stack []frame
	dec := json.NewDecoder(strings.NewReader(data))
	dec.UseNumber()
	pathString := func() string {
		var b strings.Builder
		for i, f := range stack {
			switch {
			case f.object && f.key != "":
				if i > 0 {
					b.WriteByte('.')
				}
				b.WriteString(f.key)
			case !f.object:
				b.WriteString("[" + strconv.Itoa(f.index) + "]")
			}
		}
		return b.String()
	}
	// afterValue advances the enclosing container past one complete value.
	afterValue := func() {
		if len(stack) == 0 {
			return
		}
		top := &stack[len(stack)-1]
		if top.object {
			top.wantKey = true
		} else {
			top.index++
		}
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			if err == io.EOF {
				// Token accepts some inputs gjson rejects (several
				// top-level values); report the end.
				return len(data), pathString(), "unexpected data after the top-level value"
			}
			var syn *json.SyntaxError
			if errors.As(err, &syn) {
				off := int(syn.Offset)
				if strings.Contains(syn.Error(), "unexpected end") {
					off = len(data)
				}
				return off, pathString(), syn.Error()
			}
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return len(data), pathString(), "unexpected end of JSON input"
			}
			return int(dec.InputOffset()), pathString(), err.Error()
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, frame{object: true, wantKey: true})
			case '[':
				stack = append(stack, frame{})
			case '}', ']':
				stack = stack[:len(stack)-1]
				afterValue()
			}
		default:
			if len(stack) > 0 {
				top := &stack[len(stack)-1]
				if top.object && top.wantKey {
					top.key, _ = t.(string)
					top.wantKey = false
					continue
				}
			}
			afterValue()
		}
	}
}

// lineCol converts a byte offset into a 1-based line and column.
func lineCol(data string, offset int) (line, col int) {
	offset = min(offset, len(data))
	before := data[:offset]
	line = strings.Count(before, "\n") + 1
	col = offset - strings.LastIndexByte(before, '\n')
	return line, col
}
