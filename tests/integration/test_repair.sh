#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Trust the kernel, not our maps: damage done under a running shaper (a root
# qdisc, a clsact, an XDP program, a circuit class deleted, a class rate
# changed) is reported by show and top, and repaired by the next load, after
# which traffic is shaped to plan again (iperf3). Two device pairs that share
# a device: the second is refused, and its unload leaves the first intact.
# Usage: test_repair.sh CPUSHAPER_BINARY
set -u
BIN=$(realpath "$1")
HERE=$(dirname "$(realpath "$0")")
TB="cs$$r-"
source "$HERE/../lib/testbed.sh"
source "$HERE/../lib/assert.sh"

tb_start || fail "test bed setup"
cs() { tb_rtr "$BIN" "$@" --lan-dev lan0 --wan-dev wan0; }
HDR="Circuit ID,Circuit Name,Device ID,Device Name,Parent Node,MAC,IPv4,IPv6,Download Min Mbps,Upload Min Mbps,Download Max Mbps,Upload Max Mbps,Comment"
{
	echo "$HDR"
	echo "c-a,A,d1,,,,198.18.1.10,,10,10,30,20,"
	echo "c-b,B,d2,,,,198.18.1.11,,10,10,40,25,"
	echo "c-c,C,d3,,,,198.18.1.12,,5,5,50,30,"
	echo "c-d,D,d4,,,,198.18.1.13,,5,5,60,35,"
} >"$WORK/c.csv"
tb_subscriber 198.18.1.10
cs load "$WORK/c.csv" >/dev/null 2>&1 || fail "load"
tb_iperf_server 5801 || fail "iperf3 server"

# shaped DIR: c-a's goodput in DIR (down: plan 30, up: plan 20) within 10% of its plan
shaped() {
	local dir=$1 plan g r
	plan=$([ "$dir" = down ] && echo 30 || echo 20)
	for try in 1 2; do
		tb_sub iperf3 -c 198.19.0.2 -B 198.18.1.10 -p 5801 $([ "$dir" = down ] && echo -R) -t 3 -O 1 -J >"$WORK/r.json" 2>&1
		g=$(jq -r '.end.sum_received.bits_per_second // 0' "$WORK/r.json")
		r=$(echo "$g / ($plan * 1000000)" | bc -l | sed 's/^\./0./')
		[ "$(echo "$r >= 0.88 && $r <= 1.02" | bc -l)" = 1 ] && break
	done
	expect_range "$r" 0.88 1.02 "$2: c-a's $dir at plan ($plan Mbit) again"
}
damage() { cs show -j 2>/dev/null | jq -c '.damage'; }
config_ids() {
	# the cs_config map each of our four programs uses: one id when nothing is split
	local ids="" id
	for id in $(/usr/sbin/bpftool prog show -j | jq -r '.[] | select(.name == "cs_xdp_steer" or .name == "cs_tc_classify") | .id'); do
		ids="$ids $(/usr/sbin/bpftool prog show id "$id" -j | jq -r '.map_ids[]' | while read -r m; do
			/usr/sbin/bpftool map show id "$m" -j | jq -r 'select(.name == "cs_config") | .id'; done)"
	done
	echo "$ids" | tr ' ' '\n' | grep . | sort -u | wc -l
}
# repaired WHAT: load repairs, then nothing is reported and no state is split
repaired() {
	local out
	out=$(cs load "$WORK/c.csv" 2>&1) || flunk "$1: load ($out)"
	expect_contains "$out" "$2" "$1: load says what it put back"
	expect_eq "$(damage)" '{"devices_missing":[],"lan_classes_missing":0,"wan_classes_missing":0,"programs":[]}' "$1: show reports nothing after the load"
	expect_eq "$(tb_rtr tc class show dev lan0 | grep -v 'class htb [0-9a-f]*:[12] ' | grep -c 'class htb [0-9a-f]*:[0-9a-f]* parent [0-9a-f]*:1 ')" 4 "$1: lan0 has the 4 circuit classes"
	expect_eq "$(tb_rtr tc class show dev wan0 | grep -v 'class htb [0-9a-f]*:[12] ' | grep -c 'class htb [0-9a-f]*:[0-9a-f]* parent [0-9a-f]*:1 ')" 4 "$1: wan0 has the 4 circuit classes"
	expect_eq "$(config_ids)" 1 "$1: all four programs use one set of maps"
}

