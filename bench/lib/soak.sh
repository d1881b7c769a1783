#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Soak: SOAK_CYCLES cycles (default 200; 6 in the smoke run; SOAK_SECONDS caps
# the time) under a steady iperf3 download, each cycle: load one of three
# changing files, load the next, set-rate, top --once, a scrape of the running
# exporter, on every 4th cycle a load killed with kill -9 at a random moment,
# and unload. Every SOAK_EVERY cycles it samples what could grow: the kernel's
# BPF maps, programs, links and cpumap kthreads, slab memory (/proc/meminfo
# Slab, SUnreclaim, the kmalloc caches of /proc/slabinfo), and the exporter's
# RSS and open fds. At the end the last file is loaded and every circuit's
# classes are checked against its plan, and the steady circuit's goodput.
SECTION=soak
source "$(dirname "$0")/common.sh"
CYCLES=${SOAK_CYCLES:-200}
EVERY=${SOAK_EVERY:-10}
MAXSEC=${SOAK_SECONDS:-1800}
N=${SOAK_CIRCUITS:-300}
[ "$SMOKE" = 1 ] && CYCLES=${SOAK_CYCLES:-6} EVERY=2 N=50

tb_start || exit 1
steady='c-steady,Steady,d-steady,,,,198.18.1.10,2001:db8:1::10,10,5,50,20,'
for k in 0 1 2; do
	# three files that differ in members and plans: every load has work to do
	{ "$ROOT/bench/gen_customers.sh" $((N + k * N / 10)) $((k + 1)); echo "$steady"; } >"$WORK/f$k.csv"
done
{ "$ROOT/bench/gen_customers.sh" $((N * 10)) 9; echo "$steady"; } >"$WORK/big.csv"
tb_subscriber 198.18.1.10 2001:db8:1::10 >/dev/null
tb_iperf_server 5901 || exit 1
tb_iperf_server 5902 || exit 1
# started directly (not through a shell function) so that $! is the process itself
ip netns exec "${TB}rtr" "$BIN" metrics --lan-dev lan0 --wan-dev wan0 --listen 127.0.0.1:9639 \
	>/dev/null 2>&1 </dev/null &
EXP_PID=$!
TB_PIDS+=("$EXP_PID")
for _ in $(seq 50); do tb_rtr curl -sf http://127.0.0.1:9639/metrics >/dev/null && break; sleep 0.1; done

# a steady download for the whole run, paced so that unshaped moments do not starve the 2 CPUs
ip netns exec "${TB}sub" iperf3 -c 198.19.0.2 -B 198.18.1.10 -p 5901 -R -b 100M -t "$MAXSEC" \
	>/dev/null 2>&1 </dev/null &
IPERF=$!
TB_PIDS+=("$IPERF")

kmalloc_kb() { awk '/^kmalloc-/ { s += $3 * $4 } END { printf "%.0f", s / 1024 }' /proc/slabinfo; }
# settle: the kernel frees maps after an RCU grace period and a work item; wait
# up to 5 s for what unload released to go, so a sample counts what stays
settle() {
	local i
	for ((i = 0; i < 50; i++)); do
		[ -z "$(leak_new)" ] && return 0
		sleep 0.1
	done
}
sample() {
	local c=$1 objs
	settle
	objs=$(leak_new)
	emit "$(jq -nc --argjson cycle "$c" --argjson t "$(echo "$(now) - $T0" | bc)" \
		--argjson maps "$(echo "$objs" | grep -c '^map ')" --argjson progs "$(echo "$objs" | grep -c '^prog ')" \
		--argjson links "$(echo "$objs" | grep -c '^link ')" --argjson kthreads "$(echo "$objs" | grep -c '^kthread ')" \
		--argjson slab "$(awk '/^Slab:/ { print $2 }' /proc/meminfo)" \
		--argjson sunreclaim "$(awk '/^SUnreclaim:/ { print $2 }' /proc/meminfo)" \
		--argjson kmalloc "$(kmalloc_kb)" \
		--argjson rss "$(awk '/^VmRSS:/ { print $2 }' /proc/$EXP_PID/status 2>/dev/null || echo 0)" \
		--argjson fds "$(ls /proc/$EXP_PID/fd 2>/dev/null | wc -l)" \
		'{test: "sample", cycle: $cycle, seconds: $t, maps: $maps, progs: $progs, links: $links,
		  kthreads: $kthreads, slab_kb: $slab, sunreclaim_kb: $sunreclaim, kmalloc_kb: $kmalloc,
		  exporter_rss_kb: $rss, exporter_fds: $fds}')"
}

