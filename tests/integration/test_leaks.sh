#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Nothing outlives unload: load/unload cycles, a load killed at any point, a
# shaper whose programs another tool removed, a shaper whose devices went away.
# After each, the kernel's BPF maps, programs, links and cpumap kthreads are
# exactly what they were before (tests/lib/leakcheck.sh), and the devices hold
# what the bed gave them. The bed's own teardown checks the same once more.
# Usage: test_leaks.sh CPUSHAPER_BINARY
set -u
BIN=$(realpath "$1")
HERE=$(dirname "$(realpath "$0")")
TB="cs$$l-"
source "$HERE/../lib/testbed.sh"
source "$HERE/../lib/assert.sh"
PATH=$PATH:/usr/sbin
GEN="$HERE/../../bench/gen_customers.sh"

tb_start || fail "test bed setup"
cs() { tb_rtr "$BIN" "$@" --lan-dev lan0 --wan-dev wan0; }
"$GEN" 50 >"$WORK/a.csv"
"$GEN" 60 >"$WORK/b.csv"
"$GEN" 3000 >"$WORK/big.csv"

# A snapshot of our own, taken with the bed up, next to the bed's.
SNAP=$(mktemp -d)
trap 'rm -rf "$SNAP"; tb_teardown' EXIT
objects_before() { leak_objects | sort >"$SNAP/objects"; leak_devices "ip netns exec ${TB}rtr" lan0 wan0 | sort >"$SNAP/devices"; }
# nothing_left WHAT: no BPF object or kthread new since objects_before, devices as they were
nothing_left() {
	local devs
	expect_eq "$(freed_now)" "" "$1: no BPF map, program, link or cpumap thread left"
	devs=$(leak_devices "ip netns exec ${TB}rtr" lan0 wan0 | sort | diff "$SNAP/devices" - | grep '^[<>]')
	expect_eq "$devs" "" "$1: the devices hold what they held before"
}
n_objects() { leak_objects | sort | comm -13 "$SNAP/objects" - | grep -c "^$1 "; }
# dismantle: what another tool might do: remove our clsacts and XDP programs by hand
dismantle() {
	tb_rtr tc qdisc del dev lan0 clsact
	tb_rtr tc qdisc del dev wan0 clsact
	tb_rtr ip link set dev lan0 xdp off
	tb_rtr ip link set dev wan0 xdp off
}
# freed_now: our objects new since objects_before, once the kernel's deferred frees ran
freed_now() {
	local x i
	for ((i = 0; i < 60; i++)); do
		x=$(leak_objects | sort | comm -13 "$SNAP/objects" -); [ -z "$x" ] && break; sleep 0.25
	done
	echo "$x"
}

objects_before

# 1. Five load/unload cycles, with a reload of another file in each.
for i in 1 2 3 4 5; do
	cs load "$WORK/a.csv" >/dev/null || flunk "cycle $i: load"
	[ "$i" = 1 ] && {
		expect_ge "$(n_objects map)" 7 "a load made its maps (the check sees them)"
		expect_ge "$(n_objects kthread)" 2 "a load made its cpumap threads (the check sees them)"
	}
	cs load "$WORK/b.csv" >/dev/null || flunk "cycle $i: reload"
	cs unload >/dev/null || flunk "cycle $i: unload"
done
nothing_left "five load/unload cycles"

# 2. A first load killed at chosen points of its apply, then unload.
for n in 0 1 40 300; do
	(CS_TEST_DIE_AFTER=$n ip netns exec "${TB}rtr" "$BIN" load --lan-dev lan0 --wan-dev wan0 \
		"$WORK/big.csv" >/dev/null 2>&1) 2>/dev/null
	cs unload >/dev/null 2>&1
	nothing_left "first load killed after $n operations, then unload"
done

# 3. A load of a running shaper killed at random points, then unload.
cs load "$WORK/a.csv" >/dev/null || flunk "load before the kills"
for i in 1 2 3; do
	ip netns exec "${TB}rtr" "$BIN" load --lan-dev lan0 --wan-dev wan0 "$WORK/big.csv" >/dev/null 2>&1 &
	pid=$!
	sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", r / 32768 * 0.8 }')"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
done
cs unload >/dev/null || flunk "unload after killed reloads"
nothing_left "reloads killed at random, then unload"

# 4. Another tool removed our programs: unload still finds and frees the rest.
cs load "$WORK/a.csv" >/dev/null || flunk "load"
tb_rtr ip link set dev lan0 xdp off
tb_rtr ip link set dev wan0 xdp off
tb_rtr tc filter del dev lan0 egress
out=$(cs unload 2>&1); st=$?
expect_eq "$st" 0 "unload with the XDP programs and lan's classifier gone: exit 0 ($out)"
nothing_left "unload after the programs were removed by another tool"

cs load "$WORK/a.csv" >/dev/null || flunk "load"
dismantle
# no program is left to lead to the maps: the kernel must have freed them already
expect_eq "$(freed_now)" "" "every program detached by hand: the kernel frees maps and threads at once"
out=$(cs unload 2>&1); st=$?
expect_eq "$st" 0 "unload with only the qdisc trees left: exit 0 ($out)"
nothing_left "unload after every program was removed by another tool"

# 5. State that cpushaper <= 0.7 built, whose cpumap and arrival program held each other.
old() { CS_TEST_OLD_BINDING=1 tb_rtr "$BIN" "$@" --lan-dev lan0 --wan-dev wan0; }
arrive_uses_cpumap() {
	local p m
	for p in $(bpftool prog show -j | jq -r '.[] | select(.name == "cs_cpumap_arrive") | .id'); do
		for m in $(bpftool prog show id "$p" -j | jq -r '.map_ids[]?'); do
			bpftool map show id "$m" -j | jq -r 'select(.name == "cs_cpumap") | .id'
		done
	done | grep -c .
}
old load "$WORK/a.csv" >/dev/null 2>&1 || flunk "load the old way"
expect_eq "$(arrive_uses_cpumap)" 1 "the test hook builds the old cycle"
cs unload >/dev/null || flunk "unload of old state"
nothing_left "unload of state with the old cycle"

old load "$WORK/a.csv" >/dev/null 2>&1 || flunk "load the old way"
cs load "$WORK/b.csv" >/dev/null 2>&1 || flunk "reload by this version"
expect_eq "$(arrive_uses_cpumap)" 0 "a reload by this version replaces the arrival program of the old cycle"
dismantle
expect_eq "$(freed_now)" "" "after that reload, programs removed by hand free everything"
cs unload >/dev/null 2>&1
nothing_left "unload after the upgraded state was dismantled by hand"

old load "$WORK/a.csv" >/dev/null 2>&1 || flunk "load the old way"
dismantle
sleep 1
expect_ge "$(n_objects kthread)" 1 "the old cycle outlives its programs (what <= 0.7 leaked)"
out=$(cs unload 2>&1)
expect_contains "$out" "emptied 1 cpumap that an older cpushaper left behind" "unload finds and empties the orphaned cpumap"
nothing_left "unload of an orphaned old cycle"

# 6. The lock is not left behind.
cs load "$WORK/a.csv" >/dev/null || flunk "load"
cs unload >/dev/null || flunk "unload"
expect_eq "$(ls "${CS_LOCK_FILE:-/run/cpushaper.lock}" 2>/dev/null)" "" "unload removes its lock file"

done_tests
