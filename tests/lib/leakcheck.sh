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

BPFTOOL=$(command -v bpftool || echo /usr/sbin/bpftool)

# One line per object of ours: "map 42 cpumap cs_cpumap". Ours: BPF maps and
# programs named cs_* (and libxdp's dispatcher, which holds our XDP program),
# links to our programs, and the kthreads of our cpumaps. Other BPF users of the
# machine (systemd, another tool) are not counted. A failing bpftool fails the
# check instead of reading as "nothing left".
leak_objects() {
	local maps progs links
	maps=$("$BPFTOOL" map list -j) && progs=$("$BPFTOOL" prog list -j) && links=$("$BPFTOOL" link list -j) || {
		echo "leakcheck: bpftool cannot list the kernel's BPF objects" >&2
		echo "error bpftool-failed"
		return 1
	}
	echo "$maps" | jq -r '.[] | select((.name // "") | startswith("cs_")) | "map \(.id) \(.type) \(.name)"'
	echo "$progs" | jq -r '.[] | select((.name // "") | startswith("cs_") or . == "xdp_dispatcher") | "prog \(.id) \(.type) \(.name)"'
	echo "$links" | jq -r --argjson progs "$progs" '($progs | map(select((.name // "") | startswith("cs_") or . == "xdp_dispatcher") | .id)) as $ours |
		.[] | select(.prog_id as $p | $ours | index($p)) | "link \(.id) \(.type) prog \(.prog_id)"'
	# a cpumap runs one kthread per populated entry, named cpumap/CPU/map:ID
	ps -e -o pid=,comm= | awk -v ids="$(echo "$maps" | jq -r '[.[] | select(.name == "cs_cpumap") | .id] | join(" ")')" '
		BEGIN { n = split(ids, a, " "); for (i = 1; i <= n; i++) ours[a[i]] = 1 }
		$2 ~ /^cpumap\// { split($2, p, ":"); if (p[2] in ours) print "kthread " $1 " " $2 }'
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
	if grep -q '^error' "$LEAK_DIR/objects.before"; then
		echo "FAIL: the leak check cannot read the kernel's BPF objects" >&2
		exit 1
	fi
	if [ $# -gt 0 ]; then
		leak_devices "$@" | sort >"$LEAK_DIR/devices.before"
	fi
}

# leak_new: objects present now that were not in the snapshot (by kind and id).
leak_new() {
	leak_objects | sort | comm -13 "$LEAK_DIR/objects.before" -
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
