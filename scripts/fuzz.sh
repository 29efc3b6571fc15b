#!/usr/bin/env bash
# Runs every fuzz target in the module for $FUZZTIME (default 5s) each.
# Usage: FUZZTIME=1m scripts/fuzz.sh [package-pattern]
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME="${FUZZTIME:-5s}"
pattern="${1:-./...}"
fail=0
while read -r dir; do
	[ -n "$dir" ] || continue
	for target in $(grep -hoE '^func (Fuzz[A-Za-z0-9_]+)\(' "$dir"/*_test.go | sed -E 's/^func (Fuzz[A-Za-z0-9_]+)\(/\1/' | sort -u); do
		echo "fuzz $dir $target ($FUZZTIME)"
		if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" "./$dir" > /tmp/coffer-fuzz.log 2>&1; then
			cat /tmp/coffer-fuzz.log
			fail=1
		fi
	done
done < <(go list -f '{{.Dir}}' "$pattern" | sed "s|^$(pwd)/||" | while read -r d; do ls "$d"/*_test.go >/dev/null 2>&1 && grep -lqE '^func Fuzz' "$d"/*_test.go && echo "$d"; done)
exit $fail
