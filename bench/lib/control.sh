#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Control plane: cold load of N circuits next to the tree other shapers build
# with `tc -force -batch` (MQ, one HTB per CPU, majors 1..NCPU), same bed,
# alternating, wall, user and system seconds; a 1% edit re-loaded; set-rate
# latency; kernel memory per circuit.
# The bed's devices have 8 TX queues per CPU, so cpushaper puts 8 HTBs on each
# CPU (its default: as many as the queues allow). More builds separate what
# the layout buys from what the tool does: tc -batch building cpushaper's own
# 8-HTB tree, cpushaper with one HTB per CPU and tc -batch building that
# identical tree (cpushaper's majors skip the hash bucket of the kernel's
# default leaves: src/handles.h), and cpushaper with its default leaf qdiscs.
# The tool rows load with --leaf none so that both tools build the same tree.
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

# tc_batch FILE K MAJORS: MQ, K HTBs per CPU, HTB j of CPU k on TX queue
# q = j * NCPU + k (MQ class 7fff:q+1) with handle major MAJORS[q] (a comma
# list, hex), as cpushaper lays them out; a class per circuit and direction
# with the file's rate and ceil, CPUs alternating, a CPU's circuits spread over
# its HTBs; the devices in cpushaper's order (lan, then wan, per circuit).
tc_batch() {
	awk -F, -v n="$NCPU" -v k="$2" -v majors="$3" 'NR > 1 {
		i = NR - 2; cpu = i % n; minor = 3 + int(i / n); h = maj[(minor % k) * n + cpu]
		printf "class add dev lan0 parent %s:1 classid %s:%x htb rate %sMbit ceil %sMbit\n", h, h, minor, $9, $11
		printf "class add dev wan0 parent %s:1 classid %s:%x htb rate %sMbit ceil %sMbit\n", h, h, minor, $10, $12
	}
	BEGIN {
		split(majors, m, ",")
		for (q = 0; q < n * k; q++) maj[q] = m[q + 1]
		for (d = 0; d < 2; d++) {
			dev = d ? "wan0" : "lan0"
			printf "qdisc replace dev %s root handle 7fff: mq\n", dev
			for (q = 0; q < n * k; q++) {
				h = maj[q]
				printf "qdisc replace dev %s parent 7fff:%x handle %s: htb default 2\n", dev, q + 1, h
				printf "class add dev %s parent %s: classid %s:1 htb rate 10gbit\n", dev, h, h
				printf "class add dev %s parent %s:1 classid %s:2 htb rate 1gbit\n", dev, h, h
			}
		}
	}' "$1"
}

# timed CMD...: "wall user system" seconds (bash's own clock of the children)
timed() {
	local TIMEFORMAT='%R %U %S'
	{ time "$@" >/dev/null 2>&1; } 2>&1 | tail -1
}
csx() { ip netns exec "${TB}rtr" "$BIN" "$@" --lan-dev lan0 --wan-dev wan0; }

# build TOOL N CMD...: one cold build, emitted with its times and slab delta
build() {
	local tool=$1 n=$2 s0 s1 w u y
	shift 2
	s0=$(slab_kb)
	read -r w u y <<<"$(timed "$@")"
	s1=$(slab_kb)
	emit "{\"test\":\"cold_load\",\"tool\":\"$tool\",\"circuits\":$n,\"rep\":$rep,\"seconds\":$w,\"user\":$u,\"system\":$y,\"slab_kb_delta\":$((s1 - s0))}"
}
tc_clean() { tb_rtr tc qdisc del dev lan0 root; tb_rtr tc qdisc del dev wan0 root; }
# the HTB majors of the loaded shaper, in TX-queue order (show -j's htbs)
cs_majors() { cs show -j | jq -r '[.htbs[] | {q: .txq, h: (.handle | rtrimstr(":"))}] | sort_by(.q) | map(.h) | join(",")'; }

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
	# what other shapers build: one HTB per CPU, majors 1..NCPU (1 and 2 here)
	tc_batch "$WORK/n.csv" 1 "$(for q in $(seq "$NCPU"); do printf '%x,' "$q"; done)" > "$WORK/n.batch"
	reps=$REPS; [ "$n" -ge 10000 ] && reps=2; [ "$n" -ge 40000 ] && reps=$BIG_REPS
	for rep in $(seq "$reps"); do
		# cpushaper's default layout; no leaf qdiscs, so tc -batch can build the same tree
		build cpushaper "$n" csx load --leaf none "$WORK/n.csv"
		tc_batch "$WORK/n.csv" "$HTBS" "$(cs_majors)" > "$WORK/n.batchk"
		e=$(secs cs load "$WORK/edit.csv")
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
		build tc_batch "$n" tb_rtr tc -force -batch "$WORK/n.batch"
		tc_clean
		# the builds that separate layout from tool, and what leaves cost: skipped
		# at 40k and above, where each takes the kernel minutes
		if [ "$n" -lt 40000 ]; then
			build "tc_batch_${HTBS}htb" "$n" tb_rtr tc -force -batch "$WORK/n.batchk"
			tc_clean
			build cpushaper_1htb "$n" csx load --htbs-per-cpu 1 --leaf none "$WORK/n.csv"
			tc_batch "$WORK/n.csv" 1 "$(cs_majors)" > "$WORK/n.batch1"
			cs unload >/dev/null
			# the identical tree: cpushaper's majors (src/handles.h), same order of devices
			build tc_batch_same "$n" tb_rtr tc -force -batch "$WORK/n.batch1"
			tc_clean
			build cpushaper_leaves "$n" csx load "$WORK/n.csv"
			cs unload >/dev/null
		fi
		log "$n circuits, repetition $rep of $reps done"
	done
done

