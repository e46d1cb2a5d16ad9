package main

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/weftdata/weft/extractors"
	"github.com/weftdata/weft/graph"
)

// fakeConfig stands in for an extractor package's Config.
type fakeConfig struct {
	Name     string    `yaml:"name"`
	Manifest string    `yaml:"manifest"`
	Account  string    `yaml:"account"`
	Password string    `yaml:"password"`
	Port     int       `yaml:"port"`
	Auth     *fakeAuth `yaml:"auth"`
}

type fakeAuth struct {
	User    string `yaml:"user"`
	KeyFile string `yaml:"key_file"`
}

type fakeExtractor struct{ cfg fakeConfig }

func (fakeExtractor) Extract(context.Context, func(extractors.Batch) error) error { return nil }

func newFake(cfg fakeConfig) (*fakeExtractor, error) {
	if cfg.Manifest == "" {
		return nil, errors.New("manifest is required")
	}
	return &fakeExtractor{cfg}, nil
}

// nameless has no name key: the loader accepts "name" for it anyway.
type nameless struct {
	Path string `yaml:"path"`
}

type namelessExtractor struct{}

func (namelessExtractor) Extract(context.Context, func(extractors.Batch) error) error { return nil }

func newNameless(nameless) (namelessExtractor, error) { return namelessExtractor{}, nil }

func testRegistry() registry {
	return registry{
		"fake":     newSourceType(newFake, "manifest"),
		"nameless": newSourceType(newNameless, "path"),
		"other":    newSourceType(newNameless),
	}
}

