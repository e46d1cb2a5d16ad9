package check

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/weftdata/weft/graph"
)

// Formats lists the output formats Write accepts.
var Formats = []string{"github", "json", "junit", "markdown", "sarif", "text"}

// Report is what the formats render: the findings and the context a reader
// needs.
type Report struct {
	Version  int       `json:"weft_check_version"`
	Base     string    `json:"base"` // what the PR was compared with
	Findings []Finding `json:"findings"`
	Errors   int       `json:"errors"`
	Warnings int       `json:"warnings"`
}

// NewReport counts the findings.
func NewReport(base string, findings []Finding) Report {
	r := Report{Version: 1, Base: base, Findings: findings}
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	for _, f := range findings {
		switch f.Severity {
		case graph.SeverityError:
			r.Errors++
		case graph.SeverityWarning:
			r.Warnings++
		}
	}
	return r
}

// Write renders the report in format.
func Write(w io.Writer, format string, r Report) error {
	switch format {
	case "text":
		return writeText(w, r)
	case "markdown":
		return writeMarkdown(w, r, markdownLimit)
	case "github":
		return writeGitHub(w, r)
	case "junit":
		return writeJUnit(w, r)
	case "sarif":
		return writeSARIF(w, r)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	return fmt.Errorf("unknown format %q (known: %s)", format, strings.Join(Formats, ", "))
}

func location(f Finding) string {
	switch {
	case f.File != "" && f.Line > 0:
		return fmt.Sprintf("%s:%d", f.File, f.Line)
	case f.File != "":
		return f.File
	}
	return f.Subject
}

func pathString(p []Hop) string {
	if len(p) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(p[0].From)
	for _, h := range p {
		fmt.Fprintf(&b, " -[%s]-> %s", h.Type, h.To)
	}
	return b.String()
}

func summary(r Report) string {
	if len(r.Findings) == 0 {
		return "weft check: no findings: nothing downstream breaks"
	}
	return fmt.Sprintf("weft check: %s, %s", countNoun(r.Errors, "error"), countNoun(r.Warnings, "warning"))
}

func writeText(w io.Writer, r Report) error {
	var b strings.Builder
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "%s: %s [%s] %s\n", location(f), f.Severity, f.Rule, f.Message)
		for _, a := range f.Affected {
			fmt.Fprintf(&b, "    %s (%s %s)\n", a.ID, a.Platform, a.Kind)
			for _, h := range a.Path {
				fmt.Fprintf(&b, "        %s -[%s]-> %s  via %s\n", h.From, h.Type, h.To, h.Via)
			}
		}
		if n := affectedCount(f) - len(f.Affected); n > 0 {
			fmt.Fprintf(&b, "    ... and %d more\n", n)
		}
	}
	fmt.Fprintln(&b, summary(r))
	_, err := io.WriteString(w, b.String())
	return err
}

// markdownLimit keeps a PR comment under GitHub's 65,536-character limit
// with room for the truncation note.
const markdownLimit = 65000

