package databricks

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Defaults used when the Config leaves a field zero.
const (
	DefaultLookback = 24 * time.Hour
	DefaultChunk    = 24 * time.Hour
	// DefaultMaxRunWait is how long a job run that is still active may
	// hold the watermark back (see Config.MaxRunWait).
	DefaultMaxRunWait = 24 * time.Hour
)

// authTypes are the SDK auth types weft lets a config name explicitly. Empty
// lets the SDK choose from what it finds (env, ~/.databrickscfg, cloud CLIs).
var authTypes = []string{
	"azure-cli", "azure-client-secret", "azure-msi", "databricks-cli",
	"github-oidc", "google-credentials", "google-id", "metadata-service",
	"oauth-m2m", "pat",
}

// Config configures the Databricks extractor. It is decoded from the
// `sources:` entry of weft.yaml (type: databricks). Secrets (Token,
// ClientSecret) never appear in String, LogValue or errors.
type Config struct {
	// Name is the source's name in weft.yaml; it is informational.
	Name string `yaml:"name"`
	// Host is the workspace URL, https://adb-4711.12.azuredatabricks.net. It
	// names the OpenLineage namespace databricks://<host>. Required in
	// offline mode too (the namespace must not depend on the export).
	Host string `yaml:"host"`
	// Namespace overrides the OpenLineage namespace databricks://<host> when
	// Host is not the workspace's canonical name (private link, a proxy, a
	// test server).
	Namespace string `yaml:"namespace"`

	// Auth. Leave all empty to let the SDK's unified auth find credentials
	// (DATABRICKS_HOST/DATABRICKS_TOKEN, ~/.databrickscfg profiles,
	// DATABRICKS_CLIENT_ID/SECRET, Azure and GCP identities). AuthType forces
	// one method; set it when the environment holds several (with OAuth env
	// vars and an explicit token the SDK refuses to choose).
	Token        string `yaml:"token"`
	Profile      string `yaml:"profile"`
	AuthType     string `yaml:"auth_type"`
	ClientID     string `yaml:"client_id"`
	ClientSecret string `yaml:"client_secret"`

	// WarehouseID is the SQL warehouse that reads the lineage system tables
	// (system.access.table_lineage and column_lineage). Without it only the
	// Jobs API, Unity Catalog metadata and the REST lineage of Tables are read.
	WarehouseID string `yaml:"warehouse_id"`

	// From and To bound the window of job runs and lineage events, [From,
	// To). To zero means the time Extract starts; From zero means To -
	// Lookback. Chunk splits the window: one Batch per chunk, with the
	// chunk's end as Watermark.
	From     time.Time     `yaml:"from"`
	To       time.Time     `yaml:"to"`
	Lookback time.Duration `yaml:"lookback"`
	Chunk    time.Duration `yaml:"chunk"`

	// MaxRunWait bounds how long a job run that is still active (PENDING,
	// QUEUED, RUNNING, BLOCKED, TERMINATING, ...) when it is read holds the
	// watermark back. A batch's watermark stays at the start of the oldest
	// such run, so that the next extraction lists it again and reads its
	// tasks' output once it has finished. A run active for longer than
	// MaxRunWait (counted from its start to the time Extract starts) no
	// longer holds it: it is read as it is (without a state), logged, and
	// reported in a run_still_active finding. Zero means DefaultMaxRunWait.
	MaxRunWait time.Duration `yaml:"max_run_wait"`

	// Export is a folder of recorded API responses (offline mode, see
	// docs/databricks.md for the file names). When set, nothing is fetched.
	Export string `yaml:"export"`

	// IncludeQueryHistory also reads the SQL warehouses' query history
	// (/api/2.0/sql/history/queries) and hands its statements to the parser.
	IncludeQueryHistory bool `yaml:"include_query_history"`
	// Catalogs limits the Unity Catalog metadata read (tables, columns) to
	// these catalogs. Empty means every catalog except system ones.
	Catalogs []string `yaml:"catalogs"`
	// Tables are full table names (catalog.schema.table) whose lineage is
	// read through the lineage-tracking REST API: the fallback for
	// workspaces without system tables or a warehouse.
	Tables []string `yaml:"tables"`

	// RetryTimeoutSeconds bounds the SDK's retries on 429/503 (default 300);
	// tests lower it. RateLimitPerSecond is the SDK's client-side limit
	// (default 15).
	RetryTimeoutSeconds int `yaml:"retry_timeout_seconds"`
	RateLimitPerSecond  int `yaml:"rate_limit_per_second"`

	// Logger receives what the extractor reports while it runs (runs that
	// hold the watermark back, or stopped holding it); nil discards.
	Logger *slog.Logger `yaml:"-"`
}

