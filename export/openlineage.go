package export

import (
	"bufio"
	"cmp"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/weftdata/weft/graph"
)

// Schema URLs stamped into the events. The facet versions are those the
// tests validate against (export/testdata/openlineage).
const (
	Producer              = "https://github.com/weftdata/weft"
	runEventSchemaURL     = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
	schemaFacetURL        = "https://openlineage.io/spec/facets/1-0-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet"
	columnLineageFacetURL = "https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet"
	sqlFacetURL           = "https://openlineage.io/spec/1-0-1/SQLJobFacet.json#/$defs/SQLJobFacet"
	parentFacetURL        = "https://openlineage.io/spec/1-0-1/ParentRunFacet.json#/$defs/ParentRunFacet"
)

// OpenLineageOptions configures OpenLineage export.
type OpenLineageOptions struct {
	// Producer is the producer URI in every event; empty means Producer.
	Producer string
	// EventTime is used for events whose run has no time and whose edges
	// have no last-seen time. Zero means the Unix epoch, which keeps the
	// output deterministic.
	EventTime time.Time
}

// Event is one OpenLineage RunEvent.
type Event struct {
	EventType string      `json:"eventType"`
	EventTime string      `json:"eventTime"`
	Producer  string      `json:"producer"`
	SchemaURL string      `json:"schemaURL"`
	Run       olRun       `json:"run"`
	Job       olJob       `json:"job"`
	Inputs    []olDataset `json:"inputs"`
	Outputs   []olDataset `json:"outputs"`
}

type olRun struct {
	RunID  string         `json:"runId"`
	Facets map[string]any `json:"facets,omitempty"`
}

type olJob struct {
	Namespace string         `json:"namespace"`
	Name      string         `json:"name"`
	Facets    map[string]any `json:"facets,omitempty"`
}

type olDataset struct {
	Namespace string         `json:"namespace"`
	Name      string         `json:"name"`
	Facets    map[string]any `json:"facets,omitempty"`
}

type facetBase struct {
	Producer  string `json:"_producer"`
	SchemaURL string `json:"_schemaURL"`
}

type schemaFacet struct {
	facetBase
	Fields []schemaField `json:"fields"`
}

type schemaField struct {
	Name        string `json:"name"`
	Type        string `json:"type,omitempty"`
	Description string `json:"description,omitempty"`
}

type columnLineageFacet struct {
	facetBase
	Fields  map[string]columnLineageField `json:"fields"`
	Dataset []inputField                  `json:"dataset,omitempty"`
}

type columnLineageField struct {
	InputFields []inputField `json:"inputFields"`
}

type inputField struct {
	Namespace       string           `json:"namespace"`
	Name            string           `json:"name"`
	Field           string           `json:"field"`
	Transformations []transformation `json:"transformations"`
}

type transformation struct {
	Type    string `json:"type"`
	Subtype string `json:"subtype,omitempty"`
}

type sqlFacet struct {
	facetBase
	Query string `json:"query"`
}

type parentFacet struct {
	facetBase
	Run struct {
		RunID string `json:"runId"`
	} `json:"run"`
	Job struct {
		Namespace string `json:"namespace"`
		Name      string `json:"name"`
	} `json:"job"`
}

// jobLineage collects what one job reads and writes.
type jobLineage struct {
	id          graph.JobID
	inputs      map[graph.DatasetID]bool
	outputs     map[graph.DatasetID]bool
	columnEdges []*graph.ColumnEdge
	lastSeen    time.Time
}

