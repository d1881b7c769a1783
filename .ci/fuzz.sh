#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Build the libFuzzer targets (clang, ASan+UBSan) and fuzz them for FUZZ_SECONDS
# in all (default 60, split between them): the customer parser and planner from
# tests/fuzz/corpus, the network.json parser, placement and node plan from
# tests/fuzz/network_corpus. A crash input is left in the target's regressions
# folder (commit it with the fix) and fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
TOTAL=${FUZZ_SECONDS:-60}
TARGETS=("fuzz_customers tests/fuzz/corpus tests/fuzz/regressions"
         "fuzz_network tests/fuzz/network_corpus tests/fuzz/regressions_network")
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCS_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz --target fuzz_customers fuzz_network -j"$(nproc)" >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0
for t in "${TARGETS[@]}"; do
	read -r target corpus regressions <<<"$t"
	mkdir -p "$regressions" # git keeps no empty folder
	rm -rf "$work/corpus" && mkdir "$work/corpus"
	cp "$corpus"/* "$work/corpus/"
	set +e
	build-fuzz/tests/$target -max_total_time=$((TOTAL / ${#TARGETS[@]})) -max_len=65536 -timeout=10 \
		-artifact_prefix="$regressions/" -print_final_stats=1 "$work/corpus" > "$work/log" 2>&1
	st=$?
	set -e
	echo "== $target"
	grep -E "^(Done|stat::number_of_executed_units|stat::new_units_added)|ERROR|SUMMARY" "$work/log" || true
	if [ $st != 0 ]; then
		tail -40 "$work/log"
		echo "fuzz: $target failed; the input is in $regressions/" >&2
		fail=$((fail + 1))
	else
		pass=$((pass + 1))
	fi
done
# plain closing line for CI
echo "fuzz: $pass passed, $fail failed"
[ $fail = 0 ]
