#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# A three-namespace test bed: subscribers <-> shaper <-> internet.
#
#   ${TB}sub  sub0 ==veth== lan0  ${TB}rtr  wan0 ==veth== net0  ${TB}net
#   198.18.1.0/24, 2001:db8:1::/64          198.19.0.0/24, 2001:db8:ff::/64
#
# Only addresses of the benchmarking range and the documentation prefix.
# Source it, call tb_setup, and tb_teardown runs on every exit (trap).

TB=${TB:-cs$$-}
TB_QUEUES=${TB_QUEUES:-2}
TB_PIDS=()

tb_sub() { ip netns exec "${TB}sub" "$@"; }
tb_rtr() { ip netns exec "${TB}rtr" "$@"; }
tb_net() { ip netns exec "${TB}net" "$@"; }

tb_teardown() {
	local pid ns
	set +e # runs from EXIT traps of `set -e` scripts: every step must run
	for pid in "${TB_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${TB_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	TB_PIDS=()
	for ns in sub rtr net; do
		ip netns del "${TB}${ns}" 2>/dev/null
	done
	return 0
}

# tb_start: a scratch directory in $WORK and the bed, both removed on exit.
tb_start() {
	WORK=$(mktemp -d)
	trap 'tb_teardown; rm -rf "$WORK"' EXIT
	tb_setup || return 1
	trap 'tb_teardown; rm -rf "$WORK"' EXIT
}

# tb_veth NS_A DEV_A NS_B DEV_B: a veth pair with TB_QUEUES queues each way.
tb_veth() {
	ip link add "$2" netns "$1" numtxqueues "$TB_QUEUES" numrxqueues "$TB_QUEUES" type veth \
		peer name "$4" netns "$3" numtxqueues "$TB_QUEUES" numrxqueues "$TB_QUEUES" || return 1
	ip netns exec "$1" ethtool -L "$2" rx "$TB_QUEUES" tx "$TB_QUEUES" >/dev/null 2>&1
	ip netns exec "$3" ethtool -L "$4" rx "$TB_QUEUES" tx "$TB_QUEUES" >/dev/null 2>&1
	ip -n "$1" link set "$2" up
	ip -n "$3" link set "$4" up
}

tb_setup() {
	trap tb_teardown EXIT
	trap 'exit 130' INT TERM
	local ns
	for ns in sub rtr net; do
		ip netns add "${TB}${ns}" || return 1
		ip -n "${TB}${ns}" link set lo up
	done
	tb_veth "${TB}sub" sub0 "${TB}rtr" lan0 || return 1
	tb_veth "${TB}rtr" wan0 "${TB}net" net0 || return 1

	ip -n "${TB}rtr" addr add 198.18.1.1/24 dev lan0
	ip -n "${TB}rtr" addr add 2001:db8:1::1/64 dev lan0 nodad
	ip -n "${TB}rtr" addr add 198.19.0.1/24 dev wan0
	ip -n "${TB}rtr" addr add 2001:db8:ff::1/64 dev wan0 nodad
	tb_rtr sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1

	ip -n "${TB}net" addr add 198.19.0.2/24 dev net0
	ip -n "${TB}net" addr add 2001:db8:ff::2/64 dev net0 nodad
	ip -n "${TB}net" route add 198.18.0.0/16 via 198.19.0.1
	ip -n "${TB}net" -6 route add 2001:db8:1::/64 via 2001:db8:ff::1

	# The senders into the XDP devices: checksum offload breaks TCP over veth XDP.
	tb_sub ethtool -K sub0 tx off >/dev/null
	tb_net ethtool -K net0 tx off >/dev/null
}

# tb_subscriber ADDR...: give the subscriber side these addresses (v4 /24, v6 /64).
tb_subscriber() {
	local a v4=0 v6=0
	for a in "$@"; do
		case "$a" in
		*:*) ip -n "${TB}sub" addr add "$a/64" dev sub0 nodad && v6=1 ;;
		*) ip -n "${TB}sub" addr add "$a/24" dev sub0 && v4=1 ;;
		esac
	done
	[ $v4 = 0 ] || ip -n "${TB}sub" route replace default via 198.18.1.1 dev sub0 || return 1
	[ $v6 = 0 ] || ip -n "${TB}sub" -6 route replace default via 2001:db8:1::1 dev sub0 || return 1
}

# tb_iperf_server PORT: an iperf3 server on the internet side.
tb_iperf_server() {
	tb_net iperf3 -s -p "$1" -D --pidfile "/tmp/${TB}iperf-$1.pid" >/dev/null 2>&1 || return 1
	local i
	for i in $(seq 50); do
		[ -s "/tmp/${TB}iperf-$1.pid" ] && break
		sleep 0.1
	done
	TB_PIDS+=("$(cat "/tmp/${TB}iperf-$1.pid")")
	rm -f "/tmp/${TB}iperf-$1.pid"
}
