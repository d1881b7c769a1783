#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Several HTBs per CPU on devices with more TX queues than CPUs: the layout
# (HTB j of CPU k on TX queue j * NCPU + k), circuits spread over a CPU's HTBs,
# real TCP shaped in each of them, the layout fixed while loaded, the queue check.
# Usage: test_multihtb.sh CPUSHAPER_BINARY
set -u
BIN=$(realpath "$1")
HERE=$(dirname "$(realpath "$0")")
TB="cs$$m-"
NCPU=$(getconf _NPROCESSORS_CONF)
TB_QUEUES=$((NCPU * 4))
source "$HERE/../lib/testbed.sh"
source "$HERE/../lib/assert.sh"

tb_start || fail "test bed setup"
cs() { tb_rtr "$BIN" "$@" --lan-dev lan0 --wan-dev wan0; }
majors() { echo "$show" | jq -r "[.circuits[] | .$1.classid | split(\":\")[0]] | unique | join(\",\")"; }

{
	echo "Circuit ID,Circuit Name,Device ID,Device Name,Parent Node,MAC,IPv4,IPv6,Download Min Mbps,Upload Min Mbps,Download Max Mbps,Upload Max Mbps,Comment"
	for k in $(seq $((NCPU * 4))); do echo "m-$k,M $k,d-$k,,,,198.18.1.$((20 + k)),,10,5,$((20 + k)),10,"; done
} > "$WORK/c.csv"
tb_subscriber $(for k in $(seq $((NCPU * 4))); do echo 198.18.1.$((20 + k)); done)

