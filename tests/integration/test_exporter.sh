#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The exporter under abuse (tests/lib/abuse.py): idle and slow clients, very
# long request lines and headers, garbage, unknown paths, 48 concurrent scrapes.
# Prometheus' scrapes from another address keep being answered, the abusers are
# cut off by the limits, and the exporter's memory and fds stay flat over rounds.
# Usage: test_exporter.sh CPUSHAPER_BINARY
set -u
BIN=$(realpath "$1")
HERE=$(dirname "$(realpath "$0")")
TB="cs$$e-"
source "$HERE/../lib/testbed.sh"
source "$HERE/../lib/assert.sh"
PATH=$PATH:/usr/sbin
ROUNDS=${CS_ABUSE_ROUNDS:-4}
PORT=9632

tb_start || fail "test bed setup"
cs() { tb_rtr "$BIN" "$@" --lan-dev lan0 --wan-dev wan0; }
"$HERE/../../bench/gen_customers.sh" 1000 >"$WORK/c.csv"
cs load "$WORK/c.csv" >/dev/null 2>&1 || fail "load"
# every class asked for again each 2 s, not each minute: the deleted class below shows soon
CS_TEST_STATS_FULL_S=2 ip netns exec "${TB}rtr" "$BIN" metrics --listen 127.0.0.1:$PORT --lan-dev lan0 --wan-dev wan0 \
	>/dev/null 2>"$WORK/metrics.err" &
EXP=$!
TB_PIDS+=("$EXP")
for _ in $(seq 50); do tb_rtr curl -sf -o /dev/null http://127.0.0.1:$PORT/metrics && break; sleep 0.1; done
rss() { awk '/^VmRSS:/ { print $2 }' /proc/$EXP/status; }
fds() { ls /proc/$EXP/fd | wc -l; }
sleep 0.5 # the first scrape's connection is closed
FDS0=$(fds)

for r in $(seq "$ROUNDS"); do
	out=$(tb_rtr timeout 120 /usr/bin/python3 "$HERE/../lib/abuse.py" $PORT) || fail "round $r: abuse.py ($out)"
	echo "round $r: $out"
	j() { echo "$out" | jq -r "$1"; }
	expect_eq "$(j '.scrapes_among_idle | map(select(. == "200")) | length')" 5 "round $r: scrapes answered while 100 idle clients of another address connect"
	expect_range "$(j .scrape_s_among_idle_max)" 0 2 "round $r: a scrape among idle clients takes under 2 s"
	expect_eq "$(j .idle_closed_by_server)" "$(j .idle_opened)" "round $r: the exporter closes every idle connection"
	expect_range "$(j .idle_closed_within_s)" 0 8 "round $r: idle connections closed within the 5 s timeout (+margin)"
	expect_eq "$(j .scrape_beside_slow)" 200 "round $r: a scrape beside a client sending a byte a second"
	[[ "$(j .long_url)" =~ ^(414|closed|ConnectionResetError|BrokenPipeError)$ ]]
	verdict $? "round $r: a 1 MiB request line is refused" "got $(j .long_url)"
	[[ "$(j .long_header)" =~ ^(431|413|closed|ConnectionResetError|BrokenPipeError)$ ]]
	verdict $? "round $r: a 256 KiB header is refused" "got $(j .long_header)"
	[[ "$(j .garbage)" =~ ^(400|closed|ConnectionResetError)$ ]]
	verdict $? "round $r: garbage is refused" "got $(j .garbage)"
	expect_eq "$(j .unknown_path)" 404 "round $r: an unknown path is 404"
	expect_eq "$(j .post)" 405 "round $r: POST is 405"
	expect_eq "$(j .concurrent_ok)" 48 "round $r: 48 concurrent scrapes from 8 addresses all answered"
	expect_eq "$(j .scrape_after)" 200 "round $r: scrapes go on after the abuse"
	[ "$r" = 1 ] && RSS1=$(rss)
	RSSN=$(rss)
	echo "round $r: exporter RSS $RSSN kB, $(fds) fds"
