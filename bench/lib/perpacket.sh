#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Per-packet cost of the XDP and TC programs (bpf_prog_test_run_opts), next to
# empty programs, at several map sizes. No test bed needed.
SECTION=perpacket
RAW=${RAW:?}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
REPS=${REPS:-5}
REPEAT=${REPEAT:-1000000}
SIZES=${SIZES:-10 10000 100000}
[ "${SMOKE:-0}" = 1 ] && REPS=1 REPEAT=10000 SIZES=10
for rep in $(seq "$REPS"); do
	# shellcheck disable=SC2086
	"$ROOT/build/bench/perpacket" "$REPEAT" $SIZES | jq -c ". + {rep: $rep}" >> "$RAW/perpacket.jsonl" || exit 1
done
