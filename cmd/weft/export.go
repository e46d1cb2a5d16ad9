package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/weftdata/weft/export"
	"github.com/weftdata/weft/graph"
)

// exportFormats are the formats weft export writes, by name, with the file
// extensions that imply them.
var exportFormats = map[string][]string{
	"dot":         {".dot", ".gv"},
	"html":        {".html", ".htm"},
	"mermaid":     {".mmd", ".mermaid"},
	"openlineage": {".jsonl", ".ndjson"},
}

type exportOptions struct {
	io     iostreams
	getenv func(string) string

	graphPath string
	format    string
	output    string
	focus     []string
	depth     int
	columns   bool
	title     string
	url       string
	apiKey    string
	batchSize int
}

func newExportCmd(a *app, runF func(context.Context, *exportOptions) error) *cobra.Command {
	opts := &exportOptions{}
	cmd := &cobra.Command{
		Use:   "export --format openlineage|dot|mermaid|html [flags]",
		Short: "Write the graph as OpenLineage events, DOT, Mermaid or an HTML page",
		Long: strings.TrimSpace(`
Convert a graph file written by "weft snapshot" into the formats other tools
read:

  openlineage  OpenLineage RunEvents, one JSON object per line, with the
               schema, columnLineage and sql facets; --url posts them to an
               OpenLineage consumer (Marquez, DataHub, ...) instead
  dot          a Graphviz digraph (render with: dot -Tsvg)
  mermaid      a Mermaid flowchart, for Markdown pages that render it
  html         one self-contained page to explore the graph in a browser:
               search, focus, column-level expand; it needs no network

--format may be left out when -o ends in .jsonl, .dot, .mmd or .html.

A big graph is hard to read whole: --focus picks datasets (any name weft
lineage accepts; repeat the flag for several) and --depth how many edges
around them to keep; --columns draws columns and column edges (DOT and
Mermaid). The HTML page opens on the first --focus dataset.

The API key for --url is read from --api-key or OPENLINEAGE_API_KEY (prefer
the variable: flags show in the process list), and the URL from
OPENLINEAGE_URL when --url is not given. Neither is ever printed.`),
		Example: examples(`
  weft export --graph graph.json --format html -o lineage.html
  weft export --format dot --focus fct_loan_risk --depth 2 --columns | dot -Tsvg > risk.svg
  weft export --format mermaid --focus ANALYTICS.MARTS.FCT_LOANS --depth 1
  weft export --format openlineage -o events.jsonl
  OPENLINEAGE_API_KEY=... weft export --format openlineage --url http://localhost:5000/api/v1/lineage`),
		Args: exactArgs(0, "no arguments (the graph is given with --graph)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.io = a.io
			opts.getenv = a.getenv
			if err := opts.validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runExport(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.graphPath, "graph", "g", defaultGraphFile, "graph `file` written by weft snapshot")
	f.StringVarP(&opts.format, "format", "f", "", "output `format`: openlineage, dot, mermaid or html")
	f.StringVarP(&opts.output, "output", "o", "-", "write to `file` (- for stdout)")
	f.StringArrayVar(&opts.focus, "focus", nil, "`dataset` to centre on (repeatable)")
	f.IntVarP(&opts.depth, "depth", "d", 0, "edges to keep around --focus (0: no limit; html: initial depth, default 2)")
	f.BoolVar(&opts.columns, "columns", false, "draw columns and column edges (dot, mermaid)")
	f.StringVar(&opts.title, "title", "", "page title (html)")
	f.StringVar(&opts.url, "url", "", "post OpenLineage events to this `URL` (default $OPENLINEAGE_URL)")
	f.StringVar(&opts.apiKey, "api-key", "", "API key sent as a bearer token with --url (default $OPENLINEAGE_API_KEY)")
	f.IntVar(&opts.batchSize, "batch-size", 1, "events per request with --url (1 posts single events, which every consumer accepts)")
	return cmd
}

func (o *exportOptions) validate() error {
	if o.format == "" && o.output != "-" {
		ext := strings.ToLower(filepath.Ext(o.output))
		for name, exts := range exportFormats {
			if slices.Contains(exts, ext) {
				o.format = name
			}
		}
	}
	if o.url == "" && o.getenv != nil && o.format == "openlineage" {
		o.url = o.getenv("OPENLINEAGE_URL")
	}
	if o.apiKey == "" && o.getenv != nil {
		o.apiKey = o.getenv("OPENLINEAGE_API_KEY")
	}
	valid := "dot, html, mermaid, openlineage"
	switch {
	case o.format == "":
		return usageErrorf("--format is required (valid: %s)", valid)
	case exportFormats[o.format] == nil:
		return usageErrorf("unknown --format %q (valid: %s)", o.format, valid)
	case o.depth < 0:
		return usageErrorf("--depth must be 0 (no limit) or more, got %d", o.depth)
	case o.url != "" && o.format != "openlineage":
		return usageErrorf("--url needs --format openlineage")
	case o.batchSize < 1:
		return usageErrorf("--batch-size must be 1 or more, got %d", o.batchSize)
	case o.columns && (o.format == "openlineage" || o.format == "html"):
		return usageErrorf("--columns applies to dot and mermaid (openlineage and html always carry columns)")
	case len(o.focus) > 0 && o.format == "openlineage":
		return usageErrorf("--focus applies to dot, mermaid and html; openlineage exports the whole graph")
	}
	if o.url != "" {
		u, err := url.Parse(o.url)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usageErrorf("--url: want an http or https URL, like http://localhost:5000/api/v1/lineage")
		}
	}
	return nil
}

func runExport(ctx context.Context, opts *exportOptions) error {
	g, err := readGraphFile(opts.graphPath)
	if err != nil {
		return err
	}
	var focus []graph.DatasetID
	for _, ref := range opts.focus {
		ids, err := g.Lookup(ref)
		if err != nil {
			return fmt.Errorf("--focus: %w", ambiguity(err))
		}
		focus = append(focus, ids[0])
	}

	if opts.url != "" {
		events := export.OpenLineageEvents(g, export.OpenLineageOptions{})
		sent, err := export.Post(ctx, events, export.PostOptions{URL: opts.url, APIKey: opts.apiKey, BatchSize: opts.batchSize})
		target := redactURL(opts.url)
		if err != nil {
			return fmt.Errorf("post to %s: %d of %d events accepted: %s", target, sent, len(events), scrub(err.Error(), opts.url, opts.apiKey))
		}
		fmt.Fprintf(opts.io.Err, "posted %d OpenLineage events to %s\n", sent, target)
		if opts.output == "-" {
			return nil
		}
	}

	write := func(w io.Writer) error {
		view := export.ViewOptions{Focus: focus, Depth: opts.depth, Columns: opts.columns}
		switch opts.format {
		case "dot":
			return export.DOT(w, g, view)
		case "mermaid":
			return export.Mermaid(w, g, view)
		case "html":
			h := export.HTMLOptions{Title: opts.title, Depth: opts.depth}
			if len(focus) > 0 {
				h.Focus = focus[0]
			}
			return export.HTML(w, g, h)
		}
		return export.OpenLineage(w, g, export.OpenLineageOptions{})
	}
	if opts.output == "-" {
		return write(opts.io.Out)
	}
	if err := writeFileAtomic(opts.output, write); err != nil {
		return err
	}
	fmt.Fprintf(opts.io.Err, "wrote %s\n", opts.output)
	return nil
}

// redactURL drops credentials and the query (which may hold a key) from a
// URL for messages.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "the --url"
	}
	u.User = nil
	u.RawQuery = ""
	u.Fragment = ""
	return u.String()
}

// scrub removes secrets from a message: the API key, and the URL's
// credentials and query wherever they appear.
func scrub(msg, rawURL, apiKey string) string {
	secrets := []string{apiKey}
	if u, err := url.Parse(rawURL); err == nil {
		if p, ok := u.User.Password(); ok {
			secrets = append(secrets, p)
		}
		secrets = append(secrets, u.RawQuery)
	}
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "***")
		}
	}
	return msg
}
