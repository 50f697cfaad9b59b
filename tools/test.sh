#!/usr/bin/env bash
# test.sh is `make test` after `make deps`: lint, the Go tests with the race detector,
# the tests of the Python tools (the deploy gate), the browser tests (once web/tests
# exists), and a short run of every fuzz target.
# Every phase runs even if an earlier one failed, so one run reports everything that
# is wrong; the exit status is non-zero if any phase failed. It ends with one summary
# line of each phase's result and time.
# The phase functions below are called through "$@" in phase(), which shellcheck
# cannot follow.
# shellcheck disable=SC2317
set -uo pipefail

MAKE=${MAKE:-make}
GO=${GO:-go}
read -r -a go_test_flags <<<"${GO_TEST_FLAGS:--race -count=1}"
NODE=${NODE:-node}
export GO FUZZTIME=${FUZZTIME:-10s}
cd "$(dirname "$0")/.." || exit

start=$SECONDS
results=()
status=0

# phase NAME COMMAND...: runs COMMAND and records NAME's result and time, with the
# detail COMMAND left in $detail (a count of packages, say).
phase() {
	local name=$1 t0=$SECONDS rc
	shift
	echo
	echo "==> $name"
	"$@"
	rc=$?
	if [ "$rc" -eq 0 ]; then
		results+=("$name ok $((SECONDS - t0))s${detail:+ ($detail)}")
	else
		results+=("$name FAILED $((SECONDS - t0))s${detail:+ ($detail)}")
		status=1
	fi
	detail=
}
detail=

go_tests() {
	local log rc
	log=$(mktemp)
	"$GO" test "${go_test_flags[@]}" ./... 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	detail="$(grep -cE '^ok[[:space:]]' "$log") packages passed, $(grep -cE '^FAIL[[:space:]]' "$log") failed, $(grep -cE '^\?[[:space:]]' "$log") without tests"
	rm -f "$log"
	return "$rc"
}

tools_tests() {
	local log rc
	log=$(mktemp)
	"$MAKE" --no-print-directory test-tools 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	# unittest ends with "Ran N tests in …" then "OK" or "FAILED (failures=…)".
	detail="$(sed -n 's/^Ran \([0-9]*\) tests\{0,1\} in .*/\1/p' "$log" | tail -n 1) tests, $(grep -E '^(OK|FAILED)' "$log" | tail -n 1)"
	rm -f "$log"
	return "$rc"
}

web_tests() {
	if [ ! -d web/tests ]; then
		echo "no web/tests yet: nothing to run"
		detail="none yet"
		return 0
	fi
	local log rc
	log=$(mktemp)
	# One file at a time: each browser suite starts its own local cloud.
	"$NODE" --test --test-concurrency=1 web/tests/ web/admin/tests/ 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	# The TAP reporter ends with "# pass N" and "# fail N".
	detail="$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$log" | tail -n 1) passed, $(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$log" | tail -n 1) failed"
	rm -f "$log"
	return "$rc"
}

fuzz_short() {
	detail="$FUZZTIME per target"
	tools/fuzz.sh
}

phase lint "$MAKE" --no-print-directory --keep-going lint
phase "go test" go_tests
phase "tools tests" tools_tests
phase "browser tests" web_tests
phase fuzz fuzz_short

verdict=PASS
[ "$status" -eq 0 ] || verdict=FAIL
summary=$(printf ' | %s' "${results[@]}")
echo
echo "make test: $verdict$summary | total $((SECONDS - start))s"
exit "$status"
