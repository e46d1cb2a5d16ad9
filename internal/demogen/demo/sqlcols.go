package demo

import (
	"fmt"
	"regexp"
	"strings"
)

// outputColumns works out the column names a compiled SELECT returns, for the shapes the
// demo project uses (CTEs, `select *` and `alias.*` from CTEs or relations, aliases,
// bare and qualified column references, UNION ALL). It is a cross-check that the column
// lists declared in the YAML, which become catalog.json, match the SQL; it is not a SQL
// parser. lookup returns the columns of a relation named in FROM.
func outputColumns(sql string, lookup func(rel string) ([]string, bool)) ([]string, error) {
	toks := tokenize(sql)
	ctes := map[string][]tok{}
	return queryColumns(toks, ctes, lookup)
}

type tok struct {
	s     string // original text
	u     string // upper-cased, for keywords
	depth int    // parenthesis depth before the token
}

var reTok = regexp.MustCompile(`(?s)--[^\n]*|/\*.*?\*/|'(?:[^']|'')*'|"[^"]*"|[A-Za-z_$][A-Za-z0-9_$]*|[0-9]+(?:\.[0-9]+)?|::|=>|<=|>=|<>|!=|\|\||\S`)

func tokenize(sql string) []tok {
	var out []tok
	depth := 0
	for _, s := range reTok.FindAllString(sql, -1) {
		if strings.HasPrefix(s, "--") || strings.HasPrefix(s, "/*") {
			continue
		}
		if s == ")" {
			depth--
		}
		out = append(out, tok{s: s, u: strings.ToUpper(s), depth: depth})
		if s == "(" {
			depth++
		}
	}
	// normalise depth to start at 0 for this slice
	return out
}

func queryColumns(toks []tok, ctes map[string][]tok, lookup func(string) ([]string, bool)) ([]string, error) {
	if len(toks) == 0 {
		return nil, fmt.Errorf("empty query")
	}
	base := toks[0].depth
	i := 0
	// strip wrapping parentheses
	for len(toks) > 2 && toks[0].s == "(" && toks[len(toks)-1].s == ")" && toks[len(toks)-1].depth == base {
		toks = toks[1 : len(toks)-1]
		base++
	}
	if toks[0].u == "WITH" {
		local := map[string][]tok{}
		for k, v := range ctes {
			local[k] = v
		}
		ctes = local
		i = 1
		for {
			name := toks[i].u
			if toks[i+1].u != "AS" || toks[i+2].s != "(" {
				return nil, fmt.Errorf("cannot read CTE %s", toks[i].s)
			}
			j := i + 3
			for !(toks[j].s == ")" && toks[j].depth == base) {
				j++
			}
			ctes[name] = toks[i+3 : j]
			i = j + 1
			if toks[i].s == "," {
				i++
				continue
			}
			break
		}
	}
	if toks[i].u != "SELECT" {
		return nil, fmt.Errorf("expected SELECT, got %q", toks[i].s)
	}
	i++
	if toks[i].u == "DISTINCT" {
		i++
	}
	// select list up to FROM (or the end: a SELECT without FROM)
	var items [][]tok
	start := i
	for ; i < len(toks); i++ {
		t := toks[i]
		if t.depth != base {
			continue
		}
		if t.s == "," {
			items = append(items, toks[start:i])
			start = i + 1
		}
		if t.u == "FROM" || t.u == "UNION" {
			break
		}
	}
	items = append(items, toks[start:i])
	var from []tok
	if i < len(toks) && toks[i].u == "FROM" {
		j := i + 1
		for ; j < len(toks); j++ {
			if toks[j].depth == base && isClauseEnd(toks[j].u) {
				break
			}
		}
		from = toks[i+1 : j]
	}
	rels, err := fromRelations(from, base)
	if err != nil {
		return nil, err
	}
	resolve := func(r fromRel) ([]string, error) {
		if r.sub != nil {
			return queryColumns(r.sub, ctes, lookup)
		}
		if body, ok := ctes[strings.ToUpper(r.name)]; ok {
			return queryColumns(body, ctes, lookup)
		}
		cols, ok := lookup(r.name)
		if !ok {
			return nil, fmt.Errorf("unknown relation %s", r.name)
		}
		return cols, nil
	}
	var out []string
	for _, it := range items {
		switch {
		case len(it) == 1 && it[0].s == "*":
			for _, r := range rels {
				cols, err := resolve(r)
				if err != nil {
					return nil, err
				}
				out = append(out, cols...)
			}
		case len(it) == 3 && it[1].s == "." && it[2].s == "*":
			found := false
			for _, r := range rels {
				if strings.EqualFold(r.alias, it[0].s) {
					cols, err := resolve(r)
					if err != nil {
						return nil, err
					}
					out = append(out, cols...)
					found = true
				}
			}
			if !found {
				return nil, fmt.Errorf("unknown alias %s.*", it[0].s)
			}
		case len(it) >= 2 && it[len(it)-2].u == "AS":
			out = append(out, strings.ToUpper(it[len(it)-1].s))
		case isIdentChain(it):
			out = append(out, strings.ToUpper(it[len(it)-1].s))
		default:
			var b []string
			for _, t := range it {
				b = append(b, t.s)
			}
			return nil, fmt.Errorf("select item without alias: %s", strings.Join(b, " "))
		}
	}
	return out, nil
}

