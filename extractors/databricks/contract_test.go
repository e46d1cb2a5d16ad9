package databricks

import (
	"testing"

	"github.com/weftdata/weft/extractors"
	"github.com/weftdata/weft/extractors/extractortest"
)

// TestContract runs the shared extractor contract on the demo export and
// online against the fake serving it. (Online runs take about half a
// second each, for the statement polling; daily chunks are left to
// TestOnlineWindows.)
func TestContract(t *testing.T) {
	t.Run("offline", func(t *testing.T) {
		extractortest.Run(t, func(t *testing.T) extractors.Extractor {
			e, err := New(demoConfig())
			if err != nil {
				t.Fatal(err)
			}
			return e
		})
	})
	_, srv := newFake(t, demoExport)
	t.Run("online", func(t *testing.T) {
		extractortest.Run(t, func(t *testing.T) extractors.Extractor {
			return onlineExtractor(t, srv.URL, nil)
		})
	})
}