// OpenLineageEvents turns g into RunEvents: one COMPLETE (or FAIL) event
// per job that has edges, attached to the job's latest run when the graph
// knows one, plus one event per parent run (a dbt invocation, a Databricks
// job run) that has none yet, so that consumers can link them; each run has
// one event. Edges whose evidence names no
// job are grouped under a job "weft.lineage.<output name>" in the output's
// namespace. Events are sorted by job, then run.
func OpenLineageEvents(g *graph.Graph, opts OpenLineageOptions) []Event {
	producer := cmp.Or(opts.Producer, Producer)
	jobs := map[graph.JobID]*jobLineage{}
	get := func(ev graph.Evidence, to graph.DatasetID) *jobLineage {
		id := ev.Job
		if id.IsZero() {
			id = graph.JobID{Namespace: to.Namespace, Name: "weft.lineage." + to.Name}
		}
		jl, ok := jobs[id]
		if !ok {
			jl = &jobLineage{id: id, inputs: map[graph.DatasetID]bool{}, outputs: map[graph.DatasetID]bool{}}
			jobs[id] = jl
		}
		if ev.LastSeen.After(jl.lastSeen) {
			jl.lastSeen = ev.LastSeen
		}
		return jl
	}
	for _, e := range g.Edges {
		for _, ev := range e.Evidence {
			jl := get(ev, e.To)
			jl.inputs[e.From] = true
			jl.outputs[e.To] = true
		}
	}
	for _, e := range g.ColumnEdges {
		seen := map[graph.JobID]bool{}
		for _, ev := range e.Evidence {
			jl := get(ev, e.To.Dataset)
			if seen[jl.id] {
				continue
			}
			seen[jl.id] = true
			jl.inputs[e.From.Dataset] = true
			jl.outputs[e.To.Dataset] = true
			jl.columnEdges = append(jl.columnEdges, e)
		}
	}

	// The latest run of each job.
	latest := map[graph.JobID]*graph.Run{}
	for _, r := range g.Runs {
		cur, ok := latest[r.Job]
		if !ok || r.End.After(cur.End) || r.End.Equal(cur.End) && r.ID > cur.ID {
			latest[r.Job] = r
		}
	}

	var events []Event
	parents := map[string]bool{}
	emitted := map[string]bool{} // runs that have an event of their own
	for _, jl := range jobs {
		run := latest[jl.id]
		ev := Event{
			EventType: "COMPLETE",
			Producer:  producer,
			SchemaURL: runEventSchemaURL,
			Job:       olJob{Namespace: jl.id.Namespace, Name: jl.id.Name},
			Inputs:    []olDataset{},
			Outputs:   []olDataset{},
		}
		when := cmp.Or(jl.lastSeen, opts.EventTime)
		if run != nil {
			emitted[run.ID] = true
			ev.Run = olRun{RunID: runUUID(run.ID)}
			ev.EventType = eventType(run.State)
			when = cmp.Or(run.End, run.Start, when)
			if p := parentFacetFor(g, run, producer); p != nil {
				ev.Run.Facets = map[string]any{"parent": p}
				parents[run.Parent] = true
			}
		} else {
			ev.Run = olRun{RunID: runUUID("job:" + jl.id.String())}
		}
		ev.EventTime = formatTime(when)
		if j, ok := g.Jobs[jl.id]; ok && j.SQL != "" {
			ev.Job.Facets = map[string]any{"sql": sqlFacet{facetBase{producer, sqlFacetURL}, j.SQL}}
		}
		for _, id := range sortedIDs(jl.inputs) {
			ev.Inputs = append(ev.Inputs, olDatasetFor(g, id, producer, nil))
		}
		for _, id := range sortedIDs(jl.outputs) {
			ev.Outputs = append(ev.Outputs, olDatasetFor(g, id, producer, jl.columnEdges))
		}
		events = append(events, ev)
	}
	for id := range parents {
		if emitted[id] {
			// A parent run that is also its job's latest run already has
			// an event, with its inputs and outputs; a second, empty one
			// for the same run would leave consumers with either.
			continue
		}
		run := g.Runs[id]
		ev := Event{
			EventType: eventType(run.State),
			EventTime: formatTime(cmp.Or(run.End, run.Start, opts.EventTime)),
			Producer:  producer,
			SchemaURL: runEventSchemaURL,
			Run:       olRun{RunID: runUUID(run.ID)},
			Job:       olJob{Namespace: run.Job.Namespace, Name: run.Job.Name},
			Inputs:    []olDataset{},
			Outputs:   []olDataset{},
		}
		if p := parentFacetFor(g, run, producer); p != nil {
			ev.Run.Facets = map[string]any{"parent": p}
		}
		events = append(events, ev)
	}
	slices.SortFunc(events, func(a, b Event) int {
		return cmp.Or(strings.Compare(a.Job.Namespace, b.Job.Namespace), strings.Compare(a.Job.Name, b.Job.Name),
			strings.Compare(a.Run.RunID, b.Run.RunID))
	})
	return events
}

// parentFacetFor returns the parent facet of run, or nil when the run has
// no parent or the parent run is not in the graph (the facet needs the
// parent's job).
func parentFacetFor(g *graph.Graph, run *graph.Run, producer string) *parentFacet {
	if run.Parent == "" {
		return nil
	}
	parent, ok := g.Runs[run.Parent]
	if !ok || parent.Job.IsZero() {
		return nil
	}
	p := &parentFacet{facetBase: facetBase{producer, parentFacetURL}}
	p.Run.RunID = runUUID(parent.ID)
	p.Job.Namespace, p.Job.Name = parent.Job.Namespace, parent.Job.Name
	return p
}

