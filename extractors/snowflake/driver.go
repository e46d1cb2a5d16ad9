package snowflake

// This file is the seam to the Snowflake driver: the only one that imports
// gosnowflake. Moving to github.com/snowflakedb/gosnowflake/v2 (v2.2.0+
// fixes the OCSP advisory that affects every v1 release, see
// docs/snowflake.md) means changing the import path below and dropping
// DisableTelemetry, which v2 removed.

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"

	sf "github.com/snowflakedb/gosnowflake"
)

// disablePlatformDetection is the driver's switch for its cloud platform
// probe. The driver offers no Config field for it, only this environment
// variable, read at the first connection.
const disablePlatformDetection = "SNOWFLAKE_DISABLE_PLATFORM_DETECTION"

// openDB opens a connection pool to the account and logs in, so that bad
// credentials fail here with a clear message. The caller closes the DB.
func openDB(ctx context.Context, cfg Config) (*sql.DB, error) {
	// Without this the driver probes cloud metadata endpoints
	// (169.254.169.254, metadata.google.internal, STS) on connect, only
	// to fill a telemetry field. An explicit setting by the user wins.
	if _, set := os.LookupEnv(disablePlatformDetection); !set {
		if err := os.Setenv(disablePlatformDetection, "true"); err != nil {
			return nil, fmt.Errorf("set %s: %w", disablePlatformDetection, err)
		}
	}
	// The driver logs SQL errors itself, and at debug level request
	// details; weft reports errors once, itself. Level "OFF" is not
	// enough in v1.19.1: calls through WithContext bypass it, so the
	// output is discarded too.
	drvLog := sf.GetLogger()
	_ = drvLog.SetLogLevel("panic")
	drvLog.SetOutput(io.Discard)

	str := func(s string) *string { return &s }
	sc := sf.Config{
		Account:   cfg.Account,
		User:      cfg.User,
		Role:      cfg.Role,
		Warehouse: cfg.Warehouse,
		Database:  "SNOWFLAKE",
		Schema:    "ACCOUNT_USAGE",
		Host:      cfg.Host,
		Port:      cfg.Port,
		Protocol:  cfg.Protocol,
		Params: map[string]*string{
			// JSON rowsets: the decode path tests exercise is the
			// production path (Arrow is the driver's default).
			"GO_QUERY_RESULT_FORMAT": str("json"),
			"TIMEZONE":               str("UTC"),
			"QUERY_TAG":              str(`{"app":"weft"}`),
		},
		Application:      "weft",
		DisableTelemetry: true,
		LoginTimeout:     cfg.LoginTimeout,
		RequestTimeout:   cfg.RequestTimeout,
		MaxRetryCount:    cfg.MaxRetryCount,
	}
	switch cfg.auth() {
	case "key_pair":
		data, err := os.ReadFile(cfg.PrivateKeyFile)
		if err != nil {
			return nil, fmt.Errorf("private key file: %w", err)
		}
		key, err := parsePrivateKey(data, cfg.PrivateKeyPassphrase)
		if err != nil {
			return nil, fmt.Errorf("private key file %s: %w", cfg.PrivateKeyFile, err)
		}
		sc.Authenticator = sf.AuthTypeJwt
		sc.PrivateKey = key
	case "oauth":
		sc.Authenticator = sf.AuthTypeOAuth
		sc.Token = cfg.Token
	case "password":
		sc.Authenticator = sf.AuthTypeSnowflake
		sc.Password = cfg.Password
	}
	db := sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, sc))
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("login as %s: %w", cfg.User, scrub(err, cfg))
	}
	return db, nil
}

// scrub is the last line of defence against a secret in a driver error:
// the driver does not put credentials in its errors today, but if a
// future version does, the error is replaced rather than leaked.
func scrub(err error, cfg Config) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	for _, s := range []string{cfg.Password, cfg.Token, cfg.PrivateKeyPassphrase} {
		if len(s) >= 4 && containsFold(msg, s) {
			return fmt.Errorf("driver error (message withheld: it contained a credential)")
		}
	}
	return err
}
