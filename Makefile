# Build, lint and test the serverless checkout. `make help` lists the targets.
# GNU make only: pattern rules, $(foreach), and bash recipes with pipefail.

# --- Tools and settings (override on the command line: make test GO=go1.26.8) ----------
GO                  ?= go
GOFMT               ?= gofmt
PYTHON              ?= python3
NPM                 ?= npm
NODE                ?= node
MVN                 ?= mvn
VENV                ?= .venv
CHROMIUM            ?= /usr/bin/chromium
STATICCHECK_VERSION ?= v0.8.2
# Long fuzz runs (make fuzz) and the short ones inside make test.
FUZZTIME            ?= 5m
FUZZTIME_SHORT      ?= 10s
# The race detector is why CI needs gcc; -count=1 because the tests talk to local services
# whose state a cached result would not reflect.
GO_TEST_FLAGS       ?= -race -count=1
# Lambda target: template.yaml declares provided.al2023 on arm64.
LAMBDA_GOOS         := linux
LAMBDA_GOARCH       := arm64
# lambda.norpc drops the legacy RPC mode provided.al2023 never uses. nethttpomithttp2
# leaves net/http's bundled HTTP/2 out (about 0.35 MB of every binary): the functions call
# DynamoDB, Step Functions, SES, Secrets Manager, the payment providers and the LMS over
# HTTPS/1.1, which all of them serve, and the Runtime API over HTTP/1.1; the SDK's
# transport asks for HTTP/2 only when net/http has it. -trimpath, an empty
# build ID and no VCS stamp make the bootstrap depend on the sources alone, so an
# unchanged function builds to the same bytes and SAM does not redeploy it.
LAMBDA_BUILD_FLAGS  := -tags lambda.norpc,nethttpomithttp2 -trimpath -buildvcs=false -ldflags='-s -w -buildid='

# Go's time zone database (the toolchain's copy), packaged beside every bootstrap: the
# binaries do not embed it (time/tzdata, about 0.4 MB each) and provided.al2023 ships
# none; template.yaml's ZONEINFO points the functions at /var/task/zoneinfo.zip.
ZONEINFO_ZIP  = $(shell $(GO) env GOROOT)/lib/time/zoneinfo.zip

# Where `go install` puts staticcheck: GOBIN if set, else the first GOPATH entry's bin.
GOBIN_DIR    = $(or $(shell $(GO) env GOBIN),$(firstword $(subst :, ,$(shell $(GO) env GOPATH)))/bin)
STATICCHECK  = $(GOBIN_DIR)/staticcheck
DDB_LIB      := .cache/dynamodb-local/lib
DDB_POM      := tools/dynamodb-local/pom.xml
# The native SQLite library DynamoDB Local loads by its unversioned name.
DDB_SQLITE   := $(DDB_LIB)/libsqlite4java-linux-amd64.so

