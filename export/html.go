package export

import (
	"bufio"
	"cmp"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/weftdata/weft/graph"
)

// The page is a template (markup and CSS) plus one script. The script is
// kept in its own file so that its hash can go into the page's
// Content-Security-Policy: only that exact script may run, so even markup
// that escaped the escaping could not execute.
var (
	//go:embed page.html
	pageTemplate string
	//go:embed page.js
	pageScript string
)

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

// pageData is the graph as the page's script reads it: datasets, jobs and
// evidence by index, so that edges stay small and a job's SQL is written
// once however many column edges it explains.
type pageData struct {
	Title       string            `json:"title"`
	Focus       int               `json:"focus"` // index into Datasets, -1 for none
	Depth       int               `json:"depth"`
	Datasets    []pageDataset     `json:"datasets"`
	Jobs        []pageJob         `json:"jobs"`
	Evidence    []pageEvidence    `json:"evidence"`
	Edges       []pageEdge        `json:"edges"`
	ColumnEdges []pageColEdge     `json:"columnEdges"`
	Platforms   map[string]string `json:"platforms"` // platform -> colour
}

type pageDataset struct {
	Namespace   string            `json:"ns"`
	Name        string            `json:"name"`
	Platform    string            `json:"platform"`
	Kind        string            `json:"kind,omitempty"`
	Description string            `json:"description,omitempty"`
	Columns     []pageColumn      `json:"columns,omitempty"`
	Properties  map[string]string `json:"props,omitempty"`
}

type pageColumn struct {
	Name        string `json:"name"`
	Type        string `json:"type,omitempty"`
	Description string `json:"description,omitempty"`
}

type pageJob struct {
	ID   string `json:"id"`
	Type string `json:"type,omitempty"`
	SQL  string `json:"sql,omitempty"`
}

type pageEvidence struct {
	Extractor string `json:"extractor"`
	Origin    string `json:"origin"`
	Method    string `json:"method,omitempty"`
	Job       int    `json:"job"` // index into Jobs, -1 for none
}

type pageEdge struct {
	From     int   `json:"from"`
	To       int   `json:"to"`
	Evidence []int `json:"ev"`
}

type pageColEdge struct {
	From       int    `json:"from"`
	FromColumn string `json:"fromColumn"`
	To         int    `json:"to"`
	ToColumn   string `json:"toColumn"` // empty: every column
	Type       string `json:"type"`
	Subtype    string `json:"subtype"`
	Evidence   []int  `json:"ev"`
}

// HTML writes a self-contained page (inline CSS and JavaScript, no
// network) to explore g: a search box, focus on a dataset with its
// upstream and downstream highlighted, a depth control, column expand and
// column-level tracing, a colour per platform and edge tooltips with the
// transformation and the SQL or origin. However large g is, the page draws
// at most a few hundred datasets at a time.
//
// The graph is embedded as JSON in a <script type="application/json">
// element, with <, >, &, U+2028 and U+2029 escaped, and the page's script
// inserts text only through textContent: SQL from query logs is untrusted
// and must not be able to close the element or inject markup. The page's
// Content-Security-Policy allows only its own script, by hash.
func HTML(w io.Writer, g *graph.Graph, opts HTMLOptions) error {
	data := buildPageData(g, opts)
	js, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("encode html page data: %w", err)
	}
	for _, p := range []string{"{{TITLE}}", "{{CSP_SCRIPT}}", "{{DATA}}", "{{SCRIPT}}"} {
		if strings.Count(pageTemplate, p) != 1 {
			return fmt.Errorf("html page template: want one %s placeholder", p)
		}
	}
	sum := sha256.Sum256([]byte(pageScript))
	// Cut at the data first and replace in one pass, so that nothing
	// substituted (a title, the script) is ever scanned for placeholders.
	r := strings.NewReplacer(
		"{{TITLE}}", htmlEscape(data.Title),
		"{{CSP_SCRIPT}}", "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'",
		"{{SCRIPT}}", pageScript,
	)
	before, after, _ := strings.Cut(pageTemplate, "{{DATA}}")
	before, after = r.Replace(before), r.Replace(after)
	bw := bufio.NewWriter(w)
	bw.WriteString(before)
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

// pageColors are the page's platform colours: saturated, because the page
// uses them for a node's stripe and tints its fill with them, unlike the
// pastel fills of DOT and Mermaid.
var pageColors = map[string]string{
	"snowflake":  "#29b5e8",
	"databricks": "#ff3621",
	"dbt":        "#8b5cf6",
	"postgres":   "#336791",
	"bigquery":   "#34a853",
	"duckdb":     "#c9a800",
	"spark":      "#e25a1c",
	"redshift":   "#8c4fff",
	"athena":     "#7d3c98",
	"file":       "#8a8f98",
}

