#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Shared by the benchmark sections: paths, the test bed, JSON-lines output.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=${BIN:-$ROOT/build/cpushaper}
RAW=${RAW:?RAW must name the raw results directory}
TB=${TB:-csb$$-}
source "$ROOT/tests/lib/testbed.sh"
SMOKE=${SMOKE:-0}
# a leak fails the smoke run (a test); a full run keeps its figures and warns
TB_LEAK_FATAL=${TB_LEAK_FATAL:-$SMOKE}
cs() { tb_rtr "$BIN" "$@" --lan-dev lan0 --wan-dev wan0; }
emit() { echo "$1" >> "$RAW/$SECTION.jsonl"; }
log() { printf '  [%s] %s\n' "$SECTION" "$*" >&2; }
now() { date +%s.%N; }
# goodput bits/s from an iperf3 JSON file (sum of streams, as received)
goodput() { jq -r '.end.sum_received.bits_per_second // 0' "$1"; }
