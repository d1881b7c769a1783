#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# kill -9 during large loads: a circuit that was already loaded is shaped without
# a break, and the next load converges to the file (no leftover, nothing missing).
# Usage: test_crash.sh CPUSHAPER_BINARY
set -u
BIN=$(realpath "$1")
HERE=$(dirname "$(realpath "$0")")
TB="cs$$k-"
source "$HERE/../lib/testbed.sh"
source "$HERE/../lib/assert.sh"
GEN="$HERE/../../bench/gen_customers.sh"
BIG=${CS_CRASH_CIRCUITS:-4000}

tb_start || fail "test bed setup"
cs() { tb_rtr "$BIN" "$@" --lan-dev lan0 --wan-dev wan0; }
busy='c-busy,Busy,d,,,,198.18.1.10,,10,5,40,20,'
{ "$GEN" 200; echo "$busy"; } > "$WORK/base.csv"
{ "$GEN" "$BIG"; echo "$busy"; } > "$WORK/big.csv"
tb_subscriber 198.18.1.10

# load_killed FILE: start a load, kill -9 it after a random 0-1.5 s (or by CS_TEST_DIE_AFTER)
load_killed() {
	ip netns exec "${TB}rtr" "$BIN" load --lan-dev lan0 --wan-dev wan0 "$1" >/dev/null 2>&1 &
	local pid=$!
	if [ -z "${CS_TEST_DIE_AFTER:-}" ]; then
		sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", r / 32768 * 1.5 }')"
		kill -9 "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	return 0
}

# converged FILE: the kernel holds exactly the file's circuits, classes and addresses
converged() {
	local want n_cls addrs show
	want=$(grep -c '^[gc]-' "$1")
	show=$(cs show -j)
	expect_eq "$(echo "$show" | jq '.circuits | length')" "$want" "$2: every circuit of the file is loaded"
	addrs=$(echo "$show" | jq '[.circuits[].addresses | length] | add')
	expect_eq "$addrs" "$(( (want - 1) * 2 + 1 ))" "$2: every address is mapped"
	for dev in lan0 wan0; do
		# circuit classes: every HTB class but :1 and :2
		n_cls=$(tb_rtr tc class show dev $dev | grep '^class htb' | grep -vc '^class htb [0-9a-f]*:[12] ')
		expect_eq "$n_cls" "$want" "$2: $dev has one class per circuit, no leftover"
	done
	out=$(cs load "$1") || flunk "$2: reload"
	expect_contains "$out" "0 added, 0 changed, 0 moved, 0 removed, 0 address updates" "$2: a second load finds nothing to do"
}

# 1. Killed during the very first load: nothing runs yet; the next load must still work.
load_killed "$WORK/big.csv"
out=$(cs load "$WORK/base.csv" 2>&1) || fail "load after a killed first load: $out"
converged "$WORK/base.csv" "after a killed first load"

# 2. Kills during loads of a running shaper while c-busy downloads.
tb_iperf_server 5601 || fail "iperf3 server"
BUSY_CLS=$(cs show c-busy -j | jq -r '.circuits[0].down.classid')
tb_sub iperf3 -c 198.19.0.2 -B 198.18.1.10 -p 5601 -R -t 20 -O 1 -i 1 -J > "$WORK/busy.json" &
ipid=$!
sleep 1.5
class_bytes() { tb_rtr tc -s class show dev lan0 classid "$BUSY_CLS" | awk '/Sent/ { print $2; exit }'; }
prev=$(class_bytes); bad=0; kills=0
for round in 1 2 3 4 5 6; do
	load_killed "$WORK/big.csv"; kills=$((kills + 1))
	cur=$(class_bytes); [ -n "$cur" ] && [ "$cur" -ge "$prev" ] || bad=$((bad + 1)); prev=${cur:-0}
done
# deterministic crash points: early, among the classes, among the addresses, and while shrinking
for at in 3 $((BIG)) $((BIG * 2 + 100)); do
	CS_TEST_DIE_AFTER=$at load_killed "$WORK/big.csv"; kills=$((kills + 1))
	cur=$(class_bytes); [ -n "$cur" ] && [ "$cur" -ge "$prev" ] || bad=$((bad + 1)); prev=${cur:-0}
done
out=$(cs load "$WORK/big.csv" 2>&1) || flunk "load big: $out"
for at in 50 $((BIG + 50)); do
	CS_TEST_DIE_AFTER=$at load_killed "$WORK/base.csv"; kills=$((kills + 1))
	cur=$(class_bytes); [ -n "$cur" ] && [ "$cur" -ge "$prev" ] || bad=$((bad + 1)); prev=${cur:-0}
	cs load "$WORK/big.csv" >/dev/null 2>&1 || flunk "reload big"
done
expect_eq "$bad" 0 "after each of $kills kills c-busy's class was there and its counter had not gone back"
expect_eq "$(cs show c-busy -j | jq -r '.circuits[0].down.classid')" "$BUSY_CLS" "c-busy kept its class through every crash"
wait "$ipid" # runs on past the crashes
min=$(jq '[.intervals[] | select(.sum.omitted | not) | .sum.bits_per_second] | min / 40e6' "$WORK/busy.json")
n=$(jq '[.intervals[] | select(.sum.omitted | not)] | length' "$WORK/busy.json")
echo "    c-busy per-second goodput / plan over $n s of crashes: $(jq -r '[.intervals[] | select(.sum.omitted | not) | .sum.bits_per_second / 40e6 * 100 | round / 100] | map(tostring) | join(" ")' "$WORK/busy.json")"
expect_range "$min" 0.8 1.0 "c-busy was shaped without a break while loads were killed"

# 3. The next load converges, from any of those states.
CS_TEST_DIE_AFTER=$((BIG + 10)) load_killed "$WORK/base.csv"
out=$(cs load "$WORK/big.csv" 2>&1) || flunk "final load: $out"
converged "$WORK/big.csv" "after the crashes"
cs unload >/dev/null || flunk "unload"
done_tests
