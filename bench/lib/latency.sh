#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Latency under load on one circuit per plan (5, 20, 100, 500 Mbit) with each
# leaf this kernel has: HTB's own 1000-packet pfifo (--leaf none) and the
# bounded FIFO of --queue-ms (--leaf fifo). During 8 TCP download flows a ping
# runs through the circuit: its median and p90, the download's goodput against
# the plan, and the subscriber-side round trip cpushaper measured (p50).
# LATENCY_PLANS, LATENCY_SECONDS (default 10).
SECTION=latency
source "$(dirname "$0")/common.sh"
PLANS=${LATENCY_PLANS:-5 20 100 500}
DUR=${LATENCY_SECONDS:-10}
[ "$SMOKE" = 1 ] && PLANS=20 DUR=4

tb_start || exit 1
tb_subscriber 198.18.1.10
tb_iperf_server 5951 || exit 1
for plan in $PLANS; do
	{
		echo "Circuit ID,Circuit Name,Device ID,Device Name,Parent Node,MAC,IPv4,IPv6,Download Min Mbps,Upload Min Mbps,Download Max Mbps,Upload Max Mbps,Comment"
		echo "lat,Latency,d1,,,,198.18.1.10,,1,1,$plan,$plan,"
	} >"$WORK/c.csv"
	for leaf in none fifo; do
		cs unload >/dev/null 2>&1
		cs load --leaf "$leaf" "$WORK/c.csv" >/dev/null 2>&1 || { log "load failed"; exit 1; }
		tb_sub iperf3 -c 198.19.0.2 -B 198.18.1.10 -p 5951 -R -P 8 -t "$DUR" -J >"$WORK/i.json" 2>/dev/null &
		ip=$!
		sleep 2
		tb_sub ping -n -i 0.1 -c $(((DUR - 3) * 10)) -I 198.18.1.10 198.19.0.2 2>/dev/null |
			grep -o 'time=[0-9.]*' | cut -d= -f2 | sort -n >"$WORK/p.txt"
		rtt=$(cs show -j | jq '.circuits[0].rtt.p50_ms // null')
		wait "$ip"
		med=$(awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : "null" }' "$WORK/p.txt")
		p90=$(awk '{ v[NR] = $1 } END { print NR ? v[int(NR * 0.9 + 0.5)] : "null" }' "$WORK/p.txt")
		ratio=$(jq -r --argjson p "$plan" '(.end.sum_received.bits_per_second // 0) / ($p * 1e6)' "$WORK/i.json")
		emit "{\"plan_mbps\":$plan,\"leaf\":\"$leaf\",\"ping_median_ms\":$med,\"ping_p90_ms\":$p90,\"tcp_ratio\":$ratio,\"rtt_p50_ms\":$rtt}"
		log "$plan Mbit, leaf $leaf: ping median $med ms, p90 $p90 ms, TCP $ratio of the plan, cpushaper's RTT p50 $rtt ms"
	done
done
cs unload >/dev/null 2>&1
