package export

import (
	"bufio"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/weftdata/weft/graph"
)

//go:embed page.html
var pageTemplate string

// HTMLOptions configures the HTML page.
type HTMLOptions struct {
	Title string // page title; empty means "weft lineage"
	// Focus is the dataset the page opens on; zero means the whole graph
	// when it is small, or the search box when it is not.
	Focus graph.DatasetID
	// Depth is the initial upstream/downstream depth around a focused
	// node; 0 means 2.
	Depth int
}

// pageData is the graph as the page's script reads it: datasets by index,
// so that edges stay small.
type pageData struct {
	Title       string            `json:"title"`
	Focus       int               `json:"focus"` // index into Datasets, -1 for none
	Depth       int               `json:"depth"`
	Datasets    []pageDataset     `json:"datasets"`
	Edges       []pageEdge        `json:"edges"`
	ColumnEdges []pageColEdge     `json:"columnEdges"`
	Platforms   map[string]string `json:"platforms"` // platform -> colour
}

type pageDataset struct {
	Namespace   string       `json:"ns"`
	Name        string       `json:"name"`
	Platform    string       `json:"platform"`
	Kind        string       `json:"kind,omitempty"`
	Description string       `json:"description,omitempty"`
	Columns     []pageColumn `json:"columns,omitempty"`
}

type pageColumn struct {
	Name string `json:"name"`
	Type string `json:"type,omitempty"`
}

type pageEdge struct {
	From     int            `json:"from"`
	To       int            `json:"to"`
	Evidence []pageEvidence `json:"evidence"`
}

type pageEvidence struct {
	Extractor string `json:"extractor"`
	Origin    string `json:"origin"`
	Method    string `json:"method,omitempty"`
	Job       string `json:"job,omitempty"`
	SQL       string `json:"sql,omitempty"`
}

type pageColEdge struct {
	From       int            `json:"from"`
	FromColumn string         `json:"fromColumn"`
	To         int            `json:"to"`
	ToColumn   string         `json:"toColumn"` // empty: every column
	Type       string         `json:"type"`
	Subtype    string         `json:"subtype"`
	Evidence   []pageEvidence `json:"evidence"`
}

// HTML writes a self-contained page (inline CSS and JavaScript, no
// network) to explore g: a search box, focus on a dataset with its
// upstream and downstream highlighted, a depth control, column expand, a
// colour per platform and edge tooltips with the transformation and the
// SQL or origin.
//
// The graph is embedded as JSON in a <script type="application/json">
// element, with <, >, &, U+2028 and U+2029 escaped, and the page's script
// inserts text only through textContent: SQL from query logs is untrusted
// and must not be able to close the element or inject markup.
func HTML(w io.Writer, g *graph.Graph, opts HTMLOptions) error {
	data := buildPageData(g, opts)
	js, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("encode html page data: %w", err)
	}
	before, after, ok := strings.Cut(pageTemplate, "{{DATA}}")
	if !ok {
		return fmt.Errorf("html page template has no data placeholder")
	}
	bw := bufio.NewWriter(w)
	bw.WriteString(strings.Replace(before, "{{TITLE}}", htmlEscape(data.Title), 1))
	bw.Write(escapeScriptJSON(js))
	bw.WriteString(after)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write html page: %w", err)
	}
	return nil
}

// escapeScriptJSON makes JSON safe inside a <script> element. encoding/json
// already escapes <, > and & and the two line separators; doing it again
// here keeps the page safe even if the encoder's settings change.
func escapeScriptJSON(b []byte) []byte {
	r := strings.NewReplacer("<", `\u003c`, ">", `\u003e`, "&", `\u0026`, "\u2028", `\u2028`, "\u2029", `\u2029`)
	return []byte(r.Replace(string(b)))
}

func buildPageData(g *graph.Graph, opts HTMLOptions) pageData {
	data := pageData{Title: opts.Title, Focus: -1, Depth: opts.Depth, Platforms: map[string]string{}}
	if data.Title == "" {
		data.Title = "weft lineage"
	}
	if data.Depth <= 0 {
		data.Depth = 2
	}
	ids := map[graph.DatasetID]bool{}
	for id := range g.Datasets {
		ids[id] = true
	}
	for id := range g.Edges {
		ids[id.From], ids[id.To] = true, true
	}
	for id := range g.ColumnEdges {
		ids[id.From.Dataset], ids[id.To.Dataset] = true, true
	}
	sorted := sortedIDs(ids)
	index := make(map[graph.DatasetID]int, len(sorted))
	for i, id := range sorted {
		index[id] = i
		pd := pageDataset{Namespace: id.Namespace, Name: id.Name, Platform: platformOf(g, id)}
		if d, ok := g.Datasets[id]; ok {
			pd.Kind, pd.Description = string(d.Kind), d.Description
			for _, c := range d.Columns {
				pd.Columns = append(pd.Columns, pageColumn{Name: c.Name, Type: c.Type})
			}
		}
		data.Platforms[pd.Platform] = platformColor(pd.Platform)
		data.Datasets = append(data.Datasets, pd)
	}
	if i, ok := index[opts.Focus]; ok {
		data.Focus = i
	}
	evidence := func(evs []graph.Evidence) []pageEvidence {
		out := make([]pageEvidence, 0, len(evs))
		for _, ev := range evs {
			pe := pageEvidence{Extractor: ev.Extractor, Origin: ev.Origin, Method: ev.Method}
			if !ev.Job.IsZero() {
				pe.Job = ev.Job.String()
				if j, ok := g.Jobs[ev.Job]; ok {
					pe.SQL = j.SQL
				}
			}
			out = append(out, pe)
		}
		return out
	}
	for _, e := range g.Edges {
		data.Edges = append(data.Edges, pageEdge{From: index[e.From], To: index[e.To], Evidence: evidence(e.Evidence)})
	}
	slices.SortFunc(data.Edges, func(a, b pageEdge) int {
		if a.From != b.From {
			return a.From - b.From
		}
		return a.To - b.To
	})
	for _, e := range g.ColumnEdges {
		data.ColumnEdges = append(data.ColumnEdges, pageColEdge{
			From: index[e.From.Dataset], FromColumn: e.From.Column, To: index[e.To.Dataset], ToColumn: e.To.Column,
			Type: e.Type, Subtype: e.Subtype, Evidence: evidence(e.Evidence),
		})
	}
	slices.SortFunc(data.ColumnEdges, func(a, b pageColEdge) int {
		switch {
		case a.From != b.From:
			return a.From - b.From
		case a.FromColumn != b.FromColumn:
			return strings.Compare(a.FromColumn, b.FromColumn)
		case a.To != b.To:
			return a.To - b.To
		case a.ToColumn != b.ToColumn:
			return strings.Compare(a.ToColumn, b.ToColumn)
		case a.Type != b.Type:
			return strings.Compare(a.Type, b.Type)
		}
		return strings.Compare(a.Subtype, b.Subtype)
	})
	return data
}
