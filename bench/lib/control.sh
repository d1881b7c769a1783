#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Control plane: cold load of N circuits next to the tree other shapers build
# with `tc -force -batch` (MQ, one HTB per CPU), same bed, alternating; a 1%
# edit re-loaded; set-rate latency; kernel memory per circuit.
# The bed's devices have 8 TX queues per CPU, so cpushaper puts 8 HTBs on each
# CPU (its default: as many as the queues allow). Two more builds separate what
# that layout buys from what the tool does: cpushaper with one HTB per CPU, and
# tc -batch building cpushaper's own 8-HTB tree.
SECTION=control
NCPU=$(getconf _NPROCESSORS_CONF)
HTBS=${HTBS:-8}
TB_QUEUES=$((NCPU * HTBS))
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

# tc_batch FILE K: MQ, K HTBs per CPU (HTB j of CPU k = j * NCPU + k + 1, as
# cpushaper lays them out), a class per circuit and direction with the file's
# rate and ceil, CPUs alternating, a CPU's circuits spread over its HTBs.
tc_batch() {
	awk -F, -v n="$NCPU" -v k="$2" 'NR > 1 {
		i = NR - 2; cpu = i % n; minor = 3 + int(i / n); h = (minor % k) * n + cpu + 1
		printf "class add dev lan0 parent %x:1 classid %x:%x htb rate %sMbit ceil %sMbit\n", h, h, minor, $9, $11
		printf "class add dev wan0 parent %x:1 classid %x:%x htb rate %sMbit ceil %sMbit\n", h, h, minor, $10, $12
	}
	BEGIN {
		for (d = 0; d < 2; d++) {
			dev = d ? "wan0" : "lan0"
			printf "qdisc replace dev %s root handle 7fff: mq\n", dev
			for (h = 1; h <= n * k; h++) {
				printf "qdisc replace dev %s parent 7fff:%x handle %x: htb default 2\n", dev, h, h
				printf "class add dev %s parent %x: classid %x:1 htb rate 10gbit\n", dev, h, h
				printf "class add dev %s parent %x:1 classid %x:2 htb rate 1gbit\n", dev, h, h
			}
		}
	}' "$1"
}

# tc_build BATCHFILE: seconds to build it, then the slab delta in KB; removes it again.
tc_build() {
	local s0 s1 t
	s0=$(slab_kb)
	t=$(secs tb_rtr tc -force -batch "$1")
	s1=$(slab_kb)
	echo "$t $((s1 - s0))"
	tb_rtr tc qdisc del dev lan0 root; tb_rtr tc qdisc del dev wan0 root
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
	tc_batch "$WORK/n.csv" 1 > "$WORK/n.batch"
	tc_batch "$WORK/n.csv" "$HTBS" > "$WORK/n.batchk"
	reps=$REPS; [ "$n" -ge 10000 ] && reps=2; [ "$n" -ge 40000 ] && reps=$BIG_REPS
	for rep in $(seq "$reps"); do
		s0=$(slab_kb)
		t=$(secs cs load "$WORK/n.csv")
		s1=$(slab_kb)
		e=$(secs cs load "$WORK/edit.csv")
		emit "{\"test\":\"cold_load\",\"tool\":\"cpushaper\",\"circuits\":$n,\"rep\":$rep,\"seconds\":$t,\"slab_kb_delta\":$((s1 - s0))}"
		emit "{\"test\":\"edit_1pct\",\"tool\":\"cpushaper\",\"circuits\":$n,\"rep\":$rep,\"seconds\":$e}"
		nop=$(secs cs load "$WORK/edit.csv")
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
		read -r t kb <<<"$(tc_build "$WORK/n.batch")"
		emit "{\"test\":\"cold_load\",\"tool\":\"tc_batch\",\"circuits\":$n,\"rep\":$rep,\"seconds\":$t,\"slab_kb_delta\":$kb}"
		# the two builds that separate layout from tool: skipped at 40k and above,
		# where each takes the kernel minutes
		if [ "$n" -lt 40000 ]; then
			s0=$(slab_kb)
			t=$(secs cs load --htbs-per-cpu 1 "$WORK/n.csv")
			s1=$(slab_kb)
			emit "{\"test\":\"cold_load\",\"tool\":\"cpushaper_1htb\",\"circuits\":$n,\"rep\":$rep,\"seconds\":$t,\"slab_kb_delta\":$((s1 - s0))}"
			cs unload >/dev/null
			read -r t kb <<<"$(tc_build "$WORK/n.batchk")"
			emit "{\"test\":\"cold_load\",\"tool\":\"tc_batch_${HTBS}htb\",\"circuits\":$n,\"rep\":$rep,\"seconds\":$t,\"slab_kb_delta\":$kb}"
		fi
		log "$n circuits, repetition $rep of $reps done"
	done
done

