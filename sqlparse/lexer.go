package sqlparse

import "strings"

// tokKind classifies a token. Comments and whitespace are not tokens.
type tokKind uint8

const (
	tIdent    tokKind = iota // unquoted word: keyword or identifier
	tQuoted                  // "double quoted"
	tBacktick                // `backticked`
	tString                  // 'single quoted', E'...', $$dollar$$
	tNumber                  // 12, 1.5e3
	tVar                     // $name, $1, :name bind variables, ? and %s
	tStage                   // @stage/path
	tOp                      // operators: + - :: => -> <= etc.
	tPunct                   // ( ) [ ] { } , ; .
)

// token is one lexeme: text[start:end] in the lexed string.
type token struct {
	kind       tokKind
	start, end int
}

// lexer options differ by dialect: backslash escapes in strings and //
// comments are not PostgreSQL.
type lexOpts struct {
	backslash   bool // '\'' escapes inside '...'
	slashslash  bool // // line comments (Snowflake)
	hashComment bool // # line comments (BigQuery, MySQL-ish)
}

func optsFor(d Dialect) lexOpts {
	switch d {
	case Snowflake:
		return lexOpts{backslash: true, slashslash: true}
	case Databricks:
		return lexOpts{backslash: true}
	case BigQuery:
		return lexOpts{backslash: true, hashComment: true}
	}
	return lexOpts{}
}

// lex splits s into tokens. It never fails: unterminated strings and
// comments run to the end of the input, and unknown bytes become one-byte
// operators.
func lex(s string, o lexOpts) []token {
	toks := make([]token, 0, len(s)/4+4)
	i := 0
	n := len(s)
	for i < n {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '-' && i+1 < n && s[i+1] == '-',
			o.slashslash && c == '/' && i+1 < n && s[i+1] == '/',
			o.hashComment && c == '#':
			for i < n && s[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < n && s[i+1] == '*':
			depth := 0
			for i < n {
				if s[i] == '/' && i+1 < n && s[i+1] == '*' {
					depth++
					i += 2
					continue
				}
				if s[i] == '*' && i+1 < n && s[i+1] == '/' {
					depth--
					i += 2
					if depth == 0 {
						break
					}
					continue
				}
				i++
			}
		case c == '\'':
			j := scanQuote(s, i, '\'', o.backslash)
			toks = append(toks, token{tString, i, j})
			i = j
		case (c == 'E' || c == 'e' || c == 'N' || c == 'n' || c == 'B' || c == 'b' || c == 'X' || c == 'x' || c == 'r' || c == 'R') && i+1 < n && s[i+1] == '\'':
			j := scanQuote(s, i+1, '\'', o.backslash || c == 'E' || c == 'e')
			toks = append(toks, token{tString, i, j})
			i = j
		case c == '"':
			j := scanQuote(s, i, '"', false)
			toks = append(toks, token{tQuoted, i, j})
			i = j
		case c == '`':
			j := scanQuote(s, i, '`', false)
			toks = append(toks, token{tBacktick, i, j})
			i = j
		case c == '$':
			// $$...$$, $tag$...$tag$, $1, $name.
			j := i + 1
			for j < n && isIdentByte(s[j]) && s[j] != '$' {
				j++
			}
			if j < n && s[j] == '$' && (j == i+1 || !isDigit(s[i+1])) {
				tag := s[i : j+1]
				end := strings.Index(s[j+1:], tag)
				if end < 0 {
					toks = append(toks, token{tString, i, n})
					i = n
				} else {
					e := j + 1 + end + len(tag)
					toks = append(toks, token{tString, i, e})
					i = e
				}
				continue
			}
			toks = append(toks, token{tVar, i, j})
			i = j
		case c == '@':
			j := i + 1
			for j < n && (isIdentByte(s[j]) || s[j] == '.' || s[j] == '/' || s[j] == '%' || s[j] == '~' || s[j] == '-' || s[j] == '"') {
				if s[j] == '"' {
					j = scanQuote(s, j, '"', false)
					continue
				}
				j++
			}
			toks = append(toks, token{tStage, i, j})
			i = j
		case isDigit(c) || (c == '.' && i+1 < n && isDigit(s[i+1])):
			j := i
			for j < n && (isDigit(s[j]) || s[j] == '.') {
				if s[j] == '.' && j+1 < n && s[j+1] == '.' {
					break
				}
				j++
			}
			if j < n && (s[j] == 'e' || s[j] == 'E') {
				k := j + 1
				if k < n && (s[k] == '+' || s[k] == '-') {
					k++
				}
				if k < n && isDigit(s[k]) {
					j = k
					for j < n && isDigit(s[j]) {
						j++
					}
				}
			}
			// 1d, 10L, 2.5BD: Spark literal suffixes, and identifiers that
			// start with a digit in Spark; keep them in one token.
			for j < n && isIdentByte(s[j]) {
				j++
			}
			toks = append(toks, token{tNumber, i, j})
			i = j
		case isIdentStart(c):
			j := i + 1
			for j < n && isIdentByte(s[j]) {
				j++
			}
			toks = append(toks, token{tIdent, i, j})
			i = j
		case c == '?':
			toks = append(toks, token{tVar, i, i + 1})
			i++
		case c == '%' && i+1 < n && (s[i+1] == 's' || s[i+1] == '('):
			j := i + 2
			if s[i+1] == '(' {
				for j < n && s[j] != ')' {
					j++
				}
				if j < n {
					j++
				}
				if j < n && s[j] == 's' {
					j++
				}
			}
			toks = append(toks, token{tVar, i, j})
			i = j
		case strings.IndexByte("()[]{},;.", c) >= 0:
			toks = append(toks, token{tPunct, i, i + 1})
			i++
		default:
			j := i + 1
			if j < n {
				switch s[i : j+1] {
				case "::", "=>", "->", "<=", ">=", "<>", "!=", "||", "==", "<<", ">>", "!~", "~*":
					j++
					if j < n && s[i:j+1] == "<=>" {
						j++
					}
					if j < n && s[i:j+1] == "->>" {
						j++
					}
				}
			}
			if c >= 0x80 {
				// Non-ASCII letters start identifiers in every dialect.
				for j < n && s[j] >= 0x80 {
					j++
				}
				for j < n && isIdentByte(s[j]) {
					j++
				}
				toks = append(toks, token{tIdent, i, j})
				i = j
				continue
			}
			toks = append(toks, token{tOp, i, j})
			i = j
		}
	}
	return toks
}

