package sqlparse

import (
	"fmt"
	"strings"
)

// formatResult renders a Result as sorted text lines, the golden format and
// what `weft sql` prints for people.
func formatResult(r Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "kind: %s\nstatus: %s\n", r.Kind, r.Status)
	for _, t := range r.Writes {
		fmt.Fprintf(&b, "write: %s\n", t)
	}
	for _, t := range r.Reads {
		fmt.Fprintf(&b, "read: %s\n", t)
	}
	for _, rn := range r.Renames {
		fmt.Fprintf(&b, "rename: %s -> %s\n", rn.From, rn.To)
	}
	if len(r.OutputColumns) > 0 {
		fmt.Fprintf(&b, "output: %s\n", strings.Join(r.OutputColumns, ", "))
	}
	for _, c := range r.Columns {
		target := c.Target.String()
		if target == "" {
			target = "<output>"
		}
		if len(c.Sources) == 0 {
			fmt.Fprintf(&b, "column: %s.%s <- (none)\n", target, c.Column)
		}
		for _, s := range c.Sources {
			fmt.Fprintf(&b, "column: %s.%s <- %s.%s %s/%s\n", target, c.Column, s.Table, s.Column, s.Type, s.Subtype)
		}
	}
	for _, s := range r.Indirect {
		fmt.Fprintf(&b, "indirect: %s.%s %s/%s\n", s.Table, s.Column, s.Type, s.Subtype)
	}
	for _, d := range r.Diagnostics {
		fmt.Fprintf(&b, "diag: %s\n", d)
	}
	return b.String()
}

// Format renders a Result as the readable text `weft sql` prints: one line
// per write, read, rename, column edge, indirect source and diagnostic.
func Format(r Result) string { return formatResult(r) }
