// Command weft extracts column-level data lineage from dbt, Snowflake and
// Databricks and weaves it into one cross-platform graph.
//
// Run "weft --help" for the commands, or see the README.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
