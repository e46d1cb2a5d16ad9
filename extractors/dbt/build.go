package dbt

import (
	"cmp"
	"strconv"
	"strings"
	"time"

	"github.com/weftdata/weft/extractors"
	"github.com/weftdata/weft/graph"
)

// Graph builds the project's lineage graph: a dataset per model, seed,
// snapshot, source and consumer, a job per model, seed, snapshot and
// analysis, a run per node in run_results, and a table edge per
// depends_on entry between two datasets. The Project's findings are
// copied in.
func (p *Project) Graph() *graph.Graph {
	g := graph.New()
	for _, n := range p.Nodes {
		if n.IsDataset() {
			d := p.dataset(n)
			if _, ok := g.Datasets[d.ID]; ok {
				g.AddDataset(d)
			} else {
				// d is fresh and already normalised (sorted tests and
				// identities): store it rather than let AddDataset copy
				// every column again.
				g.Datasets[d.ID] = &d
			}
		}
		if n.HasJob() {
			g.AddJob(p.job(n))
			if r, ok := p.runs[n.UniqueID]; ok {
				g.AddRun(graph.Run{
					ID:     p.runInvocation + "/" + n.UniqueID,
					Job:    p.JobID(n),
					Parent: p.runInvocation,
					State:  r.status,
					Start:  r.started,
					End:    r.completed,
				})
			}
		}
	}
	seen := parseTime(p.GeneratedAt)
	for _, n := range p.Nodes {
		if !n.IsDataset() {
			continue
		}
		to := n.DatasetID()
		ev := graph.Evidence{
			Extractor:  "dbt",
			Origin:     n.UniqueID,
			Method:     "depends_on",
			FirstSeen:  seen,
			LastSeen:   seen,
			Count:      1,
			Confidence: 1,
		}
		if n.HasJob() {
			ev.Job = p.JobID(n)
		}
		for _, dep := range n.DependsOn {
			d := p.byID[dep]
			if d == nil || !d.IsDataset() {
				continue // dangling refs are findings (checkRefs)
			}
			from := d.DatasetID()
			if from == to {
				continue // a source over a model's own relation: a self_ref finding
			}
			g.AddEdge(from, to, ev)
		}
	}
	p.exports(g, seen)
	p.columnEdges(g, seen)
	for _, f := range p.Findings {
		g.AddFinding(f)
	}
	return g
}

// exports adds a dataset for each relation a saved query exports to, after
// every node's, so that an export into a model's own table merges into the
// model's dataset, and a table edge from the saved query (Evidence Method
// "saved_query_export", no job: dbt Cloud or "dbt sl export" runs it, not
// dbt build).
func (p *Project) exports(g *graph.Graph, seen time.Time) {
	for _, n := range p.Nodes {
		if n.ResourceType != "saved_query" || n.Query == nil {
			continue
		}
		for _, ex := range n.Query.Exports {
			if ex.Relation.IsZero() {
				continue
			}
			g.AddDataset(p.exportDataset(n, ex))
			g.AddEdge(n.DatasetID(), ex.Relation, graph.Evidence{
				Extractor:  "dbt",
				Origin:     n.UniqueID,
				Method:     "saved_query_export",
				FirstSeen:  seen,
				LastSeen:   seen,
				Count:      1,
				Confidence: 1,
			})
		}
	}
}

// exportDataset is the table or view an export writes: the saved query's
// columns, folded like unquoted identifiers (MetricFlow writes them
// unquoted). It has no dbt_unique_id: it is not a dbt node, and the saved
// query's unique_id names the saved query.
func (p *Project) exportDataset(n *Node, ex Export) graph.Dataset {
	kind := graph.KindTable
	if ex.As == "view" {
		kind = graph.KindView
	}
	d := graph.Dataset{
		ID:       ex.Relation,
		Platform: p.Platform,
		Kind:     kind,
		Properties: map[string]string{
			"dbt_saved_query":    n.UniqueID,
			"export_name":        ex.Name,
			"export_as":          ex.As,
			"original_file_path": n.OriginalFilePath,
			"package_name":       n.PackageName,
		},
	}
	for k, v := range d.Properties {
		if v == "" {
			delete(d.Properties, k)
		}
	}
	for _, c := range savedQueryColumns(n) {
		d.Columns = append(d.Columns, graph.Column{Name: graph.Fold(p.Platform, c.Name, false)})
	}
	return d
}

// columnEdges adds the column edges dbt itself states, without SQL:
// semantic models, metrics and saved queries from the columns they name,
// and snapshots' meta columns from the strategy's columns. Exposures name
// no columns; they stay table-level consumers.
func (p *Project) columnEdges(g *graph.Graph, seen time.Time) {
	base := graph.Evidence{
		Extractor:  "dbt",
		FirstSeen:  seen,
		LastSeen:   seen,
		Count:      1,
		Confidence: 1,
	}
	p.semanticEdges(g, base)
	for _, n := range p.Nodes {
		if n.ResourceType != "snapshot" || n.Snapshot == nil || n.DatasetID().IsZero() {
			continue
		}
		ev := base
		ev.Origin = n.UniqueID
		ev.Method = "snapshot_strategy"
		ev.Job = p.JobID(n)
		p.snapshotEdges(g, n, ev)
	}
}

// JobID is the job that builds n: {dbt://<project>, unique_id}.
func (p *Project) JobID(n *Node) graph.JobID {
	return graph.JobID{Namespace: p.DBTNamespace, Name: n.UniqueID}
}

