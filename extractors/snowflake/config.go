package snowflake

import (
	"errors"
	"fmt"
	"log/slog"
	"path"
	"strings"
	"time"
)

// Defaults applied by New.
const (
	// DefaultChunkSize is the length of one time chunk: one query to
	// Snowflake, one Batch, one watermark step.
	DefaultChunkSize = 24 * time.Hour
	// DefaultLookback is how far back a run starts when From is not set.
	DefaultLookback = 24 * time.Hour
	// DefaultLatency is how far behind now a run stops when To is not set:
	// ACCOUNT_USAGE views lag (QUERY_HISTORY up to 45 minutes,
	// ACCESS_HISTORY up to 3 hours), and a chunk read too early would be
	// marked complete while rows are still missing.
	DefaultLatency = 3 * time.Hour
)

// Config configures the Snowflake extractor. Fields map to the
// snake_case keys of a weft.yaml source entry. The extractor never reads
// environment variables itself: cmd/weft fills SNOWFLAKE_* values in.
type Config struct {
	// Name is the source's name in weft.yaml, used in messages.
	Name string `yaml:"name"`
	// Account is the account identifier, "orgname-accountname" (preferred)
	// or a locator. Datasets go into namespace "snowflake://<account>",
	// lower case.
	Account   string `yaml:"account"`
	User      string `yaml:"user"`
	Role      string `yaml:"role"`
	Warehouse string `yaml:"warehouse"`

	// Authentication: exactly one of a key-pair file (PKCS#8 PEM, encrypted
	// with PrivateKeyPassphrase or not), an OAuth Token, or a Password.
	Password             string `yaml:"password"`
	Token                string `yaml:"token"`
	PrivateKeyFile       string `yaml:"private_key_file"`
	PrivateKeyPassphrase string `yaml:"private_key_passphrase"`

	// Host, Port and Protocol override the account URL (tests, private
	// link). Protocol is "https" (default) or "http".
	Host     string `yaml:"host"`
	Port     int    `yaml:"port"`
	Protocol string `yaml:"protocol"`

	// The window [From, To) to read. A zero From means To-Lookback; a
	// zero To means now-Latency (online) or the end of the export.
	From     time.Time     `yaml:"from"`
	To       time.Time     `yaml:"to"`
	Lookback time.Duration `yaml:"lookback"`
	Latency  time.Duration `yaml:"latency"`
	// ChunkSize splits the window; chunks are aligned to multiples of
	// ChunkSize in TimeZone (midnight for the default day).
	ChunkSize time.Duration `yaml:"chunk_size"`
	// TimeZone (IANA name, default UTC) decides where chunks start.
	TimeZone string `yaml:"time_zone"`

	// Patterns select databases (of the objects read and written) and
	// users. They are case-insensitive globs: * any run, ? one character.
	// An empty include list means all.
	IncludeDatabases []string `yaml:"include_databases"`
	ExcludeDatabases []string `yaml:"exclude_databases"`
	IncludeUsers     []string `yaml:"include_users"`
	ExcludeUsers     []string `yaml:"exclude_users"`

	// IncludeSelects also emits SELECT statements (read usage). By default
	// only statements that write are read.
	IncludeSelects bool `yaml:"include_selects"`
	// Columns reads ACCOUNT_USAGE.COLUMNS for the databases in scope, so
	// that sqlparse can expand stars (online mode only).
	Columns bool `yaml:"columns"`
	// NoAccessHistory skips ACCESS_HISTORY (Standard edition accounts have
	// none): lineage then comes from parsing only.
	NoAccessHistory bool `yaml:"no_access_history"`

	// Export is an offline export file (CSV or JSON lines, optionally
	// gzipped). When set, weft makes no network call.
	Export string `yaml:"export"`
	// Dir resolves a relative Export path (the directory of weft.yaml).
	Dir string `yaml:"-"`

	// Logger receives progress messages at debug level; nil discards.
	Logger *slog.Logger `yaml:"-"`

	// LoginTimeout and RequestTimeout bound the driver's retries (0: the
	// driver's defaults). MaxRetryCount bounds retried HTTP requests.
	LoginTimeout   time.Duration `yaml:"login_timeout"`
	RequestTimeout time.Duration `yaml:"request_timeout"`
	MaxRetryCount  int           `yaml:"max_retry_count"`
}

const redacted = "[redacted]"

// auth returns the authentication method the config selects.
func (c Config) auth() string {
	switch {
	case c.PrivateKeyFile != "":
		return "key_pair"
	case c.Token != "":
		return "oauth"
	case c.Password != "":
		return "password"
	}
	return ""
}

// String describes the config with secrets redacted. It is what %v and %+v
// print.
func (c Config) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "snowflake{account=%q", c.Account)
	add := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, " %s=%q", k, v)
		}
	}
	add("name", c.Name)
	add("user", c.User)
	add("role", c.Role)
	add("warehouse", c.Warehouse)
	add("auth", c.auth())
	add("private_key_file", c.PrivateKeyFile)
	if c.Password != "" {
		add("password", redacted)
	}
	if c.Token != "" {
		add("token", redacted)
	}
	if c.PrivateKeyPassphrase != "" {
		add("private_key_passphrase", redacted)
	}
	add("host", c.Host)
	add("export", c.Export)
	b.WriteString("}")
	return b.String()
}

// GoString keeps %#v from printing secrets.
func (c Config) GoString() string { return c.String() }

