package main

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"
)

// These tests check that each command's flags and arguments land in its
// options struct, using the runF hook so that nothing runs.

func testApp() (*app, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	a := &app{io: iostreams{In: &bytes.Buffer{}, Out: &out, Err: &errb}, getenv: func(string) string { return "" }}
	return a, &out, &errb
}

// execute runs cmd with args and reports whether it failed with a usage
// error.
func execute(t *testing.T, cmd *cobra.Command, args []string) (usage bool, err error) {
	t.Helper()
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	_, err = cmd.ExecuteContextC(context.Background())
	var uerr *usageError
	return errors.As(err, &uerr), err
}

func TestSnapshotFlags(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		want      snapshotOptions
		wantUsage bool
	}{
		{
			name: "defaults",
			args: []string{},
			want: snapshotOptions{output: "-", format: "json"},
		},
		{
			name: "dbt flags",
			args: []string{"--dbt-manifest", "m.json", "--dbt-catalog", "c.json", "--dbt-run-results", "r.json", "--dbt-account", "acme", "-o", "g.json", "--no-columns", "--workers", "3"},
			want: snapshotOptions{dbtManifest: "m.json", dbtCatalog: "c.json", dbtRunResults: "r.json", dbtAccount: "acme", output: "g.json", format: "json", noColumns: true, workers: 3},
		},
		{
			name: "config",
			args: []string{"-c", "weft.yaml", "--output", "out.json"},
			want: snapshotOptions{configPath: "weft.yaml", output: "out.json", format: "json"},
		},
		{name: "catalog without manifest", args: []string{"--dbt-catalog", "c.json"}, wantUsage: true},
		{name: "unknown format", args: []string{"--format", "dot"}, wantUsage: true},
		{name: "negative workers", args: []string{"--workers", "-1"}, wantUsage: true},
		{name: "argument", args: []string{"manifest.json"}, wantUsage: true},
		{name: "unknown flag", args: []string{"--manifest", "m.json"}, wantUsage: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _, _ := testApp()
			var got *snapshotOptions
			cmd := newSnapshotCmd(a, registry{}, func(_ context.Context, o *snapshotOptions) error {
				got = o
				return nil
			})
			usage, err := execute(t, cmd, tt.args)
			if tt.wantUsage {
				if !usage {
					t.Fatalf("err = %v, want a usage error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got.io, got.logger, got.loader, got.explicit = iostreams{}, nil, configLoader{}, nil
			if diff := cmp.Diff(tt.want, *got, cmp.AllowUnexported(snapshotOptions{}, iostreams{}, configLoader{})); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLineageFlags(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		want      lineageOptions
		wantUsage bool
	}{
		{
			name: "upstream defaults",
			args: []string{"upstream", "fct_loans"},
			want: lineageOptions{direction: "upstream", ref: "fct_loans", graphPath: "graph.json"},
		},
		{
			name: "downstream all flags",
			args: []string{"downstream", "raw.loans.loans.id", "--depth", "2", "--graph", "g.json", "--json", "--columns"},
			want: lineageOptions{direction: "downstream", ref: "raw.loans.loans.id", graphPath: "g.json", depth: 2, json: true, columns: true},
		},
		{
			name: "short flags",
			args: []string{"upstream", "-d", "1", "-g", "x.json", "t"},
			want: lineageOptions{direction: "upstream", ref: "t", graphPath: "x.json", depth: 1},
		},
		{name: "no reference", args: []string{"upstream"}, wantUsage: true},
		{name: "two references", args: []string{"upstream", "a", "b"}, wantUsage: true},
		{name: "negative depth", args: []string{"upstream", "a", "--depth", "-1"}, wantUsage: true},
		{name: "bad depth", args: []string{"upstream", "a", "--depth", "all"}, wantUsage: true},
		{name: "unknown direction", args: []string{"sideways", "a"}, wantUsage: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _, _ := testApp()
			var got *lineageOptions
			cmd := newLineageCmd(a, func(_ context.Context, o *lineageOptions) error {
				got = o
				return nil
			})
			usage, err := execute(t, cmd, tt.args)
			if tt.wantUsage {
				if !usage {
					t.Fatalf("err = %v, want a usage error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got.io = iostreams{}
			if diff := cmp.Diff(tt.want, *got, cmp.AllowUnexported(lineageOptions{}, iostreams{})); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSQLFlags(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		want      sqlOptions
		wantUsage bool
	}{
		{
			name: "stdin by default",
			args: []string{},
			want: sqlOptions{file: "-", dialect: "snowflake"},
		},
		{
			name: "all flags",
			args: []string{"--dialect", "databricks", "--schema", "s.json", "--default-db", "main", "--default-schema", "risk", "--json", "job.sql"},
			want: sqlOptions{file: "job.sql", dialect: "databricks", schemaPath: "s.json", defaultDB: "main", defaultSchema: "risk", json: true},
		},
		{
			name: "dialect alias",
			args: []string{"--dialect", "spark", "-"},
			want: sqlOptions{file: "-", dialect: "spark"},
		},
		{name: "unknown dialect", args: []string{"--dialect", "oracle"}, wantUsage: true},
		{name: "empty dialect", args: []string{"--dialect", ""}, wantUsage: true},
		{name: "two files", args: []string{"a.sql", "b.sql"}, wantUsage: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _, _ := testApp()
			var got *sqlOptions
			cmd := newSQLCmd(a, func(_ context.Context, o *sqlOptions) error {
				got = o
				return nil
			})
			usage, err := execute(t, cmd, tt.args)
			if tt.wantUsage {
				if !usage {
					t.Fatalf("err = %v, want a usage error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got.io = iostreams{}
			if diff := cmp.Diff(tt.want, *got, cmp.AllowUnexported(sqlOptions{}, iostreams{})); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
		})
	}
}

func TestVersionFlags(t *testing.T) {
	for _, tt := range []struct {
		name      string
		args      []string
		want      versionOptions
		wantUsage bool
	}{
		{name: "defaults", args: []string{}, want: versionOptions{}},
		{name: "all", args: []string{"--modules", "--json"}, want: versionOptions{modules: true, json: true}},
		{name: "argument", args: []string{"x"}, wantUsage: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, _, _ := testApp()
			var got *versionOptions
			cmd := newVersionCmd(a, func(_ context.Context, o *versionOptions) error {
				got = o
				return nil
			})
			usage, err := execute(t, cmd, tt.args)
			if tt.wantUsage {
				if !usage {
					t.Fatalf("err = %v, want a usage error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got.io = iostreams{}
			if diff := cmp.Diff(tt.want, *got, cmp.AllowUnexported(versionOptions{}, iostreams{})); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRunExitCodes checks run's contract: 0 ok, 1 failure, 2 usage, and
// data only on stdout.
func TestRunExitCodes(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		want int
	}{
		{"help", []string{"--help"}, exitOK},
		{"version", []string{"version"}, exitOK},
		{"unknown command", []string{"nope"}, exitUsage},
		{"unknown flag", []string{"snapshot", "--nope"}, exitUsage},
		{"missing graph", []string{"lineage", "upstream", "x", "--graph", "/nonexistent/graph.json"}, exitFailure},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			got := run(context.Background(), tt.args, &bytes.Buffer{}, &out, &errb)
			if got != tt.want {
				t.Errorf("run(%q) = %d, want %d; stderr:\n%s", tt.args, got, tt.want, errb.String())
			}
			if got != exitOK && out.Len() > 0 {
				t.Errorf("run(%q) failed but wrote to stdout: %q", tt.args, out.String())
			}
		})
	}
}

func TestExportFlags(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		env       map[string]string
		want      exportOptions
		wantUsage bool
	}{
		{
			name: "format from the output file",
			args: []string{"-o", "lineage.html"},
			want: exportOptions{graphPath: "graph.json", format: "html", output: "lineage.html", batchSize: 1},
		},
		{
			name: "view flags",
			args: []string{"-f", "dot", "--focus", "a", "--focus", "b", "-d", "2", "--columns", "-g", "g.json"},
			want: exportOptions{graphPath: "g.json", format: "dot", output: "-", focus: []string{"a", "b"}, depth: 2, columns: true, batchSize: 1},
		},
		{
			name: "openlineage from the environment",
			args: []string{"--format", "openlineage", "--batch-size", "10"},
			env:  map[string]string{"OPENLINEAGE_URL": "http://marquez:5000/api/v1/lineage", "OPENLINEAGE_API_KEY": "k"},
			want: exportOptions{graphPath: "graph.json", format: "openlineage", output: "-", url: "http://marquez:5000/api/v1/lineage", apiKey: "k", batchSize: 10},
		},
		{name: "no format", args: []string{}, wantUsage: true},
		{name: "unknown extension", args: []string{"-o", "x.png"}, wantUsage: true},
		{name: "url with dot", args: []string{"-f", "dot", "--url", "http://x/y"}, wantUsage: true},
		{name: "bad url", args: []string{"-f", "openlineage", "--url", "x"}, wantUsage: true},
		{name: "focus with openlineage", args: []string{"-f", "openlineage", "--focus", "x"}, wantUsage: true},
		{name: "zero batch", args: []string{"-f", "openlineage", "--batch-size", "0"}, wantUsage: true},
		{name: "argument", args: []string{"-f", "dot", "graph.json"}, wantUsage: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _, _ := testApp()
			a.getenv = func(k string) string { return tt.env[k] }
			var got *exportOptions
			cmd := newExportCmd(a, func(_ context.Context, o *exportOptions) error {
				got = o
				return nil
			})
			usage, err := execute(t, cmd, tt.args)
			if tt.wantUsage {
				if !usage {
					t.Fatalf("err = %v, want a usage error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got.io, got.getenv = iostreams{}, nil
			if diff := cmp.Diff(tt.want, *got, cmp.AllowUnexported(exportOptions{}, iostreams{})); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
		})
	}
}

func TestScrub(t *testing.T) {
	msg := `post http://user:pw-1@host/x?key=abc: 401 (token tok-9)`
	got := scrub(msg, "http://user:pw-1@host/x?key=abc", "tok-9")
	want := `post http://user:***@host/x?***: 401 (token ***)`
	if got != want {
		t.Errorf("scrub = %q, want %q", got, want)
	}
}
