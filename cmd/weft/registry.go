package main

import (
	"github.com/weftdata/weft/extractors/dbt"
	"github.com/weftdata/weft/extractors/snowflake"
)

// sourceRegistry returns the source types weft.yaml can name. Adding a
// source: register its New here with the yaml keys of its Config that hold
// file paths (and the platform's environment variables, if its tools have
// them), then document its keys in the README.
func sourceRegistry() registry {
	return registry{
		"dbt": newSourceType(dbt.New, "manifest", "catalog", "run_results"),
		"snowflake": withPrepare(
			newSourceType(snowflake.New, "export", "private_key_file").withEnv(
				[2]string{"account", "SNOWFLAKE_ACCOUNT"},
				[2]string{"user", "SNOWFLAKE_USER"},
				[2]string{"role", "SNOWFLAKE_ROLE"},
				[2]string{"warehouse", "SNOWFLAKE_WAREHOUSE"},
				[2]string{"password", "SNOWFLAKE_PASSWORD"},
				[2]string{"token", "SNOWFLAKE_TOKEN"},
				[2]string{"private_key_file", "SNOWFLAKE_PRIVATE_KEY_FILE"},
				[2]string{"private_key_passphrase", "SNOWFLAKE_PRIVATE_KEY_PASSPHRASE"},
			),
			// The loader resolves export and private_key_file against
			// the config file's directory, so Dir stays empty.
			func(cfg *snowflake.Config, sc sourceContext) { cfg.Logger = sc.logger }),
	}
}
