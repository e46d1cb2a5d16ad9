package sqlparse

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

var dumpSQL = flag.String("dump", "", "analyze this SQL file and print the result (debugging aid)")
var dumpDialect = flag.String("dialect", "snowflake", "dialect for -dump")

func TestDump(t *testing.T) {
	if *dumpSQL == "" {
		t.Skip("use -dump FILE")
	}
	b, err := os.ReadFile(*dumpSQL)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range Split(string(b), Dialect(*dumpDialect)) {
		r := Analyze(Input{SQL: p.SQL, Dialect: Dialect(*dumpDialect)}, nil)
		fmt.Println(strings.TrimSpace(p.SQL))
		fmt.Print(formatResult(r))
	}
}
