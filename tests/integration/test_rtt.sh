#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The round trips TC measures against ping's, on one saturated circuit: 8 TCP
# download flows fill a 20 Mbit plan while ping runs through the same circuit;
# the subscriber side cpushaper reports must be within 0.5-2x of ping's
# median (both see the circuit's queue). Also: the internet side has samples
# from a light upload beside it (pure ACKs are not timed: a download alone
# gives none past its handshakes) and is short (no download queue in it), the
# per-circuit counters follow the traffic, top names the round trips of its
# busiest circuit, and --no-rtt stops the timing.
# Usage: test_rtt.sh CPUSHAPER_BINARY
set -u
BIN=$(realpath "$1")
HERE=$(dirname "$(realpath "$0")")
TB="cs$$r-"
source "$HERE/../lib/testbed.sh"
source "$HERE/../lib/assert.sh"

tb_start || fail "test bed setup"
cs() { tb_rtr "$BIN" "$@" --lan-dev lan0 --wan-dev wan0; }

cat > "$WORK/c.csv" <<'CSV'
Circuit ID,Circuit Name,Device ID,Device Name,Parent Node,MAC,IPv4,IPv6,Download Min Mbps,Upload Min Mbps,Download Max Mbps,Upload Max Mbps,Comment
r-1,Timed,d-1,cpe,,,198.18.1.21,,10,5,20,10,
CSV
tb_subscriber 198.18.1.21
tb_iperf_server 5401 || fail "iperf3 server"
tb_iperf_server 5402 || fail "iperf3 server for the upload"
out=$(cs load "$WORK/c.csv" 2>&1) || fail "load: $out"
expect_eq "$(cs show -j | jq -r '.circuits[0].rtt.samples')" 0 "no samples before any TCP"

tb_sub iperf3 -c 198.19.0.2 -B 198.18.1.21 -p 5401 -R -P 8 -t 14 -J > "$WORK/down.json" 2>"$WORK/down.err" &
ip=$!
sleep 4
tb_sub ping -i 0.2 -c 35 -n 198.19.0.2 > "$WORK/ping.txt" 2>&1 &
pp=$!
# 2 Mbit/s up, under the 10 Mbit upload plan: its segments time the internet side
tb_sub iperf3 -c 198.19.0.2 -B 198.18.1.21 -p 5402 -b 2M -t 8 -J > "$WORK/up.json" 2>"$WORK/up.err" &
up=$!
sleep 7.5
cs show -j > "$WORK/show.json" || fail "show -j during the download"
cs top --once -j > "$WORK/top.json" || fail "top --once -j during the download"
wait "$pp"
wait "$up" || fail "iperf3 upload: $(cat "$WORK/up.err")"
wait "$ip" || fail "iperf3: $(cat "$WORK/down.err")"

ping_ms=$(grep -o 'time=[0-9.]*' "$WORK/ping.txt" | cut -d= -f2 | sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }')
[ -n "$ping_ms" ] || fail "ping: $(cat "$WORK/ping.txt")"
read -r samples p50 p95 net_samples net_p50 <<<"$(jq -r '.circuits[0] | "\(.rtt.samples) \(.rtt.p50_ms) \(.rtt.p95_ms) \(.rtt_internet.samples) \(.rtt_internet.p50_ms)"' "$WORK/show.json")"
echo "  ping median ${ping_ms} ms; cpushaper's subscriber side p50 ${p50} ms, p95 ${p95} ms over ${samples} samples; internet side p50 ${net_p50} ms over ${net_samples} samples"
expect_ge "$samples" 20 "subscriber side: samples in the window"
expect_range "$p50" "$(echo "$ping_ms * 0.5" | bc -l)" "$(echo "$ping_ms * 2" | bc -l)" \
	"subscriber-side p50 within 0.5-2x of ping's median ($ping_ms ms)"
expect_ge "$net_samples" 1 "the internet side has samples too (the upload's)"
expect_range "$net_p50" 0 "$(echo "$ping_ms * 0.5" | bc -l)" "internet-side p50 well under ping's median: no download queue in it"
expect_ge "$(jq -r '.circuits[0].down.bytes' "$WORK/show.json")" $((20000000 / 8 * 5)) \
	"TC's counter of the circuit saw the download"
expect_eq "$(jq -r '.busiest[0].id + " " + (.busiest[0].rtt_p50_ms | type)' "$WORK/top.json")" "r-1 number" \
	"top's busiest circuit comes with its round trip"
echo "  download $(jq -r '.end.sum_received.bits_per_second' "$WORK/down.json") bit/s on a 20 Mbit plan"

# timing off: the next download adds no sample (the window's slots are 4.3 s)
out=$(cs load --no-rtt "$WORK/c.csv" 2>&1) || fail "load --no-rtt: $out"
sleep 9
tb_sub iperf3 -c 198.19.0.2 -B 198.18.1.21 -p 5401 -R -P 2 -t 3 -J > "$WORK/off.json" 2>"$WORK/off.err" || fail "iperf3 without timing"
expect_eq "$(cs show -j | jq -r '.circuits[0].rtt.samples')" 0 "--no-rtt: no samples"
expect_eq "$(cs show -j | jq -r '.circuits[0].down.bytes > 0')" true "but still the counters"
out=$(cs unload 2>&1) || fail "unload: $out"
done_tests
