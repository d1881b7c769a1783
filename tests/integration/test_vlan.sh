#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# VLAN tags survive the cpumap redirect. Senders on both sides tag their IPv4
# frames out of band (tests/bpf/vlan_push.bpf.c: 802.1Q or 802.1ad, in
# skb->vlan_tci, as a NIC with RX VLAN offload hands a frame to XDP), and a packet socket on the
# shaper's device counts, after XDP and the cpumap, how many still carry it
# (tests/lib/vlancap.py). Forwarding is not asked: with no VLAN device the
# stack drops a frame of VLAN 100, with or without cpushaper.
# Usage: CS_VLAN_PUSH_OBJ=build/tests/vlan_push.bpf.o test_vlan.sh CPUSHAPER_BINARY
set -u
BIN=$(realpath "$1")
PUSH=$(realpath "${CS_VLAN_PUSH_OBJ:?set it to the sender tagging program, build/tests/vlan_push.bpf.o}")
HERE=$(dirname "$(realpath "$0")")
TB="cs$$v-"
source "$HERE/../lib/testbed.sh"
source "$HERE/../lib/assert.sh"
PATH=$PATH:/usr/sbin
CAP="$HERE/../lib/vlancap.py"

tb_start || fail "test bed setup"
cs() { tb_rtr "$BIN" "$@" --lan-dev lan0 --wan-dev wan0; }
HDR="Circuit ID,Circuit Name,Device ID,Device Name,Parent Node,MAC,IPv4,IPv6,Download Min Mbps,Upload Min Mbps,Download Max Mbps,Upload Max Mbps,Comment"
printf '%s\nc-a,A,d1,,,,198.18.1.10,,10,10,30,20,\n' "$HDR" >"$WORK/c.csv"
tb_subscriber 198.18.1.10 198.18.1.99

# Tag what each side sends; the neighbours are pinned so that ARP needs no tag.
for side in sub net; do
	dev=${side}0
	tb_$side tc qdisc add dev $dev clsact
	tb_$side tc filter add dev $dev egress bpf da obj "$PUSH" sec tc || fail "$dev: VLAN push program"
done
tb_sub ip neigh replace 198.18.1.1 lladdr "$(tb_rtr cat /sys/class/net/lan0/address)" dev sub0
tb_net ip neigh replace 198.19.0.1 lladdr "$(tb_rtr cat /sys/class/net/wan0/address)" dev net0

# send NS SRC DST PORT: 10 UDP datagrams to DST:PORT
send() {
	tb_$1 python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0))
for i in range(10):
    s.sendto(b"x" * 64, (sys.argv[2], int(sys.argv[3]))); time.sleep(0.01)' "$2" "$3" "$4"
}
# capture DEV NS SRC DST PORT: what DEV on the shaper saw of 10 tagged datagrams
capture() {
	local out="$WORK/cap.json" p i
	: >"$WORK/cap.err" # not the last capture's "ready"
	tb_rtr python3 "$CAP" "$1" "$5" 3 >"$out" 2>"$WORK/cap.err" &
	p=$!
	for ((i = 0; i < 50; i++)); do grep -q ready "$WORK/cap.err" 2>/dev/null && break; sleep 0.05; done
	send "$2" "$3" "$4" "$5"
	wait $p
	cat "$out"
}
field() { jq -r ".$1"; }
# trial WHAT DEV NS SRC DST TAGGED [qinq]: TAGGED of 10 frames carry their tag,
# none twice: 802.1Q VLAN 100 with priority 3 (TCI 0x6064), or 802.1ad VLAN 200
trial() {
	local r port=9999 tci=24676 tpid=8100
	[ "${7:-}" = qinq ] && port=9998 tci=200 tpid=88a8
	r=$(capture "$2" "$3" "$4" "$5" $port)
	expect_eq "$(field seen <<<"$r")" 10 "$1: all 10 frames seen on $2"
	expect_eq "$(field tagged <<<"$r")" "$6" "$1: $6 of 10 carry their VLAN tag on $2"
	expect_eq "$(field double <<<"$r")" 0 "$1: no frame tagged twice on $2"
	[ "$6" = 0 ] && return
	expect_eq "$(field 'tcis | join(",")' <<<"$r")" $tci "$1: the tag is TCI $tci, priority bits included"
	expect_eq "$(field 'tpids | join(",")' <<<"$r")" $tpid "$1: the tag is of type $tpid"
}
down() { trial "$1, download" wan0 net 198.19.0.2 198.18.1.10 "$2" "${3:-}"; }
up() { trial "$1, upload" lan0 sub 198.18.1.10 198.19.0.2 "$2" "${3:-}"; }
top_sum() { cs top --once -j | jq "[.cpus[]$1] | add"; }
# steer_calls DEV: the calls to the driver's VLAN tag reader in DEV's steering program
steer_calls() {
	local id
	id=$(tb_rtr ip -j link show dev "$1" | jq -r '.[0].xdp.prog.id // .[0].xdp.attached[0].prog.id // empty')
	[ -n "$id" ] && bpftool prog dump xlated id "$id" | grep -c 'call veth_xdp_rx_vlan_tag'
}
restore() { cs show -j | jq -c '.vlan_restore'; }

