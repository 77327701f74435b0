# The two commands of the README. Each does its own set-up on a fresh machine: npm packages
# (the pinned CDK CLI and DynamoDB Local) and Go modules.
.PHONY: synth test deps

GO_TEST_FLAGS ?= -timeout 45m

# npm ci only when the lock file changed since the last install.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

deps: node_modules/.installed
	go mod download

# Synthesizes the reference stack into cdk.out/ (no AWS credentials needed).
synth: deps
	npx --no-install cdk synth --quiet

# Runs every test: vet, unit, construct, snapshot, handler tests against DynamoDB Local.
test: deps
	go vet ./...
	go test $(GO_TEST_FLAGS) ./...