# ours: what the kernel holds beyond the snapshot the bed took before it existed
T0=$(now)
sample 0
errors=0 kills=0 done_cycles=0
# run CMD...: a cpushaper command of the cycle; a failure is counted and its message kept
run() {
	if ! "$@" >/dev/null 2>"$WORK/err"; then
		errors=$((errors + 1))
		[ "$errors" -le 5 ] && log "cycle $c: '$*' failed: $(head -3 "$WORK/err" | tr '\n' ' ')"
	fi
}
for c in $(seq "$CYCLES"); do
	[ "$(echo "$(now) - $T0 > $MAXSEC" | bc)" = 1 ] && { log "time cap reached"; break; }
	k=$((c % 3))
	# the files differ by whole blocks of circuits on purpose: past the guard against truncated exports
	run cs load --max-remove 100 "$WORK/f$k.csv"
	run cs load --max-remove 100 "$WORK/f$(((k + 1) % 3)).csv"
	run cs set-rate c-steady --down-max $((40 + c % 20))
	run cs top --once -j
	run tb_rtr curl -sf -o /dev/null http://127.0.0.1:9639/metrics
	if [ $((c % 4)) = 0 ]; then
		ip netns exec "${TB}rtr" "$BIN" load --lan-dev lan0 --wan-dev wan0 "$WORK/big.csv" >/dev/null 2>&1 &
		pid=$!
		sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", r / 32768 * 0.6 }')"
		# counted when the signal found the load still running (else it had finished)
		kill -9 "$pid" 2>/dev/null && kills=$((kills + 1))
		wait "$pid" 2>/dev/null
	fi
	run cs unload
	done_cycles=$c
	if [ $((c % EVERY)) = 0 ] || [ "$c" = "$CYCLES" ]; then
		sample "$c"
		log "cycle $c: $(tail -1 "$RAW/$SECTION.jsonl" | jq -c '{maps, progs, kthreads, slab_kb, exporter_rss_kb, exporter_fds}')"
	fi
done

# After the churn: the last file loaded, every circuit shaped to its plan.
cs load --max-remove 100 "$WORK/f0.csv" >/dev/null 2>&1 || errors=$((errors + 1))
show=$(cs show -j)
bad=0
for dev in lan0 wan0; do
	tb_rtr tc class show dev $dev >"$WORK/cls.$dev"
	d=$([ $dev = lan0 ] && echo down || echo up)
	# each circuit's class with rate = its Min and ceil = its Max (tc prints Kbit, Mbit or Gbit)
	bad=$((bad + $(echo "$show" | jq -r --arg d $d '.circuits[] | "\(.[$d].classid) \(.[$d].min_mbps) \(.[$d].max_mbps)"' |
		while read -r cls min max; do
			line=$(grep "^class htb $cls " "$WORK/cls.$dev") || { echo x; continue; }
			echo "$line" | awk -v min="$min" -v max="$max" '
				function mbit(v) { f = v ~ /Kbit$/ ? 1e-3 : v ~ /Gbit$/ ? 1e3 : v ~ /Mbit$/ ? 1 : 1e-6; return (v + 0) * f }
				{ for (i = 1; i < NF; i++) { if ($i == "rate") r = mbit($(i + 1)); if ($i == "ceil") c = mbit($(i + 1)) } }
				END { if ((r - min) ^ 2 > 1e-6 || (c - max) ^ 2 > 1e-6) print "x" }'
		done | wc -l)))
done
circuits=$(echo "$show" | jq '.circuits | length')
kill -0 "$IPERF" 2>/dev/null && traffic=true || traffic=false
kill "$IPERF" 2>/dev/null
tb_sub iperf3 -c 198.19.0.2 -B 198.18.1.10 -p 5902 -R -t 3 -O 1 -J >"$WORK/end.json" 2>&1 ||
	{ sleep 1; tb_sub iperf3 -c 198.19.0.2 -B 198.18.1.10 -p 5902 -R -t 3 -O 1 -J >"$WORK/end.json" 2>&1; }
g=$(goodput "$WORK/end.json")
cs unload >/dev/null 2>&1 || errors=$((errors + 1))
# settled: once the kernel's deferred frees ran, nothing of ours may be left
leak_check >/dev/null 2>&1 && settled=true || settled=false
sample $((done_cycles + 1))
emit "$(jq -nc --argjson cycles "$done_cycles" --argjson kills "$kills" --argjson errors "$errors" \
	--argjson circuits "$circuits" --argjson expected $((N + 1)) --argjson bad "$bad" --argjson g "$g" --argjson settled "$settled" --argjson traffic "$traffic" \
	--argjson seconds "$(echo "$(now) - $T0" | bc)" \
	'{test: "end", cycles: $cycles, seconds: $seconds, killed_loads: $kills, command_errors: $errors,
	  circuits: $circuits, circuits_expected: $expected, circuits_misshaped: $bad, steady_goodput_bps: $g, steady_plan_bps: 50e6,
	  nothing_left_after_unload: $settled, traffic_ran_throughout: $traffic}')"
log "end: $(tail -1 "$RAW/$SECTION.jsonl")"