func writeMarkdown(w io.Writer, r Report, limit int) error {
	// Room for one truncation note, however the text is cut.
	const reserve = 200
	var b strings.Builder
	fmt.Fprintf(&b, "### weft check\n\n%s (compared with %s)\n\n", summary(r), mdEscape(r.Base))
	truncated := 0
	if len(r.Findings) > 0 {
		b.WriteString("| severity | rule | subject | location | downstream |\n|---|---|---|---|---|\n")
		for i, f := range r.Findings {
			row := fmt.Sprintf("| %s | `%s` | `%s` | %s | %d |\n", f.Severity, f.Rule, mdEscape(f.Subject), mdEscape(location(f)), affectedCount(f))
			if b.Len()+len(row) > limit-reserve {
				truncated = len(r.Findings) - i
				fmt.Fprintf(&b, "\n_Truncated: %d more findings not shown (run `weft check --format text` for all)._\n", truncated)
				break
			}
			b.WriteString(row)
		}
		b.WriteString("\n")
	}
	if truncated > 0 {
		_, err := io.WriteString(w, b.String())
		return err
	}
	for i, f := range r.Findings {
		var d strings.Builder
		fmt.Fprintf(&d, "<details><summary><b>%s</b> <code>%s</code>: %s</summary>\n\n", f.Severity, f.Rule, htmlEscape(f.Message))
		if f.File != "" {
			fmt.Fprintf(&d, "Location: `%s`\n\n", location(f))
		}
		for _, a := range f.Affected {
			fmt.Fprintf(&d, "- `%s` (%s %s)", mdEscape(a.ID), a.Platform, a.Kind)
			if p := pathString(a.Path); p != "" {
				fmt.Fprintf(&d, "<br>path: `%s`", mdEscape(p))
				for _, via := range pathVias(a.Path) {
					fmt.Fprintf(&d, "<br>via: %s", htmlEscape(via))
				}
			}
			d.WriteString("\n")
		}
		if n := affectedCount(f) - len(f.Affected); n > 0 {
			fmt.Fprintf(&d, "- ... and %d more\n", n)
		}
		d.WriteString("\n</details>\n")
		if b.Len()+d.Len() > limit-reserve {
			fmt.Fprintf(&b, "\n_Truncated: details of %d more findings not shown (run `weft check --format text` for all)._\n", len(r.Findings)-i)
			break
		}
		b.WriteString(d.String())
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// pathVias are the vias worth showing for a path: each hop that crosses
// platforms (its via names the identity link, a foreign catalog say) and
// the last hop.
func pathVias(p []Hop) []string {
	var out []string
	for i, h := range p {
		crosses := platformOf(h.From) != platformOf(h.To)
		if (crosses || i == len(p)-1) && h.Via != "" && !slices.Contains(out, h.Via) {
			out = append(out, h.Via)
		}
	}
	return out
}

// platformOf is the scheme of a dataset or column id ("snowflake").
func platformOf(id string) string {
	scheme, _, _ := strings.Cut(id, "://")
	return scheme
}

func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "`", "'", "\n", " ").Replace(s)
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "|", `\|`, "\n", " ").Replace(s)
}

// writeGitHub writes workflow commands that GitHub Actions shows as
// annotations on the PR's files.
func writeGitHub(w io.Writer, r Report) error {
	var b strings.Builder
	for _, f := range r.Findings {
		level := "error"
		switch f.Severity {
		case graph.SeverityWarning:
			level = "warning"
		case graph.SeverityInfo:
			level = "notice"
		}
		var props []string
		if f.File != "" {
			props = append(props, "file="+ghProp(f.File))
			if f.Line > 0 {
				props = append(props, fmt.Sprintf("line=%d", f.Line))
			}
		}
		props = append(props, "title="+ghProp("weft "+f.Rule))
		msg := f.Message
		for i, a := range f.Affected {
			if i == 10 {
				msg += fmt.Sprintf("\n... and %d more", affectedCount(f)-10)
				break
			}
			msg += "\n- " + a.ID
		}
		fmt.Fprintf(&b, "::%s %s::%s\n", level, strings.Join(props, ","), ghData(msg))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// ghData and ghProp escape workflow command values as the Actions runner
// expects.
func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func ghProp(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Line      int           `xml:"line,attr,omitempty"`
	Failure   *junitFailure `xml:"failure,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// writeJUnit writes one test case per rule that passed and one failing
// case per finding, so CI systems show both.
func writeJUnit(w io.Writer, r Report) error {
	suite := junitSuite{Name: "weft check"}
	byRule := map[string]int{}
	for _, f := range r.Findings {
		byRule[f.Rule]++
		var text strings.Builder
		for _, a := range f.Affected {
			fmt.Fprintf(&text, "%s\n", pathString(a.Path))
		}
		suite.Cases = append(suite.Cases, junitCase{
			Name: f.Subject, Classname: "weft." + f.Rule, File: f.File, Line: f.Line,
			Failure: &junitFailure{Message: f.Message, Type: f.Severity, Text: text.String()},
		})
	}
	for _, ri := range Rules {
		if byRule[ri.ID] == 0 {
			suite.Cases = append(suite.Cases, junitCase{Name: ri.Description, Classname: "weft." + ri.ID})
		}
	}
	suite.Tests = len(suite.Cases)
	suite.Failures = len(r.Findings)
	doc := junitSuites{Name: "weft", Tests: suite.Tests, Failures: suite.Failures, Suites: []junitSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