expect_eq "$(damage)" '{"devices_missing":[],"lan_classes_missing":0,"wan_classes_missing":0,"programs":[]}' "a fresh load: show reports no damage"
expect_eq "$(config_ids)" 1 "a fresh load: one set of maps"

# 1, 2. A root qdisc deleted: the tree comes back with every class.
for dev in wan0 lan0; do
	tb_rtr tc qdisc del dev $dev root
	err=$(cs show 2>&1 >/dev/null)
	expect_contains "$err" "$dev: 0 of 4 circuit classes present - run load to repair" "root of $dev deleted: show says so"
	expect_contains "$(cs top --once 2>&1 >/dev/null)" "$dev: 0 of 4 circuit classes present" "root of $dev deleted: top says so"
	repaired "root of $dev deleted" "4 circuit classes were missing"
done
shaped up "after the root of wan0 was deleted"
shaped down "after the root of lan0 was deleted"

# 3, 4. A clsact deleted: the TC program comes back on the running maps.
for dev in lan0 wan0; do
	tb_rtr tc qdisc del dev $dev clsact
	expect_contains "$(cs show 2>&1 >/dev/null)" "$dev: the TC program is missing" "clsact of $dev deleted: show says so"
	expect_eq "$(damage | jq -c .programs)" "[\"$([ $dev = lan0 ] && echo lan || echo wan) TC\"]" "clsact of $dev deleted: show -j names it"
	repaired "clsact of $dev deleted" "the TC program was missing"
done
# a circuit added after the repair lands in the maps every program uses
{ cat "$WORK/c.csv"; echo "c-e,E,d5,,,,198.18.1.14,,5,5,15,15,"; } >"$WORK/c5.csv"
cs load "$WORK/c5.csv" >/dev/null 2>&1 || flunk "load with a new circuit"
expect_eq "$(cs show -j | jq '.circuits | length')" 5 "a circuit added after the repair is loaded"
cs load "$WORK/c.csv" >/dev/null 2>&1
shaped down "after lan0's clsact was deleted"
shaped up "after wan0's clsact was deleted"

# 5. An XDP program detached.
tb_rtr ip link set dev wan0 xdp off
expect_contains "$(cs show 2>&1 >/dev/null)" "wan0: the XDP program is missing" "XDP of wan0 detached: show says so"
repaired "XDP of wan0 detached" "the XDP program was missing"
expect_eq "$(tb_rtr ip -d link show dev wan0 | grep -c 'prog/xdp')" 1 "wan0 runs XDP again"
shaped down "after wan0's XDP was detached"

# 6. One circuit class deleted.
cls=$(cs show -j c-a | jq -r '.circuits[0].down.classid')
tb_rtr tc class del dev lan0 classid "$cls"
expect_contains "$(cs show 2>&1 >/dev/null)" "lan0: 3 of 4 circuit classes present" "class $cls deleted: show says so"
repaired "class $cls of lan0 deleted" "1 circuit class was missing"
shaped down "after c-a's class was deleted"

# 7. A class rate changed under us.
tb_rtr tc class change dev wan0 parent "${cls%%:*}:1" classid "$cls" htb rate 5mbit ceil 5mbit
repaired "class $cls of wan0 changed" "1 with other rates than recorded"
expect_contains "$(tb_rtr tc class show dev wan0 classid "$cls")" "ceil 20Mbit" "c-a's upload ceil is its plan again"
shaped up "after c-a's class rate was changed"

# 8. A late step fails (another tool's XDP program sits on wan0): the exit status says
#    the load was applied in part, not "nothing changed".
EMPTY=$(dirname "$BIN")/bench/empty.bpf.o
tb_rtr ip link set dev wan0 xdp off
tb_rtr ip link set dev wan0 xdpdrv obj "$EMPTY" sec xdp || fail "attach a foreign XDP program"
out=$(cs load "$WORK/c5.csv" 2>&1); st=$?
expect_eq "$st" 3 "a load whose late step fails: exit 3 (applied in part)"
expect_contains "$out" "applied in part: the circuits are in place, a later step failed" "it says what state it left"
expect_contains "$out" "wan0: another XDP program (id" "it names the step and whose program is in the way"
expect_contains "$(cs show 2>&1 >/dev/null)" "holds the hook - remove it, then run load" "show names the foreign program"
expect_eq "$(cs show -j 2>/dev/null | jq '.circuits | length')" 5 "the new circuit is in place, as said"
tb_rtr ip link set dev wan0 xdp off
out=$(cs load "$WORK/c.csv" 2>&1); st=$?
expect_eq "$st" 0 "with the foreign program gone, the next load completes ($out)"
expect_eq "$(damage)" '{"devices_missing":[],"lan_classes_missing":0,"wan_classes_missing":0,"programs":[]}' "and nothing is reported"

