package main

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// version is weft's release version, set at link time:
//
//	go build -ldflags "-X main.version=v0.3.0" ./cmd/weft
//
// When it is not set, the module version recorded by "go install
// ...@version" is used, and "dev" otherwise.
var version = ""

type versionOptions struct {
	io      iostreams
	modules bool
	json    bool
}

func newVersionCmd(a *app, runF func(context.Context, *versionOptions) error) *cobra.Command {
	opts := &versionOptions{}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print weft's version, Go version and build details",
		Long: strings.TrimSpace(`
Print weft's version, the Go version and platform it was built with, and the
source revision when the binary was built from a git checkout.

Include the output when you report a bug. --modules adds the version of
every Go module linked into the binary.`),
		Example: examples(`
  weft version
  weft version --modules
  weft version --json`),
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.io = a.io
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runVersion(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.modules, "modules", false, "also list the Go modules linked into weft")
	cmd.Flags().BoolVar(&opts.json, "json", false, "print the details as JSON")
	return cmd
}

// buildDetails is what "weft version" reports; its JSON field names are
// stable.
type buildDetails struct {
	Version  string   `json:"version"`
	Go       string   `json:"go"`
	Platform string   `json:"platform"`
	Revision string   `json:"revision,omitempty"`
	Modified bool     `json:"modified,omitempty"`
	Modules  []module `json:"modules,omitempty"`
}

type module struct {
	Path    string `json:"path"`
	Version string `json:"version"`
}

func readBuildDetails(withModules bool) buildDetails {
	d := buildDetails{
		Version:  version,
		Go:       runtime.Version(),
		Platform: runtime.GOOS + "/" + runtime.GOARCH,
	}
	bi, ok := debug.ReadBuildInfo()
	if ok {
		if d.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			d.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				d.Revision = s.Value
			case "vcs.modified":
				d.Modified = s.Value == "true"
			}
		}
		if withModules {
			for _, m := range bi.Deps {
				v := m.Version
				if m.Replace != nil {
					v += " => " + m.Replace.Path + " " + m.Replace.Version
				}
				d.Modules = append(d.Modules, module{Path: m.Path, Version: v})
			}
		}
	}
	if d.Version == "" {
		d.Version = "dev"
	}
	return d
}

func runVersion(ctx context.Context, opts *versionOptions) error {
	d := readBuildDetails(opts.modules)
	if opts.json {
		enc := json.NewEncoder(opts.io.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(d)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "weft %s\n", d.Version)
	fmt.Fprintf(&b, "go:       %s %s\n", d.Go, d.Platform)
	if d.Revision != "" {
		rev := d.Revision
		if d.Modified {
			rev += " (modified)"
		}
		fmt.Fprintf(&b, "revision: %s\n", rev)
	}
	if opts.modules {
		b.WriteString("modules:\n")
		for _, m := range d.Modules {
			fmt.Fprintf(&b, "  %s %s\n", m.Path, m.Version)
		}
	}
	_, err := fmt.Fprint(opts.io.Out, b.String())
	return err
}
