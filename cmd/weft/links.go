package main

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/weftdata/weft/graph"
	"github.com/weftdata/weft/weave"
)

// User-declared identity links, the "links:" list of weft.yaml:
//
//	links:
//	  - from: databricks://adb-1.azuredatabricks.net/sf_analytics.*.*
//	    to: snowflake://acme-prod/ANALYTICS.{1}.{2}
//	    case: upper
//	    reason: sf_analytics is a Lakehouse Federation mirror of ANALYTICS
//
// from is a namespace and a dotted name. In the name, * matches one part
// (any run of characters without a dot); the namespace is matched exactly.
// Both compare case-insensitively. to is the other name of the same table:
// {1}, {2}, ... stand for what the wildcards matched, with case applied to
// them (upper, lower, or keep, the default); the literal parts of to stay
// as written. The first rule that matches a dataset wins.
//
// A link says "from is also known as to": the dataset named by from gets
// to as an identity, and weave's identity rules merge the two into one
// node (to stays canonical) wherever both are in the graph.

// linkKeys are the keys of one links: entry, sorted.
var linkKeys = []string{"case", "from", "reason", "to"}

// linkCases are the valid values of a link's case key, sorted.
var linkCases = []string{"keep", "lower", "upper"}

// linkRule is one parsed entry of links:.
type linkRule struct {
	fromNS string
	from   *regexp.Regexp // the name pattern, anchored, case-insensitive
	toNS   string
	to     string // the name template, with {N} placeholders
	fold   func(string) string
	reason string
}

// apply returns the name id is linked to, if the rule matches it.
func (r linkRule) apply(id graph.DatasetID) (graph.DatasetID, bool) {
	if !strings.EqualFold(id.Namespace, r.fromNS) {
		return graph.DatasetID{}, false
	}
	m := r.from.FindStringSubmatch(id.Name)
	if m == nil {
		return graph.DatasetID{}, false
	}
	name := placeholder.ReplaceAllStringFunc(r.to, func(p string) string {
		n, _ := strconv.Atoi(p[1 : len(p)-1])
		return r.fold(m[n])
	})
	return graph.DatasetID{Namespace: r.toNS, Name: name}, true
}

var placeholder = regexp.MustCompile(`\{[0-9]+\}`)

// splitID splits "namespace/name" where the namespace is "scheme://host".
func splitID(s string) (ns, name string, ok bool) {
	i := strings.Index(s, "://")
	if i <= 0 {
		return "", "", false
	}
	j := strings.IndexByte(s[i+3:], '/')
	if j <= 0 {
		return "", "", false
	}
	ns, name = s[:i+3+j], s[i+3+j+1:]
	return ns, name, name != ""
}

// parseLinks decodes the links: list, reporting every problem to errs.
func parseLinks(file string, v *yaml.Node, errs *configErrors) []linkRule {
	if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		return nil
	}
	if v.Kind != yaml.SequenceNode {
		errs.add(file, v.Line, "links: expected a list of {from, to, case, reason}, got %s", nodeKind(v))
		return nil
	}
	var out []linkRule
	for _, item := range v.Content {
		if r, ok := parseLink(file, item, errs); ok {
			out = append(out, r)
		}
	}
	return out
}