# 9. A second pair sharing wan0: refused, and its unload leaves the first alone.
tb_veth "${TB}sub" sub1 "${TB}rtr" lan1 || fail "second lan device"
out=$(tb_rtr "$BIN" load --lan-dev lan1 --wan-dev wan0 "$WORK/c.csv" 2>&1); st=$?
expect_eq "$st" 1 "a pair that shares wan0 with a running pair: refused"
expect_contains "$out" "wan0 belongs to the running pair --lan-dev lan0 --wan-dev wan0" "the refusal names the running pair"
expect_eq "$(tb_rtr tc qdisc show dev lan1 | grep -c 'mq 7fff')" 0 "nothing was built on lan1"
out=$(tb_rtr "$BIN" unload --lan-dev lan1 --wan-dev wan0 2>&1); st=$?
expect_eq "$st" 0 "unload of the refused pair: exit 0"
expect_contains "$out" "wan0 belongs to the running pair --lan-dev lan0 --wan-dev wan0: left as it is" "unload leaves wan0 to its pair"
expect_eq "$(damage)" '{"devices_missing":[],"lan_classes_missing":0,"wan_classes_missing":0,"programs":[]}' "the first pair is intact"
expect_eq "$(tb_rtr ip -d link show dev wan0 | grep -c 'prog/xdp')" 1 "wan0 still runs the first pair's XDP"
shaped up "the first pair after the second pair's unload"
tb_rtr ip link del lan1

# 10. wan0 deleted and created again (a driver reload, a bond rebuilt): a new ifindex.
tb_rtr ip link del wan0
tb_veth "${TB}rtr" wan0 "${TB}net" net0 || fail "wan0 again"
ip -n "${TB}rtr" addr add 198.19.0.1/24 dev wan0
ip -n "${TB}net" addr add 198.19.0.2/24 dev net0
ip -n "${TB}net" route add 198.18.0.0/16 via 198.19.0.1
tb_net ethtool -K net0 tx off >/dev/null
out=$(cs load "$WORK/c.csv" 2>&1); st=$?
expect_eq "$st" 0 "wan0 created again: the pair loads ($out)"
expect_contains "$out" "4 circuit classes were missing" "wan0's tree and classes come back"
expect_eq "$(damage)" '{"devices_missing":[],"lan_classes_missing":0,"wan_classes_missing":0,"programs":[]}' "wan0 created again: nothing missing after the load"
shaped up "after wan0 was created again"
shaped down "download after wan0 was created again"

# 11. Circuits of a CPU taken away, after their HTB vanished: the load that moves them works.
cs load --cpus 0-1 "$WORK/c.csv" >/dev/null 2>&1
tb_rtr tc qdisc del dev lan0 root
out=$(cs load --cpus 0 "$WORK/c.csv" 2>&1); st=$?
expect_eq "$st" 0 "root deleted, then a load that drops CPU 1: done ($out)"
expect_eq "$(cs show -j | jq '[.circuits[].cpu] | unique | join(",")')" '"0"' "every circuit on CPU 0"
expect_eq "$(damage)" '{"devices_missing":[],"lan_classes_missing":0,"wan_classes_missing":0,"programs":[]}' "and nothing missing"
# adding a CPU is no damage
out=$(cs load --cpus 0-1 "$WORK/c.csv" 2>&1)
expect_not_contains "$out" "missing" "adding a CPU is not reported as damage"

# 12. The XDP mode is remembered: a program attached again gets the same mode.
cs unload >/dev/null || flunk "unload"
cs load --xdp-mode skb "$WORK/c.csv" >/dev/null 2>&1 || flunk "load in skb mode"
tb_rtr ip link set dev wan0 xdpgeneric off
cs load "$WORK/c.csv" >/dev/null 2>&1 || flunk "repair load"
expect_contains "$(tb_rtr ip -d link show dev wan0)" "xdpgeneric" "the XDP program attached again runs in skb mode, as loaded"

cs unload >/dev/null || flunk "unload"
done_tests
