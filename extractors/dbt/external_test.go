package dbt

import (
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/weftdata/weft/graph"
)

// TestExternalTables: the partitions of a dbt-external-tables source are
// columns of its table. They are added when neither the catalog nor the
// YAML lists them, named like unquoted identifiers, typed and described
// from the partition; a listed one keeps its place.
func TestExternalTables(t *testing.T) {
	dir := filepath.Join("testdata", "external")
	type col struct{ Name, Type, Description, Tests string }
	tests := []struct {
		name     string
		cfg      Config
		golden   string
		datasets map[string][]col           // dataset name → its columns
		location map[string]string          // dataset name → external_location
		ns       string                     // namespace of the dataset names
		extra    func(*testing.T, *Project) // further checks
	}{
		{
			name: "snowflake",
			cfg: Config{
				Manifest: filepath.Join(dir, "snowflake_v6.json"),
				Catalog:  filepath.Join(dir, "snowflake_v6_catalog.json"),
				Account:  "acme-prod",
			},
			golden: "external/snowflake_v6.golden",
			ns:     "snowflake://acme-prod",
			datasets: map[string][]col{
				"RAW.EVENTS_EXT.PAGE_VIEWS": {
					{Name: "EVENT_ID", Description: "Collector event id."},
					{Name: "USER_ID"},
					{Name: "PAGE_URL"},
					{Name: "VIEWED_AT", Type: "timestamp_ntz"},
					// The not_null test on the partition attaches to it.
					{Name: "COLLECTOR_DATE", Type: "date", Description: "Date the collector wrote the file.", Tests: "not_null"},
					{Name: "COLLECTOR_HOUR", Type: "number(2,0)", Description: "partition: split_part(metadata$filename, '/', 3)::number(2,0)"},
				},
				// load_date is documented: not listed twice.
				"RAW.EVENTS_EXT.ORDERS_EXT": {
					{Name: "ORDER_ID"},
					{Name: "AMOUNT"},
					{Name: "LOAD_DATE", Type: "date", Description: "Load date, from the file path."},
				},
				// The catalog lists the partition column: its name and type win.
				"RAW.EVENTS_EXT.SESSIONS": {
					{Name: "VALUE", Type: "VARIANT"},
					{Name: "SESSION_ID", Type: "TEXT"},
					{Name: "STARTED_AT", Type: "TIMESTAMP_NTZ"},
					{Name: "SESSION_MONTH", Type: "TEXT"},
				},
				"RAW.APP.USERS": {{Name: "USER_ID"}, {Name: "SIGNED_UP_AT"}},
			},
			location: map[string]string{
				"RAW.EVENTS_EXT.PAGE_VIEWS": "@RAW.EVENTS_EXT.CLICKSTREAM_STAGE/page_views/",
				"RAW.EVENTS_EXT.ORDERS_EXT": "@RAW.EVENTS_EXT.CLICKSTREAM_STAGE/orders/",
				"RAW.EVENTS_EXT.SESSIONS":   "@RAW.EVENTS_EXT.CLICKSTREAM_STAGE/sessions/",
				"RAW.APP.USERS":             "",
			},
			extra: func(t *testing.T, p *Project) {
				if ext := p.Node("source.clickstream.app.users").External; ext != nil {
					t.Errorf("source without external config: External = %+v", ext)
				}
				want := &ExternalTable{
					Location: "@RAW.EVENTS_EXT.CLICKSTREAM_STAGE/orders/",
					Partitions: []Partition{{Name: "load_date", DataType: "date",
						Expression: "to_date(split_part(metadata$filename, '/', 2), 'YYYYMMDD')"}},
				}
				if diff := cmp.Diff(want, p.Node("source.clickstream.events.orders_ext").External); diff != "" {
					t.Errorf("orders_ext External (-want +got):\n%s", diff)
				}
			},
		},
		{
			name:   "databricks",
			cfg:    Config{Manifest: filepath.Join(dir, "databricks_v12.json"), Account: "adb-1234.5.azuredatabricks.net"},
			golden: "external/databricks_v12.golden",
			ns:     "databricks://adb-1234.5.azuredatabricks.net",
			datasets: map[string][]col{
				"main.landing.device_events": {
					{Name: "device_id"},
					{Name: "reading", Type: "double"},
					// Listed without a type: the partition's fills it.
					{Name: "device_type", Type: "string", Description: "Hardware family."},
					{Name: "event_date", Type: "date"},
				},
			},
			location: map[string]string{"main.landing.device_events": "abfss://landing@iotlake.dfs.core.windows.net/device_events"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := New(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			b := extractOne(t, e)
			checkGolden(t, tt.golden, dumpBatch(b))
			for name, want := range tt.datasets {
				d := b.Graph.Datasets[graph.DatasetID{Namespace: tt.ns, Name: name}]
				if d == nil {
					t.Errorf("no dataset %s", name)
					continue
				}
				var got []col
				for _, c := range d.Columns {
					tests := ""
					if len(c.Tests) > 0 {
						tests = c.Tests[0]
					}
					got = append(got, col{c.Name, c.Type, c.Description, tests})
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s columns (-want +got):\n%s", name, diff)
				}
				if loc := d.Properties["external_location"]; loc != tt.location[name] {
					t.Errorf("%s: external_location = %q, want %q", name, loc, tt.location[name])
				}
			}
			if tt.extra != nil {
				p, err := e.Load(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				tt.extra(t, p)
			}
		})
	}
}
