package demo

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// The demo project uses a small, fixed subset of dbt's Jinja:
//
//	{{ ref('m') }}  {{ source('s', 't') }}  {{ config(k=v, ...) }}  {{ var("v") }}  {{ this }}
//	{% if is_incremental() %} ... {% endif %}   {% snapshot n %} ... {% endsnapshot %}   {# ... #}
//
// Anything else is an error, so a new construct in the project is noticed, not mis-rendered.

var (
	reComment  = regexp.MustCompile(`(?s)\{#.*?#\}`)
	reIfIncr   = regexp.MustCompile(`(?s)\{%-?\s*if\s+is_incremental\(\)\s*-?%\}(.*?)(?:\{%-?\s*else\s*-?%\}(.*?))?\{%-?\s*endif\s*-?%\}`)
	reSnapshot = regexp.MustCompile(`(?s)^\s*\{%-?\s*snapshot\s+(\w+)\s*-?%\}(.*)\{%-?\s*endsnapshot\s*-?%\}\s*$`)
	reExpr     = regexp.MustCompile(`(?s)\{\{-?\s*(.*?)\s*-?\}\}`)
	reStmt     = regexp.MustCompile(`(?s)\{%.*?%\}`)
	reCall     = regexp.MustCompile(`(?s)^(\w+)\((.*)\)$`)
)

// parsed is what dbt's parser learns from a SQL file without running it.
type parsed struct {
	refs     []string
	sources  [][2]string
	config   *obj // config() keyword arguments, in order
	incr     bool // uses is_incremental()
	snapshot string
	body     string // raw code inside a snapshot block, or the whole file
}

// renderCtx resolves the Jinja functions when compiling.
type renderCtx struct {
	ref         func(name string) (string, error)
	source      func(src, table string) (string, error)
	vars        map[string]string
	this        string
	incremental bool
}

func parseSQL(raw string) (*parsed, error) {
	p := &parsed{config: newObj(), body: raw}
	if m := reSnapshot.FindStringSubmatch(raw); m != nil {
		p.snapshot, p.body = m[1], m[2]
	}
	text := reComment.ReplaceAllString(p.body, "")
	if reIfIncr.MatchString(text) {
		p.incr = true
	}
	text = reIfIncr.ReplaceAllString(text, "$1$2")
	if s := reStmt.FindString(text); s != "" {
		return nil, fmt.Errorf("unsupported jinja statement %s", s)
	}
	for _, m := range reExpr.FindAllStringSubmatch(text, -1) {
		expr := m[1]
		if expr == "this" {
			continue
		}
		c := reCall.FindStringSubmatch(expr)
		if c == nil {
			return nil, fmt.Errorf("unsupported jinja expression {{ %s }}", expr)
		}
		args, kwargs, err := parseArgs(c[2])
		if err != nil {
			return nil, fmt.Errorf("{{ %s }}: %w", expr, err)
		}
		switch c[1] {
		case "ref":
			if len(args) != 1 {
				return nil, fmt.Errorf("{{ %s }}: ref takes one argument here", expr)
			}
			p.refs = appendUnique(p.refs, args[0].(string))
		case "source":
			if len(args) != 2 {
				return nil, fmt.Errorf("{{ %s }}: source takes two arguments", expr)
			}
			s := [2]string{args[0].(string), args[1].(string)}
			found := false
			for _, x := range p.sources {
				found = found || x == s
			}
			if !found {
				p.sources = append(p.sources, s)
			}
		case "config":
			for _, k := range kwargs.keys {
				p.config.set(k, kwargs.vals[k])
			}
		case "var":
		default:
			return nil, fmt.Errorf("unsupported jinja function %s()", c[1])
		}
	}
	return p, nil
}

