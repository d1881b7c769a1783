#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Latency under load where the kernel has no AQM: the fallback leaf is a FIFO
# bounded to --queue-ms (20) of the plan, so a ping through a saturated 20 Mbit
# circuit waits at most about that long, under 8 TCP download flows and under
# a UDP flood at twice the plan, while TCP keeps its plan. The same flood with
# the device's 1000-packet pfifo shows what the bound saves (and that this
# test can fail). Also: the FIFO follows a plan change.
# Usage: test_latency.sh CPUSHAPER_BINARY
set -u
BIN=$(realpath "$1")
HERE=$(dirname "$(realpath "$0")")
TB="cs$$t-"
source "$HERE/../lib/testbed.sh"
source "$HERE/../lib/assert.sh"

tb_start || fail "test bed setup"
cs() { tb_rtr "$BIN" "$@" --lan-dev lan0 --wan-dev wan0; }
{
	echo "Circuit ID,Circuit Name,Device ID,Device Name,Parent Node,MAC,IPv4,IPv6,Download Min Mbps,Upload Min Mbps,Download Max Mbps,Upload Max Mbps,Comment"
	echo "c-lat,Latency,d1,,,,198.18.1.10,,1,1,20,20,"
} >"$WORK/c.csv"
tb_subscriber 198.18.1.10
tb_iperf_server 5901 || fail "iperf3 server"

# ping_median SECONDS: median RTT (ms) of pings through the circuit, 20 a second
ping_median() {
	tb_sub ping -n -i 0.05 -c $(($1 * 20)) -I 198.18.1.10 198.19.0.2 2>/dev/null |
		grep -o 'time=[0-9.]*' | cut -d= -f2 | sort -n | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : 999 }'
}
lt() { [ "$(echo "$1 < $2" | bc -l)" = 1 ]; }

out=$(cs load "$WORK/c.csv" 2>&1) || fail "load ($out)"
cls=$(cs show -j | jq -r '.circuits[0].down.classid')
# circuit_leaf: the leaf qdisc of c-lat's download class
circuit_leaf() { tb_rtr tc qdisc show dev lan0 | grep "parent $cls " ; }
leaf=$(circuit_leaf)
expect_contains "$leaf" "limit 50000b" "the fallback leaf: a bfifo of 20 ms of 20 Mbit (50 000 bytes)"
expect_eq "$(cs show -j | jq -c '[.leaf, .queue_ms]')" '["bfifo",20]' "show -j: the leaf and its queue time"
idle=$(ping_median 1)
echo "idle ping median: $idle ms"

# 8 TCP download flows
tb_sub iperf3 -c 198.19.0.2 -B 198.18.1.10 -p 5901 -R -P 8 -t 7 -J >"$WORK/tcp.json" 2>&1 &
IPID=$!
sleep 1.5
busy=$(ping_median 4)
wait "$IPID"
g=$(jq -r '.end.sum_received.bits_per_second // 0' "$WORK/tcp.json")
r=$(echo "$g / 20000000" | bc -l | sed 's/^\./0./')
echo "8 TCP flows: ping median $busy ms, goodput $r of the plan"
lt "$busy" 30; verdict $? "under 8 TCP download flows a ping waits under 30 ms (median)" "median $busy ms"
expect_range "$r" 0.9 1.02 "and TCP keeps at least 0.9 of the plan"

# a UDP flood at twice the plan
tb_sub iperf3 -c 198.19.0.2 -B 198.18.1.10 -p 5901 -R -u -b 40M -t 6 >/dev/null 2>&1 &
IPID=$!
sleep 1.5
flood=$(ping_median 3)
wait "$IPID"
echo "UDP flood at 2x the plan: ping median $flood ms"
lt "$flood" 30; verdict $? "under a UDP flood at twice the plan a ping waits under 30 ms (median)" "median $flood ms"

# the FIFO follows the plan: 20 -> 100 Mbit makes it 250 000 bytes, in place
cs set-rate c-lat --down-max 100 >/dev/null || flunk "set-rate"
expect_contains "$(circuit_leaf)" "limit 250000b" "set-rate resizes the FIFO with the plan"
cs load --queue-ms 10 "$WORK/c.csv" >/dev/null 2>&1 || flunk "load --queue-ms 10"
expect_contains "$(circuit_leaf)" "limit 25000b" "--queue-ms 10 on a reload: every FIFO takes its new size"

# the same flood with the device's 1000-packet pfifo: what the bound saves
cs unload >/dev/null
cs load --leaf pfifo "$WORK/c.csv" >/dev/null 2>&1 || flunk "load --leaf pfifo"
tb_sub iperf3 -c 198.19.0.2 -B 198.18.1.10 -p 5901 -R -u -b 40M -t 6 >/dev/null 2>&1 &
IPID=$!
sleep 2
fifo=$(ping_median 3)
wait "$IPID"
echo "UDP flood with the 1000-packet pfifo: ping median $fifo ms"
lt 100 "$fifo"; verdict $? "with the unbounded pfifo the same ping waits over 100 ms (the test sees the difference)" "median $fifo ms"
cs unload >/dev/null
done_tests
