package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// Exit codes, as the flag package uses them.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// iostreams is where a command reads and writes. Out carries data only;
// Err carries messages and logs.
type iostreams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
	// TTY reports whether Out is a terminal.
	TTY bool
}

// app holds what every command shares: the streams, the logger (built once
// the root's flags are parsed) and the environment lookup.
type app struct {
	io     iostreams
	getenv func(string) string

	verbose   int
	logFormat string
	logger    *slog.Logger
}

// usageError is a bad flag or argument. run prints it with a hint to the
// command's --help and exits with code 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// run is weft without the process: it parses args, runs the command and
// returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{
		io:     iostreams{In: stdin, Out: stdout, Err: stderr, TTY: isTerminal(stdout)},
		getenv: os.Getenv,
	}
	root := newRootCmd(a)
	if args == nil {
		args = []string{}
	}
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)

	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "weft: %v\n", err)
	// An error may choose its exit code (weft check: 2 for unreadable input).
	var coder interface{ ExitCode() int }
	if errors.As(err, &coder) {
		return coder.ExitCode()
	}
	var uerr *usageError
	if errors.As(err, &uerr) {
		if cmd == nil {
			cmd = root
		}
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
		return exitUsage
	}
	return exitFailure
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "weft <command>",
		Short: "Column-level data lineage across dbt, Snowflake and Databricks",
		Long: strings.TrimSpace(`
weft extracts column-level data lineage from dbt, Snowflake and Databricks
and weaves it into one cross-platform lineage graph: one node per physical
table, typed column edges (DIRECT or INDIRECT), and the evidence for each.

Start with a snapshot of a dbt project, then ask the graph questions:

  weft snapshot --dbt-manifest target/manifest.json -o graph.json
  weft lineage upstream ANALYTICS.MARTS.FCT_ORDERS --graph graph.json

Data goes to stdout (or -o FILE); messages and logs go to stderr.
Exit codes: 0 ok, 1 failure, 2 bad flags or arguments.`),
		SilenceUsage:               true,
		SilenceErrors:              true,
		SuggestionsMinimumDistance: 2,
		// Commands print their own output; cobra's completion command is
		// not worth a place in the help of a young tool.
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			logger, err := newLogger(a.io.Err, a.verbose, a.logFormat)
			if err != nil {
				return err
			}
			a.logger = logger
			return nil
		},
	}
	requireSubcommand(root)

	pf := root.PersistentFlags()
	pf.CountVarP(&a.verbose, "verbose", "v", "log progress to stderr (-vv for debug detail)")
	pf.StringVar(&a.logFormat, "log-format", "text", "log format on stderr: text or json")

	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		// A mistyped subcommand followed by its flags ("weft lineage
		// sideways x --graph g.json") fails on the flag, which the group
		// does not have: report the unknown subcommand instead.
		if cmd.HasSubCommands() && len(cmd.Flags().Args()) > 0 && cmd.Args != nil {
			if aerr := cmd.Args(cmd, cmd.Flags().Args()); aerr != nil {
				return aerr
			}
		}
		return &usageError{err}
	})

	reg := sourceRegistry()
	root.AddCommand(
		newSnapshotCmd(a, reg, nil),
		newExtractCmd(a, reg, nil),
		newLineageCmd(a, nil),
		newSQLCmd(a, nil),
		newExportCmd(a, nil),
		newVersionCmd(a, nil),
		newCheckCmd(a, nil),
	)
	return root
}

// requireSubcommand makes a command that only groups subcommands print its
// help when called bare and fail with a usage error on an unknown
// subcommand (cobra accepts those silently below the root).
func requireSubcommand(cmd *cobra.Command) {
	cmd.SuggestionsMinimumDistance = 2
	cmd.Args = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return nil
		}
		msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
		if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
			msg += fmt.Sprintf(" (did you mean %q?)", s[0])
		} else if names := subcommandNames(cmd); len(names) > 0 {
			msg += fmt.Sprintf(" (valid: %s)", strings.Join(names, ", "))
		}
		return &usageError{errors.New(msg)}
	}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return cmd.Help()
	}
}

// newLogger builds the one logger weft uses: stderr, warnings only by
// default, info with -v, debug with -vv.
func newLogger(w io.Writer, verbose int, format string) (*slog.Logger, error) {
	level := slog.LevelWarn
	switch {
	case verbose == 1:
		level = slog.LevelInfo
	case verbose >= 2:
		level = slog.LevelDebug
	}
	opts := &slog.HandlerOptions{Level: level}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usageErrorf("invalid --log-format %q (valid: json, text)", format)
}

// exactArgs is cobra.ExactArgs with a usage error and a readable message.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageErrorf("%s: expected %s, got %d arguments", cmd.CommandPath(), what, len(args))
		}
		return nil
	}
}

// maxArgs is cobra.MaximumNArgs with a usage error.
func maxArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > n {
			return usageErrorf("%s: expected at most %s, got %d arguments", cmd.CommandPath(), what, len(args))
		}
		return nil
	}
}

// examples trims the blank lines around a command's examples, keeping the
// indentation of the first one.
func examples(s string) string { return strings.Trim(s, "\n") }

// subcommandNames lists cmd's visible subcommands, sorted.
func subcommandNames(cmd *cobra.Command) []string {
	var names []string
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() {
			names = append(names, c.Name())
		}
	}
	slices.Sort(names)
	return names
}