out=$(cs load "$WORK/c.csv" 2>&1) || fail "load: $out"
show=$(cs show -j)
expect_eq "$(echo "$show" | jq .htbs_per_cpu)" 4 "$TB_QUEUES TX queues, $NCPU CPUs: 4 HTBs per CPU by default"
htbs=$(echo "$show" | jq -r '[.htbs[].handle | rtrimstr(":")] | sort | join(",")')
expect_eq "$(majors down)" "$htbs" "the circuits fill every HTB"
expect_eq "$(echo "$show" | jq -r '[.htbs[] | select(.txq % '"$NCPU"' != .cpu)] | length')" 0 "HTB j of CPU k on TX queue j * NCPU + k"
# no HTB major shares the hash bucket of the kernel's default leaves (handle 0): not 2, 21, ...
echo "$htbs" | tr , '\n' | while read -r m; do echo $(( ((((16#$m) << 16) * 0x61C88647) & 0xffffffff) >> 28 )); done | grep -qx 0 &&
	flunk "an HTB major in bucket 0: $htbs" || pass "no HTB major in the default leaves' bucket ($htbs)"
echo "$show" | jq -e '(. as $s | all($s.circuits[]; . as $c | any($s.htbs[]; .handle == ($c.down.classid | split(":")[0] + ":") and .cpu == $c.cpu))) and all(.circuits[]; .down.classid == .up.classid)' >/dev/null &&
	pass "each class is in an HTB of its own CPU" || flunk "class majors: $(echo "$show" | jq -c '[.circuits[] | [.cpu, .down.classid]]')"
for dev in lan0 wan0; do
	# each HTB under the MQ class of its own TX queue
	for row in $(echo "$show" | jq -r '.htbs[] | "\(.handle)\(.txq + 1)"'); do
		q=$(printf '%x' "${row#*:}")
		tb_rtr tc qdisc show dev $dev | grep -q "^qdisc htb ${row%%:*}: parent 7fff:$q " ||
			flunk "$dev: HTB ${row%%:*}: not at 7fff:$q: $(tb_rtr tc qdisc show dev $dev | grep htb)"
	done
	n=$(tb_rtr tc qdisc show dev $dev | grep -c '^qdisc htb')
	expect_eq "$n" "$((NCPU * 4))" "$((NCPU * 4)) HTB qdiscs on $dev"
	n=$(tb_rtr tc class show dev $dev | grep -c '^class htb')
	expect_eq "$n" "$((NCPU * 4 * 3))" "classes :1, :2 and one circuit in each HTB of $dev"
done

# One flow per HTB at once, download: each circuit at its plan, counted in its class.
ids=$(echo "$show" | jq -r '[.circuits[]] | group_by(.down.classid | split(":")[0]) | map(.[0].id) | .[]')
pids=()
for id in $ids; do
	k=${id#m-}
	tb_iperf_server $((5400 + k)) || fail "iperf3 server"
done
for id in $ids; do
	k=${id#m-}
	tb_sub iperf3 -c 198.19.0.2 -B 198.18.1.$((20 + k)) -p $((5400 + k)) -R -t 4 -O 1 -J > "$WORK/$id.json" 2>&1 &
	pids+=($!)
done
wait "${pids[@]}"
for id in $ids; do
	k=${id#m-}
	got=$(jq -r '.end.sum_received.bits_per_second // 0' "$WORK/$id.json")
	cls=$(echo "$show" | jq -r ".circuits[] | select(.id==\"$id\") | .down.classid")
	expect_range "$(echo "$got / ($((20 + k)) * 1000000)" | bc -l)" 0.90 1.00 "$id in HTB ${cls%%:*}: goodput / Max"
	b=$(tb_rtr tc -s class show dev lan0 classid "$cls" | awk '/Sent/ { print $2; exit }')
	expect_ge "$b" "$(( (20 + k) * 1000000 / 8 * 2 ))" "$id counted in its class $cls"
done
# A CPU's figures are the sum of all its HTBs: at least what its circuits' classes sent
# (the classes' own counters: show's are TC's, what entered each queue, drops included).
top=$(cs top -j --once)
show=$(cs show -j)
for cpu in $(seq 0 $((NCPU - 1))); do
	classes=0
	for cls in $(echo "$show" | jq -r ".circuits[] | select(.cpu == $cpu) | .down.classid"); do
		classes=$((classes + $(tb_rtr tc -s class show dev lan0 classid "$cls" | awk '/Sent/ { print $2; exit }')))
	done
	got=$(echo "$top" | jq ".cpus[] | select(.cpu == $cpu) | .down.bytes")
	expect_ge "$got" "$classes" "top: CPU $cpu's download bytes cover all 4 of its HTBs ($classes in its classes)"
done

# The layout stays until unload.
err=$(cs load --htbs-per-cpu 2 "$WORK/c.csv" 2>&1) && flunk "a load changed the HTBs per CPU"
expect_contains "$err" "runs with 4 HTBs per CPU, which a load cannot change: unload first" "a layout change is refused"
out=$(cs load "$WORK/c.csv") || fail "reload"
expect_contains "$out" "0 added, 0 changed, 0 moved, 0 removed" "a reload changes nothing"

# Too few TX queues for the HTBs asked for: refused, nothing built.
cs unload >/dev/null || fail "unload"
err=$(cs load --htbs-per-cpu 5 "$WORK/c.csv" 2>&1) && flunk "5 HTBs per CPU on $TB_QUEUES queues was accepted"
expect_contains "$err" "lan0 has $TB_QUEUES TX queues, but CPUs" "too few queues: refused"
expect_contains "$err" "ethtool -L lan0 tx $((4 * NCPU + NCPU))" "and says how many are needed"
expect_not_contains "$(tb_rtr tc qdisc show dev lan0)" "htb" "nothing was built"
out=$(cs load --htbs-per-cpu 1 "$WORK/c.csv" 2>&1) || fail "load with one HTB per CPU: $out"
show=$(cs show -j)
expect_eq "$(echo "$show" | jq '.htbs | length'):$(majors down)" \
	"$NCPU:$(echo "$show" | jq -r '[.htbs[].handle | rtrimstr(":")] | sort | join(",")')" "--htbs-per-cpu 1: one HTB per CPU"
cs unload >/dev/null || fail "unload"
expect_not_contains "$(tb_rtr tc qdisc show dev lan0)" "htb" "unload leaves no HTB"
done_tests
