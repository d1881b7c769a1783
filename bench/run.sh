#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The benchmark suite: accuracy, capacity, control-plane speed, the network
# hierarchy and per-packet
# cost, each side by side with its baseline in the same run. Writes
# bench/results/results.json, results.md and PNG plots, then a soak run
# (bench/lib/soak.sh; SOAK_CYCLES, default 200). As root on Debian 12;
# about 15 minutes on 2 vCPUs plus the soak. Cleans up after itself, also when interrupted.
#   bench/run.sh              the full suite
#   bench/run.sh --smoke      tiny sizes, seconds (ctest runs this)
#   SECTIONS="control" bench/run.sh   some sections only
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/bench/results
SMOKE=0
if [ "${1:-}" = --smoke ]; then
	SMOKE=1
	OUT=${CS_BENCH_OUT:-$(mktemp -d)}
	[ -n "${CS_BENCH_OUT:-}" ] || KEEP_OUT=0
fi
[ "$(id -u)" = 0 ] || { echo "run as root: XDP, TC and namespaces need it" >&2; exit 1; }
if [ "${CS_BENCH_NOBUILD:-0}" != 1 ]; then
	bash "$ROOT/.ci/deps.sh"
	command -v gnuplot >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gnuplot-nox >/dev/null
	cmake -S "$ROOT" -B "$ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build "$ROOT/build" -j"$(nproc)" >/dev/null
fi
RAW=$(mktemp -d)
child=
trap 'rm -rf "$RAW"; [ "${KEEP_OUT:-1}" = 1 ] || rm -rf "$OUT"' EXIT
# a signal to this script alone (kill, a CI timeout) stops the section too: its
# own EXIT trap then removes its test bed
trap '[ -n "$child" ] && kill -TERM "$child" 2>/dev/null && wait "$child"; exit 130' INT TERM
export RAW SMOKE
mkdir -p "$OUT"
start=$(date +%s)
for s in ${SECTIONS:-perpacket control reconcile readout latency network accuracy capacity soak}; do
	echo "== $s ($(( $(date +%s) - start )) s in)"
	# each section runs in its own process with its own bed and EXIT trap
	bash "$ROOT/bench/lib/$s.sh" &
	child=$!
	wait "$child" || { st=$?; echo "bench: section $s failed ($st)" >&2; exit "$st"; }
	child=
done
bash "$ROOT/bench/lib/report.sh" "$RAW" "$OUT"
cat "$OUT/results.md"
echo
echo "results in $OUT ($(( $(date +%s) - start )) s)"
if [ "$SMOKE" = 1 ]; then
	# every section produced figures, and the report its files
	jq -e '(.accuracy.single | length) > 0 and (.capacity.aggregate | length) > 0 and
	       (.control.cold_load | length) > 0 and (.perpacket | length) > 0 and
	       (.capacity.inpath_ns | length) > 0 and
	       all(.accuracy.single[]; .ratio.median > 0) and all(.capacity.aggregate[]; .goodput_gbps.median > 0) and
	       (.reconcile | length) > 0 and all(.reconcile[]; .repaired) and (.readout | length) == 2 and (.latency | length) == 2 and
	       (.network.build | length) == 2 and all(.network.node_cap[]; .ratio.median > 0) and .soak.end.cycles > 0 and .soak.end.nothing_left_after_unload and .soak.end.command_errors == 0 and
	       .soak.end.circuits == .soak.end.circuits_expected and .soak.end.circuits_misshaped == 0' \
		"$OUT/results.json" >/dev/null && [ -s "$OUT/results.md" ] &&
		{ ! command -v gnuplot >/dev/null || [ -s "$OUT/accuracy.png" ]; }
	st=$?
	[ $st = 0 ] && echo "bench smoke: 1 passed, 0 failed" || echo "bench smoke: 0 passed, 1 failed"
	exit $st
fi