# 1. The bed: tags arrive without cpushaper.
down "no shaper" 10
up "no shaper" 10
down "no shaper, 802.1ad" 10 qinq

# 2. Native XDP on veth, whose driver hands XDP the tag: kept both ways.
out=$(cs load "$WORK/c.csv" 2>&1) || fail "load: $out"
expect_not_contains "$out" "VLAN" "load on veth has no VLAN warning"
for dev in lan0 wan0; do
	# bound to the device, the kfunc became a call of veth's own reader
	expect_eq "$(steer_calls $dev)" 1 "$dev: the steering program reads the driver's VLAN tag"
done
expect_eq "$(restore)" '{"lan":true,"wan":true}' "show says both devices keep VLAN tags"
n0=$(top_sum .xdp.packets)
down "cpushaper" 10
up "cpushaper" 10
down "cpushaper, 802.1ad" 10 qinq
expect_ge "$(($(top_sum .xdp.packets) - n0))" 30 "the 30 frames went through XDP to their CPU"
# a packet of no circuit is passed, not redirected: the driver's tag alone, not a second one
trial "no circuit, passed" wan0 net 198.19.0.2 198.18.1.99 10

# 3. A redirect that fails (the CPU's cpumap slot emptied under us): the tag
# goes back out of the frame, the driver's copy is the only one.
cpu=$(cs show -j | jq '.circuits[0].cpu')
xid=$(tb_rtr ip -j link show dev wan0 | jq -r '.[0].xdp.prog.id')
cmap=$(bpftool -j prog show id "$xid" | jq '.map_ids[]' | while read -r m; do
	bpftool -j map show id "$m" | jq -r 'select(.name == "cs_cpumap") | .id'; done)
bpftool map delete id "$cmap" key $((cpu)) 0 0 0 || flunk "empty the cpumap slot of CPU $cpu"
e0=$(top_sum .unclassified.redirect_errors)
down "redirect failed" 10
expect_ge "$(($(top_sum .unclassified.redirect_errors) - e0))" 10 "the redirects failed"

# 4. The shared program loses them (what the bound one is for): the test can fail.
cs unload >/dev/null || flunk "unload"
out=$(CS_TEST_NO_VLAN_RESTORE=1 cs load "$WORK/c.csv" 2>&1) || fail "load (shared program): $out"
expect_contains "$out" "(ethtool -K wan0 rxvlan off rx-vlan-stag-hw-parse off)" "without the bound program, load says how to keep tags"
expect_eq "$(steer_calls wan0)" 0 "the shared program reads no VLAN tag"
expect_eq "$(restore)" '{"lan":false,"wan":false}' "show says tags are not kept"
down "shared program" 0
out=$(CS_TEST_NO_VLAN_RESTORE=1 cs load "$WORK/c.csv" 2>&1)
expect_contains "$out" "(ethtool -K wan0 rxvlan off rx-vlan-stag-hw-parse off)" "every load says it again"

# 5. A later load swaps the bound program in, in place; a reload keeps it.
out=$(cs load "$WORK/c.csv" 2>&1) || flunk "load (swap): $out"
expect_contains "$out" "wan0: steering program replaced by one that keeps offloaded VLAN tags" "the load swaps the program"
expect_eq "$(restore)" '{"lan":true,"wan":true}' "tags kept after the swap"
down "after the swap" 10
out=$(cs load "$WORK/c.csv" 2>&1) || flunk "reload: $out"
expect_not_contains "$out" "VLAN" "a reload has nothing to say of VLANs"
down "after a reload" 10

# 6. Generic XDP keeps tags in the skb itself.
cs unload >/dev/null || flunk "unload"
cs load --xdp-mode skb "$WORK/c.csv" >/dev/null 2>&1 || fail "load --xdp-mode skb"
down "generic XDP" 10
up "generic XDP" 10
cs unload >/dev/null || flunk "unload"
done_tests
