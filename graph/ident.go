package graph

import (
	"fmt"
	"strings"
)

// Fold returns the canonical spelling of one identifier on platform p.
// ident is the identifier's text without its quotes; quoted says whether it
// was quoted in the source.
//
//   - Snowflake folds unquoted identifiers to upper case.
//   - Databricks, Spark, Postgres, DuckDB, Redshift and Athena fold unquoted
//     identifiers to lower case. (Redshift, Databricks and Athena compare
//     even quoted identifiers case-insensitively by default; weft still
//     keeps the case of quoted names so that no information is lost, and
//     Lookup matches case-insensitively as a fallback.)
//   - BigQuery keeps the case as written: its dataset and table names are
//     case-sensitive, so folding would merge distinct tables.
//   - dbt-only entities, storage locations and unknown platforms keep
//     their case.
//
// Quoted identifiers always keep their case.
func Fold(p Platform, ident string, quoted bool) string {
	if quoted {
		return ident
	}
	switch p {
	case Snowflake:
		return strings.ToUpper(ident)
	case Databricks, Spark, Postgres, DuckDB, Redshift, Athena:
		return strings.ToLower(ident)
	}
	return ident
}

// Ident is one part of a dotted name as written in SQL or by a user.
type Ident struct {
	Text   string // without quotes, escapes resolved
	Quoted bool
}

// SplitName splits a dotted name into its parts. Parts may be quoted with
// double quotes ("a.b", with "" for a quote) or backticks (`a.b`, with a doubled backtick
// for a backtick); dots inside quotes do not split. Surrounding spaces of
// unquoted parts are trimmed.
func SplitName(s string) ([]Ident, error) {
	var parts []Ident
	i := 0
	for {
		for i < len(s) && s[i] == ' ' {
			i++
		}
		var part Ident
		if i < len(s) && (s[i] == '"' || s[i] == '`') {
			q := s[i]
			var b strings.Builder
			j := i + 1
			closed := false
			for j < len(s) {
				if s[j] == q {
					if j+1 < len(s) && s[j+1] == q {
						b.WriteByte(q)
						j += 2
						continue
					}
					closed = true
					j++
					break
				}
				b.WriteByte(s[j])
				j++
			}
			if !closed {
				return nil, fmt.Errorf("name %q: unterminated %c quote at offset %d", s, q, i)
			}
			part = Ident{Text: b.String(), Quoted: true}
			for j < len(s) && s[j] == ' ' {
				j++
			}
			i = j
		} else {
			j := strings.IndexByte(s[i:], '.')
			if j < 0 {
				j = len(s) - i
			}
			part = Ident{Text: strings.TrimSpace(s[i : i+j])}
			i += j
		}
		parts = append(parts, part)
		if i >= len(s) {
			break
		}
		if s[i] != '.' {
			return nil, fmt.Errorf("name %q: expected '.' at offset %d", s, i)
		}
		i++
	}
	return parts, nil
}

// JoinName joins canonical (already folded) parts with dots. A part that
// contains a dot, a quote or a backtick, or is empty, is double-quoted so
// that SplitName gives the parts back.
func JoinName(parts ...string) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('.')
		}
		if p == "" || strings.ContainsAny(p, ".\"`") || strings.TrimSpace(p) != p {
			b.WriteByte('"')
			b.WriteString(strings.ReplaceAll(p, `"`, `""`))
			b.WriteByte('"')
			continue
		}
		b.WriteString(p)
	}
	return b.String()
}

// Name builds a canonical dataset name on platform p from parts as written
// in SQL: a part wrapped in double quotes or backticks is quoted and keeps
// its case, any other part is folded. Name(Snowflake, "analytics",
// `"Marts"`, "fct_loans") is "ANALYTICS.Marts.FCT_LOANS".
func Name(p Platform, parts ...string) string {
	folded := make([]string, len(parts))
	for i, part := range parts {
		text, quoted := part, false
		if n := len(part); n >= 2 && (part[0] == '"' && part[n-1] == '"' || part[0] == '`' && part[n-1] == '`') {
			q := part[:1]
			text, quoted = strings.ReplaceAll(part[1:n-1], q+q, q), true
		}
		folded[i] = Fold(p, text, quoted)
	}
	return JoinName(folded...)
}

// NormalizeName folds a dotted name as written in SQL (`analytics.marts."Fct"`)
// into its canonical form on platform p. Do not apply it to names that are
// already canonical: on Snowflake a canonical lower-case part came from a
// quoted identifier and would be folded again.
func NormalizeName(p Platform, s string) (string, error) {
	parts, err := SplitName(s)
	if err != nil {
		return "", err
	}
	folded := make([]string, len(parts))
	for i, part := range parts {
		folded[i] = Fold(p, part.Text, part.Quoted)
	}
	return JoinName(folded...), nil
}
