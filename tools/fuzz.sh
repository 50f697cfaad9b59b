#!/usr/bin/env bash
# fuzz.sh runs every Go fuzz target of the module for FUZZTIME (default 10s) each.
# Targets are found by grep rather than listed, so a new Fuzz function is fuzzed by
# `make test` and `make fuzz` as soon as it exists. go test -fuzz takes one package and
# one target per run, hence the loop. A failing input is saved by go test under the
# package's testdata/fuzz/, where it becomes a regression case for plain `go test`.
set -euo pipefail

GO=${GO:-go}
FUZZTIME=${FUZZTIME:-10s}
cd "$(dirname "$0")/.."

# Skip what the go tool skips (dot and underscore directories, testdata) and the
# installed tools' trees.
mapfile -t hits < <(grep -rHoE \
	--include='*_test.go' \
	--exclude-dir='.?*' --exclude-dir='_*' --exclude-dir=testdata --exclude-dir=node_modules \
	'^func Fuzz[A-Za-z0-9_]*\([A-Za-z_][A-Za-z0-9_]* \*testing\.F\)' . | sort)

if [ "${#hits[@]}" -eq 0 ]; then
	echo "fuzz: no Fuzz targets in the tree"
	exit 0
fi

failed=()
for hit in "${hits[@]}"; do
	file=${hit%%:*}
	name=${hit#*:func }
	name=${name%%(*}
	pkg=./$(dirname "${file#./}")
	echo "fuzz: $pkg $name for $FUZZTIME"
	# On a loaded machine the go tool can end a run with "context deadline exceeded"
	# while its workers stop at the end of -fuzztime, having found nothing (no failing
	# input written). Such a run is run once more; a run that found an input fails.
	for attempt in 1 2; do
		out=$(mktemp)
		if "$GO" test -run='^$' -fuzz="^${name}\$" -fuzztime="$FUZZTIME" "$pkg" 2>&1 | tee "$out"; then
			rm -f "$out"
			break
		fi
		if [ "$attempt" -eq 1 ] && grep -q 'context deadline exceeded' "$out" && ! grep -q 'Failing input written to' "$out"; then
			echo "fuzz: $pkg $name stopped on the go tool's deadline without a failing input; running it again"
			rm -f "$out"
			continue
		fi
		rm -f "$out"
		failed+=("$pkg.$name")
		break
	done
done

if [ "${#failed[@]}" -gt 0 ]; then
	echo "fuzz: ${#failed[@]} of ${#hits[@]} targets failed: ${failed[*]}" >&2
	exit 1
fi
echo "fuzz: ${#hits[@]} targets ran ${FUZZTIME} each without a failure"
