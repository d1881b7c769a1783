#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# A NOC's day with the shaper: load says what it changes (text, JSON, the
# system log) and names a set-rate it undoes; a truncated export is refused
# unless --force; top and the exporter follow an unload and a new load; a
# circuit is found by address or name; check runs as an unprivileged user with
# load's messages; the exporter's series (circuit_info, no cpu label on circuit
# series, build info, last load, gzip, --no-circuit-series) read by a Prometheus
# parser; capacity warnings; the busiest unknown addresses; XPS put back.
# Usage: test_noc.sh CPUSHAPER_BINARY
set -u
BIN=$(realpath "$1")
HERE=$(dirname "$(realpath "$0")")
TB="cs$$o-"
source "$HERE/../lib/testbed.sh"
source "$HERE/../lib/assert.sh"

tb_start || fail "test bed setup"
cs() { tb_rtr "$BIN" "$@" --lan-dev lan0 --wan-dev wan0; }
HDR="Circuit ID,Circuit Name,Device ID,Device Name,Parent Node,MAC,IPv4,IPv6,Download Min Mbps,Upload Min Mbps,Download Max Mbps,Upload Max Mbps,Comment"
# row ID NAME ADDR DOWN_MAX: a circuit of 1 Mbit Min, 5 Mbit up
row() { echo "$1,$2,d-$1,,,,$3,,1,1,$4,5,"; }
{
	echo "$HDR"
	for i in $(seq 1 20); do row "c-$i" "Customer $i" "198.18.1.$((i + 10))" $((i * 5)); done
	echo "c-v6,Ivy Sixsmith,d-v6,,,,198.18.2.0/30,2001:db8:1::/64,1,1,30,5,"
} >"$WORK/a.csv"
python3 - "$WORK/log.sock" "$WORK/syslog.txt" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "w") as f:
    while True:
        f.write(s.recv(8192).decode() + "\n")
        f.flush()
PY
TB_PIDS+=("$!")
for _ in $(seq 50); do [ -S "$WORK/log.sock" ] && break; sleep 0.1; done
export CS_TEST_SYSLOG=$WORK/log.sock

# XPS as an operator (or the driver) had it: put back by unload
tb_rtr sh -c 'echo 1 > /sys/class/net/lan0/queues/tx-0/xps_cpus; echo 2 > /sys/class/net/lan0/queues/tx-1/xps_cpus'

# 1. The first load lists what it adds; the system log has it, with who ran it.
out=$(cs load "$WORK/a.csv" --link-mbps 60 2>&1); st=$?
expect_eq "$st" 0 "first load ($out)"
expect_contains "$out" "+ c-1 added: cpu " "the text lists each circuit added"
expect_contains "$out" "... and 1 more changes (-v lists them all)" "a long list is cut at 20, with a count"
expect_contains "$out" "c-13: Download Max 65 Mbit/s is above the link class (--link-mbps 60)" "a plan above the link is named"
expect_eq "$(tb_rtr cat /sys/class/net/lan0/queues/tx-0/xps_cpus | tr -d '0,')" "" "XPS is off while shaping"
expect_eq "$(cs show -j | jq -c '[.link_mbps, .default_mbps]')" "[60,1000]" "show -j has the link and default rates"
expect_contains "$(cs show 2>&1 | head -1)" "link class 60 Mbit/s each, default class 1000 Mbit/s" "show says them in text"
log=$(cat "$WORK/syslog.txt")
expect_contains "$log" "cpushaper[" "the system log got the load"
expect_contains "$log" "load $WORK/a.csv by root: 21 circuits, 21 added, 0 changed, 0 moved, 0 removed" "with the counts, the file and who"
expect_eq "$(grep -c "load $WORK/a.csv: + c-" "$WORK/syslog.txt")" 21 "and every change, not only 20"

