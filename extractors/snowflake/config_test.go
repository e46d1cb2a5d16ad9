package snowflake

import (
	"strings"
	"testing"
	"time"
)

func TestNewValidates(t *testing.T) {
	ok := Config{Account: "acmebank-prod", User: "WEFT", Password: "p"}
	for _, c := range []struct {
		name string
		set  func(*Config)
		errs []string // substrings; none means valid
	}{
		{"password", func(c *Config) {}, nil},
		{"offline needs no credentials", func(c *Config) { *c = Config{Account: "acmebank-prod", Export: "x.jsonl"} }, nil},
		{"no account", func(c *Config) { c.Account = "" }, []string{"account is required"}},
		{"bad account", func(c *Config) { c.Account = "acme bank" }, []string{`account "acme bank": not an account identifier`}},
		{"no user", func(c *Config) { c.User = "" }, []string{"user is required"}},
		{"no credentials", func(c *Config) { c.Password = "" }, []string{"no credentials: set one of private_key_file, token, password"}},
		{"two methods", func(c *Config) { c.Token = "t" }, []string{"more than one authentication method set (token, password)"}},
		{"passphrase alone", func(c *Config) { c.PrivateKeyPassphrase = "x" }, []string{"private_key_passphrase is set but private_key_file is not"}},
		{"protocol", func(c *Config) { c.Protocol = "ftp" }, []string{`protocol "ftp": want https or http`}},
		{"chunk", func(c *Config) { c.ChunkSize = time.Second }, []string{"chunk_size 1s: must be at least 1m"}},
		{"window", func(c *Config) { c.From, c.To = time.Unix(100, 0), time.Unix(50, 0) }, []string{"is not before to"}},
		{"pattern", func(c *Config) { c.IncludeDatabases = []string{"RAW", "[x"} }, []string{`include_databases[1] "[x": bad pattern`}},
		{"empty pattern", func(c *Config) { c.ExcludeUsers = []string{" "} }, []string{"exclude_users[0]: empty pattern"}},
		{"all at once", func(c *Config) { c.Account, c.User, c.Port = "", "", -1 }, []string{"account is required", "user is required", "port -1: out of range"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := ok
			cfg.Name = "prod"
			c.set(&cfg)
			_, err := New(cfg)
			if len(c.errs) == 0 {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("New succeeded, want %q", c.errs)
			}
			if !strings.HasPrefix(err.Error(), "snowflake") {
				t.Errorf("error %q does not start with the source", err)
			}
			for _, want := range c.errs {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

func TestDefaultsAndNamespace(t *testing.T) {
	e, err := New(Config{Account: "AcmeBank-Prod.snowflakecomputing.com", Export: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if e.Namespace() != "snowflake://acmebank-prod" {
		t.Errorf("namespace = %q", e.Namespace())
	}
	if e.cfg.ChunkSize != 24*time.Hour || e.cfg.Lookback != DefaultLookback || e.cfg.Latency != DefaultLatency || e.cfg.TimeZone != "UTC" {
		t.Errorf("defaults: %+v", e.cfg)
	}
}

func TestWindowChunks(t *testing.T) {
	zurich, err := time.LoadLocation("Europe/Zurich")
	if err != nil {
		t.Skip("no tz database:", err)
	}
	from := time.Date(2025, 6, 30, 13, 30, 0, 0, time.UTC)
	to := time.Date(2025, 7, 2, 5, 0, 0, 0, time.UTC)
	w := window{from: from, to: to, size: 24 * time.Hour, loc: zurich}
	var got []string
	for _, c := range w.chunks() {
		got = append(got, c[0].Format(time.RFC3339)+".."+c[1].Format(time.RFC3339))
	}
	// chunks end at midnight in Zurich (22:00 UTC in summer)
	want := []string{
		"2025-06-30T13:30:00Z..2025-06-30T22:00:00Z",
		"2025-06-30T22:00:00Z..2025-07-01T22:00:00Z",
		"2025-07-01T22:00:00Z..2025-07-02T05:00:00Z",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("chunks:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestHistoryQueryBindsPatterns(t *testing.T) {
	q := buildHistoryQuery(1, 2, queryTypes(true), filter{inclUser: []string{"DBT_*"}, exclUser: []string{"SYS?_100%"}}, true)
	for _, want := range []string{
		"user_name ILIKE ? ESCAPE '!'", "AND NOT (user_name ILIKE ? ESCAPE '!')", "'SELECT'", "'MERGE'",
		"snowflake.account_usage.access_history", "GROUP BY shape, root_shape",
	} {
		if !strings.Contains(q.SQL, want) {
			t.Errorf("query lacks %q:\n%s", want, q.SQL)
		}
	}
	wantArgs := []any{int64(1), int64(2), "DBT!_%", "SYS_!_100!%", int64(1), int64(2), int64(1)}
	if len(q.Args) != len(wantArgs) {
		t.Fatalf("args = %v, want %v", q.Args, wantArgs)
	}
	for i := range wantArgs {
		if q.Args[i] != wantArgs[i] {
			t.Errorf("arg %d = %v, want %v", i, q.Args[i], wantArgs[i])
		}
	}
	if strings.Count(q.SQL, "?") != len(q.Args) {
		t.Errorf("%d placeholders, %d args", strings.Count(q.SQL, "?"), len(q.Args))
	}
	if q := buildHistoryQuery(1, 2, queryTypes(false), filter{}, false); strings.Contains(q.SQL, "access_history") || strings.Contains(q.SQL, "'SELECT'") || strings.Count(q.SQL, "?") != 3 {
		t.Errorf("without access history / selects:\n%s", q.SQL)
	}
}