func (p *Project) dataset(n *Node) graph.Dataset {
	d := graph.Dataset{
		ID:          n.DatasetID(),
		Platform:    p.Platform,
		Kind:        kindOf(n),
		Description: n.Description,
		Properties:  p.properties(n),
	}
	if n.Relation.IsZero() {
		d.Platform = graph.DBT
	} else {
		d.Identities = []graph.Identity{{ID: n.DBTID, Reason: "dbt unique_id"}}
	}
	if len(n.Columns) > 0 {
		d.Columns = make([]graph.Column, len(n.Columns))
		for i, c := range n.Columns {
			d.Columns[i] = graph.Column{Name: c.Name, Type: c.Type, Description: c.Description, Tests: c.Tests}
		}
	}
	// A semantic model's entities, dimensions and measures are the
	// columns consumers read; Type says which of the three it is.
	for _, f := range n.Fields {
		if f.Name == "" {
			continue
		}
		c := graph.Column{Name: f.Name, Type: f.Kind}
		if f.Expr != "" {
			c.Description = "expr: " + f.Expr
		}
		if _, dup := d.Column(c.Name); !dup {
			d.Columns = append(d.Columns, c)
		}
	}
	// A metric is one value: one column named like the metric. A saved
	// query returns its metrics and group-by items.
	var extra []graph.Column
	switch n.ResourceType {
	case "metric":
		extra = []graph.Column{{Name: n.Name, Type: "metric"}}
	case "saved_query":
		extra = savedQueryColumns(n)
	}
	for _, c := range extra {
		if _, dup := d.Column(c.Name); !dup {
			d.Columns = append(d.Columns, c)
		}
	}
	return d
}

func kindOf(n *Node) graph.Kind {
	switch n.ResourceType {
	case "model":
		return graph.KindModel
	case "seed":
		return graph.KindSeed
	case "snapshot":
		return graph.KindSnapshot
	case "source":
		return graph.KindSource
	case "exposure":
		return graph.KindExposure
	case "metric":
		return graph.KindMetric
	case "semantic_model":
		return graph.KindSemanticModel
	case "saved_query":
		return graph.KindSavedQuery
	}
	return graph.Kind(n.ResourceType)
}

// properties are the dataset's dbt facts; empty values are left out.
func (p *Project) properties(n *Node) map[string]string {
	props := map[string]string{
		"dbt_unique_id":      n.UniqueID,
		"resource_type":      n.ResourceType,
		"materialized":       n.Materialized,
		"original_file_path": n.OriginalFilePath,
		"package_name":       n.PackageName,
		"language":           n.Language,
		"access":             n.Access,
		"version":            n.Version,
		"latest_version":     n.LatestVersion,
		"relation_type":      n.CatalogRelationType,
		"last_status":        n.LastStatus,
		"last_run_at":        n.LastRunAt,
		"tests":              strings.Join(n.Tests, "; "),
	}
	switch n.ResourceType {
	case "source":
		props["source_name"] = n.SourceName
		if n.External != nil {
			props["external_location"] = n.External.Location
		}
	case "exposure":
		props["exposure_type"] = n.Type
	case "metric":
		props["metric_type"] = n.Type
	}
	if n.ContractEnforced {
		props["contract_enforced"] = "true"
	}
	if n.ran {
		props["execution_time"] = strconv.FormatFloat(n.ExecutionTime, 'f', 3, 64)
	}
	for k, v := range props {
		if v == "" {
			delete(props, k)
		}
	}
	return props
}

func (p *Project) job(n *Node) graph.Job {
	j := graph.Job{
		ID:   p.JobID(n),
		Type: "dbt_" + n.ResourceType,
		Properties: map[string]string{
			"original_file_path": n.OriginalFilePath,
		},
	}
	if n.Materialized != "" {
		j.Properties["materialized"] = n.Materialized
	}
	if n.Language == "python" {
		j.Properties["language"] = "python"
	} else {
		j.SQL = n.CompiledSQL
	}
	if j.Properties["original_file_path"] == "" {
		delete(j.Properties, "original_file_path")
	}
	return j
}

// Statements returns the compiled SQL of every model, snapshot and
// analysis that has it, sorted by unique_id. Python models are left out
// (their compiled code is Python). A model's statement targets the
// relation it builds (an ephemeral model's dbt identity); an analysis
// builds nothing and has no Target.
func (p *Project) Statements() []extractors.Statement {
	var out []extractors.Statement
	for _, n := range p.Nodes {
		switch n.ResourceType {
		case "model", "snapshot", "analysis":
		default:
			continue
		}
		if n.CompiledSQL == "" || n.Language == "python" || strings.TrimSpace(n.CompiledSQL) == "" {
			continue
		}
		db, schema := p.defaults(n)
		out = append(out, extractors.Statement{
			SQL:             n.CompiledSQL,
			Dialect:         p.Dialect,
			Namespace:       p.Namespace,
			DefaultDatabase: db,
			DefaultSchema:   schema,
			Target:          n.DatasetID(),
			Job:             p.JobID(n),
			Origin: extractors.Origin{
				Extractor: "dbt",
				File:      cmp.Or(n.OriginalFilePath, n.CompiledPath),
				Line:      1,
				NodeID:    n.UniqueID,
			},
		})
	}
	return out
}

// defaults are the node's database and schema folded like the parts of a
// dataset name, so that an unqualified table in its SQL resolves the way
// the relation names do.
func (p *Project) defaults(n *Node) (database, schema string) {
	dq, sq, _ := p.defaultQuoting()
	database = graph.Fold(p.Platform, n.Database, orBool(n.quoting.database, dq))
	schema = graph.Fold(p.Platform, n.Schema, orBool(n.quoting.schema, sq))
	if database == "" && p.Platform == graph.Databricks {
		database = "hive_metastore"
	}
	return database, schema
}