# 2. A set-rate, then a file with one plan changed, one circuit removed, one added: each named.
cs set-rate c-3 --down-max 7 >/dev/null || flunk "set-rate"
{
	echo "$HDR"
	for i in $(seq 1 20); do
		[ "$i" = 5 ] && continue
		m=$((i * 5)); [ "$i" = 4 ] && m=33
		row "c-$i" "Customer $i" "198.18.1.$((i + 10))" "$m"
	done
	echo "c-v6,Ivy Sixsmith,d-v6,,,,198.18.2.0/30,2001:db8:1::/64,1,1,30,5,"
	row c-new "New Customer" 198.18.1.99 10
} >"$WORK/b.csv"
out=$(cs load -n "$WORK/b.csv" 2>&1); st=$?
expect_eq "$st" 0 "load -n"
expect_contains "$out" "~ c-3 down max 7 → 15 (puts the file's plan back over a set-rate)" "an undone set-rate is called out"
expect_contains "$out" "~ c-4 down max 20 → 33" "a changed plan: from → to"
expect_contains "$out" "- c-5 removed" "a removed circuit"
expect_contains "$out" "+ c-new added: cpu " "an added circuit"
expect_eq "$(cs show -j c-3 | jq '.circuits[0].down.max_mbps')" 7 "-n changed nothing"
json=$(cs load -j "$WORK/b.csv" 2>/dev/null)
expect_eq "$(jq -c '[.changes[] | [.op, .circuit]]' <<<"$json")" \
	'[["changed","c-3"],["changed","c-4"],["removed","c-5"],["added","c-new"]]' "load -j: the changes"
expect_eq "$(jq -c '.changes[0] | [.from.down_max_mbps, .to.down_max_mbps, .undoes_set_rate]' <<<"$json")" \
	'[7,15,true]' "load -j: from, to, and the set-rate undone"
expect_eq "$(jq -c '.changes[1].undoes_set_rate' <<<"$json")" false "only there"
expect_contains "$(cat "$WORK/syslog.txt")" "load $WORK/b.csv: ~ c-4 down max 20 → 33" "the changes are logged"
# a move: CPU 1 taken away
out=$(cs load --cpus 0 "$WORK/b.csv" 2>&1)
expect_contains "$out" " moved: cpu 1 → 0" "a moved circuit: its CPU from → to"
cs load --cpus 0-1 "$WORK/b.csv" >/dev/null 2>&1

# 3. A truncated export: refused, nothing changed; --force applies it.
head -4 "$WORK/b.csv" >"$WORK/cut.csv"
out=$(cs load "$WORK/cut.csv" 2>&1); st=$?
expect_eq "$st" 1 "a load that removes 18 of 21 circuits: refused"
expect_contains "$out" "would remove 18 of the 21 running circuits (85.7%, more than --max-remove 10%)" "saying how many"
expect_contains "$out" "'load --force' removes them" "and how to go on"
expect_eq "$(cs show -j | jq '.circuits | length')" 21 "nothing changed"
out=$(cs load -n "$WORK/cut.csv" 2>&1); st=$?
expect_eq "$st" 1 "load -n says it too"
expect_contains "$out" "- c-new removed" "listing what it would remove"
out=$(cs load --max-remove 90 -n "$WORK/cut.csv" 2>&1); st=$?
expect_eq "$st" 0 "--max-remove 90 lets it through"
out=$(cs load --force "$WORK/cut.csv" 2>&1); st=$?
expect_eq "$st" 0 "--force applies it"
expect_eq "$(cs show -j | jq '.circuits | length')" 3 "the 3 circuits of the cut file run"
cs load "$WORK/b.csv" >/dev/null 2>&1 || flunk "the whole file again (only additions: no guard)"

# 4. Lookups: by address, in a prefix, IPv6, by name.
expect_eq "$(cs show -j 198.18.1.14 | jq -r '.circuits[].id')" c-4 "show ADDRESS: the circuit of a host address"
expect_eq "$(cs show -j 198.18.2.2 | jq -c '[.match.prefix, .circuits[].id]')" '["198.18.2.0/30","c-v6"]' \
	"an address inside a prefix, with the prefix"
expect_eq "$(cs show -j 2001:db8:1::abcd | jq -r '.circuits[].id')" c-v6 "an IPv6 address"
expect_contains "$(cs show 198.18.2.1)" "198.18.2.1 is in 198.18.2.0/30 of circuit c-v6" "said in text"
out=$(cs show 198.18.9.9 2>&1); st=$?
expect_eq "$st" 1 "an address of no circuit: exit 1"
expect_contains "$out" "no circuit \"198.18.9.9\" is loaded" "said so"
expect_eq "$(cs show -j --name sixsmith | jq -r '[.circuits[].id] | join(",")')" c-v6 "--name: a substring, any case"
expect_eq "$(cs show -j --name 'customer 1' | jq '.circuits | length')" 11 "--name: every match (1, 10-19)"

