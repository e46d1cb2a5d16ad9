package snowflake

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/weftdata/weft/extractors"
)

// Extractor reads one Snowflake account's query history, online or from an
// export file. It holds no resources between calls to Extract.
type Extractor struct {
	cfg Config
	ns  string
	f   filter
	log *slog.Logger
	// open opens the driver connection; New sets it to openDB.
	open func(context.Context, Config) (*sql.DB, error)
}

// New validates cfg, fills its defaults and returns an extractor. It does
// no I/O: credentials, the key file and the export are read by Extract.
func New(cfg Config) (*Extractor, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Extractor{
		cfg: cfg,
		ns:  namespace(cfg.Account),
		f: filter{
			inclDB: cfg.IncludeDatabases, exclDB: cfg.ExcludeDatabases,
			inclUser: cfg.IncludeUsers, exclUser: cfg.ExcludeUsers,
		},
		log:  log.With("source", cfg.where()),
		open: openDB,
	}, nil
}

// Namespace returns the OpenLineage namespace of the account's datasets,
// "snowflake://<account>".
func (e *Extractor) Namespace() string { return e.ns }

// String describes the extractor without secrets.
func (e *Extractor) String() string { return e.cfg.String() }

// Extract reads the window [From, To) chunk by chunk and calls emit once
// per chunk, in time order, with the chunk's end as the Batch watermark.
// Online, a Batch with the schemas of the databases in scope comes first
// when Config.Columns is set (no watermark). A run cancelled between
// chunks has emitted only complete chunks; running again from the last
// watermark re-reads nothing twice, and a chunk read twice produces the
// same evidence (keyed by the shape's first query id), so merging it again
// does not double any count.
func (e *Extractor) Extract(ctx context.Context, emit func(extractors.Batch) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	loc, err := time.LoadLocation(e.cfg.TimeZone)
	if err != nil {
		return fmt.Errorf("%s: time_zone %q: unknown time zone", e.cfg.where(), e.cfg.TimeZone)
	}
	if e.cfg.Export != "" {
		return e.extractExport(ctx, loc, emit)
	}
	return e.extractOnline(ctx, loc, emit)
}

func (e *Extractor) decoder() decoder { return decoder{ns: e.ns, f: e.f} }

// exportPath resolves Config.Export against Config.Dir.
func (e *Extractor) exportPath() string {
	p := e.cfg.Export
	if !filepath.IsAbs(p) && e.cfg.Dir != "" {
		p = filepath.Join(e.cfg.Dir, p)
	}
	return p
}

// extractExport reads an export file: it streams the records, deduplicates
// them per chunk (the export may be raw, one row per logged query, or
// already deduplicated by the export query), then emits the chunks in
// time order.
func (e *Extractor) extractExport(ctx context.Context, loc *time.Location, emit func(extractors.Batch) error) error {
	path := e.exportPath()
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("%s: export: %w", e.cfg.where(), err)
	}
	defer f.Close()
	st := time.Now()
	dd, err := readExport(ctx, path, f, window{from: e.cfg.From, to: e.cfg.To, size: e.cfg.ChunkSize, loc: loc}, e.f, queryTypes(e.cfg.IncludeSelects))
	if err != nil {
		return err
	}
	chunks := dd.finish()
	e.log.Debug("read export", "file", path, "queries", dd.Read, "kept", dd.Kept, "chunks", len(chunks), "elapsed", time.Since(st))
	dec := e.decoder()
	for _, ch := range chunks {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := emit(dec.decode(ch.rows, ch.end)); err != nil {
			return err
		}
	}
	return nil
}

// readExport streams an export into a dedup. Rows without a query id get
// "<file>:<line>" as their id, so that every statement has an origin.
func readExport(ctx context.Context, path string, r io.Reader, w window, f filter, types []string) (*dedup, error) {
	rd, err := newExportReader(path, r)
	if err != nil {
		return nil, err
	}
	dd := newDedup(w, f, types)
	base := filepath.Base(path)
	var rec record
	for n := 0; ; n++ {
		if n&4095 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		line, err := rd.next(&rec)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		row := rec.row()
		if row.FirstQueryID == "" {
			row.FirstQueryID = fmt.Sprintf("%s:%d", base, line)
			row.LastQueryID = row.FirstQueryID
		}
		dd.add(row)
	}
	return dd, nil
}

// extractOnline queries Snowflake, one chunk at a time.
func (e *Extractor) extractOnline(ctx context.Context, loc *time.Location, emit func(extractors.Batch) error) error {
	to := e.cfg.To
	if to.IsZero() {
		to = time.Now().Add(-e.cfg.Latency).Truncate(time.Millisecond)
	}
	from := e.cfg.From
	if from.IsZero() {
		from = to.Add(-e.cfg.Lookback)
	}
	if !from.Before(to) {
		e.log.Debug("nothing to read", "from", from, "to", to)
		return nil
	}
	w := window{from: from, to: to, size: e.cfg.ChunkSize, loc: loc}
	db, err := e.open(ctx, e.cfg)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%s: %w", e.cfg.where(), err)
	}
	defer db.Close()

	if e.cfg.Columns {
		g, err := fetchColumns(ctx, db, buildColumnsQuery(e.f), e.ns)
		if err != nil {
			return e.queryError(ctx, "ACCOUNT_USAGE.COLUMNS", err)
		}
		if err := emit(extractors.Batch{Graph: g}); err != nil {
			return err
		}
	}
	types := queryTypes(e.cfg.IncludeSelects)
	dec := e.decoder()
	for _, c := range w.chunks() {
		if err := ctx.Err(); err != nil {
			return err
		}
		st := time.Now()
		q := buildHistoryQuery(epochMillis(c[0]), epochMillis(c[1]), types, e.f, !e.cfg.NoAccessHistory)
		rows, err := fetchHistory(ctx, db, q, c[0])
		if err != nil {
			return e.queryError(ctx, formatChunk(c[0], c[1]), err)
		}
		sortRows(rows)
		var queries int64
		for i := range rows {
			queries += rows[i].Count
		}
		e.log.Debug("read chunk", "from", c[0], "to", c[1], "shapes", len(rows), "queries", queries, "elapsed", time.Since(st))
		if err := emit(dec.decode(rows, c[1])); err != nil {
			return err
		}
	}
	return nil
}

// queryError wraps a query failure with where it happened, and returns a
// cancelled context's error unchanged.
func (e *Extractor) queryError(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("%s: %s: %w", e.cfg.where(), what, scrub(err, e.cfg))
}

// containsFold reports whether s contains sub, ignoring case.
func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
