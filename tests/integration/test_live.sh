#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Operating a running shaper under real traffic: statistics per CPU and per
# circuit, set-rate, reloads that must not disturb a busy circuit, what a class
# change does to queued packets, and the Prometheus exporter.
# Usage: test_live.sh CPUSHAPER_BINARY
set -u
BIN=$(realpath "$1")
HERE=$(dirname "$(realpath "$0")")
TB="cs$$l-"
source "$HERE/../lib/testbed.sh"
source "$HERE/../lib/assert.sh"
UDP="/usr/bin/python3 $HERE/../lib/udpburst.py"

tb_start || fail "test bed setup"
cs() { tb_rtr "$BIN" "$@" --lan-dev lan0 --wan-dev wan0; }
now() { date +%s.%N; }

HDR="Circuit ID,Circuit Name,Device ID,Device Name,Parent Node,MAC,IPv4,IPv6,Download Min Mbps,Upload Min Mbps,Download Max Mbps,Upload Max Mbps,Comment"
cat > "$WORK/a.csv" <<CSV
$HDR
c-busy,Busy,d1,,,,198.18.1.10,,10,5,40,20,
c-a,A,d2,,,,198.18.1.21,,5,5,20,20,only in a.csv
c-b,B,d3,,,,198.18.1.22,,5,5,20,20,rates differ in b.csv
"c-""q""\\x",Quote,d4,,,,198.18.1.23,,5,5,30,30,an ID that needs escaping
c-burst,Burst,d5,,,,198.18.1.30,,1,0.5,1,1,queue test
CSV
sed -e '/^c-a,/d' -e 's/^c-b,B,d3,,,,198.18.1.22,,5,5,20,20,/c-b,B,d3,,,,"198.18.1.22,198.18.1.25",,6,6,25,25,/' "$WORK/a.csv" > "$WORK/b.csv"
echo 'c-new,New,d6,,,,198.18.1.24,,5,5,15,15,only in b.csv' >> "$WORK/b.csv"
tb_subscriber 198.18.1.10 198.18.1.30
# HTB's own deep pfifo (--leaf none): the class-change check below needs 300 packets
# queued in a 1 Mbit class, which the bounded fallback (20 ms of the plan) would not hold
cs load --leaf none "$WORK/a.csv" >/dev/null 2>&1 || fail "load a.csv"
tb_iperf_server 5501 || fail "iperf3 server"

field() { cs show -j | jq -r ".circuits[] | select(.id==\"$1\") | $2"; }
BUSY_CPU=$(field c-busy .cpu)
OTHER_CPU=$((1 - BUSY_CPU))
BUSY_CLS=$(field c-busy .down.classid)
class_bytes() { tb_rtr tc -s class show dev "$1" classid "$2" | awk '/Sent/ { print $2; exit }'; }

# --- counters grow on the busy circuit's CPU only --------------------------------
cs top --once -j > "$WORK/top0.json"; cs show -j > "$WORK/show0.json"
tb_sub iperf3 -c 198.19.0.2 -B 198.18.1.10 -p 5501 -R -t 2 >/dev/null || fail "iperf3"
cs top --once -j > "$WORK/top1.json"; cs show -j > "$WORK/show1.json"
delta_cpu() { echo $(( $(jq ".cpus[] | select(.cpu==$1) | $2" "$WORK/top1.json") - $(jq ".cpus[] | select(.cpu==$1) | $2" "$WORK/top0.json") )); }
expect_ge "$(delta_cpu "$BUSY_CPU" .bytes)" 8000000 "top: CPU $BUSY_CPU (the busy circuit's) counted its bytes"
expect_ge "$(delta_cpu "$BUSY_CPU" .xdp.packets)" 5000 "top: XDP steered the packets to CPU $BUSY_CPU"
expect_ge "$(delta_cpu "$BUSY_CPU" .cpumap.packets)" 5000 "top: and they arrived there through the cpumap"
expect_le "$(delta_cpu "$OTHER_CPU" .bytes)" 50000 "top: CPU $OTHER_CPU saw only stray traffic"
expect_le "$(delta_cpu "$OTHER_CPU" .xdp.packets)" 50 "top: nothing steered to CPU $OTHER_CPU"
jq -e '.cpus | length == 2 and all(.[]; has("cpu") and has("circuits") and has("packets") and has("bytes") and has("drops"))' \
	"$WORK/top1.json" >/dev/null; verdict $? "top --once -j has cpu, circuits, packets, bytes, drops per CPU" "$(head -c 300 "$WORK/top1.json")"
