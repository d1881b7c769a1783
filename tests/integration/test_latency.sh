#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Latency under load where the kernel has no AQM: the fallback leaf is a pfifo
# of --queue-ms (20) of the plan in full-size packets, so a ping through a
# saturated 20 Mbit circuit waits about that long at most, under 8 TCP download
# flows and under a UDP flood at twice the plan, while TCP keeps its plan. The
# same flood with HTB's own 1000-packet pfifo (sqm none) shows what the bound
# saves (and that this test can fail). Also: the leaf follows a plan change and
# a new --queue-ms in place, on a handle of ours; the sqm column; the fallback
# warning and what show says.
# Usage: test_latency.sh CPUSHAPER_BINARY
set -u
BIN=$(realpath "$1")
HERE=$(dirname "$(realpath "$0")")
TB="cs$$t-"
source "$HERE/../lib/testbed.sh"
source "$HERE/../lib/assert.sh"

tb_start || fail "test bed setup"
cs() { tb_rtr "$BIN" "$@" --lan-dev lan0 --wan-dev wan0; }
HDR="Circuit ID,Circuit Name,Device ID,Device Name,Parent Node,MAC,IPv4,IPv6,Download Min Mbps,Upload Min Mbps,Download Max Mbps,Upload Max Mbps,Comment,sqm"
{
	echo "$HDR"
	echo "c-lat,Latency,d1,,,,198.18.1.10,,1,1,20,20,,"
	echo "c-none,No SQM,d2,,,,198.18.1.20,,1,1,20,20,,none"
	echo "c-pair,Pair,d3,,,,198.18.1.30,,1,1,20,20,,fq_codel/none"
} >"$WORK/c.csv"
tb_subscriber 198.18.1.10
tb_iperf_server 5901 || fail "iperf3 server"

# ping_median SECONDS: median RTT (ms) of pings through the circuit, 20 a second
ping_median() {
	tb_sub ping -n -i 0.05 -c $(($1 * 20)) -I 198.18.1.10 198.19.0.2 2>/dev/null |
		grep -o 'time=[0-9.]*' | cut -d= -f2 | sort -n | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : 999 }'
}
lt() { [ "$(echo "$1 < $2" | bc -l)" = 1 ]; }
field() { cs show -j | jq -c ".circuits[] | select(.id==\"$1\") | $2"; }
# leaf ID DEV: the leaf qdisc of circuit ID's class on DEV
leaf() {
	local cls
	cls=$(field "$1" '.down.classid' | tr -d '"')
	tb_rtr tc qdisc show dev "$2" parent "$cls"
}

# the fallback, as this kernel (no fq_codel) gives it: one warning naming the count
out=$(cs load --leaf fq_codel "$WORK/c.csv" 2>&1) || fail "load ($out)"
expect_contains "$out" "this kernel has no fq_codel: 2 of 3 circuits get the fallback leaf, a FIFO of 20 ms" \
	"one warning says how many circuits get the fallback"
expect_eq "$(field c-lat '.leaf | del(.kernel)')" '{"down":"fifo","up":"fifo","down_wanted":"fq_codel","up_wanted":"fq_codel"}' \
	"show -j: the leaf each direction has, and what it wanted"
expect_eq "$(field c-none '.leaf | del(.kernel)')" '{"down":"pfifo","up":"pfifo"}' "sqm none: HTB's own pfifo"
expect_eq "$(field c-pair '.leaf | del(.kernel)')" '{"down":"fifo","up":"pfifo","down_wanted":"fq_codel","up_wanted":"pfifo"}' \
	"a down/up pair"
expect_eq "$(cs show -j | jq -c '[.circuits[].leaf.kernel | .down.as_recorded, .up.as_recorded] | unique')" '[true]' \
	"the kernel has every leaf as recorded"
expect_eq "$(field c-pair '.leaf.kernel | [.down.kind, .up.kind, .up.handle]')" '["fifo","pfifo","0:"]' \
	"show -j: the pair's leaves as the kernel has them"
expect_contains "$(cs show c-lat)" "leaf fifo/fifo (wanted fq_codel/fq_codel: not in this kernel)" "show's text"
expect_contains "$(leaf c-lat lan0)" "qdisc pfifo 6: " "the leaf has a handle of ours (HTBs 1: and 3:, default leaves 4: and 5:, then circuits: src/handles.h)"
expect_contains "$(leaf c-lat lan0)" "limit 34p" "the fallback: 20 ms of 20 Mbit in full-size packets"
expect_contains "$(leaf c-lat wan0)" "qdisc pfifo 6: " "the same major upstream"
# HTB's own pfifo is hidden from dumps: no leaf listed is no leaf of ours
expect_eq "$(leaf c-none lan0)" "" "sqm none: no leaf qdisc of ours, no handle"
expect_eq "$(leaf c-pair wan0)" "" "the pair's upload: none"
cs top --once -j >"$WORK/top.json" 2>&1 || flunk "top --once -j"
cs unload >/dev/null