# One Lambda per directory functions/<name>/ holding a main package; nothing is listed
# by hand, so a new function is built as soon as its directory exists.
FUNCTIONS    := $(sort $(patsubst functions/%/main.go,%,$(wildcard functions/*/main.go)))
BOOTSTRAPS   := $(foreach f,$(FUNCTIONS),bin/$(f)/bootstrap)
ZONEINFOS    := $(foreach f,$(FUNCTIONS),bin/$(f)/zoneinfo.zip)

# One target per checker, so `make -k lint` (as make test runs it) reports every finding.
LINTERS      := lint-gofmt lint-mod lint-vet lint-staticcheck lint-cfn lint-sam lint-asl lint-transform
# Where lint-transform writes the template as CloudFormation receives it (the SAM
# transform's output), for reading when the gate refuses something.
TRANSFORMED  := build/transformed.json

# SAM prints a telemetry notice and posts usage data otherwise; lint and build must stay
# local. (Its weekly version check still asks PyPI, with a 5 s timeout, and ignores
# failures.)
export SAM_CLI_TELEMETRY := 0

SHELL        := bash
.SHELLFLAGS  := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

.PHONY: help deps deps-go deps-node deps-python deps-dynamodb deps-chromium deps-staticcheck \
        build sam-build lint $(LINTERS) test test-go test-web test-tools fuzz run bench clean distclean FORCE

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_%-]+:.*## / {printf "  %-18s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# --- Dependencies ----------------------------------------------------------------------
# Each step is skipped when already done, so `make deps` is quick on a ready machine.

deps: deps-go deps-node deps-python deps-dynamodb deps-chromium deps-staticcheck ## Install everything a fresh machine needs (idempotent)

deps-go: ## Download the Go modules in go.sum
	$(GO) mod download

deps-node: node_modules/.installed ## npm ci, when package-lock.json is newer than node_modules

# A stamp of our own rather than npm's hidden lockfile: it is touched only after npm ci
# finished, so an interrupted install is retried.
node_modules/.installed: package.json package-lock.json
	$(NPM) ci --no-audit --no-fund
	touch $@

deps-python: $(VENV)/.installed ## Python venv with cfn-lint and the SAM CLI from tools/requirements.txt

$(VENV)/.installed: tools/requirements.txt
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r tools/requirements.txt
	touch $@

deps-dynamodb: $(DDB_SQLITE) ## DynamoDB Local jars and native library from Maven Central

# The pom copies versioned native libraries (libsqlite4java-linux-amd64-1.0.392.so);
# sqlite4java looks for the unversioned name, so the newest one is copied to it.
$(DDB_SQLITE): $(DDB_POM)
	$(MVN) -q -B -f $(DDB_POM) dependency:copy-dependencies
	src=$$(ls $(DDB_LIB)/libsqlite4java-linux-amd64-*.so | sort -V | tail -n 1); cp "$$src" $@

deps-chromium: ## Debian's Chromium for the browser tests (installed when root)
	@if [ -x "$(CHROMIUM)" ]; then \
	  :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	else \
	  echo "deps: $(CHROMIUM) is missing and we are not root; run 'sudo apt-get install chromium' for the browser tests" >&2; \
	fi

deps-staticcheck: ## staticcheck at STATICCHECK_VERSION (v0.8.2) into GOBIN
	@if "$(STATICCHECK)" -version 2>/dev/null | grep -qF "($(STATICCHECK_VERSION:v%=%))"; then \
	  :; \
	else \
	  echo "$(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)"; \
	  $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION); \
	fi

# --- Build -----------------------------------------------------------------------------

build: $(BOOTSTRAPS) $(ZONEINFOS) ## Build every functions/<name> as bin/<name>/bootstrap (linux/arm64), with zoneinfo.zip beside it
	@echo "built $(words $(BOOTSTRAPS)) functions: $(FUNCTIONS)"

# FORCE because Go's build cache, not make, knows whether a binary is out of date.
bin/%/bootstrap: FORCE
	CGO_ENABLED=0 GOOS=$(LAMBDA_GOOS) GOARCH=$(LAMBDA_GOARCH) $(GO) build $(LAMBDA_BUILD_FLAGS) -o $@ ./functions/$*

# bin/<name>/ is the function's package as Lambda unpacks it in /var/task.
bin/%/zoneinfo.zip: FORCE
	@mkdir -p $(@D)
	cp $(ZONEINFO_ZIP) $@

# `sam build` (BuildMethod: makefile) runs `make build-<LogicalId>` with ARTIFACTS_DIR
# set. The logical ID maps to the directory by convention: ShopFunction -> functions/shop,
# PurchaseReqsFunction -> functions/purchasereqs.
build-%Function: ## (run by sam build) one function into ARTIFACTS_DIR/bootstrap, with zoneinfo.zip
	@test -n "$${ARTIFACTS_DIR:-}" || { echo "build-$*Function: ARTIFACTS_DIR is not set (sam build sets it)" >&2; exit 1; }
	@dir=functions/$$(printf '%s' '$*' | tr '[:upper:]' '[:lower:]'); \
	test -f "$$dir/main.go" || { echo "build-$*Function: no $$dir/main.go for logical ID $*Function" >&2; exit 1; }; \
	echo "go build ./$$dir -> $$ARTIFACTS_DIR/bootstrap"; \
	CGO_ENABLED=0 GOOS=$(LAMBDA_GOOS) GOARCH=$(LAMBDA_GOARCH) $(GO) build $(LAMBDA_BUILD_FLAGS) -o "$$ARTIFACTS_DIR/bootstrap" "./$$dir"; \
	cp $(ZONEINFO_ZIP) "$$ARTIFACTS_DIR/zoneinfo.zip"

sam-build: deps-python ## sam build (no Docker: each function builds through build-<LogicalId>)
	$(VENV)/bin/sam build

FORCE:

# --- Checks ----------------------------------------------------------------------------

lint: $(LINTERS) ## gofmt, go mod tidy -diff, go vet, staticcheck, cfn-lint, sam validate --lint, asl-validator, the transform gate

# The directories the go tool skips (dot, underscore, testdata) and node_modules.
lint-gofmt:
	@unformatted=$$(find . \( -name node_modules -o -name testdata -o -name '[._]?*' \) -prune -o -name '*.go' -print | xargs -r $(GOFMT) -l); \
	if [ -n "$$unformatted" ]; then echo "gofmt: these files need formatting:" >&2; echo "$$unformatted" >&2; exit 1; fi; \
	echo "gofmt: ok"

# go.mod and go.sum must be what `go mod tidy` writes: direct dependencies not marked
# indirect, no unused versions. -diff prints the difference and fails without editing.
lint-mod:
	$(GO) mod tidy -diff
	@echo "go mod tidy: ok"

lint-vet:
	$(GO) vet ./...

lint-staticcheck:
	"$(STATICCHECK)" ./...

lint-cfn:
	$(VENV)/bin/cfn-lint template.yaml

# validate --lint runs cfn-lint's rules locally: it needs a region but no credentials.
lint-sam:
	$(VENV)/bin/sam validate --lint --region us-east-1

lint-asl:
	node_modules/.bin/asl-validator --json-path statemachine/checkout.asl.json --json-path statemachine/prepare.asl.json --json-path statemachine/deliver.asl.json --json-path statemachine/mail.asl.json

# The deploy gate: the SAM transform CloudFormation runs, offline, then cfn-lint, cycles,
# references, the state machine's substitutions and the alarms on the transformed
# template (tools/transformgate.py says what each check is for).
lint-transform:
	$(VENV)/bin/python tools/transformgate.py --template template.yaml --out $(TRANSFORMED)

test: deps ## deps, lint, go test -race, tools tests, browser tests, 10 s per fuzz target; prints a summary
	@MAKE="$(MAKE)" GO="$(GO)" GO_TEST_FLAGS="$(GO_TEST_FLAGS)" NODE="$(NODE)" FUZZTIME="$(FUZZTIME_SHORT)" tools/test.sh

test-go: ## go test -race -count=1 ./... (the tests start their own local services)
	$(GO) test $(GO_TEST_FLAGS) ./...

test-tools: ## Tests of the Python tools (the transform gate refuses each broken template)
	$(VENV)/bin/python -m unittest discover -s tools -p 'test_*.py'

test-web: ## Browser tests: the storefront (web/tests/) and the back office (web/admin/tests/)
	$(NODE) --test --test-concurrency=1 web/tests/ web/admin/tests/

fuzz: ## Long fuzz runs: FUZZTIME (default 5m) for every Fuzz* target in the tree
	GO="$(GO)" FUZZTIME="$(FUZZTIME)" tools/fuzz.sh

# --- Running ---------------------------------------------------------------------------

run: deps ## Start the local cloud (API, table, state machine, mail) on this machine
	$(GO) run ./cmd/localcloud

bench: ## Run the benchmark (cmd/bench), once it exists
	@if [ -d cmd/bench ]; then $(GO) run ./cmd/bench; else echo "bench: cmd/bench does not exist yet; the benchmark lands with its issue"; fi

# --- Cleaning --------------------------------------------------------------------------

clean: ## Remove build outputs and coverage files (keeps downloaded tools in .cache)
	rm -rf bin build .aws-sam
	find . \( -path ./node_modules -o -path ./$(VENV) -o -path ./.cache -o -path ./.git \) -prune -o \
	  -type f \( -name '*.coverprofile' -o -name 'coverage.out' -o -name 'cover.out' -o -name 'coverage.html' \) -print -exec rm -f {} +

distclean: clean ## clean, and remove .cache, the venv and node_modules
	rm -rf .cache $(VENV) node_modules
