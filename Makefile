# weft's build. Every go command gets the same tags: minicore_disabled stops
# gosnowflake from loading an embedded native library at init.
GO       ?= go
GOFLAGS  := -tags=minicore_disabled
export GOFLAGS
BIN      := bin/weft
DEMO_OUT := demo-out

.PHONY: all build demo test bench fuzz clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/weft

# demo runs weft's main job on the bundled financial-risk scenario.
demo: build
	@mkdir -p $(DEMO_OUT)
	./$(BIN) snapshot --config fixtures/demo/weft.yaml -o $(DEMO_OUT)/graph.json
	@echo
	@echo "wrote $(DEMO_OUT)/graph.json. Try next:"
	@echo "  ./$(BIN) lineage upstream ANALYTICS.MARTS.FCT_LOAN_RISK --graph $(DEMO_OUT)/graph.json"
	@echo "  ./$(BIN) lineage downstream RAW.LOANS.LOANS --graph $(DEMO_OUT)/graph.json --depth 0"

test:
	$(GO) vet ./...
	$(GO) test ./...

# bench prints the performance figures the issues ask for (time, allocations,
# peak memory). It runs each benchmark on one core.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -cpu 1 -benchtime 3x ./...

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