done
# fds come back once the last connections are closed
for _ in $(seq 40); do [ "$(fds)" = "$FDS0" ] && break; sleep 0.25; done
expect_eq "$(fds)" "$FDS0" "the exporter's open fds are back to where they were"
if ldd "$BIN" | grep -q libasan; then
	# ASan keeps freed memory in quarantine: RSS grows without a leak (the plain build asserts it)
	echo "skip: RSS flatness under AddressSanitizer ($RSS1 -> $RSSN kB)"
else
	expect_le $((RSSN - RSS1)) 1024 "the exporter's RSS grew by less than 1 MiB from round 1 to round $ROUNDS ($RSS1 -> $RSSN kB)"
fi
kill -0 "$EXP" 2>/dev/null
verdict $? "the exporter is still running" "$(cat "$WORK/metrics.err")"
# A circuit record whose ID is not UTF-8 (written by an older version, or by hand):
# the page must still be valid UTF-8 and parse, with U+FFFD in place of the bad byte.
mid=$(bpftool map show -j | jq -r '[.[] | select(.name == "cs_circuits")][0].id')
entry=$(bpftool map dump id "$mid" -j | jq -c '.[0]')
key=$(echo "$entry" | jq -r '.key | map(ltrimstr("0x")) | join(" ")')
val=$(echo "$entry" | jq -r '.value | .[0:7] = ["0x4d","0xfc","0x6c","0x6c","0x65","0x72","0x00"] | map(ltrimstr("0x")) | join(" ")')
bpftool map update id "$mid" key hex $key value hex $val || flunk "write a Latin-1 circuit ID into the map"
sleep 1.1 # past the shared page's second
tb_rtr curl -sf http://127.0.0.1:$PORT/metrics -o "$WORK/latin1.txt" || flunk "scrape"
/usr/bin/python3 - "$WORK/latin1.txt" <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
text = open(sys.argv[1], "rb").read().decode("utf-8")  # strict: invalid UTF-8 raises
fams = list(text_string_to_metric_families(text))
ids = {s.labels["circuit"] for f in fams for s in f.samples if "circuit" in s.labels}
assert "M\ufffdller" in ids, sorted(ids)[:5]
rtt = [f for f in fams if f.name == "cpushaper_rtt_seconds"]
assert rtt and rtt[0].type == "histogram", [f.name for f in fams]
assert {s.labels.get("side") for s in rtt[0].samples} == {"subscriber", "internet"}, rtt[0].samples[:3]
PY
verdict $? "a circuit ID that is not UTF-8: the scrape is valid UTF-8 and parses, with U+FFFD for the bad byte; the round-trip histogram parses" "see above"
# damage is a series to alert on: a circuit class deleted under the shaper shows, and a load clears it
missing() { tb_rtr curl -sf http://127.0.0.1:$PORT/metrics | awk -v k="$1" '$1 == k { print $2 }'; }
expect_eq "$(missing 'cpushaper_circuit_classes_missing{direction="down"}')" 0 "no class missing: 0"
cls=$(cs show -j | jq -r '.circuits[1].down.classid')
tb_rtr tc class del dev lan0 classid "$cls"
tb_rtr tc qdisc del dev wan0 clsact
# an idle circuit's class is asked for by the full check (every 2 s here, a minute by default)
for _ in $(seq 24); do
	sleep 0.5
	[ "$(missing 'cpushaper_circuit_classes_missing{direction="down"}')" = 1 ] && break
done
expect_eq "$(missing 'cpushaper_circuit_classes_missing{direction="down"}')" 1 "a deleted class: cpushaper_circuit_classes_missing 1"
expect_eq "$(missing 'cpushaper_program_missing{device="wan",hook="tc"}')" 1 "a deleted clsact: cpushaper_program_missing 1"
cs load "$WORK/c.csv" >/dev/null 2>&1 || flunk "repair load"
sleep 1.1
expect_eq "$(missing 'cpushaper_circuit_classes_missing{direction="down"}')" 0 "after the load: 0 again"
expect_eq "$(missing 'cpushaper_program_missing{device="wan",hook="tc"}')" 0 "after the load: the program is back"

kill -TERM "$EXP"
wait "$EXP"
verdict $? "the exporter stops cleanly on SIGTERM (under ASan: LeakSanitizer found no leak)" "$(tail -5 "$WORK/metrics.err")"
cs unload >/dev/null || flunk "unload"
done_tests
