# deployer: see README.md. `make test` and `make demo` install what they need.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

TOOLS       := $(CURDIR)/.tools
PULUMI_ROOT := $(TOOLS)/pulumi
# Offline provider stand-ins and the policy analyzer: on PATH only for tests
# and the local stack, never beside the CLI (whose folder the Automation API
# puts on PATH for every run).
PROVIDERS   := $(TOOLS)/providers
POLICY_BIN  := $(TOOLS)/policy
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# SOURCE names the source tree the binary is built from (git's tree hash; empty
# when anything is uncommitted or untracked, and not taken from the
# environment): a saved plan is applied only by a deployer built from the same
# source.
SOURCE      := $(shell test -z "$$(git status --porcelain 2>/dev/null)" && git rev-parse 'HEAD^{tree}' 2>/dev/null)
LDFLAGS     := -X main.version=$(VERSION) -X main.source=$(SOURCE)
# The component provider's version is the deployer's as semver: a release tag
# (v1.2.3) as it is, anything else as 0.0.0-dev+<describe>.
PLUGIN_VERSION := $(shell v='$(VERSION)'; if [[ $$v =~ ^v?([0-9]+\.[0-9]+\.[0-9]+([-+].*)?)$$ ]]; then echo "$${BASH_REMATCH[1]}"; else echo "0.0.0-dev+$${v//[^0-9A-Za-z.-]/-}"; fi)
YAML_HOST   := $(TOOLS)/pulumi-language-yaml
GOFILES      = $(shell git ls-files --cached --others --exclude-standard '*.go' 2>/dev/null)

.PHONY: help test demo build plugin yaml-host dist lint actionlint bench pulumi pulumi-newest pulumi-path pg-start pg-stop standins

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

pulumi: ## build the Pulumi CLI from source into .tools/pulumi (skipped when current)
	@scripts/build-pulumi $(PULUMI_ROOT)

pulumi-newest: ## build the newest CLI that builds here (tools/pulumicli-newest) into .tools/pulumi-newest
	@scripts/build-pulumi $(TOOLS)/pulumi-newest $(CURDIR)/tools/pulumicli-newest

pulumi-path: pulumi ## print where the Pulumi CLI is
	@echo $(PULUMI_ROOT)/bin/pulumi

standins: ## build the offline provider stand-ins and the policy analyzer into .tools
	go build -o $(PROVIDERS)/pulumi-resource-aws ./internal/standin/cmd/pulumi-resource-aws
	go build -o $(PROVIDERS)/pulumi-resource-postgresql ./internal/standin/cmd/pulumi-resource-postgresql
	go build -o $(PROVIDERS)/standin-cloud ./internal/standin/cmd/standin-cloud
	go build -o $(POLICY_BIN)/pulumi-analyzer-policy-go ./policypack/analyzer

build: ## build bin/deployer
	go build -ldflags "$(LDFLAGS)" -o bin/deployer ./cmd/deployer

plugin: ## build the component provider bin/pulumi-resource-postgis (its own module, components/provider)
	cd components/provider && go build -trimpath -ldflags "-s -w -X main.version=$(PLUGIN_VERSION)" -o $(CURDIR)/bin/pulumi-resource-postgis ./cmd/pulumi-resource-postgis

yaml-host: ## build the Pulumi YAML language host from source (tools/pulumi-language-yaml, pinned) into .tools (skipped when current)
	@scripts/build-yaml-host $(YAML_HOST)

dist: ## static linux/amd64 and linux/arm64 binaries with SHA-256 sums, in dist/
	@rm -rf dist && mkdir -p dist
	@for arch in amd64 arm64; do \
		CGO_ENABLED=0 GOOS=linux GOARCH=$$arch go build -trimpath -ldflags "-s -w $(LDFLAGS)" -o dist/deployer-linux-$$arch ./cmd/deployer; \
	done
	@cd dist && sha256sum deployer-linux-* > SHA256SUMS && cat SHA256SUMS

lint: actionlint ## gofmt, go vet, and actionlint on the example workflow
	@out=$$(gofmt -l $(GOFILES)); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	go vet ./...
	cd components/provider && go vet ./...
	$(TOOLS)/actionlint/actionlint -config-file tools/actionlint/actionlint.yaml docs/examples/github-actions.yml

actionlint: ## build actionlint from source (tools/actionlint, pinned) into .tools/actionlint (skipped when current)
	@scripts/build-actionlint $(TOOLS)/actionlint

test: pulumi pulumi-newest standins plugin yaml-host lint ## install what is missing, start PostgreSQL, run every test (the end-to-end ones on the newest CLI too), stop PostgreSQL
	scripts/test

demo: pulumi standins build ## run the main job on this machine (local stack, offline stand-ins)
	scripts/demo

bench: pulumi standins ## benchmarks: ratios and medians (not pass/fail); see docs/benchmarks.md
	scripts/bench/run

pg-start: ## start the throwaway TLS PostgreSQL (facts in .run/pg.env)
	scripts/pg start

pg-stop: ## stop it and remove its files
	scripts/pg stop
