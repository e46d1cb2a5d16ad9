# weft's build. Every go command gets the same tags: minicore_disabled stops
# gosnowflake from loading an embedded native library at init.
GO       ?= go
GOFLAGS  := -tags=minicore_disabled
export GOFLAGS
BIN      := bin/weft
DEMO_OUT := demo-out
DEMO     := fixtures/demo
# The version "weft version" prints: the git tag or commit, else "dev".
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)

# The demo runs from its weft.yaml (every platform of the scenario) when it
# exists, else from the dbt artifacts alone.
DEMO_SOURCES := $(if $(wildcard $(DEMO)/weft.yaml),--config $(DEMO)/weft.yaml,\
	--dbt-manifest $(DEMO)/dbt/target/manifest.json \
	--dbt-catalog $(DEMO)/dbt/target/catalog.json \
	--dbt-run-results $(DEMO)/dbt/target/run_results.json)

.PHONY: all build demo test bench fuzz clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/weft

# demo runs weft's main job on the bundled financial-risk scenario.
demo: build
	@mkdir -p $(DEMO_OUT)
	./$(BIN) snapshot $(DEMO_SOURCES) -o $(DEMO_OUT)/graph.json
	./$(BIN) export --graph $(DEMO_OUT)/graph.json --focus ANALYTICS.MARTS.FCT_LOAN_RISK \
	  --title "Acme Bank credit-risk lineage" -o $(DEMO_OUT)/lineage.html
	@echo
	@echo "wrote $(DEMO_OUT)/graph.json and $(DEMO_OUT)/lineage.html (open it in a browser). Try next:"
	@echo "  # the whole chain behind the credit-risk mart, back to the raw tables"
	@echo "  ./$(BIN) lineage upstream ANALYTICS.MARTS.FCT_LOAN_RISK --graph $(DEMO_OUT)/graph.json"
	@echo "  # one feature column, typed DIRECT/INDIRECT, back to the raw columns"
	@echo "  ./$(BIN) lineage upstream fct_loan_risk.loan_to_value --graph $(DEMO_OUT)/graph.json"
	@echo "  # everything the raw loans table feeds, down to the credit-risk model"
	@echo "  ./$(BIN) lineage downstream RAW.CORE_BANKING.LOANS --graph $(DEMO_OUT)/graph.json"
	@echo "  # across platforms: a Databricks feature column back to Snowflake's raw columns"
	@echo "  ./$(BIN) lineage upstream main.risk_features.loan_features.interest_rate --direct --graph $(DEMO_OUT)/graph.json"
	@echo "  # what the credit-risk model exposure reads"
	@echo "  ./$(BIN) lineage upstream credit_risk_model --depth 1 --graph $(DEMO_OUT)/graph.json"

test:
	$(GO) vet ./...
	$(GO) test ./...

# bench prints the performance figures the issues ask for (time, allocations,
# peak memory as peak_MB). Parsers and extractors run on one core; the
# whole-project column lineage (weave) and weft check use every core, as
# their targets are for a 2-core machine.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -cpu 1 -benchtime 3x $$($(GO) list ./... | grep -v -e /weave -e /check)
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 1x ./weave ./check

# fuzz runs each fuzz target for FUZZTIME (default 30s).
FUZZTIME ?= 30s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "fuzz $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

clean:
	rm -rf bin $(DEMO_OUT)