// LogValue implements slog.LogValuer with secrets redacted.
func (c Config) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("account", c.Account)}
	for _, kv := range [][2]string{
		{"name", c.Name}, {"user", c.User}, {"role", c.Role}, {"warehouse", c.Warehouse},
		{"auth", c.auth()}, {"private_key_file", c.PrivateKeyFile}, {"export", c.Export},
	} {
		if kv[1] != "" {
			attrs = append(attrs, slog.String(kv[0], kv[1]))
		}
	}
	for _, kv := range [][2]string{
		{"password", c.Password}, {"token", c.Token}, {"private_key_passphrase", c.PrivateKeyPassphrase},
	} {
		if kv[1] != "" {
			attrs = append(attrs, slog.String(kv[0], redacted))
		}
	}
	return slog.GroupValue(attrs...)
}

// where names the source in messages: "snowflake prod" or "snowflake".
func (c Config) where() string {
	if c.Name != "" {
		return "snowflake " + c.Name
	}
	return "snowflake"
}

// namespace returns the OpenLineage namespace of the account.
func namespace(account string) string {
	a := strings.ToLower(strings.TrimSpace(account))
	a = strings.TrimPrefix(a, "https://")
	a = strings.TrimSuffix(a, "/")
	a = strings.TrimSuffix(a, ".snowflakecomputing.com")
	return "snowflake://" + a
}

// validate checks c and fills defaults. It does no I/O. All problems are
// reported together, sorted by field order.
func (c *Config) validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if strings.TrimSpace(c.Account) == "" {
		bad("account is required (SNOWFLAKE_ACCOUNT, e.g. acmebank-prod)")
	} else if strings.ContainsAny(c.Account, " /?#@") && !strings.HasPrefix(strings.ToLower(c.Account), "https://") {
		bad("account %q: not an account identifier (want orgname-accountname)", c.Account)
	}
	if c.Export == "" {
		if c.User == "" {
			bad("user is required (SNOWFLAKE_USER), or set export for offline mode")
		}
		var methods []string
		for _, m := range [][2]string{{"private_key_file", c.PrivateKeyFile}, {"token", c.Token}, {"password", c.Password}} {
			if m[1] != "" {
				methods = append(methods, m[0])
			}
		}
		switch len(methods) {
		case 0:
			bad("no credentials: set one of private_key_file, token, password (SNOWFLAKE_PRIVATE_KEY_FILE, SNOWFLAKE_TOKEN, SNOWFLAKE_PASSWORD), or export for offline mode")
		case 1:
		default:
			bad("more than one authentication method set (%s): keep one", strings.Join(methods, ", "))
		}
		if c.PrivateKeyPassphrase != "" && c.PrivateKeyFile == "" {
			bad("private_key_passphrase is set but private_key_file is not")
		}
	}
	switch strings.ToLower(c.Protocol) {
	case "", "https", "http":
		c.Protocol = strings.ToLower(c.Protocol)
	default:
		bad("protocol %q: want https or http", c.Protocol)
	}
	if c.Port < 0 || c.Port > 65535 {
		bad("port %d: out of range", c.Port)
	}
	if c.ChunkSize == 0 {
		c.ChunkSize = DefaultChunkSize
	}
	if c.ChunkSize < time.Minute {
		bad("chunk_size %v: must be at least 1m", c.ChunkSize)
	}
	if c.Lookback == 0 {
		c.Lookback = DefaultLookback
	}
	if c.Lookback < 0 {
		bad("lookback %v: must be positive", c.Lookback)
	}
	if c.Latency == 0 {
		c.Latency = DefaultLatency
	}
	if c.Latency < 0 {
		bad("latency %v: must be positive", c.Latency)
	}
	if !c.From.IsZero() && !c.To.IsZero() && !c.From.Before(c.To) {
		bad("from %s is not before to %s", c.From.Format(time.RFC3339), c.To.Format(time.RFC3339))
	}
	if c.TimeZone == "" {
		c.TimeZone = "UTC"
	}
	for _, l := range []struct {
		key  string
		pats []string
	}{
		{"include_databases", c.IncludeDatabases}, {"exclude_databases", c.ExcludeDatabases},
		{"include_users", c.IncludeUsers}, {"exclude_users", c.ExcludeUsers},
	} {
		for i, p := range l.pats {
			if strings.TrimSpace(p) == "" {
				bad("%s[%d]: empty pattern", l.key, i)
				continue
			}
			if _, err := path.Match(strings.ToUpper(p), ""); err != nil {
				bad("%s[%d] %q: bad pattern (use * and ?)", l.key, i, p)
			}
		}
	}
	if c.MaxRetryCount < 0 {
		bad("max_retry_count %d: must not be negative", c.MaxRetryCount)
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%s: %w", c.where(), errors.Join(errs...))
}

// matchAny reports whether name matches one of the glob patterns,
// case-insensitively.
func matchAny(pats []string, name string) bool {
	name = strings.ToUpper(name)
	for _, p := range pats {
		if ok, _ := path.Match(strings.ToUpper(p), name); ok {
			return true
		}
	}
	return false
}

// filter holds the include/exclude patterns.
type filter struct {
	inclDB, exclDB, inclUser, exclUser []string
}

func (f filter) database(db string) bool {
	if db == "" {
		return true
	}
	if len(f.inclDB) > 0 && !matchAny(f.inclDB, db) {
		return false
	}
	return !matchAny(f.exclDB, db)
}

func (f filter) user(u string) bool {
	if len(f.inclUser) > 0 && !matchAny(f.inclUser, u) {
		return false
	}
	return !matchAny(f.exclUser, u)
}