for id in c-busy c-a c-b c-burst; do
	d=$(( $(jq ".circuits[] | select(.id==\"$id\") | .down.bytes" "$WORK/show1.json") - $(jq ".circuits[] | select(.id==\"$id\") | .down.bytes" "$WORK/show0.json") ))
	if [ $id = c-busy ]; then expect_ge "$d" 8000000 "show: $id's download bytes grew"
	else expect_le "$d" 0 "show: $id's download bytes did not"; fi
done
expect_eq "$(jq -r '.busiest[0].id' "$WORK/top1.json")" c-busy "top: the busy circuit leads the busiest list"

out=$(cs top -n 2 -d 0.3); st=$?
expect_eq "$st" 0 "top: two refreshes, then exits"
expect_eq "$(echo "$out" | grep -c '^CPU ')" 2 "top: the live screen was drawn twice"
expect_eq "$(cs top -j -n 2 -d 0.3 | jq -s 'length')" 2 "top -j: one JSON snapshot per refresh"

# --- set-rate under traffic ------------------------------------------------------
# 40 Mbit for 2 s, 20 Mbit from 2 s, 40 Mbit again from 4.5 s; half-second intervals.
start=$(now)
tb_sub iperf3 -c 198.19.0.2 -B 198.18.1.10 -p 5501 -R -t 7 -i 0.5 -J > "$WORK/setrate.json" &
ipid=$!
sleep 2
t1=$(now); out=$(cs set-rate c-busy --down-max 20) || flunk "set-rate down"
expect_contains "$out" "down min 10 max 40 -> min 10 max 20 Mbit" "set-rate reports the change"
sleep 2.5
t2=$(now); cs set-rate c-busy --down-max 40 >/dev/null || flunk "set-rate up"
wait $ipid
# iperf3's interval clock starts when its test starts: about 0.1 s after launch
check_window() { # FROM TO PLAN_MBPS WHAT
	local bad n
	n=$(jq "[.intervals[].sum | select(.start >= $1 and .end <= $2)] | length" "$WORK/setrate.json")
	bad=$(jq -r "[.intervals[].sum | select(.start >= $1 and .end <= $2) | .bits_per_second / ($3 * 1e6)
		| select(. < 0.85 or . > 1.0)] | map(tostring) | join(\" \")" "$WORK/setrate.json")
	[ "$n" -ge 2 ] && [ -z "$bad" ]; verdict $? "$4" "$n intervals, outside [0.85,1.0]: $bad"
}
o1=$(echo "$t1 - $start" | bc -l); o2=$(echo "$t2 - $start" | bc -l)
check_window 0.5 "$o1" 40 "before set-rate: goodput follows 40 Mbit"
check_window "$(echo "$o1 + 1" | bc -l)" "$o2" 20 "within a second of set-rate 20: goodput follows 20 Mbit"
check_window "$(echo "$o2 + 1" | bc -l)" 7.1 40 "within a second of set-rate 40: goodput follows 40 Mbit"
jq -r '.intervals[].sum | "    \(.start|.*10|round/10)s \(.bits_per_second/1e6*100|round/100) Mbit/s"' "$WORK/setrate.json" | paste -sd' ' | fold -w 150
expect_contains "$(tb_rtr tc class show dev lan0 classid "$BUSY_CLS")" "ceil 40Mbit" "class back at 40 Mbit"
expect_eq "$(rc() { "$@" >/dev/null 2>&1; echo $?; }; rc cs set-rate c-busy --down-min 50)" 1 "set-rate refuses Min above Max"
expect_eq "$(rc() { "$@" >/dev/null 2>&1; echo $?; }; rc cs set-rate c-nope --down-max 5)" 1 "set-rate of an unknown circuit fails"

# --- reloads of other circuits do not disturb a busy one -------------------------
tb_sub iperf3 -c 198.19.0.2 -B 198.18.1.10 -p 5501 -R -t 9 -O 1 -i 1 -J > "$WORK/reload.json" &
ipid=$!
sleep 1.5
prev=$(class_bytes lan0 "$BUSY_CLS"); resets=0; loads=0; moved=0
for i in 1 2 3 4 5 6 7 8 9 10; do
	f=$([ $((i % 2)) = 1 ] && echo b || echo a)
	cs load "$WORK/$f.csv" >/dev/null 2>&1 || flunk "load $f.csv"
	loads=$((loads + 1))
	cur=$(class_bytes lan0 "$BUSY_CLS")
	[ "$cur" -ge "$prev" ] || resets=$((resets + 1))
	prev=$cur
	[ "$(field c-busy .down.classid)" = "$BUSY_CLS" ] || moved=$((moved + 1))
	sleep 0.4
