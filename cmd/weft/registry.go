package main

import (
	"github.com/weftdata/weft/extractors/databricks"
	"github.com/weftdata/weft/extractors/dbt"
	"github.com/weftdata/weft/extractors/snowflake"
)

// sourceRegistry returns the source types weft.yaml can name. Adding a
// source: register its New here with the yaml keys of its Config that hold
// file paths (and the platform's environment variables, if its tools have
// them), then document its keys in the README.
func sourceRegistry() registry {
	return registry{
		"databricks": databricksSource(),
		"dbt":        newSourceType(dbt.New, "manifest", "catalog", "run_results").replacing(),
		"snowflake":  snowflakeSource(),
	}
}

// snowflakeSource reads the variables SnowSQL and the Snowflake drivers
// read. The loader resolves export and private_key_file against the config
// file's directory, so Config.Dir stays empty.
func snowflakeSource() sourceType {
	st := newSourceType(snowflake.New, "export", "private_key_file").withEnv(
		[2]string{"account", "SNOWFLAKE_ACCOUNT"},
		[2]string{"user", "SNOWFLAKE_USER"},
		[2]string{"role", "SNOWFLAKE_ROLE"},
		[2]string{"warehouse", "SNOWFLAKE_WAREHOUSE"},
	)
	return withPrepare(st, func(cfg *snowflake.Config, sc sourceContext) {
		cfg.Logger = sc.logger
		// Credentials come from the environment only when the entry names
		// none and reads no export: mixing the two would be two methods.
		if cfg.Export == "" && cfg.Password == "" && cfg.Token == "" && cfg.PrivateKeyFile == "" {
			cfg.PrivateKeyFile = sc.getenv("SNOWFLAKE_PRIVATE_KEY_FILE")
			cfg.PrivateKeyPassphrase = sc.getenv("SNOWFLAKE_PRIVATE_KEY_PASSPHRASE")
			if cfg.PrivateKeyFile == "" {
				cfg.Token = sc.getenv("SNOWFLAKE_TOKEN")
			}
			if cfg.PrivateKeyFile == "" && cfg.Token == "" {
				cfg.Password = sc.getenv("SNOWFLAKE_PASSWORD")
			}
		}
	})
}

// databricksSource takes the workspace host from DATABRICKS_HOST when the
// entry has none (it names the namespace, so it is needed offline too).
// Credentials are left to the Databricks SDK's unified auth, which reads
// DATABRICKS_TOKEN, DATABRICKS_CLIENT_ID/SECRET and ~/.databrickscfg.
func databricksSource() sourceType {
	st := newSourceType(databricks.New, "export").withEnv(
		[2]string{"host", "DATABRICKS_HOST"},
	)
	return withPrepare(st, func(cfg *databricks.Config, sc sourceContext) {
		cfg.Logger = sc.logger
	})
}
