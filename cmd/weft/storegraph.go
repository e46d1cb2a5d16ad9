package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/weftdata/weft/graph"
	"github.com/weftdata/weft/store"
)

// readStoreGraph reads the graph valid at asOf (zero: now) from a weft
// store, with the datasets that are one physical table merged (see unify).
// A missing or empty file is an error, not an empty store: opening would
// create one.
func readStoreGraph(ctx context.Context, path string, asOf time.Time) (*graph.Graph, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w (create it with weft extract)", path, err)
	}
	switch {
	case fi.IsDir():
		return nil, fmt.Errorf("store %s: is a directory, not a weft store", path)
	case fi.Size() == 0:
		// SQLite takes an empty file for a new database and the store
		// would migrate it: reading would turn the file into a store.
		return nil, fmt.Errorf("store %s: empty file, not a weft store (create it with weft extract)", path)
	}
	s, err := store.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	g, err := s.Graph(ctx, asOf)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	if len(g.Datasets) == 0 && len(g.Edges) == 0 {
		// Say why, rather than let a lookup fail with "no dataset matches".
		when := "now"
		if !asOf.IsZero() {
			when = "at " + asOf.UTC().Format(time.RFC3339) + " (before its first extract, or after everything ended?)"
		}
		return nil, fmt.Errorf("store %s holds no lineage valid %s; run weft extract, or choose another --as-of", path, when)
	}
	return unify(ctx, nil, g)
}
