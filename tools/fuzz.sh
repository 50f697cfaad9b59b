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
	if ! "$GO" test -run='^$' -fuzz="^${name}\$" -fuzztime="$FUZZTIME" "$pkg"; then
		failed+=("$pkg.$name")
	fi
done

if [ "${#failed[@]}" -gt 0 ]; then
	echo "fuzz: ${#failed[@]} of ${#hits[@]} targets failed: ${failed[*]}" >&2
	exit 1
fi
echo "fuzz: ${#hits[@]} targets ran ${FUZZTIME} each without a failure"
