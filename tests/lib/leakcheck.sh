#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# What the kernel holds, before a test and after it: BPF maps, programs and
# links (machine-wide, by id), cpumap kthreads, and what is attached to the
# bed's devices (qdiscs, clsact filters, XDP). leak_snapshot records it;
# leak_check waits for the kernel's deferred frees and prints every object that
# was not there before, returning 1 if any is left.
#
# The kernel frees a map or a program after an RCU grace period and stops a
# cpumap's kthreads from a work queue, and deletes a namespace's devices in the
# background: leak_check polls for up to LEAK_WAIT_S seconds before it decides.

LEAK_WAIT_S=${LEAK_WAIT_S:-15}
LEAK_DIR=${LEAK_DIR:-}

_bpftool() { command -v bpftool >/dev/null && bpftool "$@" || /usr/sbin/bpftool "$@"; }

# One line per object: "map 42 cpumap cs_cpumap". Sorted by kind and id.
leak_objects() {
	_bpftool map list -j 2>/dev/null | jq -r '.[] | "map \(.id) \(.type) \(.name // "")"'
	_bpftool prog list -j 2>/dev/null | jq -r '.[] | "prog \(.id) \(.type) \(.name // "")"'
	_bpftool link list -j 2>/dev/null | jq -r '.[] | "link \(.id) \(.type) prog \(.prog_id)"'
	# a cpumap runs one kthread per populated entry, named cpumap/CPU/map:ID
	ps -e -o pid=,comm= | awk '$2 ~ /^cpumap\// { print "kthread " $1 " " $2 }'
}

# What cpushaper may have left on a device: "DEV qdisc ...", "DEV filter ...", "DEV xdp".
# $1: a command prefix to run in the bed (e.g. "ip netns exec NS"), $2...: devices.
leak_devices() {
	local ns=$1 dev
	shift
	for dev in "$@"; do
		$ns tc qdisc show dev "$dev" 2>/dev/null | sed "s/^/$dev /" | sed 's/ refcnt [0-9]*//'
		$ns tc filter show dev "$dev" egress 2>/dev/null | grep -o 'bpf.*' | sed "s/^/$dev egress filter /" | sed 's/ id [0-9]*//'
		$ns tc filter show dev "$dev" ingress 2>/dev/null | grep -o 'bpf.*' | sed "s/^/$dev ingress filter /" | sed 's/ id [0-9]*//'
		$ns ip -d link show dev "$dev" 2>/dev/null | grep -q 'prog/xdp' && echo "$dev xdp attached"
	done
	return 0
}

# leak_snapshot: record the machine-wide objects (and, with arguments, the devices).
leak_snapshot() {
	[ -n "$LEAK_DIR" ] || LEAK_DIR=$(mktemp -d /tmp/cs-leak.XXXXXX)
	leak_objects | sort >"$LEAK_DIR/objects.before"
	if [ $# -gt 0 ]; then
		leak_devices "$@" | sort >"$LEAK_DIR/devices.before"
	fi
}

# leak_new: objects present now that were not in the snapshot (by kind and id).
leak_new() {
	leak_objects | sort | comm -13 "$LEAK_DIR/objects.before" -
}

# leak_check_devices NS DEV...: the devices look as they did at the snapshot.
leak_check_devices() {
	local diff
	diff=$(leak_devices "$@" | sort | diff "$LEAK_DIR/devices.before" - | grep '^[<>]')
	if [ -n "$diff" ]; then
		echo "LEAK: the bed's devices differ from before the test (< before, > now):" >&2
		echo "$diff" | sed 's/^/  /' >&2
		return 1
	fi
	return 0
}

# leak_check: 0 if every BPF object and cpumap kthread made since the snapshot
# is gone, else 1, naming each one left.
leak_check() {
	local left i
	for ((i = 0; i < LEAK_WAIT_S * 4; i++)); do
		left=$(leak_new)
		[ -z "$left" ] && break
		sleep 0.25
	done
	if [ -n "$left" ]; then
		echo "LEAK: still in the kernel ${LEAK_WAIT_S} s after the test:" >&2
		echo "$left" | sed 's/^/  /' >&2
		return 1
	fi
	return 0
}

leak_cleanup() {
	[ -n "$LEAK_DIR" ] && rm -rf "$LEAK_DIR"
	LEAK_DIR=
}