# 5. The busiest unknown addresses, sampled in the data path.
tb_subscriber 198.18.1.11 198.18.1.200
tb_sub python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.18.1.200", 0))
for _ in range(300):
    s.sendto(b"x" * 100, ("198.19.0.2", 9))
' || flunk "UDP from an address of no circuit"
expect_eq "$(cs top --once -j | jq -r '.unknown_addresses[0] | [.address, .direction, (.packets >= 250)] | join(" ")')" \
	"198.18.1.200 up true" "top: the unknown address that sent, its direction and packets"
{ cat "$WORK/b.csv"; row c-200 "Now A Customer" 198.18.1.200 10; } >"$WORK/b200.csv"
cs load "$WORK/b200.csv" >/dev/null 2>&1 || flunk "load with 198.18.1.200 as a circuit"
expect_eq "$(cs top --once -j | jq '[.unknown_addresses[].address] | index("198.18.1.200")')" null \
	"an address that became a circuit leaves the unknown table"
cs load "$WORK/b.csv" >/dev/null 2>&1 || flunk "b.csv again"

# 6. The exporter: series a dashboard can use, read by a Prometheus parser.
cs load "$WORK/b.csv" >/dev/null 2>&1 || flunk "load b.csv again"
PORT=$((9400 + $$ % 300))
ip netns exec "${TB}rtr" "$BIN" metrics --listen 127.0.0.1:$PORT --lan-dev lan0 --wan-dev wan0 2>/dev/null &
MPID=$!
TB_PIDS+=("$MPID")
for _ in $(seq 50); do tb_rtr curl -sf -o "$WORK/m.txt" "http://127.0.0.1:$PORT/metrics" && break; sleep 0.1; done
/usr/bin/python3 - "$WORK/m.txt" <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
fams = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1]).read())}
bytes_ = fams["cpushaper_circuit_bytes"].samples
assert bytes_ and all(set(s.labels) == {"circuit", "direction"} for s in bytes_), bytes_[:2]
info = {s.labels["circuit"]: s.labels for s in fams["cpushaper_circuit_info"].samples}
assert info["c-v6"]["name"] == "Ivy Sixsmith" and info["c-v6"]["cpu"] in ("0", "1"), info["c-v6"]
assert info["c-v6"]["parent"] == "", info["c-v6"]
assert fams["cpushaper_build_info"].samples[0].labels["version"], "build info"
assert fams["cpushaper_last_load_success"].samples[0].value == 1, "last load ok"
assert fams["cpushaper_last_load_timestamp_seconds"].samples[0].value > 1.7e9, "last load time"
print("ok")
PY
verdict $? "exporter: circuit series without cpu, circuit_info, build info, last load (Prometheus parser)" "$(head -3 "$WORK/m.txt")"
# every series the Grafana dashboard asks for is served (the node series need a network:
# integration_network checks cpushaper_node_bytes_total and cpushaper_node_max_bits_per_second)
missing=""
for name in $(grep -o 'cpushaper_[a-z_]*' "$HERE/../../docs/grafana-dashboard.json" | grep -v '^cpushaper_node_' | sort -u); do
	grep -q "^$name[{ ]" "$WORK/m.txt" || missing="$missing $name"
done
expect_eq "$missing" "" "docs/grafana-dashboard.json asks only for series the exporter serves"
cs load "$WORK/cut.csv" >/dev/null 2>&1 # refused
sleep 1.1
page=$(tb_rtr curl -s "http://127.0.0.1:$PORT/metrics")
expect_contains "$page" "cpushaper_last_load_success 0" "a refused load: last_load_success 0"
plain=$(tb_rtr curl -s -o /dev/null -w '%{size_download}' "http://127.0.0.1:$PORT/metrics")
hdr=$(tb_rtr curl -s -D - -o "$WORK/gz" -H 'Accept-Encoding: gzip' "http://127.0.0.1:$PORT/metrics")
expect_contains "$hdr" "Content-Encoding: gzip" "gzip when the client asks"
expect_contains "$(gunzip -c "$WORK/gz")" "cpushaper_circuit_info" "a gzip page that unpacks to the page"
expect_le "$(stat -c %s "$WORK/gz")" $((plain / 3)) "and is much smaller ($plain bytes plain)"

