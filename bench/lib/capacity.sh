#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Capacity: aggregate TCP download of many flows over many circuits whose plans do
# not limit, through each configuration in turn (interleaved rounds), each taken
# as a ratio of plain forwarding measured in the same round. Then one flow alone.
SECTION=capacity
source "$(dirname "$0")/common.sh"
REPS=${REPS:-3}
T=${T:-4}
NC=${CIRCUITS:-8}
CONFIGS=${CONFIGS:-plain xdp_pass htb_u32 cpushaper cpushaper_nometa cpushaper_skb cpushaper_q256 cpushaper_skiplocal}
INPATH=${INPATH:-cpushaper cpushaper_nometa}
[ "$SMOKE" = 1 ] && REPS=1 T=1 NC=2 CONFIGS="plain cpushaper" INPATH=cpushaper
EMPTY=$ROOT/build/bench/empty.bpf.o

tb_start || exit 1
hdr="Circuit ID,Circuit Name,Device ID,Device Name,Parent Node,MAC,IPv4,IPv6,Download Min Mbps,Upload Min Mbps,Download Max Mbps,Upload Max Mbps,Comment"
{
	echo "$hdr"
	for k in $(seq "$NC"); do echo "x$k,bulk $k,d$k,,,,198.18.1.$((100 + k)),,5000,5000,10000,10000,"; done
} > "$WORK/bulk.csv"
for k in $(seq "$NC"); do tb_subscriber 198.18.1.$((100 + k)) >/dev/null; tb_iperf_server $((5800 + k)) || exit 1; done

setup() {
	case $1 in
	plain) ;;
	xdp_pass)
		tb_rtr ip link set dev wan0 xdpdrv obj "$EMPTY" sec xdp &&
		tb_rtr ip link set dev lan0 xdpdrv obj "$EMPTY" sec xdp ;;
	htb_u32) # the classic shaper: one HTB, one lock, u32 filters on the destination
		tb_rtr tc qdisc add dev lan0 root handle 1: htb default 2 &&
		tb_rtr tc class add dev lan0 parent 1: classid 1:1 htb rate 100gbit quantum 200000 &&
		tb_rtr tc class add dev lan0 parent 1:1 classid 1:2 htb rate 1gbit ceil 100gbit quantum 200000 &&
		for k in $(seq "$NC"); do
			tb_rtr tc class add dev lan0 parent 1:1 classid 1:$((k + 2)) htb rate 5gbit ceil 10gbit quantum 200000 &&
			tb_rtr tc filter add dev lan0 parent 1: protocol ip prio 1 u32 \
				match ip dst 198.18.1.$((100 + k))/32 flowid 1:$((k + 2)) || return 1
		done ;;
	cpushaper) cs load --link-mbps 100000 "$WORK/bulk.csv" >/dev/null 2>&1 ;;
	cpushaper_skb) cs load --xdp-mode skb --link-mbps 100000 "$WORK/bulk.csv" >/dev/null 2>&1 ;;
	cpushaper_q256) cs load --cpumap-qsize 256 --link-mbps 100000 "$WORK/bulk.csv" >/dev/null 2>&1 ;;
	cpushaper_skiplocal) cs load --skip-local --link-mbps 100000 "$WORK/bulk.csv" >/dev/null 2>&1 ;;
	cpushaper_nometa) cs load --no-xdp-meta --link-mbps 100000 "$WORK/bulk.csv" >/dev/null 2>&1 ;;
	esac
}

teardown() {
	case $1 in
	xdp_pass) tb_rtr ip link set dev wan0 xdpdrv off; tb_rtr ip link set dev lan0 xdpdrv off ;;
	htb_u32) tb_rtr tc qdisc del dev lan0 root ;;
	cpushaper*) cs unload >/dev/null ;;
	esac
	return 0
}

# measure FLOWS_PER_CIRCUIT CIRCUITS: aggregate download goodput in bit/s
measure() {
	local k pids=() sum=0
	for k in $(seq "$2"); do
		tb_sub iperf3 -c 198.19.0.2 -B 198.18.1.$((100 + k)) -p $((5800 + k)) -R -P "$1" -t "$T" -O 1 -J \
			> "$WORK/c$k.json" 2>&1 &
		pids+=($!)
	done
	wait "${pids[@]}"
	for k in $(seq "$2"); do sum=$(echo "$sum + $(goodput "$WORK/c$k.json")" | bc -l); done
	echo "$sum"
}

for rep in $(seq "$REPS"); do
	declare -A got=()
	for cfg in $CONFIGS; do
		if ! setup "$cfg"; then log "setup of $cfg failed"; teardown "$cfg"; continue; fi
		got[$cfg]=$(measure 2 "$NC")
		teardown "$cfg"
	done
	for cfg in $CONFIGS; do
		[ -n "${got[$cfg]:-}" ] || continue
		emit "{\"test\":\"aggregate\",\"config\":\"$cfg\",\"rep\":$rep,\"circuits\":$NC,\"flows\":$((NC * 2)),\"goodput_bps\":${got[$cfg]},\"ratio\":$(echo "${got[$cfg]} / ${got[plain]}" | bc -l | sed 's/^\./0./')}"
	done
	# one flow through a non-limiting class vs plain forwarding
	for cfg in plain cpushaper; do
		setup $cfg; one=$(measure 1 1); teardown $cfg
		[ $cfg = plain ] && base=$one
		emit "{\"test\":\"single_flow\",\"config\":\"$cfg\",\"rep\":$rep,\"goodput_bps\":$one,\"ratio\":$(echo "$one / $base" | bc -l | sed 's/^\./0./')}"
	done
	log "round $rep of $REPS done"
done

# The programs' own cost in the real path, from the kernel's BPF run-time stats
# (kernel.bpf_stats_enabled, machine-wide: on only for these runs, and off again
# on any exit). The stats add two clock reads per run, so compare the configs
# with each other rather than with bpf_prog_test_run_opts figures.
stats_old=$(sysctl -n kernel.bpf_stats_enabled)
trap 'sysctl -qw kernel.bpf_stats_enabled=$stats_old; tb_teardown; rm -rf "$WORK"' EXIT
prog_stats() { # NAME -> "run_cnt run_time_ns"
	bpftool prog show -j | jq -r --arg n "$1" '[.[] | select(.name == $n)] |
		"\(map(.run_cnt // 0) | add // 0) \(map(.run_time_ns // 0) | add // 0)"'
}
for rep in $(seq "$REPS"); do
	for cfg in $INPATH; do
		setup "$cfg" || { teardown "$cfg"; continue; }
		sysctl -qw kernel.bpf_stats_enabled=1
		declare -A before=()
		for p in cs_xdp_steer cs_tc_classify cs_cpumap_arrive; do before[$p]=$(prog_stats $p); done
		measure 2 "$NC" >/dev/null
		for p in cs_xdp_steer cs_tc_classify cs_cpumap_arrive; do
			read -r c0 t0 <<<"${before[$p]}"
			read -r c1 t1 <<<"$(prog_stats $p)"
			[ "$c1" -gt "$c0" ] || continue
			emit "{\"test\":\"inpath_ns\",\"config\":\"$cfg\",\"prog\":\"$p\",\"rep\":$rep,\"runs\":$((c1 - c0)),\"ns\":$(echo "($t1 - $t0) / ($c1 - $c0)" | bc -l | sed 's/^\./0./')}"
		done
		sysctl -qw kernel.bpf_stats_enabled="$stats_old"
		teardown "$cfg"
	done
done