// otherColors colour platforms the page has no colour for, picked by a
// hash of the name so that a platform keeps its colour across pages.
var otherColors = []string{"#0f9d8a", "#d81b60", "#6d4c41", "#5c6bc0", "#7cb342", "#f4511e", "#00897b", "#8e24aa"}

func pageColor(platform string) string {
	if c, ok := pageColors[platform]; ok {
		return c
	}
	h := fnv.New32a()
	h.Write([]byte(platform))
	return otherColors[h.Sum32()%uint32(len(otherColors))]
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
				pd.Columns = append(pd.Columns, pageColumn{Name: c.Name, Type: c.Type, Description: c.Description})
			}
			if len(d.Properties) > 0 {
				pd.Properties = d.Properties
			}
		}
		data.Platforms[pd.Platform] = pageColor(pd.Platform)
		data.Datasets = append(data.Datasets, pd)
	}
	if i, ok := index[opts.Focus]; ok {
		data.Focus = i
	}

	// Jobs and evidence are numbered in sorted order so that the page is
	// the same bytes for the same graph.
	jobIDs := map[graph.JobID]bool{}
	evs := map[pageEvidenceKey]bool{}
	collect := func(list []graph.Evidence) {
		for _, ev := range list {
			if !ev.Job.IsZero() {
				jobIDs[ev.Job] = true
			}
			evs[evidenceKey(ev)] = true
		}
	}
	for _, e := range g.Edges {
		collect(e.Evidence)
	}
	for _, e := range g.ColumnEdges {
		collect(e.Evidence)
	}
	jobs := slices.SortedFunc(maps.Keys(jobIDs), graph.JobID.Compare)
	jobIndex := make(map[graph.JobID]int, len(jobs))
	for i, id := range jobs {
		jobIndex[id] = i
		pj := pageJob{ID: id.String()}
		if j, ok := g.Jobs[id]; ok {
			pj.Type, pj.SQL = j.Type, j.SQL
		}
		data.Jobs = append(data.Jobs, pj)
	}
	evKeys := slices.SortedFunc(maps.Keys(evs), func(a, b pageEvidenceKey) int {
		return cmp.Or(strings.Compare(a.extractor, b.extractor), strings.Compare(a.origin, b.origin),
			strings.Compare(a.method, b.method), strings.Compare(a.job.Namespace, b.job.Namespace),
			strings.Compare(a.job.Name, b.job.Name))
	})
	evIndex := make(map[pageEvidenceKey]int, len(evKeys))
	for i, k := range evKeys {
		evIndex[k] = i
		job := -1
		if !k.job.IsZero() {
			job = jobIndex[k.job]
		}
		data.Evidence = append(data.Evidence, pageEvidence{Extractor: k.extractor, Origin: k.origin, Method: k.method, Job: job})
	}
	evidence := func(list []graph.Evidence) []int {
		out := make([]int, 0, len(list))
		for _, ev := range list {
			out = append(out, evIndex[evidenceKey(ev)])
		}
		slices.Sort(out)
		return slices.Compact(out)
	}

	for _, e := range g.Edges {
		data.Edges = append(data.Edges, pageEdge{From: index[e.From], To: index[e.To], Evidence: evidence(e.Evidence)})
	}
	slices.SortFunc(data.Edges, func(a, b pageEdge) int {
		return cmp.Or(a.From-b.From, a.To-b.To)
	})
	for _, e := range g.ColumnEdges {
		data.ColumnEdges = append(data.ColumnEdges, pageColEdge{
			From: index[e.From.Dataset], FromColumn: e.From.Column, To: index[e.To.Dataset], ToColumn: e.To.Column,
			Type: e.Type, Subtype: e.Subtype, Evidence: evidence(e.Evidence),
		})
	}
	slices.SortFunc(data.ColumnEdges, func(a, b pageColEdge) int {
		return cmp.Or(a.From-b.From, strings.Compare(a.FromColumn, b.FromColumn), a.To-b.To,
			strings.Compare(a.ToColumn, b.ToColumn), strings.Compare(a.Type, b.Type), strings.Compare(a.Subtype, b.Subtype))
	})
	return data
}

// pageEvidenceKey is what the page shows of an evidence: counts and times
// are left out, so that the same origin seen on many edges is one entry.
type pageEvidenceKey struct {
	extractor, origin, method string
	job                       graph.JobID
}

func evidenceKey(ev graph.Evidence) pageEvidenceKey {
	return pageEvidenceKey{extractor: ev.Extractor, origin: ev.Origin, method: ev.Method, job: ev.Job}
}
