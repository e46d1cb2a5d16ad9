package snowflake

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/weftdata/weft/extractors"
)

// fuzzName is the export's file name in fuzzed errors.
const fuzzName = "history.export"

// exportSeeds adds the export fixtures as seeds: the demo export whole and
// line by line, the demo as CSV, testdata/dedup.csv, and the bad inputs of
// TestExportErrors.
func exportSeeds(f *testing.F) {
	demo, err := os.ReadFile(demoExport)
	if err != nil {
		f.Fatal(err)
	}
	// the demo's lines one by one and a few at a time: whole files make
	// the fuzzer crawl
	lines := slices.Collect(bytes.Lines(demo))
	for i, line := range lines {
		f.Add(line)
		if i%8 == 0 {
			f.Add(bytes.Join(lines[i:min(i+4, len(lines))], nil))
		}
	}
	var demoCSV bytes.Buffer
	if err := writeDemoCSV(&demoCSV); err != nil {
		f.Fatal(err)
	}
	dedupCSV, err := os.ReadFile(filepath.Join("testdata", "dedup.csv"))
	if err != nil {
		f.Fatal(err)
	}
	for _, b := range [][]byte{demoCSV.Bytes(), dedupCSV} {
		// the header and a few records
		if lines := bytes.SplitAfterN(b, []byte("\n"), 6); len(lines) == 6 {
			f.Add(bytes.Join(lines[:5], nil))
		}
	}
	for _, s := range []string{
		"{\"QUERY_ID\":\"a\",\"QUERY_TEXT\":\"x\"}\n{\"QUERY_ID\":\n",
		"{\"QUERY_ID\":\"a\",\"QUERY_TEXT\":\"x\",\"START_TIME\":\"yesterday\"}\n",
		"{\"QUERY_TEXT\":\"insert into a select 1\",\"START_TIME\":1719792000}\n\n{\"QUERY_TEXT\":\"insert into a select 2\"}",
		"{\"QUERY_TEXT\":\"insert into a select 1\",\"START_TIME\":\"2300-01-01\"}\n{\"QUERY_TEXT\":\"insert into b select 1\",\"START_TIME\":\"2025-01-01\"}\n",
		"a,b\n1,2\n",
		"QUERY_TEXT,QUERY_COUNT\nselect 1,many\n",
		"QUERY_TEXT,START_TIME\n\"insert into a\nselect 1\",2024-07-01\n\"a\"b\",\n",
		"\uFEFFquery,timestamp,user\ninsert into x select * from y,1719792000123,bob\n",
		"",
		"   \n",
	} {
		f.Add([]byte(s))
	}
}

// locatedErr is how every export error starts: the file, the line and,
// for CSV syntax errors, the column.
var locatedErr = regexp.MustCompile(`^` + regexp.QuoteMeta(fuzzName) + `:[1-9][0-9]*(:[1-9][0-9]*)?: `)

// checkExportErr checks that an error names the file and, unless there is
// no line to name (an empty file, a broken gzip header), the line.
func checkExportErr(t *testing.T, data []byte, err error) {
	t.Helper()
	msg := err.Error()
	switch {
	case locatedErr.MatchString(msg):
	case msg == fuzzName+": empty export (want JSON lines or CSV with a header row)" && len(bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\uFEFF")))) == 0:
	case bytes.HasPrefix(data, []byte{0x1f, 0x8b}) && strings.HasPrefix(msg, fuzzName+": "):
	default:
		t.Fatalf("error does not say file:line: %q", msg)
	}
}

// FuzzExportReader reads arbitrary bytes as an export: no panics, every
// error names the file and line, and records come with strictly
// increasing line numbers (a record without a query id is known by its
// file:line, so two records must never share one).
func FuzzExportReader(f *testing.F) {
	exportSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		defer watchdog(data)()
		rd, err := newExportReader(fuzzName, bytes.NewReader(data))
		if err != nil {
			checkExportErr(t, data, err)
			return
		}
		last := 0
		var rec record
		for range len(data) + 2 {
			line, err := rd.next(&rec)
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				checkExportErr(t, data, err)
				return
			}
			if line <= last {
				t.Fatalf("record on line %d after a record on line %d", line, last)
			}
			last = line
		}
		t.Fatalf("more records than bytes")
	})
}

// FuzzExport runs arbitrary exports through the whole offline path (read,
// deduplicate, decode): no panics, errors located, and the batches keep
// the extractor contract: statements with SQL and an origin, watermarks
// that never go back.
func FuzzExport(f *testing.F) {
	exportSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		defer watchdog(data)()
		w := window{size: 24 * time.Hour, loc: time.UTC}
		dd, err := readExport(context.Background(), fuzzName, bufio.NewReader(bytes.NewReader(data)), w, filter{}, queryTypes(true))
		if err != nil {
			checkExportErr(t, data, err)
			return
		}
		dec := decoder{ns: "snowflake://fuzz"}
		var last time.Time
		for _, ch := range dd.finish() {
			b := dec.decode(ch.rows, ch.end)
			if !b.Watermark.IsZero() {
				if b.Watermark.Before(last) {
					t.Fatalf("watermark %v after %v", b.Watermark, last)
				}
				last = b.Watermark
			}
			for _, s := range b.Statements {
				checkStatement(t, s)
			}
		}
	})
}

// watchdog crashes the fuzz worker when an input takes over 10 seconds,
// so that the fuzzer records a hang as a failing input (it has no
// timeout of its own). Call the returned func when done.
func watchdog(data []byte) (stop func()) {
	tm := time.AfterFunc(10*time.Second, func() {
		panic(fmt.Sprintf("input of %d bytes still running after 10s: %q", len(data), data))
	})
	return func() { tm.Stop() }
}

func checkStatement(t *testing.T, s extractors.Statement) {
	t.Helper()
	if strings.TrimSpace(s.SQL) == "" || s.Origin.QueryID == "" || s.Origin.Extractor == "" || s.Dialect == "" || s.Namespace == "" {
		t.Fatalf("incomplete statement %+v", s)
	}
}
