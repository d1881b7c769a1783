#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The reconcile step of every load (reading both devices' classes, one dump per
# HTB, to find and repair what changed under the shaper): unchanged reloads with
# it and without it (CS_TEST_NO_RECONCILE, a bench hook), alternating, in one bed
# like the control section's (8 TX queues per CPU). Sizes: RECONCILE_SIZES
# (default 10000 40000: the 40k build takes the kernel several minutes).
SECTION=reconcile
NCPU=$(getconf _NPROCESSORS_CONF)
TB_QUEUES=$((NCPU * 8))
source "$(dirname "$0")/common.sh"
SIZES=${RECONCILE_SIZES:-10000 40000}
REPS=${REPS:-5}
[ "$SMOKE" = 1 ] && SIZES=100 REPS=1

tb_start || exit 1
secs() { local a b; a=$(now); "$@" >/dev/null 2>&1; b=$(now); echo "$b - $a" | bc -l | sed 's/^\./0./'; }
for n in $SIZES; do
	"$ROOT/bench/gen_customers.sh" "$n" >"$WORK/r.csv"
	t=$(secs cs load "$WORK/r.csv")
	log "$n circuits built in $t s"
	for i in $(seq "$REPS"); do
		with=$(secs cs load "$WORK/r.csv")
		without=$(secs env CS_TEST_NO_RECONCILE=1 ip netns exec "${TB}rtr" "$BIN" load --lan-dev lan0 --wan-dev wan0 "$WORK/r.csv")
		show=$(secs cs show -j)
		emit "{\"test\":\"reload\",\"circuits\":$n,\"rep\":$i,\"with\":$with,\"without\":$without,\"show\":$show}"
	done
	# the step does its job at this size: a deleted class is found and put back
	cls=$(cs show -j | jq -r '.circuits[0].down.classid')
	tb_rtr tc class del dev lan0 classid "$cls"
	out=$(cs load "$WORK/r.csv" 2>&1)
	echo "$out" | grep -q "1 circuit class was missing" && ok=true || ok=false
	emit "{\"test\":\"repair\",\"circuits\":$n,\"found_and_repaired\":$ok}"
	cs unload >/dev/null
	log "$n circuits done"
done