func TestConfigLoad(t *testing.T) {
	env := map[string]string{"FAKE_PASSWORD": "s3cret"}
	tests := []struct {
		name    string
		yaml    string
		want    []fakeConfig
		wantErr string
	}{
		{
			name: "minimal",
			yaml: "sources:\n  - type: fake\n    manifest: target/manifest.json\n",
			want: []fakeConfig{{Manifest: filepath.Join("proj", "target/manifest.json")}},
		},
		{
			name: "absolute path and env secret",
			yaml: "sources:\n  - type: fake\n    name: prod\n    manifest: /abs/m.json\n    password_env: FAKE_PASSWORD\n    port: 5\n    auth: {user: u}\n",
			want: []fakeConfig{{Name: "prod", Manifest: "/abs/m.json", Password: "s3cret", Port: 5, Auth: &fakeAuth{User: "u"}}},
		},
		{
			name:    "unknown type",
			yaml:    "sources:\n  - type: fake\n    manifest: m.json\n  - type: snowflak\n",
			wantErr: `proj/weft.yaml:4: unknown source type "snowflak" (known: fake, nameless, other)`,
		},
		{
			name:    "missing type",
			yaml:    "sources:\n  - manifest: m.json\n",
			wantErr: `proj/weft.yaml:2: source has no type (known: fake, nameless, other)`,
		},
		{
			name:    "unknown key",
			yaml:    "sources:\n  - type: fake\n    manifets: m.json\n",
			wantErr: `proj/weft.yaml:3: fake source "fake": unknown key "manifets" (valid: account, auth, manifest, name, password, port, type)`,
		},
		{
			name:    "unknown nested key",
			yaml:    "sources:\n  - type: fake\n    manifest: m.json\n    auth:\n      usr: u\n",
			wantErr: `proj/weft.yaml:5: fake source "fake" auth: unknown key "usr" (valid: key_file, user)`,
		},
		{
			name:    "wrong type",
			yaml:    "sources:\n  - type: fake\n    manifest: m.json\n    port: many\n",
			wantErr: "proj/weft.yaml:4: fake source \"fake\": cannot unmarshal !!str `many` into int",
		},
		{
			name:    "env var not set, secret never printed",
			yaml:    "sources:\n  - type: fake\n    manifest: m.json\n    password_env: NOT_SET\n",
			wantErr: `proj/weft.yaml:4: fake source "fake": password_env: environment variable NOT_SET is not set`,
		},
		{
			name:    "constructor error",
			yaml:    "sources:\n  - type: fake\n    name: a\n",
			wantErr: `proj/weft.yaml:2: fake source "a": manifest is required`,
		},
		{
			name:    "all errors, sorted",
			yaml:    "bogus: 1\nsources:\n  - type: nope\n  - type: fake\n    x: 1\n",
			wantErr: "proj/weft.yaml:1: unknown key \"bogus\" (valid: links, retention, sources, store)\nproj/weft.yaml:3: unknown source type \"nope\" (known: fake, nameless, other)\nproj/weft.yaml:5: fake source \"fake\": unknown key \"x\" (valid: account, auth, manifest, name, password, port, type)",
		},
		{
			name:    "duplicate names",
			yaml:    "sources:\n  - type: fake\n    manifest: a\n  - type: fake\n    manifest: b\n",
			wantErr: `proj/weft.yaml:4: duplicate source name "fake" (also at line 2): give each source a distinct name`,
		},
		{
			name:    "duplicate sources key: the first list is not dropped silently",
			yaml:    "sources:\n  - type: fake\n    manifest: a\nsources:\n  - type: fake\n    name: b\n    manifest: b\n",
			wantErr: `proj/weft.yaml:4: mapping key "sources" already defined at line 1`,
		},
		{
			name:    "duplicate type",
			yaml:    "sources:\n  - type: nameless\n    type: fake\n    manifest: a\n",
			wantErr: `proj/weft.yaml:3: source: mapping key "type" already defined at line 2`,
		},
		{
			name:    "duplicate name without a name key",
			yaml:    "sources:\n  - type: nameless\n    name: a\n    name: b\n",
			wantErr: `proj/weft.yaml:4: source: mapping key "name" already defined at line 3`,
		},
		{
			name:    "duplicate key",
			yaml:    "sources:\n  - type: fake\n    manifest: a\n    manifest: b\n",
			wantErr: `proj/weft.yaml:4: fake source "fake": mapping key "manifest" already defined at line 3`,
		},
		{
			name:    "second document",
			yaml:    "sources:\n  - type: fake\n    manifest: a\n---\nsources:\n  - type: fake\n    name: b\n    manifest: b\n",
			wantErr: `proj/weft.yaml:5: a second YAML document (after ---): weft reads one; put all sources in one "sources:" list`,
		},
		{
			name: "documents marked, and an empty one after",
			yaml: "---\nsources:\n  - type: fake\n    manifest: a\n---\n# nothing more\n",
			want: []fakeConfig{{Manifest: filepath.Join("proj", "a")}},
		},
		{
			name:    "empty file",
			yaml:    "",
			wantErr: `proj/weft.yaml: no sources configured (add a "sources:" list)`,
		},
		{
			name:    "sources not a list",
			yaml:    "sources:\n  type: fake\n",
			wantErr: `proj/weft.yaml:2: sources: expected a list, got a mapping`,
		},
		{
			name: "merge key: explicit keys override merged ones",
			yaml: "sources:\n  - &d\n    type: fake\n    name: a\n    manifest: m.json\n    port: 1\n    auth: {user: u}\n  - <<: *d\n    name: b\n    port: 2\n",
			want: []fakeConfig{
				{Name: "a", Manifest: filepath.Join("proj", "m.json"), Port: 1, Auth: &fakeAuth{User: "u"}},
				{Name: "b", Manifest: filepath.Join("proj", "m.json"), Port: 2, Auth: &fakeAuth{User: "u"}},
			},
		},
		{
			name: "merge key: a list, the first mapping wins; nested and chained merges",
			yaml: "sources:\n  - &a {type: fake, name: a, manifest: a.json, account: acme, auth: &au {user: u}}\n  - &b {<<: *a, name: b, manifest: b.json, port: 7}\n  - <<: [*b, *a]\n    name: c\n    auth: {<<: *au, key_file: k}\n",
			want: []fakeConfig{
				{Name: "a", Manifest: filepath.Join("proj", "a.json"), Account: "acme", Auth: &fakeAuth{User: "u"}},
				{Name: "b", Manifest: filepath.Join("proj", "b.json"), Account: "acme", Port: 7, Auth: &fakeAuth{User: "u"}},
				{Name: "c", Manifest: filepath.Join("proj", "b.json"), Account: "acme", Port: 7, Auth: &fakeAuth{User: "u", KeyFile: "k"}},
			},
		},
		{
			name:    "merge key: not a mapping",
			yaml:    "sources:\n  - type: fake\n    manifest: &m m.json\n  - <<: *m\n    name: b\n",
			wantErr: `proj/weft.yaml:4: merge key (<<): expected a mapping or a list of mappings such as *defaults, got "m.json"`,
		},
		{
			name:    "merge key: a mapping merged into itself",
			yaml:    "sources:\n  - &d\n    type: fake\n    manifest: m.json\n    auth: {<<: *d}\n",
			wantErr: `proj/weft.yaml:5: merge key (<<): *d merges a mapping into itself`,
		},
		{
			name:    "merge key: merged keys are checked too",
			yaml:    "sources:\n  - &d\n    type: fake\n    manifest: m.json\n    acount: x\n  - <<: *d\n    name: b\n",
			wantErr: "proj/weft.yaml:5: fake source \"fake\": unknown key \"acount\" (valid: account, auth, manifest, name, password, port, type)\nproj/weft.yaml:5: fake source \"b\": unknown key \"acount\" (valid: account, auth, manifest, name, password, port, type)",
		},
		{
			name:    "syntax error",
			yaml:    "sources:\n  - type: fake\n\tmanifest: x\n",
			wantErr: `proj/weft.yaml:2: found a tab character that violates indentation`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := configLoader{registry: testRegistry(), getenv: func(k string) string { return env[k] }}
			srcs, err := l.load("proj/weft.yaml", "proj", []byte(tt.yaml))
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("load: no error, want %q", tt.wantErr)
				}
				if diff := cmp.Diff(tt.wantErr, err.Error()); diff != "" {
					t.Errorf("error (-want +got):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			var got []fakeConfig
			for _, s := range srcs {
				got = append(got, s.Extractor.(*fakeExtractor).cfg)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("configs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConfigNameWithoutNameKey(t *testing.T) {
	l := configLoader{registry: testRegistry(), getenv: func(string) string { return "" }}
	srcs, err := l.load("weft.yaml", ".", []byte("sources:\n  - {type: nameless, name: a, path: p}\n  - {type: nameless, name: b}\n"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range srcs {
		got = append(got, s.String()+" at "+s.Location)
	}
	want := []string{`nameless source "a" at weft.yaml:2`, `nameless source "b" at weft.yaml:3`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sources (-want +got):\n%s", diff)
	}
}

func TestConfigTopLevelKeys(t *testing.T) {
	const src = "sources:\n  - {type: fake, manifest: m.json}\n"
	tests := []struct {
		name      string
		yaml      string
		store     string
		retention time.Duration
		links     int
		wantErr   string
	}{
		{name: "defaults", yaml: src},
		{name: "store relative to the file", yaml: "store: state/weft.db\n" + src, store: filepath.Join("proj", "state/weft.db")},
		{name: "store absolute", yaml: "store: /var/lib/weft.db\n" + src, store: "/var/lib/weft.db"},
		{name: "retention days", yaml: "retention: 30d\n" + src, retention: 30 * 24 * time.Hour},
		{name: "retention weeks", yaml: "retention: 2w\n" + src, retention: 14 * 24 * time.Hour},
		{name: "retention go duration", yaml: "retention: 36h\n" + src, retention: 36 * time.Hour},
		{
			name:    "retention wrong",
			yaml:    "retention: 30 days\n" + src,
			wantErr: `proj/weft.yaml:1: retention: invalid duration "30 days" (examples: 30d, 2w, 720h, 90m)`,
		},
		{
			name:    "retention negative",
			yaml:    "retention: -1d\n" + src,
			wantErr: `proj/weft.yaml:1: retention: must be positive, got "-1d"`,
		},
		{
			name:    "store not a path",
			yaml:    "store: [a, b]\n" + src,
			wantErr: `proj/weft.yaml:1: store: expected a file path, got a list`,
		},
		{
			name:  "links",
			yaml:  "links:\n  - from: databricks://adb-1/sf_analytics.*.*\n    to: snowflake://acme/ANALYTICS.{1}.{2}\n    case: upper\n    reason: mirror\n" + src,
			links: 1,
		},
		{
			name: "bad links, every problem",
			yaml: "links:\n  - from: sf_analytics.*.*\n    to: snowflake://acme/ANALYTICS.{1}.{3}\n    case: shout\n    why: x\n  - to: snowflake://acme/X\n" + src,
			wantErr: "proj/weft.yaml:5: link: unknown key \"why\" (valid: case, from, reason, to)\n" +
				"proj/weft.yaml:6: link: missing \"from\" (a link needs from and to, e.g. from: databricks://host/cat.*.*, to: snowflake://account/DB.{1}.{2})",
		},
		{
			name: "bad link values",
			yaml: "links:\n  - from: sf_analytics.*.*\n    to: snowflake://acme/ANALYTICS.{1}.{3}\n    case: shout\n" + src,
			wantErr: "proj/weft.yaml:2: link: from \"sf_analytics.*.*\": expected namespace/name, e.g. databricks://adb-1.azuredatabricks.net/sf_analytics.*.*\n" +
				"proj/weft.yaml:3: link: to \"snowflake://acme/ANALYTICS.{1}.{3}\": {1} does not name a wildcard of from (it has 0)\n" +
				"proj/weft.yaml:3: link: to \"snowflake://acme/ANALYTICS.{1}.{3}\": {3} does not name a wildcard of from (it has 0)\n" +
				"proj/weft.yaml:4: link: unknown case \"shout\" (valid: keep, lower, upper)",
		},
		{
			name:    "store twice",
			yaml:    "store: a.db\nstore: b.db\n" + src,
			wantErr: `proj/weft.yaml:2: mapping key "store" already defined at line 1`,
		},
		{
			name:    "link key twice",
			yaml:    "links:\n  - from: databricks://adb-1/a.*\n    to: snowflake://acme/A.{1}\n    from: databricks://adb-1/b.*\n" + src,
			wantErr: `proj/weft.yaml:4: link: mapping key "from" already defined at line 2`,
		},
		{
			name:    "links not a list",
			yaml:    "links: yes\n" + src,
			wantErr: `proj/weft.yaml:1: links: expected a list of {from, to, case, reason}, got "yes"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := configLoader{registry: testRegistry(), getenv: func(string) string { return "" }}
			cfg, err := l.parse("proj/weft.yaml", "proj", []byte(tt.yaml))
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("parse: no error, want %q", tt.wantErr)
				}
				if diff := cmp.Diff(tt.wantErr, err.Error()); diff != "" {
					t.Errorf("error (-want +got):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if cfg.Store != tt.store || cfg.Retention != tt.retention || len(cfg.Links) != tt.links {
				t.Errorf("store, retention, links = %q, %v, %d; want %q, %v, %d", cfg.Store, cfg.Retention, len(cfg.Links), tt.store, tt.retention, tt.links)
			}
		})
	}
}

func TestLinkRules(t *testing.T) {
	l := configLoader{registry: testRegistry(), getenv: func(string) string { return "" }}
	cfg, err := l.parse("weft.yaml", ".", []byte(`links:
  - from: databricks://adb-1/sf_analytics.*.*
    to: snowflake://acme/ANALYTICS.{1}.{2}
    case: upper
    reason: mirror
  - from: postgres://db:5432/app.public.*
    to: snowflake://acme/RAW.APP.{1}
sources:
  - {type: fake, manifest: m.json}
`))
	if err != nil {
		t.Fatal(err)
	}
	id := func(ns, name string) graph.DatasetID { return graph.DatasetID{Namespace: ns, Name: name} }
	tests := []struct {
		in   graph.DatasetID
		want graph.DatasetID
		ok   bool
	}{
		{id("databricks://adb-1", "sf_analytics.marts.fct_loans"), id("snowflake://acme", "ANALYTICS.MARTS.FCT_LOANS"), true},
		{id("DATABRICKS://ADB-1", "SF_Analytics.Marts.Fct_Loans"), id("snowflake://acme", "ANALYTICS.MARTS.FCT_LOANS"), true},
		{id("databricks://adb-1", "sf_analytics.marts"), graph.DatasetID{}, false},
		{id("databricks://adb-1", "sf_analytics.a.b.c"), graph.DatasetID{}, false},
		{id("databricks://adb-2", "sf_analytics.marts.fct_loans"), graph.DatasetID{}, false},
		{id("postgres://db:5432", "app.public.users"), id("snowflake://acme", "RAW.APP.users"), true},
	}
	for _, tt := range tests {
		var got graph.DatasetID
		ok := false
		for _, r := range cfg.Links {
			if got, ok = r.apply(tt.in); ok {
				break
			}
		}
		if ok != tt.ok || got != tt.want {
			t.Errorf("%s: got %s, %v; want %s, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}

	// Applied to a graph: the mirror gets the Snowflake name as an
	// identity, and unify merges the two into the Snowflake node.
	g := graph.New()
	sf, mirror := id("snowflake://acme", "ANALYTICS.MARTS.FCT_LOANS"), id("databricks://adb-1", "sf_analytics.marts.fct_loans")
	g.AddDataset(graph.Dataset{ID: sf, Platform: graph.Platform("snowflake"), Columns: []graph.Column{{Name: "LOAN_ID"}}})
	feat := id("databricks://adb-1", "main.risk.features")
	g.AddColumnEdge(graph.ColumnEdgeID{From: graph.ColumnID{Dataset: mirror, Column: "loan_id"}, To: graph.ColumnID{Dataset: feat, Column: "loan_id"},
		Type: graph.Direct, Subtype: graph.SubtypeIdentity}, graph.Evidence{Extractor: "databricks", Origin: "run 1"})
	applyLinks(g, cfg.Links)
	u, err := unify(context.Background(), nil, g)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := u.Datasets[mirror]; ok {
		t.Errorf("the mirror %s is still a node of its own", mirror)
	}
	d, ok := u.Datasets[sf]
	if !ok {
		t.Fatalf("no %s", sf)
	}
	if want := []graph.Identity{{ID: mirror, Reason: "mirror"}}; !cmp.Equal(want, d.Identities) {
		t.Errorf("identities = %v, want %v", d.Identities, want)
	}
	want := graph.ColumnEdgeID{From: graph.ColumnID{Dataset: sf, Column: "LOAN_ID"}, To: graph.ColumnID{Dataset: feat, Column: "loan_id"},
		Type: graph.Direct, Subtype: graph.SubtypeIdentity}
	if _, ok := u.ColumnEdges[want]; !ok {
		t.Errorf("no column edge %v after unify; have %v", want, u.ColumnEdges)
	}
}
