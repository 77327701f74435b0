# The two commands of the README. Each does its own set-up on a fresh machine: npm packages
# (the pinned CDK CLI and TypeScript), Go modules, and Debian's qemu-user-static and chromium
# when missing; DynamoDB Local is fetched on first use (internal/ddblocal).
.PHONY: synth test deps local

GO_TEST_FLAGS ?= -timeout 45m

# npm ci only when the lock file changed since the last install.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# The handlers are built for linux/arm64; on another host the local emulator runs them through
# qemu-user (qemu-aarch64-static), installed here when missing and apt-get is available.
deps: node_modules/.installed
	go mod download
	@if [ "$$(uname -m)" != aarch64 ] && ! command -v qemu-aarch64-static >/dev/null 2>&1 \
		&& command -v apt-get >/dev/null 2>&1; then \
		echo "installing qemu-user-static (runs the arm64 Lambda binaries locally)"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y qemu-user-static; \
	fi
	@if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then \
		echo "installing chromium (the browser tests of the chat page drive it headless)"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	fi

# Synthesizes the reference stack into cdk.out/ (no AWS credentials needed).
synth: deps
	npx --no-install cdk synth --quiet

# Runs every test: vet, unit, construct, snapshot, handler tests against DynamoDB Local, the
# JavaScript client's typecheck and unit tests (Node's test runner), and the chat page in
# headless Chromium (integ/e2e).
test: deps
	go vet ./...
	npx --no-install tsc -p clients/js
	cd clients/js && node --experimental-websocket --test test/client.test.js
	go test $(GO_TEST_FLAGS) ./...

# Runs the synthesized reference stack locally (WebSocket API, Lambda, DynamoDB Local) until
# Ctrl-C, and prints the ws:// URL and ready tokens.
local: deps
	go run ./integ/cmd/localchat
