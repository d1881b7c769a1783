#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The benchmark suite: accuracy, capacity, control-plane speed and per-packet
# cost, each side by side with its baseline in the same run. Writes
# bench/results/results.json, results.md and PNG plots. As root on Debian 12;
# about 13 minutes on 2 vCPUs. Cleans up after itself, also when interrupted.
#   bench/run.sh              the full suite
#   bench/run.sh --smoke      tiny sizes, seconds (ctest runs this)
#   SECTIONS="control" bench/run.sh   some sections only
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/bench/results
SMOKE=0
[ "${1:-}" = --smoke ] && SMOKE=1 && OUT=${CS_BENCH_OUT:-$(mktemp -d)}
[ "$(id -u)" = 0 ] || { echo "run as root: XDP, TC and namespaces need it" >&2; exit 1; }
if [ "${CS_BENCH_NOBUILD:-0}" != 1 ]; then
	bash "$ROOT/.ci/deps.sh"
	command -v gnuplot >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gnuplot-nox >/dev/null
	cmake -S "$ROOT" -B "$ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build "$ROOT/build" -j"$(nproc)" >/dev/null
fi
RAW=$(mktemp -d)
trap 'rm -rf "$RAW"' EXIT
trap 'exit 130' INT TERM
export RAW SMOKE
mkdir -p "$OUT"
start=$(date +%s)
for s in ${SECTIONS:-perpacket control accuracy capacity}; do
	echo "== $s ($(( $(date +%s) - start )) s in)"
	# each section runs in its own process with its own bed and EXIT trap
	bash "$ROOT/bench/lib/$s.sh"
done
bash "$ROOT/bench/lib/report.sh" "$RAW" "$OUT"
cat "$OUT/results.md"
echo
echo "results in $OUT ($(( $(date +%s) - start )) s)"