func parseLink(file string, item *yaml.Node, errs *configErrors) (linkRule, bool) {
	if item.Kind != yaml.MappingNode {
		errs.add(file, item.Line, "links: expected a mapping with from and to, got %s", nodeKind(item))
		return linkRule{}, false
	}
	n := len(errs.list)
	vals := map[string]*yaml.Node{}
	keyLines := map[string]int{}
	for i := 0; i+1 < len(item.Content); i += 2 {
		k, v := item.Content[i], item.Content[i+1]
		if !slices.Contains(linkKeys, k.Value) {
			errs.add(file, k.Line, "link: unknown key %q (valid: %s)", k.Value, strings.Join(linkKeys, ", "))
			continue
		}
		if line, dup := keyLines[k.Value]; dup {
			errs.add(file, k.Line, "link: mapping key %q already defined at line %d", k.Value, line)
			continue
		}
		keyLines[k.Value] = k.Line
		if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
			errs.add(file, v.Line, "link: %s: expected a string, got %s", k.Value, nodeKind(v))
			continue
		}
		vals[k.Value] = v
	}
	for _, k := range []string{"from", "to"} {
		if vals[k] == nil {
			errs.add(file, item.Line, "link: missing %q (a link needs from and to, e.g. from: databricks://host/cat.*.*, to: snowflake://account/DB.{1}.{2})", k)
		}
	}
	if len(errs.list) > n {
		return linkRule{}, false
	}
	r := linkRule{fold: func(s string) string { return s }}
	r.reason = fmt.Sprintf("link declared in %s:%d", file, item.Line)
	if v := vals["reason"]; v != nil && v.Value != "" {
		r.reason = v.Value
	}
	if v := vals["case"]; v != nil {
		switch v.Value {
		case "upper":
			r.fold = strings.ToUpper
		case "lower":
			r.fold = strings.ToLower
		case "keep", "":
		default:
			errs.add(file, v.Line, "link: unknown case %q (valid: %s)", v.Value, strings.Join(linkCases, ", "))
		}
	}
	from, to := vals["from"], vals["to"]
	ns, name, ok := splitID(from.Value)
	wildcards := 0
	if !ok {
		errs.add(file, from.Line, "link: from %q: expected namespace/name, e.g. databricks://adb-1.azuredatabricks.net/sf_analytics.*.*", from.Value)
	} else {
		if strings.Contains(ns, "*") {
			errs.add(file, from.Line, "link: from %q: the namespace %s cannot have wildcards (only the name can)", from.Value, ns)
		}
		wildcards = strings.Count(name, "*")
		re := "(?i)^" + strings.ReplaceAll(regexp.QuoteMeta(name), `\*`, `([^.]+)`) + "$"
		r.fromNS, r.from = ns, regexp.MustCompile(re)
	}
	ns, name, ok = splitID(to.Value)
	if !ok {
		errs.add(file, to.Line, "link: to %q: expected namespace/name, e.g. snowflake://acme-prod/ANALYTICS.{1}.{2}", to.Value)
	} else {
		if strings.Contains(to.Value, "*") {
			errs.add(file, to.Line, "link: to %q: use {1}, {2}, ... for what from's wildcards matched, not *", to.Value)
		}
		for _, p := range placeholder.FindAllString(name, -1) {
			if k, _ := strconv.Atoi(p[1 : len(p)-1]); k < 1 || k > wildcards {
				errs.add(file, to.Line, "link: to %q: %s does not name a wildcard of from (it has %d)", to.Value, p, wildcards)
			}
		}
		r.toNS, r.to = ns, name
	}
	return r, len(errs.list) == n
}

// applyLinks gives every dataset of g that a rule matches (described, or
// only an edge endpoint) the linked name as an identity. Nothing is merged
// here: unify does that, once both names are in one graph.
func applyLinks(g *graph.Graph, rules []linkRule) {
	if len(rules) == 0 {
		return
	}
	seen := map[graph.DatasetID]bool{}
	visit := func(id graph.DatasetID) {
		if seen[id] {
			return
		}
		seen[id] = true
		for _, r := range rules {
			if to, ok := r.apply(id); ok {
				if to != id {
					g.AddDataset(graph.Dataset{ID: id, Identities: []graph.Identity{{ID: to, Reason: r.reason}}})
				}
				return
			}
		}
	}
	ids := make([]graph.DatasetID, 0, len(g.Datasets))
	for id := range g.Datasets {
		ids = append(ids, id)
	}
	for _, id := range ids {
		visit(id)
	}
	for id := range g.Edges {
		visit(id.From)
		visit(id.To)
	}
	for id := range g.ColumnEdges {
		visit(id.From.Dataset)
		visit(id.To.Dataset)
	}
}

// unify merges the datasets of g that are one physical table, with
// weave's identity rules (identities naming another dataset of the graph,
// equal storage locations, foreign-catalog rules), after resolving session
// temp tables through. A graph read from the store needs it: each
// extractor's batches are woven on their own, so a Databricks mirror and
// the Snowflake table it names meet only there.
func unify(ctx context.Context, logger *slog.Logger, g *graph.Graph) (*graph.Graph, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	g.CollapseTemp()
	weave.Unify(g)
	if logger != nil {
		logger.Debug("unified identities", "datasets", len(g.Datasets))
	}
	return g, nil
}
