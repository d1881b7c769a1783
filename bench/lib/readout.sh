#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Reading the counters at scale: show -j, show of one circuit, top --once -j and
# a scrape of the exporter, the new way (TC's per-circuit counters read in
# batches, single-class requests for drops and backlog) and the old way (a
# class dump per HTB and a dump of every qdisc: CS_BENCH_CLASS_DUMP, a bench
# hook), alternating in one bed with 8 HTBs per CPU. Sizes: READOUT_SIZES
# (default 10000 40000: the 40k build takes the kernel minutes).
SECTION=readout
NCPU=$(getconf _NPROCESSORS_CONF)
TB_QUEUES=$((NCPU * 8))
source "$(dirname "$0")/common.sh"
SIZES=${READOUT_SIZES:-10000 40000}
REPS=${REPS:-3}
[ "$SMOKE" = 1 ] && SIZES=100 REPS=1

tb_start || exit 1
secs() { local a b; a=$(now); "$@" >/dev/null 2>&1; b=$(now); echo "$b - $a" | bc -l | sed 's/^\./0./'; }
exporter=
# the test bed's EXIT trap stops what TB_PIDS names (its own trap must stay)
stop_exporter() { [ -n "$exporter" ] && kill "$exporter" 2>/dev/null && wait "$exporter" 2>/dev/null; exporter=; }
for n in $SIZES; do
	"$ROOT/bench/gen_customers.sh" "$n" >"$WORK/r.csv"
	t=$(secs cs load "$WORK/r.csv")
	log "$n circuits built in $t s"
	one=$(cs show --list circuits | head -1)
	for way in new old; do
		port=$((9700 + RANDOM % 200))
		# the old way is a bench hook; env execs, so $! is the exporter itself
		if [ $way = old ]; then w=(env CS_BENCH_CLASS_DUMP=1); else w=(env); fi
		# its output closed: a child holding the section's stdout would keep ctest waiting
		"${w[@]}" ip netns exec "${TB}rtr" "$BIN" metrics --lan-dev lan0 --wan-dev wan0 --listen "127.0.0.1:$port" \
			</dev/null >/dev/null 2>&1 &
		exporter=$!
		TB_PIDS+=("$exporter")
		for _ in $(seq 50); do tb_rtr curl -sf -o /dev/null "http://127.0.0.1:$port/metrics" && break; sleep 0.2; done
		for i in $(seq "$REPS"); do
			show=$(secs "${w[@]}" ip netns exec "${TB}rtr" "$BIN" show -j --lan-dev lan0 --wan-dev wan0)
			show1=$(secs "${w[@]}" ip netns exec "${TB}rtr" "$BIN" show -j "$one" --lan-dev lan0 --wan-dev wan0)
			top=$(secs "${w[@]}" ip netns exec "${TB}rtr" "$BIN" top --once -j --lan-dev lan0 --wan-dev wan0)
			# a running top's refresh: 6 refreshes minus 1, each after 0.1 s
			t1=$(secs "${w[@]}" ip netns exec "${TB}rtr" "$BIN" top -j -n 1 -d 0.1 --lan-dev lan0 --wan-dev wan0)
			t6=$(secs "${w[@]}" ip netns exec "${TB}rtr" "$BIN" top -j -n 6 -d 0.1 --lan-dev lan0 --wan-dev wan0)
			refresh=$(echo "($t6 - $t1) / 5 - 0.1" | bc -l | sed 's/^\./0./; s/^-\./-0./')
			# scrapes 1.1 s apart (past the cached page): the first after a while, then one more
			sleep 1.1
			a=$(now); tb_rtr curl -sf -o /dev/null "http://127.0.0.1:$port/metrics"; b=$(now)
			sc=$(echo "$b - $a" | bc -l | sed 's/^\./0./')
			sleep 1.1
			a=$(now); tb_rtr curl -sf -o /dev/null "http://127.0.0.1:$port/metrics"; b=$(now)
			sc2=$(echo "$b - $a" | bc -l | sed 's/^\./0./')
			emit "{\"circuits\":$n,\"way\":\"$way\",\"rep\":$i,\"show\":$show,\"show_one\":$show1,\"top\":$top,\"top_refresh\":$refresh,\"scrape\":$sc,\"scrape_next\":$sc2}"
		done
		stop_exporter
	done
	cs unload >/dev/null
	log "$n circuits done"
done
