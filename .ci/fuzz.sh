#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Build the libFuzzer target (clang, ASan+UBSan) and fuzz the customer parser and
# planner for FUZZ_SECONDS (default 60), starting from tests/fuzz/corpus. A crash
# input is left in tests/fuzz/regressions/ (commit it with the fix) and fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_FUZZ=${FUZZ_SECONDS:-60}
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCS_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz --target fuzz_customers -j"$(nproc)" >/dev/null
mkdir -p tests/fuzz/regressions # git keeps no empty folder
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp tests/fuzz/corpus/* "$work/"
set +e
build-fuzz/tests/fuzz_customers -max_total_time="$SECONDS_TO_FUZZ" -max_len=65536 -timeout=10 \
	-artifact_prefix=tests/fuzz/regressions/ -print_final_stats=1 "$work" > "$work.log" 2>&1
st=$?
set -e
grep -E "^(Done|stat::number_of_executed_units|stat::new_units_added)|ERROR|SUMMARY" "$work.log" || true
if [ $st != 0 ]; then
	tail -40 "$work.log"
	echo "fuzz: the target failed; the input is in tests/fuzz/regressions/" >&2
fi
rm -f "$work.log"
# plain closing line for CI
[ $st = 0 ] && echo "fuzz: 1 passed, 0 failed" || echo "fuzz: 0 passed, 1 failed"
exit $st