func isClauseEnd(u string) bool {
	switch u {
	case "WHERE", "GROUP", "QUALIFY", "ORDER", "HAVING", "LIMIT", "UNION", ";":
		return true
	}
	return false
}

func isIdentChain(it []tok) bool {
	for k, t := range it {
		if k%2 == 1 {
			if t.s != "." {
				return false
			}
		} else if !regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_$]*$`).MatchString(t.s) {
			return false
		}
	}
	return len(it)%2 == 1
}

type fromRel struct {
	name  string
	alias string
	sub   []tok
}

var joinWords = map[string]bool{"JOIN": true, "LEFT": true, "RIGHT": true, "INNER": true, "FULL": true, "OUTER": true, "CROSS": true, "ON": true, "USING": true, "NATURAL": true, "LATERAL": true}

// fromRelations reads "rel [as] alias [join rel [as] alias on ...]..." at depth base.
func fromRelations(from []tok, base int) ([]fromRel, error) {
	var rels []fromRel
	i := 0
	for i < len(from) {
		t := from[i]
		if t.depth != base || joinWords[t.u] || t.s == "," {
			i++
			continue
		}
		if i > 0 && from[i-1].u == "ON" {
			i++
			continue
		}
		var r fromRel
		if t.s == "(" {
			j := i + 1
			for !(from[j].s == ")" && from[j].depth == base) {
				j++
			}
			r.sub = from[i+1 : j]
			i = j + 1
		} else if t.u == "TABLE" && i+1 < len(from) && from[i+1].s == "(" {
			// table(generator(...)): a table function without named columns
			j := i + 2
			for !(from[j].s == ")" && from[j].depth == base) {
				j++
			}
			r.name = "TABLE()"
			i = j + 1
		} else {
			name := t.s
			i++
			for i+1 < len(from) && from[i].s == "." {
				name += "." + from[i+1].s
				i += 2
			}
			r.name = name
			parts := strings.Split(name, ".")
			r.alias = parts[len(parts)-1]
		}
		if i < len(from) && from[i].u == "AS" {
			i++
		}
		if i < len(from) && from[i].depth == base && !joinWords[from[i].u] && from[i].s != "," {
			r.alias = from[i].s
			i++
		}
		rels = append(rels, r)
		// skip the join condition
		for i < len(from) && !(from[i].depth == base && (from[i].s == "," || from[i].u == "JOIN" || from[i].u == "LEFT" || from[i].u == "RIGHT" || from[i].u == "INNER" || from[i].u == "FULL" || from[i].u == "CROSS")) {
			i++
		}
	}
	return rels, nil
}
