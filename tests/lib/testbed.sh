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

# The leak check of every test: the kernel's BPF objects and cpumap threads
# before the bed exists, the shaper's devices once it does (tests/lib/leakcheck.sh).
# TB_LEAKCHECK=0 turns it off (a bed for a manual look).
TB_LEAKCHECK=${TB_LEAKCHECK:-1}
. "$(dirname "${BASH_SOURCE[0]}")/leakcheck.sh"
TB_LEAKED=0

# _tb_leaks: unload what a test left loaded, then the devices must be as the bed
# made them and, once the namespaces are gone, the kernel must hold nothing new.
_tb_devices_check() {
	local devs=() d
	ip netns list 2>/dev/null | grep -q "^${TB}rtr\b" || return 0
	for d in lan0 wan0; do
		ip -n "${TB}rtr" link show dev "$d" >/dev/null 2>&1 && devs+=("$d")
	done
	[ ${#devs[@]} -gt 0 ] || return 0
	if [ -n "${BIN:-}" ] && [ -x "$BIN" ] && [ ${#devs[@]} = 2 ]; then
		# what a test leaves loaded, unload must remove: every test ends with that check
		tb_rtr "$BIN" unload --lan-dev lan0 --wan-dev wan0 >/dev/null 2>"$LEAK_DIR/unload.err" ||
			{ echo "LEAK: the teardown's unload failed:" >&2; sed 's/^/  /' "$LEAK_DIR/unload.err" >&2; }
	fi
	# only the devices still there: a test may delete one
	grep -E "^($(IFS='|'; echo "${devs[*]}")) " "$LEAK_DIR/devices.before" >"$LEAK_DIR/devices.cmp"
	leak_devices "ip netns exec ${TB}rtr" "${devs[@]}" | sort | diff "$LEAK_DIR/devices.cmp" - |
		grep '^[<>]' >"$LEAK_DIR/devices.diff"
	if [ -s "$LEAK_DIR/devices.diff" ]; then
		echo "LEAK: after unload, the shaper's devices differ from the fresh bed (< bed, > now):" >&2
		sed 's/^/  /' "$LEAK_DIR/devices.diff" >&2
		return 1
	fi
	return 0
}

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
	[ -n "${TB_WORK:-}" ] && rm -rf "$TB_WORK"
	if [ "$TB_LEAKCHECK" = 1 ] && [ -n "$LEAK_DIR" ]; then
		_tb_devices_check || TB_LEAKED=1
	fi
	for ns in sub rtr net; do
		ip netns del "${TB}${ns}" 2>/dev/null
	done
	if [ "$TB_LEAKCHECK" = 1 ] && [ -n "$LEAK_DIR" ]; then
		leak_check || TB_LEAKED=1
		leak_cleanup
		# a leak fails the test whatever it reported (this runs from its EXIT trap);
		# a full benchmark run (TB_LEAK_FATAL=0) keeps its figures and only says so
		if [ "$TB_LEAKED" != 0 ]; then
			[ "${TB_LEAK_FATAL:-1}" = 1 ] && { echo "FAIL: the test left objects in the kernel (above)" >&2; exit 1; }
			echo "WARNING: the run left objects in the kernel (above)" >&2
		else
			echo "ok: leak check: nothing left in the kernel"
		fi
	fi
	return 0
}

# tb_start: a scratch directory in $WORK and the bed, both removed on exit.
tb_start() {
	WORK=$(mktemp -d)
	TB_WORK=$WORK
	tb_setup || return 1
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
	[ "$TB_LEAKCHECK" = 1 ] && leak_snapshot
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
	if [ "$TB_LEAKCHECK" = 1 ]; then
		leak_devices "ip netns exec ${TB}rtr" lan0 wan0 | sort >"$LEAK_DIR/devices.before"
	fi
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