# top and the exporter follow an unload and a new load with new maps
cs top -j -d 0.3 -n 14 >"$WORK/top.jsonl" 2>"$WORK/top.err" &
TPID=$!
sleep 1
cs unload >/dev/null || flunk "unload under top"
sleep 1
maps=$(/usr/sbin/bpftool map list -j | jq '[.[] | select(.name | startswith("cs_"))] | length')
expect_eq "$maps" 0 "top holds no map of the unloaded shaper"
expect_contains "$(tb_rtr curl -s "http://127.0.0.1:$PORT/metrics")" "cpushaper_up 0" "the exporter sees the unload"
out=$(cs top --once -j 2>&1); st=$?
expect_eq "$st" 1 "top --once after the unload: exit 1"
expect_contains "$out" "nothing is loaded on lan0/wan0" "and says why"
cs load "$WORK/a.csv" --force >/dev/null 2>&1 || flunk "load again"
wait "$TPID"
expect_contains "$(cat "$WORK/top.jsonl")" '{"loaded":false}' "top saw the unload"
expect_eq "$(tail -1 "$WORK/top.jsonl" | jq '[.cpus[].circuits] | add')" 21 "and the new load's circuits"
expect_eq "$(cs top --once -j | jq '[.cpus[].circuits] | add')" 21 "top --once reads the new maps"
sleep 1.1
expect_contains "$(tb_rtr curl -s "http://127.0.0.1:$PORT/metrics")" 'cpushaper_circuit_info{circuit="c-5"' \
	"the exporter reads the new maps"
kill "$MPID"; wait "$MPID" 2>/dev/null
ip netns exec "${TB}rtr" "$BIN" metrics --listen 127.0.0.1:$PORT --lan-dev lan0 --wan-dev wan0 --no-circuit-series 2>/dev/null &
MPID=$!
TB_PIDS+=("$MPID")
for _ in $(seq 50); do page=$(tb_rtr curl -sf "http://127.0.0.1:$PORT/metrics") && break; sleep 0.1; done
expect_not_contains "$page" "cpushaper_circuit_bytes_total" "--no-circuit-series: no per-circuit counters"
expect_not_contains "$page" "cpushaper_circuit_info" "nor circuit_info"
expect_contains "$page" "cpushaper_cpu_bytes_total" "the per-CPU ones stay"
kill "$MPID"; wait "$MPID" 2>/dev/null

# 7. check: as nobody, without root or devices, with load's messages and exit status.
cp "$WORK/b.csv" "$WORK/bad.csv"
echo "c-x,X,d-x,,,,198.18.1.300,,1,1,5,5," >>"$WORK/bad.csv"
chmod 644 "$WORK/bad.csv" "$WORK/a.csv"; chmod 755 "$WORK"
lout=$(cs load "$WORK/bad.csv" 2>&1); lst=$?
cout=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$BIN" check "$WORK/bad.csv" 2>&1); cst=$?
expect_eq "$cst:$lst" "1:1" "check as nobody refuses as load does"
expect_eq "$(grep ':[0-9]*: ' <<<"$cout")" "$(grep ':[0-9]*: ' <<<"$lout")" "with the same messages"
expect_eq "$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$BIN" check -j "$WORK/bad.csv" | jq -c '[.valid, (.errors | length)]')" \
	"[false,1]" "check -j"
out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$BIN" check "$WORK/a.csv" 2>&1); st=$?
expect_eq "$st" 0 "check of a good file as nobody ($out)"

out=$(cs unload 2>&1); st=$?
expect_eq "$st" 0 "unload"
expect_eq "$(tb_rtr cat /sys/class/net/lan0/queues/tx-0/xps_cpus /sys/class/net/lan0/queues/tx-1/xps_cpus | tr -d '0,' | tr '\n' ' ')" \
	"1 2 " "unload puts XPS back as it found it"
done_tests