func olDatasetFor(g *graph.Graph, id graph.DatasetID, producer string, columnEdges []*graph.ColumnEdge) olDataset {
	out := olDataset{Namespace: id.Namespace, Name: id.Name}
	facets := map[string]any{}
	if d, ok := g.Datasets[id]; ok && len(d.Columns) > 0 {
		sf := schemaFacet{facetBase: facetBase{producer, schemaFacetURL}}
		for _, c := range d.Columns {
			sf.Fields = append(sf.Fields, schemaField{Name: c.Name, Type: c.Type, Description: c.Description})
		}
		facets["schema"] = sf
	}
	if cl := columnLineageFor(id, producer, columnEdges); cl != nil {
		facets["columnLineage"] = cl
	}
	if len(facets) > 0 {
		out.Facets = facets
	}
	return out
}

// columnLineageFor builds the columnLineage facet of output dataset id
// from the job's column edges into it. Edges into "every column" go to the
// facet's dataset list. Input fields are sorted; one input column used in
// several ways carries several transformations.
func columnLineageFor(id graph.DatasetID, producer string, edges []*graph.ColumnEdge) *columnLineageFacet {
	type key struct {
		out string
		in  graph.ColumnID
	}
	trans := map[key][]transformation{}
	for _, e := range edges {
		if e.To.Dataset != id {
			continue
		}
		k := key{e.To.Column, e.From}
		trans[k] = append(trans[k], transformation{Type: e.Type, Subtype: e.Subtype})
	}
	if len(trans) == 0 {
		return nil
	}
	keys := make([]key, 0, len(trans))
	for k := range trans {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int {
		return cmp.Or(strings.Compare(a.out, b.out), graph.ColumnID.Compare(a.in, b.in))
	})
	f := &columnLineageFacet{facetBase: facetBase{producer, columnLineageFacetURL}, Fields: map[string]columnLineageField{}}
	for _, k := range keys {
		ts := trans[k]
		slices.SortFunc(ts, func(a, b transformation) int {
			return cmp.Or(strings.Compare(a.Type, b.Type), strings.Compare(a.Subtype, b.Subtype))
		})
		in := inputField{Namespace: k.in.Dataset.Namespace, Name: k.in.Dataset.Name, Field: k.in.Column, Transformations: ts}
		if k.out == "" {
			f.Dataset = append(f.Dataset, in)
			continue
		}
		fl := f.Fields[k.out]
		fl.InputFields = append(fl.InputFields, in)
		f.Fields[k.out] = fl
	}
	return f
}

func sortedIDs(m map[graph.DatasetID]bool) []graph.DatasetID {
	out := make([]graph.DatasetID, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	slices.SortFunc(out, graph.DatasetID.Compare)
	return out
}

// eventType maps a platform's run state onto OpenLineage's.
func eventType(state string) string {
	s := strings.ToLower(state)
	switch {
	case strings.Contains(s, "fail"), strings.Contains(s, "error"):
		return "FAIL"
	case strings.Contains(s, "cancel"), strings.Contains(s, "abort"), strings.Contains(s, "skip"):
		return "ABORT"
	case strings.Contains(s, "running"), strings.Contains(s, "pending"):
		return "RUNNING"
	}
	return "COMPLETE"
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		t = time.Unix(0, 0)
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// runUUID derives a stable UUID (version 5 layout, SHA-1 of the platform
// run id) because OpenLineage requires UUID run ids and dbt, Snowflake and
// Databricks do not all use them. The same run always gets the same UUID,
// so re-exporting updates a consumer's run instead of adding one.
func runUUID(id string) string {
	sum := sha1.Sum([]byte("weft-run:" + id))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// OpenLineage writes g's RunEvents as JSON lines, one event per line.
func OpenLineage(w io.Writer, g *graph.Graph, opts OpenLineageOptions) error {
	bw := bufio.NewWriter(w)
	for _, ev := range OpenLineageEvents(g, opts) {
		line, err := marshalEvent(ev)
		if err != nil {
			return err
		}
		bw.Write(line)
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write openlineage events: %w", err)
	}
	return nil
}

func marshalEvent(ev Event) ([]byte, error) {
	b, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("encode openlineage event for job %s/%s: %w", ev.Job.Namespace, ev.Job.Name, err)
	}
	return b, nil
}
