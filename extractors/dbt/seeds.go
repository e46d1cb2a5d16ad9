package dbt

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/weftdata/weft/graph"
)

// ReadSeedHeaders gives seeds whose columns neither the catalog nor the
// manifest lists the columns of their CSV file's header row. Each seed's
// file is looked for at <dir>/<original_file_path> for each dir in dirs,
// in order, then under its root_path (the directory dbt ran in, when it
// exists on this machine). A seed whose file is not found keeps no
// columns; one no_seed_columns info finding says how many. Names follow
// the seed's quote_columns config (dbt-snowflake does not quote them, so
// Snowflake upper-cases them; other adapters quote by default).
//
// Extractor.Load calls it with Config.ProjectDir, or the directory above
// the manifest's (target/..).
func (p *Project) ReadSeedHeaders(ctx context.Context, dirs ...string) error {
	var missing []string
	total := 0
	for _, n := range p.Nodes {
		if n.ResourceType != "seed" || len(n.Columns) > 0 || n.OriginalFilePath == "" {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		total++
		header, err := p.seedHeader(n, dirs)
		if err != nil {
			p.addFinding(graph.SeverityWarning, "bad_seed_file", p.location(n, "original_file_path"), n.UniqueID, err.Error())
			continue
		}
		if header == nil {
			missing = append(missing, n.UniqueID)
			continue
		}
		quoted := p.Platform != graph.Snowflake
		if n.seedQuoteColumns != nil {
			quoted = *n.seedQuoteColumns
		}
		for _, h := range header {
			n.Columns = append(n.Columns, Column{Name: graph.Fold(p.Platform, h, quoted)})
		}
	}
	if len(missing) > 0 {
		examples := strings.Join(missing[:min(3, len(missing))], ", ")
		if len(missing) > 3 {
			examples += ", ..."
		}
		p.addFinding(graph.SeverityInfo, "no_seed_columns", p.files.manifest, "",
			fmt.Sprintf("%d of %d seeds have no columns in the catalog or the manifest and their CSV file was not found (%s); "+
				"run \"dbt docs generate\" for a catalog, or set project_dir to the dbt project", len(missing), total, examples))
	}
	slices.SortFunc(p.Findings, compareFinding)
	return nil
}

// seedHeader reads the header row of n's CSV file; nil, nil when no
// candidate file exists.
func (p *Project) seedHeader(n *Node, dirs []string) ([]string, error) {
	rel := filepath.FromSlash(n.OriginalFilePath)
	var candidates []string
	if filepath.IsAbs(rel) {
		candidates = append(candidates, rel)
	} else {
		for _, d := range dirs {
			if d != "" {
				candidates = append(candidates, filepath.Join(d, rel))
			}
		}
		if n.RootPath != "" {
			candidates = append(candidates, filepath.Join(n.RootPath, rel))
		}
	}
	for _, path := range candidates {
		f, err := os.Open(path)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
			continue
		}
		if err != nil {
			return nil, err
		}
		header, err := readCSVHeader(f, n.seedDelimiter)
		f.Close()
		if err != nil {
			return nil, &os.PathError{Op: "read seed header", Path: path, Err: err}
		}
		return header, nil
	}
	return nil, nil
}

// readCSVHeader reads the first record of a CSV file, without a UTF-8
// byte-order mark. The delimiter is the seed's config.delimiter (default
// ",").
func readCSVHeader(r io.Reader, delimiter string) ([]string, error) {
	br := bufio.NewReader(r)
	if b, err := br.Peek(3); err == nil && string(b) == "\uFEFF" {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	if d := []rune(delimiter); len(d) == 1 {
		cr.Comma = d[0]
	}
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	rec, err := cr.Read()
	if err == io.EOF {
		return nil, errors.New("empty file")
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, h := range rec {
		if h = strings.TrimSpace(h); h != "" {
			out = append(out, h)
		}
	}
	return out, nil
}
