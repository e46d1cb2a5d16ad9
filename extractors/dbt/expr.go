package dbt

import "strings"

// exprIdent is one column name found in a SQL expression.
type exprIdent struct {
	text   string
	quoted bool
}

// exprColumns returns the column identifiers a small SQL expression reads,
// in order of first use, and whether the expression is nothing but one
// (possibly qualified or quoted) column. Extractors do not parse SQL (that
// is sqlparse's job); semantic-model exprs and snapshot keys are short, so
// a tokenizer that errs on the side of leaving words out is enough:
// strings, numbers, comments, Jinja, function names (a word before "("),
// types (after "::" or CAST's "as"), variant paths (after ":") and SQL
// keywords are skipped; of a qualified name a.b.c only c is kept.
func exprColumns(expr string) (idents []exprIdent, plain bool) {
	s := expr
	type token struct {
		ident exprIdent
		skip  bool
	}
	var toks []token
	words := 0 // significant tokens, to tell a plain column
	skipNext := false
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
			continue
		case c == '-' && strings.HasPrefix(s[i:], "--"):
			j := strings.IndexByte(s[i:], '\n')
			if j < 0 {
				i = len(s)
			} else {
				i += j
			}
			continue
		case c == '/' && strings.HasPrefix(s[i:], "/*"):
			j := strings.Index(s[i+2:], "*/")
			if j < 0 {
				i = len(s)
			} else {
				i += j + 4
			}
			continue
		case c == '{' && (strings.HasPrefix(s[i:], "{{") || strings.HasPrefix(s[i:], "{%") || strings.HasPrefix(s[i:], "{#")):
			end := map[byte]string{'{': "}}", '%': "%}", '#': "#}"}[s[i+1]]
			j := strings.Index(s[i+2:], end)
			if j < 0 {
				i = len(s)
			} else {
				i += j + 4
			}
			words++
			continue
		case c == '\'':
			i = skipString(s, i)
			words++
			continue
		case c >= '0' && c <= '9':
			for i < len(s) && (isIdentChar(s[i]) || s[i] == '.') {
				i++
			}
			words++
			continue
		case c == ':':
			// "::type" is a cast; "col:path" a variant path. Either
			// way the next word is not a column.
			if strings.HasPrefix(s[i:], "::") {
				i += 2
			} else {
				i++
			}
			skipNext = true
			words++
			continue
		case isIdentStart(c) || c == '"' || c == '`':
			var id exprIdent
			var ok bool
			id, i, ok = readQualified(s, i)
			words++
			if !ok {
				continue
			}
			j := i
			for j < len(s) && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r') {
				j++
			}
			skip := skipNext
			skipNext = false
			switch {
			case j < len(s) && s[j] == '(':
				skip = true // a function
			case !id.quoted && sqlKeywords[strings.ToLower(id.text)]:
				skip = true
				if strings.EqualFold(id.text, "as") {
					skipNext = true // cast(x as int), or an alias
				}
			}
			toks = append(toks, token{id, skip})
			continue
		default:
			i++
			words++
		}
	}
	seen := map[exprIdent]bool{}
	for _, t := range toks {
		if t.skip || seen[t.ident] {
			continue
		}
		seen[t.ident] = true
		idents = append(idents, t.ident)
	}
	plain = words == 1 && len(toks) == 1 && len(idents) == 1
	return idents, plain
}

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func isIdentChar(c byte) bool {
	return isIdentStart(c) || c >= '0' && c <= '9' || c == '$'
}

// skipString returns the index after the string literal starting at i
// (a doubled quote is an escaped one).
func skipString(s string, i int) int {
	i++
	for i < len(s) {
		if s[i] == '\'' {
			if i+1 < len(s) && s[i+1] == '\'' {
				i += 2
				continue
			}
			return i + 1
		}
		if s[i] == '\\' {
			i++
		}
		i++
	}
	return len(s)
}

// readQualified reads a.b."C" starting at i and returns its last part. ok
// is false for an unterminated quoted identifier.
func readQualified(s string, i int) (id exprIdent, next int, ok bool) {
	for {
		if i >= len(s) {
			return id, i, false
		}
		switch c := s[i]; {
		case c == '"' || c == '`':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				return id, len(s), false
			}
			id = exprIdent{text: s[i+1 : i+1+j], quoted: true}
			i += j + 2
		case isIdentStart(c):
			j := i
			for j < len(s) && isIdentChar(s[j]) {
				j++
			}
			id = exprIdent{text: s[i:j]}
			i = j
		default:
			return id, i, false
		}
		if i+1 < len(s) && s[i] == '.' && (isIdentStart(s[i+1]) || s[i+1] == '"' || s[i+1] == '`') {
			i++
			continue
		}
		return id, i, id.text != ""
	}
}

// sqlKeywords are the words of small expressions that are not columns:
// operators, literals, CASE, CAST's types' neighbours, date parts and the
// niladic functions written without parentheses.
// It is read-only after initialisation.
var sqlKeywords = wordSet(`
		and or not null true false is in like ilike rlike regexp between escape
		case when then else end as cast try_cast distinct all any some exists
		interval over partition by order asc desc nulls first last rows range
		preceding following unbounded current row filter within group where from
		select on using collate at time zone with without
		year years month months day days hour hours minute minutes second seconds
		week weeks quarter quarters epoch dow doy millisecond microsecond nanosecond
		current_date current_timestamp current_time localtime localtimestamp
		sysdate systimestamp current_user session_user user
		int integer bigint smallint tinyint float double real decimal numeric number
		varchar char text string boolean bool date timestamp timestamp_ntz timestamp_ltz
		timestamp_tz datetime variant object array binary precision`)

func wordSet(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}