done
wait $ipid
expect_eq "$loads" 10 "ten loads alternating a.csv and b.csv during the download"
expect_eq "$resets" 0 "the busy circuit's class byte counter never went back"
expect_eq "$moved" 0 "the busy circuit kept its class"
min=$(jq '[.intervals[] | select(.sum.omitted | not) | .sum.bits_per_second] | min / 40e6' "$WORK/reload.json")
echo "    per-second goodput / plan during reloads: $(jq -r '[.intervals[] | select(.sum.omitted | not) | .sum.bits_per_second / 40e6 * 1000 | round / 1000] | map(tostring) | join(" ")' "$WORK/reload.json")"
expect_range "$min" 0.8 1.0 "no one-second interval below 0.8 x plan during reloads"
expect_eq "$(field c-new .id)" "" "the last file loaded was a.csv: c-new is gone again"

# --- a class change keeps the class's queued packets -----------------------------
# c-burst uploads at 1 Mbit: 300 datagrams of 1000 bytes queue for ~2.5 s.
BURST_CLS=$(field c-burst .up.classid)
tb_net $UDP recv 198.19.0.2 6000 3 > "$WORK/recv.out" &
rpid=$!
for i in $(seq 50); do grep -q ready "$WORK/recv.out" 2>/dev/null && break; sleep 0.1; done
drops0=$(tb_rtr tc -s class show dev wan0 classid "$BURST_CLS" | awk '/dropped/ { gsub(",", "", $7); print $7; exit }')
tb_sub $UDP send 198.18.1.30 198.19.0.2 6000 300 1000 >/dev/null
sleep 0.3
queued=$(tb_rtr tc -s class show dev wan0 classid "$BURST_CLS" | awk '/backlog/ { sub("p", "", $3); print $3; exit }')
cs set-rate c-burst --up-max 2 >/dev/null || flunk "set-rate during the burst"
wait $rpid
got=$(tail -1 "$WORK/recv.out")
drops1=$(tb_rtr tc -s class show dev wan0 classid "$BURST_CLS" | awk '/dropped/ { gsub(",", "", $7); print $7; exit }')
echo "    class change with $queued packets queued: $got of 300 delivered, class drops $drops0 -> $drops1"
expect_ge "$queued" 100 "packets were queued in the class when it changed"
expect_eq "$got" 300 "every queued packet was delivered after the class change"
expect_eq "$drops1" "$drops0" "the class change dropped nothing"

# --- the Prometheus exporter -----------------------------------------------------
# not through a function: $! must be the exporter itself (ip netns exec execs it)
ip netns exec "${TB}rtr" "$BIN" metrics --listen 127.0.0.1:9631 --lan-dev lan0 --wan-dev wan0 \
	>/dev/null 2>"$WORK/metrics.err" &
mpid=$!
TB_PIDS+=("$mpid")
for i in $(seq 50); do tb_rtr curl -sf http://127.0.0.1:9631/metrics -o "$WORK/metrics.txt" && break; sleep 0.1; done
/usr/bin/python3 - "$WORK/metrics.txt" <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
fams = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1]).read())}
def samples(name):
    return fams[name].samples
assert samples("cpushaper_up")[0].value == 1, "cpushaper_up is 1"
ids = {s.labels["circuit"] for s in samples("cpushaper_circuit_bytes")}
assert ids == {"c-busy", "c-a", "c-b", 'c-"q"\\x', "c-burst"}, ids
busy = [s for s in samples("cpushaper_circuit_bytes")
        if s.labels["circuit"] == "c-busy" and s.labels["direction"] == "down"]
assert busy and busy[0].value > 10e6, busy
cpus = {s.labels["cpu"] for s in samples("cpushaper_cpu_bytes")}
assert cpus == {"0", "1"}, cpus
for fam in ("cpushaper_cpu_circuits", "cpushaper_cpu_drops", "cpushaper_cpu_backlog_bytes",
            "cpushaper_cpu_cpumap_drops", "cpushaper_circuit_drops", "cpushaper_circuit_max_bits_per_second",
            "cpushaper_unclassified_packets"):
    assert fam in fams, fam
print(len(fams), "families,", sum(len(f.samples) for f in fams.values()), "samples")
PY
verdict $? "exporter: valid exposition text with per-CPU and per-circuit series (escaped labels)" "$(head -5 "$WORK/metrics.txt")"
expect_eq "$(tb_rtr curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:9631/other)" 404 "exporter: 404 elsewhere"
expect_eq "$(tb_rtr curl -s -o /dev/null -w '%{http_code}' -X POST http://127.0.0.1:9631/metrics)" 405 "exporter: GET only"
cs unload >/dev/null
sleep 1.1 # scrapes within a second share one page
expect_contains "$(tb_rtr curl -s http://127.0.0.1:9631/metrics)" "cpushaper_up 0" "exporter follows an unload (within a second)"
kill -TERM "$mpid"; wait "$mpid"
expect_eq "$?" 0 "exporter stops cleanly on SIGTERM"
done_tests