// render compiles raw code the way dbt does for this subset.
func render(raw string, ctx renderCtx) (string, error) {
	text := raw
	if m := reSnapshot.FindStringSubmatch(text); m != nil {
		text = m[2]
	}
	text = reComment.ReplaceAllString(text, "")
	text = reIfIncr.ReplaceAllStringFunc(text, func(s string) string {
		m := reIfIncr.FindStringSubmatch(s)
		if ctx.incremental {
			return m[1]
		}
		return m[2]
	})
	var firstErr error
	out := reExpr.ReplaceAllStringFunc(text, func(s string) string {
		expr := reExpr.FindStringSubmatch(s)[1]
		if expr == "this" {
			return ctx.this
		}
		c := reCall.FindStringSubmatch(expr)
		args, _, err := parseArgs(c[2])
		if err != nil {
			firstErr = err
			return ""
		}
		var r string
		switch c[1] {
		case "ref":
			r, err = ctx.ref(args[0].(string))
		case "source":
			r, err = ctx.source(args[0].(string), args[1].(string))
		case "config":
			r = ""
		case "var":
			v, ok := ctx.vars[args[0].(string)]
			if !ok {
				err = fmt.Errorf("var %q is not defined in dbt_project.yml", args[0])
			}
			r = v
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return r
	})
	return out, firstErr
}

// parseArgs parses Python-literal call arguments: strings, numbers, booleans, None,
// lists and dicts, positional or keyword.
func parseArgs(s string) ([]any, *obj, error) {
	p := &litParser{s: s}
	var args []any
	kwargs := newObj()
	for {
		p.ws()
		if p.eof() {
			return args, kwargs, nil
		}
		save := p.i
		if name := p.ident(); name != "" {
			p.ws()
			if p.peek() == '=' {
				p.i++
				v, err := p.value()
				if err != nil {
					return nil, nil, err
				}
				kwargs.set(name, v)
				if err := p.sep(); err != nil {
					return nil, nil, err
				}
				continue
			}
		}
		p.i = save
		v, err := p.value()
		if err != nil {
			return nil, nil, err
		}
		args = append(args, v)
		if err := p.sep(); err != nil {
			return nil, nil, err
		}
	}
}

type litParser struct {
	s string
	i int
}

func (p *litParser) eof() bool { return p.i >= len(p.s) }
func (p *litParser) peek() byte {
	if p.eof() {
		return 0
	}
	return p.s[p.i]
}
func (p *litParser) ws() {
	for !p.eof() && strings.ContainsRune(" \t\r\n", rune(p.s[p.i])) {
		p.i++
	}
}
func (p *litParser) ident() string {
	j := p.i
	for j < len(p.s) && (p.s[j] == '_' || p.s[j] >= 'a' && p.s[j] <= 'z' || p.s[j] >= 'A' && p.s[j] <= 'Z' || j > p.i && p.s[j] >= '0' && p.s[j] <= '9') {
		j++
	}
	id := p.s[p.i:j]
	p.i = j
	return id
}

// sep consumes a comma between items, or nothing before a closing bracket or the end.
func (p *litParser) sep() error {
	p.ws()
	if p.eof() || p.peek() == ']' || p.peek() == '}' {
		return nil
	}
	if p.peek() != ',' {
		return fmt.Errorf("expected ',' at %q", p.s[p.i:])
	}
	p.i++
	return nil
}

func (p *litParser) value() (any, error) {
	p.ws()
	switch c := p.peek(); {
	case c == '\'' || c == '"':
		end := strings.IndexByte(p.s[p.i+1:], c)
		if end < 0 {
			return nil, fmt.Errorf("unterminated string")
		}
		v := p.s[p.i+1 : p.i+1+end]
		p.i += end + 2
		return v, nil
	case c == '[':
		p.i++
		list := []any{}
		for {
			p.ws()
			if p.peek() == ']' {
				p.i++
				return list, nil
			}
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			list = append(list, v)
			if err := p.sep(); err != nil {
				return nil, err
			}
		}
	case c == '{':
		p.i++
		d := newObj()
		for {
			p.ws()
			if p.peek() == '}' {
				p.i++
				return d, nil
			}
			k, err := p.value()
			if err != nil {
				return nil, err
			}
			p.ws()
			if p.peek() != ':' {
				return nil, fmt.Errorf("expected ':' in dict")
			}
			p.i++
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			d.set(fmt.Sprint(k), v)
			if err := p.sep(); err != nil {
				return nil, err
			}
		}
	case c == '-' || c >= '0' && c <= '9':
		j := p.i + 1
		for j < len(p.s) && strings.ContainsRune("0123456789.", rune(p.s[j])) {
			j++
		}
		f, err := strconv.ParseFloat(p.s[p.i:j], 64)
		p.i = j
		if err != nil {
			return nil, err
		}
		if f == float64(int64(f)) {
			return int64(f), nil
		}
		return f, nil
	default:
		switch id := p.ident(); strings.ToLower(id) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		case "none":
			return nil, nil
		default:
			return nil, fmt.Errorf("unsupported literal %q", id+p.s[p.i:])
		}
	}
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}