// scanQuote returns the end (exclusive) of the quoted run that starts at
// s[i] == q. Doubled quotes escape; backslash escapes when asked.
func scanQuote(s string, i int, q byte, backslash bool) int {
	j := i + 1
	for j < len(s) {
		switch s[j] {
		case '\\':
			if backslash {
				j += 2
				continue
			}
		case q:
			if j+1 < len(s) && s[j+1] == q {
				j += 2
				continue
			}
			return j + 1
		}
		j++
	}
	return len(s)
}

func isDigit(c byte) bool      { return c >= '0' && c <= '9' }
func isIdentStart(c byte) bool { return c == '_' || (c|0x20) >= 'a' && (c|0x20) <= 'z' }
func isIdentByte(c byte) bool  { return isIdentStart(c) || isDigit(c) || c == '$' || c >= 0x80 }

// tokens is a lexed text with helpers for keyword matching.
type tokens struct {
	src  string
	toks []token
}

func (t *tokens) text(i int) string {
	if i < 0 || i >= len(t.toks) {
		return ""
	}
	return t.src[t.toks[i].start:t.toks[i].end]
}

// is reports whether token i is the unquoted word kw (case-insensitive).
func (t *tokens) is(i int, kw string) bool {
	if i < 0 || i >= len(t.toks) || t.toks[i].kind != tIdent {
		return false
	}
	tk := t.toks[i]
	return tk.end-tk.start == len(kw) && strings.EqualFold(t.src[tk.start:tk.end], kw)
}

// isAny reports whether token i is one of the words.
func (t *tokens) isAny(i int, kws ...string) bool {
	for _, k := range kws {
		if t.is(i, k) {
			return true
		}
	}
	return false
}

func (t *tokens) punct(i int, p byte) bool {
	if i < 0 || i >= len(t.toks) {
		return false
	}
	tk := t.toks[i]
	return (tk.kind == tPunct || tk.kind == tOp) && tk.end-tk.start == 1 && t.src[tk.start] == p
}

func (t *tokens) op(i int, op string) bool {
	if i < 0 || i >= len(t.toks) {
		return false
	}
	tk := t.toks[i]
	return (tk.kind == tOp || tk.kind == tPunct) && t.src[tk.start:tk.end] == op
}

// matchParen returns the index of the token closing the bracket at i, or
// len(toks)-1 when it is unbalanced.
func (t *tokens) matchParen(i int) int {
	open := t.src[t.toks[i].start]
	var close byte
	switch open {
	case '(':
		close = ')'
	case '[':
		close = ']'
	case '{':
		close = '}'
	default:
		return i
	}
	depth := 0
	for j := i; j < len(t.toks); j++ {
		if t.toks[j].kind != tPunct {
			continue
		}
		switch t.src[t.toks[j].start] {
		case open:
			depth++
		case close:
			depth--
			if depth == 0 {
				return j
			}
		}
	}
	return len(t.toks) - 1
}

// isName reports whether token i can be (part of) an identifier.
func (t *tokens) isName(i int) bool {
	if i < 0 || i >= len(t.toks) {
		return false
	}
	k := t.toks[i].kind
	return k == tIdent || k == tQuoted || k == tBacktick
}

// lineCol converts a byte offset in s to a 1-based line and column.
func lineCol(s string, off int) (int, int) {
	if off > len(s) {
		off = len(s)
	}
	if off < 0 {
		off = 0
	}
	line := 1 + strings.Count(s[:off], "\n")
	col := off + 1
	if k := strings.LastIndexByte(s[:off], '\n'); k >= 0 {
		col = off - k
	}
	return line, col
}
