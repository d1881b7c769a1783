#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Control plane: cold load of N circuits next to the same tree built with
# `tc -force -batch` (how other shapers build it), same bed, alternating; a 1%
# edit re-loaded; set-rate latency; kernel memory per circuit.
SECTION=control
source "$(dirname "$0")/common.sh"
# 40k is opt-in (SIZES="1000 10000 40000"): building 80k classes takes the kernel
# about 8 minutes per tool on 2 vCPUs, which alone would break the 15-minute budget.
SIZES=${SIZES:-1000 10000}
REPS=${REPS:-3}
BIG_REPS=${BIG_REPS:-1}     # repetitions at 40k and above
SETRATE_N=${SETRATE_N:-1000}
[ "$SMOKE" = 1 ] && SIZES=100 REPS=1 SETRATE_N=20

tb_start || exit 1
GEN=$ROOT/bench/gen_customers.sh

# tc batch of the tree cpushaper builds for FILE: MQ, one HTB per CPU, a class per
# circuit and direction with the same rate, ceil, burst and quantum, CPUs alternating.
tc_batch() {
	awk -F, 'NR > 1 {
		minor = 3 + int((NR - 2) / 2); h = (NR - 2) % 2 + 1
		printf "class add dev lan0 parent %d:1 classid %d:%x htb rate %sMbit ceil %sMbit\n", h, h, minor, $9, $11
		printf "class add dev wan0 parent %d:1 classid %d:%x htb rate %sMbit ceil %sMbit\n", h, h, minor, $10, $12
	}
	BEGIN {
		for (d = 0; d < 2; d++) {
			dev = d ? "wan0" : "lan0"
			printf "qdisc replace dev %s root handle 7fff: mq\n", dev
			for (h = 1; h <= 2; h++) {
				printf "qdisc replace dev %s parent 7fff:%d handle %d: htb default 2\n", dev, h, h
				printf "class add dev %s parent %d: classid %d:1 htb rate 10gbit\n", dev, h, h
				printf "class add dev %s parent %d:1 classid %d:2 htb rate 1gbit\n", dev, h, h
			}
		}
	}' "$1"
}

secs() { # CMD...: wall seconds
	local a b
	a=$(now); "$@" >/dev/null 2>&1; b=$(now)
	echo "$b - $a" | bc -l | sed 's/^\./0./'
}

slab_kb() { awk '/^Slab:/ { print $2 }' /proc/meminfo; }

for n in $SIZES; do
	"$GEN" "$n" > "$WORK/n.csv"
	# 1%: every 100th circuit gets a new Max
	awk -F, 'BEGIN { OFS = "," } NR > 1 && (NR - 2) % 100 == 0 { $11 = $11 + 1 } { print }' "$WORK/n.csv" > "$WORK/edit.csv"
	tc_batch "$WORK/n.csv" > "$WORK/n.batch"
	reps=$REPS; [ "$n" -ge 10000 ] && reps=2; [ "$n" -ge 40000 ] && reps=$BIG_REPS
	for rep in $(seq "$reps"); do
		s0=$(slab_kb)
		t=$(secs cs load "$WORK/n.csv")
		s1=$(slab_kb)
		e=$(secs cs load "$WORK/edit.csv")
		nop=$(secs cs load "$WORK/edit.csv")
		emit "{\"test\":\"cold_load\",\"tool\":\"cpushaper\",\"circuits\":$n,\"rep\":$rep,\"seconds\":$t,\"slab_kb_delta\":$((s1 - s0))}"
		emit "{\"test\":\"edit_1pct\",\"tool\":\"cpushaper\",\"circuits\":$n,\"rep\":$rep,\"seconds\":$e}"
		emit "{\"test\":\"reload_unchanged\",\"tool\":\"cpushaper\",\"circuits\":$n,\"rep\":$rep,\"seconds\":$nop}"
		if [ "$rep" = 1 ] && { [ "$n" = 10000 ] || [ "$SMOKE" = 1 ]; }; then
			ids=($(cut -d, -f1 "$WORK/n.csv" | tail -n +2 | shuf -n "$SETRATE_N" -r --random-source=<(yes)))
			for id in "${ids[@]}"; do
				a=$(now); cs set-rate "$id" --down-max 77 >/dev/null 2>&1; b=$(now)
				echo "$b - $a" | bc -l
			done | sort -n > "$WORK/lat"
			p50=$(awk '{ v[NR] = $1 } END { print v[int(NR * 0.5 + 0.5)] * 1000 }' "$WORK/lat")
			p99=$(awk '{ v[NR] = $1 } END { i = int(NR * 0.99 + 0.5); if (i < 1) i = 1; print v[i] * 1000 }' "$WORK/lat")
			emit "{\"test\":\"set_rate\",\"tool\":\"cpushaper\",\"circuits\":$n,\"changes\":$SETRATE_N,\"p50_ms\":$p50,\"p99_ms\":$p99}"
		fi
		cs unload >/dev/null
		s0=$(slab_kb)
		t=$(secs tb_rtr tc -force -batch "$WORK/n.batch")
		s1=$(slab_kb)
		emit "{\"test\":\"cold_load\",\"tool\":\"tc_batch\",\"circuits\":$n,\"rep\":$rep,\"seconds\":$t,\"slab_kb_delta\":$((s1 - s0))}"
		tb_rtr tc qdisc del dev lan0 root; tb_rtr tc qdisc del dev wan0 root
		log "$n circuits, repetition $rep of $reps done"
	done
done
