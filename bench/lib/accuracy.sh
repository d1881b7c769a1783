#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Accuracy: iperf3 TCP goodput / Max for plans from 1 to 1000 Mbit/s, both
# directions, IPv4 and IPv6, one circuit at a time; then circuits competing on
# one CPU under a small link (each must get its Min, together the link), and
# circuits on both CPUs at once.
SECTION=accuracy
source "$(dirname "$0")/common.sh"
PLANS=${PLANS:-1 5 20 100 500 1000}
REPS=${REPS:-3}
T=${T:-3}
[ "$SMOKE" = 1 ] && PLANS="20" REPS=1 T=1

tb_start || exit 1
hdr="Circuit ID,Circuit Name,Device ID,Device Name,Parent Node,MAC,IPv4,IPv6,Download Min Mbps,Upload Min Mbps,Download Max Mbps,Upload Max Mbps,Comment"
{
	echo "$hdr"
	i=10
	for p in $PLANS; do
		echo "p$p,plan $p,d$p,,,,198.18.1.$i,2001:db8:1::$i,$(echo "$p / 2" | bc -l),$(echo "$p / 2" | bc -l),$p,$p,"
		tb_subscriber 198.18.1.$i 2001:db8:1::$i >/dev/null
		i=$((i + 1))
	done
} > "$WORK/plans.csv"
cs load "$WORK/plans.csv" >/dev/null 2>&1 || { echo "accuracy: load failed" >&2; exit 1; }
tb_iperf_server 5701 || exit 1

for rep in $(seq "$REPS"); do
	i=10
	for p in $PLANS; do
		cpu=$(cs show -j "p$p" | jq '.circuits[0].cpu')
		for fam in ipv4 ipv6; do
			if [ $fam = ipv4 ]; then b=198.18.1.$i s=198.19.0.2; else b=2001:db8:1::$i s=2001:db8:ff::2; fi
			for dir in down up; do
				tb_sub iperf3 -c $s -B $b -p 5701 $([ $dir = down ] && echo -R) -t "$T" -O 1 -J > "$WORK/r.json" 2>&1
				g=$(goodput "$WORK/r.json")
				emit "{\"test\":\"single\",\"plan_mbps\":$p,\"family\":\"$fam\",\"dir\":\"$dir\",\"rep\":$rep,\"cpu\":$cpu,\"goodput_bps\":$g,\"ratio\":$(echo "$g / ($p * 1000000)" | bc -l | sed 's/^\./0./')}"
			done
		done
		i=$((i + 1))
	done
	log "single circuits, repetition $rep of $REPS done"
done
cs unload >/dev/null

# Competing: three circuits on CPU 0 under a 100 Mbit link class; Min 10/20/30, Max 100 each.
{
	echo "$hdr"
	echo "k1,min 10,d1,,,,198.18.1.31,,10,10,100,100,"
	echo "k2,min 20,d2,,,,198.18.1.32,,20,20,100,100,"
	echo "k3,min 30,d3,,,,198.18.1.33,,30,30,100,100,"
} > "$WORK/compete.csv"
tb_subscriber 198.18.1.31 198.18.1.32 198.18.1.33 >/dev/null
cs load --cpus 0 --link-mbps 100 "$WORK/compete.csv" >/dev/null 2>&1 || { echo "accuracy: compete load failed" >&2; exit 1; }
tb_iperf_server 5702; tb_iperf_server 5703
for rep in $(seq "$REPS"); do
	pids=()
	for k in 1 2 3; do
		tb_sub iperf3 -c 198.19.0.2 -B 198.18.1.3$k -p 570$k -R -t "$T" -O 1 -J > "$WORK/k$k.json" 2>&1 &
		pids+=($!)
	done
	wait "${pids[@]}"
	for k in 1 2 3; do
		g=$(goodput "$WORK/k$k.json")
		emit "{\"test\":\"compete_one_cpu\",\"circuit\":\"k$k\",\"min_mbps\":$((k * 10)),\"link_mbps\":100,\"rep\":$rep,\"goodput_bps\":$g}"
	done
done
cs unload >/dev/null

# Both CPUs at once: four 200 Mbit circuits, two per CPU, all downloading.
{
	echo "$hdr"
	for k in 1 2 3 4; do echo "m$k,multi $k,d$k,,,,198.18.1.4$k,,100,100,200,200,"; done
} > "$WORK/multi.csv"
tb_subscriber 198.18.1.41 198.18.1.42 198.18.1.43 198.18.1.44 >/dev/null
cs load "$WORK/multi.csv" >/dev/null 2>&1 || { echo "accuracy: multi load failed" >&2; exit 1; }
tb_iperf_server 5704
for rep in $(seq "$REPS"); do
	pids=()
	for k in 1 2 3 4; do
		tb_sub iperf3 -c 198.19.0.2 -B 198.18.1.4$k -p 570$k -R -t "$T" -O 1 -J > "$WORK/m$k.json" 2>&1 &
		pids+=($!)
	done
	wait "${pids[@]}"
	for k in 1 2 3 4; do
		g=$(goodput "$WORK/m$k.json")
		cpu=$(cs show -j "m$k" | jq '.circuits[0].cpu')
		emit "{\"test\":\"both_cpus\",\"circuit\":\"m$k\",\"cpu\":$cpu,\"plan_mbps\":200,\"rep\":$rep,\"goodput_bps\":$g,\"ratio\":$(echo "$g / 200000000" | bc -l | sed 's/^\./0./')}"
	done
done
cs unload >/dev/null
log "done"