# the latency figures, with the fallback asked for by name
out=$(cs load --leaf fifo "$WORK/c.csv" 2>&1) || fail "load --leaf fifo ($out)"
expect_contains "$out" "no fq_codel: 1 of 3 circuits" "--leaf fifo: only the circuit whose sqm names fq_codel falls back"
idle=$(ping_median 1)
echo "idle ping median: $idle ms"

tb_sub iperf3 -c 198.19.0.2 -B 198.18.1.10 -p 5901 -R -P 8 -t 7 -J >"$WORK/tcp.json" 2>"$WORK/tcp.err" &
IPID=$!
sleep 1.5
busy=$(ping_median 4)
wait "$IPID"
g=$(jq -r '.end.sum_received.bits_per_second // 0' "$WORK/tcp.json")
r=$(echo "$g / 20000000" | bc -l | sed 's/^\./0./')
echo "8 TCP flows: ping median $busy ms, goodput $r of the plan"
lt "$busy" 30; verdict $? "under 8 TCP download flows a ping waits under 30 ms (median)" "median $busy ms"
expect_range "$r" 0.9 1.02 "and TCP keeps at least 0.9 of the plan"

tb_sub iperf3 -c 198.19.0.2 -B 198.18.1.10 -p 5901 -R -u -b 40M -t 6 >/dev/null 2>&1 &
IPID=$!
sleep 1.5
flood=$(ping_median 3)
wait "$IPID"
echo "UDP flood at 2x the plan: ping median $flood ms"
lt "$flood" 30; verdict $? "under a UDP flood at twice the plan a ping waits under 30 ms (median)" "median $flood ms"

# the leaf follows the plan and --queue-ms, in place (same handle)
cs set-rate c-lat --down-max 100 >/dev/null || flunk "set-rate"
expect_contains "$(leaf c-lat lan0)" "qdisc pfifo 6: " "set-rate: the same leaf"
expect_contains "$(leaf c-lat lan0)" "limit 166p" "set-rate resizes it with the plan (100 Mbit, 20 ms)"
cs load --queue-ms 10 "$WORK/c.csv" >/dev/null 2>&1 || flunk "load --queue-ms 10"
expect_contains "$(leaf c-lat lan0)" "limit 17p" "--queue-ms 10 on a reload: the file's 20 Mbit, 10 ms"
expect_eq "$(cs show -j | jq .queue_ms)" 10 "show -j: the queue time"
cs load "$WORK/c.csv" >/dev/null 2>&1 || flunk "load again"
expect_contains "$(leaf c-lat lan0)" "limit 17p" "a reload without --queue-ms keeps it"
# an sqm change: another kind on the same class
sed -i 's/^c-none,\(.*\),none$/c-none,\1,/' "$WORK/c.csv"
cs load "$WORK/c.csv" >/dev/null 2>&1 || flunk "load: sqm none -> default"
expect_contains "$(leaf c-none lan0)" "limit 17p" "sqm none -> empty: c-none gets the fifo"
expect_eq "$(field c-none .leaf.down)" '"fifo"' "and its record says so"

# the same flood with HTB's own 1000-packet pfifo: what the bound saves
cs load --leaf none "$WORK/c.csv" >/dev/null 2>&1 || flunk "load --leaf none"
expect_eq "$(leaf c-lat lan0)" "" "--leaf none on a reload: HTB's own pfifo is back"
expect_eq "$(tb_rtr tc qdisc show dev lan0 parent 1:2)" "" "and on the default class :2 too"
tb_sub iperf3 -c 198.19.0.2 -B 198.18.1.10 -p 5901 -R -u -b 40M -t 6 >/dev/null 2>&1 &
IPID=$!
sleep 2
fifo=$(ping_median 3)
wait "$IPID"
echo "UDP flood with the 1000-packet pfifo: ping median $fifo ms"
lt 100 "$fifo"; verdict $? "with the unbounded pfifo the same ping waits over 100 ms (the test sees the difference)" "median $fifo ms"
out=$(cs load --leaf fifo "$WORK/c.csv" 2>&1) || flunk "back to --leaf fifo ($out)"
expect_contains "$(tb_rtr tc qdisc show dev lan0 parent 1:2)" "qdisc pfifo 4: " "--leaf fifo again: :2 gets its FIFO back"
cs unload >/dev/null
done_tests
