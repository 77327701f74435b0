#!/usr/bin/env bash
# Runs every fuzz target of the module for a while, one after another, and prints for each:
# executions, fuzzing time, new interesting inputs and crashes, parsed from go's fuzz output.
#
#   scripts/fuzz.sh [seconds-per-target] [target-regexp]
#
# seconds defaults to 60; target-regexp (optional) picks targets by name, e.g. 'Validate|Parse'.
# Exits non-zero when a target crashes (go then writes the failing input under the package's
# testdata/fuzz/<Target>/, where it becomes a seed that `go test ./...` runs until it is fixed)
# or otherwise fails (build error, failing seed). Each target's full output is kept in
# $FUZZ_LOG_DIR (default: a new temporary directory).
set -u -o pipefail

secs=${1:-60}
filter=${2:-}
if ! [[ $secs =~ ^[1-9][0-9]*$ ]]; then
	echo "usage: $0 [seconds-per-target] [target-regexp]   (seconds: a whole number > 0)" >&2
	exit 2
fi

cd "$(dirname "$0")/.." || exit 2
logdir=${FUZZ_LOG_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/fuzz.XXXXXX")}
mkdir -p "$logdir" || exit 2

# package and target, one per line.
targets=(
	"./protocol FuzzValidate"
	"./protocol/selection FuzzParse"
	"./protocol/selection FuzzEvaluate"
	"./lambdas/internal/wsevent FuzzDefaultHandler"
	"./lambdas/internal/wsevent FuzzChatDecode"
	"./integ/internal/gateway FuzzRouteAndValidate"
)

status=0
ran=0
rows=()
for t in "${targets[@]}"; do
	read -r pkg name <<<"$t"
	if [[ -n $filter ]] && ! [[ $name =~ $filter ]]; then
		continue
	fi
	ran=$((ran + 1))
	log="$logdir/$name.log"
	echo "== $name ($pkg) for ${secs}s, log $log" >&2
	start=$(date +%s)
	# -run '^$': the seeds run as the fuzzing's baseline anyway; no other test runs.
	go test -run '^$' -fuzz "^${name}\$" -fuzztime "${secs}s" "$pkg" >"$log" 2>&1
	rc=$?
	wall=$(($(date +%s) - start))

	last=$(grep -E '^fuzz: elapsed: .*execs: [0-9]+' "$log" | tail -n 1)
	execs=$(sed -nE 's/.*execs: ([0-9]+).*/\1/p' <<<"$last")
	elapsed=$(sed -nE 's/^fuzz: elapsed: ([0-9hms.]+),.*/\1/p' <<<"$last")
	newint=$(sed -nE 's/.*new interesting: ([0-9]+).*/\1/p' <<<"$last")
	total=$(sed -nE 's/.*\(total: ([0-9]+)\).*/\1/p' <<<"$last")
	crashes=$(grep -c 'Failing input written to' "$log")

	result=ok
	if ((crashes > 0)); then
		result=CRASH
		status=1
	elif ((rc != 0)); then
		result=FAIL
		status=1
	fi
	rows+=("$(printf '%-20s %-28s %12s %8s %6s %9s %6s %8s  %s' \
		"$name" "$pkg" "${execs:-?}" "${elapsed:-?}" "${wall}s" "${newint:-?}" "${total:-?}" "$crashes" "$result")")
	if [[ $result != ok ]]; then
		echo "-- $name: $result; the failure:" >&2
		grep -E -A12 -e '--- FAIL' "$log" | head -n 40 >&2
		grep -E 'Failing input written to|go test -run=' "$log" >&2
		# A build error or a failing seed prints no "--- FAIL" with an input: show the tail.
		((crashes == 0)) && tail -n 20 "$log" >&2
	fi
done

if ((ran == 0)); then
	echo "no fuzz target matches ${filter@Q}" >&2
	exit 2
fi

echo
printf '%-20s %-28s %12s %8s %6s %9s %6s %8s  %s\n' \
	target package execs fuzzed wall "new-inter" corpus crashes result
for r in "${rows[@]}"; do
	echo "$r"
done
echo
echo "execs: executions while fuzzing; fuzzed: go's elapsed fuzzing time; wall: including the build;"
echo "new-inter: new interesting inputs found (kept in \$(go env GOCACHE)/fuzz); corpus: seeds + cached + new;"
echo "?: go reported no fuzzing progress (the target failed before fuzzing began)."
exit "$status"