// String describes c with secrets redacted.
func (c Config) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "databricks{host=%q", c.Host)
	if c.Export != "" {
		fmt.Fprintf(&b, " export=%q", c.Export)
	}
	if c.Profile != "" {
		fmt.Fprintf(&b, " profile=%q", c.Profile)
	}
	if c.AuthType != "" {
		fmt.Fprintf(&b, " auth_type=%q", c.AuthType)
	}
	if c.Token != "" {
		b.WriteString(" token=REDACTED")
	}
	if c.ClientID != "" {
		fmt.Fprintf(&b, " client_id=%q", c.ClientID)
	}
	if c.ClientSecret != "" {
		b.WriteString(" client_secret=REDACTED")
	}
	if c.WarehouseID != "" {
		fmt.Fprintf(&b, " warehouse_id=%q", c.WarehouseID)
	}
	b.WriteString("}")
	return b.String()
}

// GoString is String, so that %#v does not print secrets either.
func (c Config) GoString() string { return c.String() }

// LogValue implements slog.LogValuer with secrets redacted.
func (c Config) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("host", c.Host)}
	add := func(k, v string) {
		if v != "" {
			attrs = append(attrs, slog.String(k, v))
		}
	}
	add("export", c.Export)
	add("profile", c.Profile)
	add("auth_type", c.AuthType)
	add("client_id", c.ClientID)
	add("warehouse_id", c.WarehouseID)
	if c.Token != "" {
		attrs = append(attrs, slog.String("token", "REDACTED"))
	}
	if c.ClientSecret != "" {
		attrs = append(attrs, slog.String("client_secret", "REDACTED"))
	}
	return slog.GroupValue(attrs...)
}

// validate checks c and returns the workspace host name (no scheme, no
// port, lower case), which names the namespace.
func (c Config) validate() (string, error) {
	var errs []error
	host, err := hostName(c.Host)
	if err != nil {
		errs = append(errs, err)
	}
	if c.AuthType != "" && !slices.Contains(authTypes, c.AuthType) {
		errs = append(errs, fmt.Errorf("unknown auth_type %q (known: %s)", c.AuthType, strings.Join(authTypes, ", ")))
	}
	if (c.ClientID == "") != (c.ClientSecret == "") {
		errs = append(errs, errors.New("client_id and client_secret go together (OAuth M2M)"))
	}
	if c.Token != "" && c.ClientSecret != "" && c.AuthType == "" {
		errs = append(errs, errors.New("both token and client_secret are set: set auth_type to pat or oauth-m2m"))
	}
	if !c.From.IsZero() && !c.To.IsZero() && !c.From.Before(c.To) {
		errs = append(errs, fmt.Errorf("from %s is not before to %s", c.From.Format(time.RFC3339), c.To.Format(time.RFC3339)))
	}
	if c.Lookback < 0 {
		errs = append(errs, fmt.Errorf("negative lookback %s", c.Lookback))
	}
	if c.Chunk < 0 {
		errs = append(errs, fmt.Errorf("negative chunk %s", c.Chunk))
	}
	if c.MaxRunWait < 0 {
		errs = append(errs, fmt.Errorf("negative max_run_wait %s", c.MaxRunWait))
	}
	if c.RetryTimeoutSeconds < 0 || c.RateLimitPerSecond < 0 {
		errs = append(errs, errors.New("retry_timeout_seconds and rate_limit_per_second must not be negative"))
	}
	for _, t := range c.Tables {
		if len(strings.Split(t, ".")) != 3 {
			errs = append(errs, fmt.Errorf("tables: %q is not catalog.schema.table", t))
		}
	}
	if len(errs) > 0 {
		return "", fmt.Errorf("databricks config: %w", errors.Join(errs...))
	}
	return host, nil
}

// hostName turns "https://adb-1.2.azuredatabricks.net/" or
// "adb-1.2.azuredatabricks.net" into "adb-1.2.azuredatabricks.net". A
// port is kept (the namespace of a test server includes it).
func hostName(raw string) (string, error) {
	if raw == "" {
		return "", errors.New("host is required (the workspace URL, e.g. https://adb-123.4.azuredatabricks.net)")
	}
	s := raw
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("host %q is not a workspace URL", raw)
	}
	if u.Path != "" && u.Path != "/" {
		return "", fmt.Errorf("host %q has a path; give only the workspace URL", raw)
	}
	if u.User != nil {
		return "", errors.New("host must not contain credentials")
	}
	return strings.ToLower(u.Host), nil
}
