package main

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/weftdata/weft/extractors"
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
			wantErr: "proj/weft.yaml:1: unknown key \"bogus\" (valid: sources)\nproj/weft.yaml:3: unknown source type \"nope\" (known: fake, nameless, other)\nproj/weft.yaml:5: fake source \"fake\": unknown key \"x\" (valid: account, auth, manifest, name, password, port, type)",
		},
		{
			name:    "duplicate names",
			yaml:    "sources:\n  - type: fake\n    manifest: a\n  - type: fake\n    manifest: b\n",
			wantErr: `proj/weft.yaml:4: duplicate source name "fake" (also at line 2): give each source a distinct name`,
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
