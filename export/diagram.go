package export

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/weftdata/weft/graph"
)

// platformColor gives each platform one fill colour in diagrams and the
// HTML page.
func platformColor(p string) string {
	switch p {
	case "snowflake":
		return "#d6ecfa"
	case "databricks":
		return "#fde0d6"
	case "dbt":
		return "#fde9d0"
	case "postgres":
		return "#dde6f5"
	case "bigquery":
		return "#dbeed9"
	case "file":
		return "#eeeeee"
	}
	return "#f4f0e0"
}

// DOT writes the selected part of g as a Graphviz digraph. Datasets are
// boxes coloured by platform, focus datasets drawn bold; with Columns,
// datasets become records with a port per column and column edges are
// drawn between ports (dashed for INDIRECT).
func DOT(w io.Writer, g *graph.Graph, opts ViewOptions) error {
	v := selectView(g, opts)
	bw := bufio.NewWriter(w)
	node := map[graph.DatasetID]string{}
	for i, id := range v.datasets {
		node[id] = "d" + strconv.Itoa(i)
	}
	fmt.Fprintln(bw, "digraph lineage {")
	fmt.Fprintln(bw, "  rankdir=LR;")
	fmt.Fprintln(bw, `  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10];`)
	fmt.Fprintln(bw, `  edge [color="#555555"];`)
	for _, id := range v.datasets {
		attrs := []string{"fillcolor=" + dotQuote(platformColor(platformOf(g, id))), "tooltip=" + dotQuote(id.String())}
		if v.focus[id] {
			attrs = append(attrs, "penwidth=3")
		}
		if cols := v.columns[id]; opts.Columns && len(cols) > 0 {
			// An HTML-like label: one row per column, each a port.
			var b strings.Builder
			b.WriteString(`<<table border="0" cellborder="1" cellspacing="0"><tr><td><b>`)
			b.WriteString(htmlEscape(id.Name))
			b.WriteString("</b></td></tr>")
			for i, c := range cols {
				fmt.Fprintf(&b, `<tr><td port="c%d" align="left">%s</td></tr>`, i, htmlEscape(c))
			}
			b.WriteString("</table>>")
			attrs = append(attrs, "shape=plain", "label="+b.String())
		} else {
			attrs = append(attrs, "label="+dotQuote(id.Name))
		}
		fmt.Fprintf(bw, "  %s [%s];\n", node[id], strings.Join(attrs, ", "))
	}
	if opts.Columns && len(v.columnEdges) > 0 {
		port := func(c graph.ColumnID) string {
			if c.Column == "" {
				return node[c.Dataset]
			}
			for i, name := range v.columns[c.Dataset] {
				if name == c.Column {
					return node[c.Dataset] + ":c" + strconv.Itoa(i)
				}
			}
			return node[c.Dataset]
		}
		for _, e := range v.columnEdges {
			style := "solid"
			if e.Type == graph.Indirect {
				style = "dashed"
			}
			fmt.Fprintf(bw, "  %s -> %s [style=%s, tooltip=%s];\n", port(e.From), port(e.To), style, dotQuote(transformLabel(e)))
		}
	} else {
		for _, e := range v.edges {
			fmt.Fprintf(bw, "  %s -> %s [tooltip=%s];\n", node[e.From], node[e.To], dotQuote(edgeTooltip(e)))
		}
	}
	fmt.Fprintln(bw, "}")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write dot: %w", err)
	}
	return nil
}

// edgeTooltip lists where a table edge was seen, and how: one entry per
// origin, with its methods ("dbt: model.x (depends_on, parsed)").
func edgeTooltip(e *graph.Edge) string {
	var keys []string
	methods := map[string][]string{}
	for _, ev := range e.Evidence {
		k := ev.Extractor + ": " + ev.Origin
		if _, ok := methods[k]; !ok {
			keys = append(keys, k)
		}
		if ev.Method != "" && !slices.Contains(methods[k], ev.Method) {
			methods[k] = append(methods[k], ev.Method)
		}
	}
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k
		if m := methods[k]; len(m) > 0 {
			parts[i] += " (" + strings.Join(m, ", ") + ")"
		}
	}
	return strings.Join(parts, "; ")
}

// dotQuote quotes s as a DOT string.
func dotQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", "")
	return `"` + r.Replace(s) + `"`
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}

// Mermaid writes the selected part of g as a Mermaid flowchart. With
// Columns, each dataset is a subgraph holding its columns and column
// edges are drawn between them (dotted for INDIRECT).
func Mermaid(w io.Writer, g *graph.Graph, opts ViewOptions) error {
	v := selectView(g, opts)
	bw := bufio.NewWriter(w)
	node := map[graph.DatasetID]string{}
	for i, id := range v.datasets {
		node[id] = "d" + strconv.Itoa(i)
	}
	fmt.Fprintln(bw, "flowchart LR")
	platforms := map[string]bool{}
	colNode := map[graph.ColumnID]string{}
	for _, id := range v.datasets {
		p := platformOf(g, id)
		platforms[p] = true
		cols := v.columns[id]
		if opts.Columns && len(cols) > 0 {
			fmt.Fprintf(bw, "  subgraph %s[%s]\n", node[id], mermaidQuote(id.Name))
			for i, c := range cols {
				n := node[id] + "c" + strconv.Itoa(i)
				colNode[graph.ColumnID{Dataset: id, Column: c}] = n
				fmt.Fprintf(bw, "    %s[%s]\n", n, mermaidQuote(c))
			}
			fmt.Fprintln(bw, "  end")
		} else {
			fmt.Fprintf(bw, "  %s[%s]\n", node[id], mermaidQuote(id.Name))
		}
		fmt.Fprintf(bw, "  class %s %s\n", node[id], mermaidClass(p))
		if v.focus[id] {
			fmt.Fprintf(bw, "  class %s focus\n", node[id])
		}
	}
	if opts.Columns && len(v.columnEdges) > 0 {
		for _, e := range v.columnEdges {
			from, to := colNode[e.From], colNode[e.To]
			if from == "" {
				from = node[e.From.Dataset]
			}
			if to == "" {
				to = node[e.To.Dataset]
			}
			arrow := "-->"
			if e.Type == graph.Indirect {
				arrow = "-.->"
			}
			fmt.Fprintf(bw, "  %s %s|%s| %s\n", from, arrow, mermaidQuote(transformLabel(e)), to)
		}
	} else {
		for _, e := range v.edges {
			fmt.Fprintf(bw, "  %s --> %s\n", node[e.From], node[e.To])
		}
	}
	for _, p := range sortedKeys(platforms) {
		fmt.Fprintf(bw, "  classDef %s fill:%s,stroke:#555\n", mermaidClass(p), platformColor(p))
	}
	if len(v.focus) > 0 {
		fmt.Fprintln(bw, "  classDef focus stroke-width:3px,stroke:#000")
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write mermaid: %w", err)
	}
	return nil
}

// mermaidQuote makes s safe inside a Mermaid label: quoted, with quotes
// and markup characters as entity codes.
func mermaidQuote(s string) string {
	r := strings.NewReplacer(`"`, "#quot;", "<", "#lt;", ">", "#gt;", "\n", " ", "|", "#124;")
	return `"` + r.Replace(s) + `"`
}

func mermaidClass(platform string) string {
	var b strings.Builder
	b.WriteString("p_")
	for _, r := range platform {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
