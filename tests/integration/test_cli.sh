#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The command line against a real kernel, without traffic: usage and errors,
# --cpus, stable placement, moves, repair of a missing program, and both ways
# of running (every call under its own `ip netns exec`, or one shell with bpffs).
# Usage: test_cli.sh CPUSHAPER_BINARY
set -u
BIN=$(realpath "$1")
HERE=$(dirname "$(realpath "$0")")
TB="cs$$c-"
source "$HERE/../lib/testbed.sh"
source "$HERE/../lib/assert.sh"

tb_start || fail "test bed setup"

cs() { tb_rtr "$BIN" "$@" --lan-dev lan0 --wan-dev wan0; }
# rc CMD...: exit status of a command, output discarded
rc() { "$@" >/dev/null 2>&1; echo $?; }

HDR="Circuit ID,Circuit Name,Device ID,Device Name,Parent Node,MAC,IPv4,IPv6,Download Min Mbps,Upload Min Mbps,Download Max Mbps,Upload Max Mbps,Comment"
{ echo "$HDR"
  for i in 1 2 3 4 5 6; do echo "c-$i,Customer $i,d-$i,,,,198.18.1.$((10 + i)),2001:db8:1::$((10 + i)),5,2,$((10 * i)),$((4 * i)),"; done
} > "$WORK/six.csv"

# usage
expect_eq "$(rc "$BIN")" 2 "no command: exit 2"
expect_eq "$(rc "$BIN" frobnicate)" 2 "unknown command: exit 2"
expect_eq "$(rc "$BIN" load "$WORK/six.csv")" 2 "load without devices: exit 2"
expect_eq "$(rc cs load --cpus 9-1 "$WORK/six.csv")" 2 "backwards CPU range: exit 2"
expect_eq "$(rc cs load --link-mbps fast "$WORK/six.csv")" 2 "bad --link-mbps: exit 2"
for v in 0 -1 257 4x ""; do
	expect_eq "$(rc cs load --htbs-per-cpu "$v" "$WORK/six.csv")" 2 "--htbs-per-cpu '$v': exit 2"
done
out=$(cs load --cpumap-qsize 4 "$WORK/six.csv" 2>&1)
expect_contains "$out" "--cpumap-qsize takes 8 to 16384, not \"4\"" "a number out of range is named with its range"
for c in load show unload; do
	out=$("$BIN" $c --help) && expect_contains "$out" "Usage: cpushaper $c" "$c --help"
done
expect_contains "$("$BIN" help)" "Commands:" "help lists the commands"

# devices
out=$(tb_rtr "$BIN" load --lan-dev nosuch0 --wan-dev wan0 "$WORK/six.csv" 2>&1)
expect_eq "$?" 1 "unknown device: exit 1"
expect_contains "$out" "device nosuch0 does not exist" "unknown device named"
ip link add one0 netns "${TB}rtr" type veth peer name one1 netns "${TB}rtr"
out=$(tb_rtr "$BIN" load --lan-dev one0 --wan-dev wan0 "$WORK/six.csv" 2>&1)
expect_contains "$out" "one0 has 1 TX queue, but CPUs 0-1 with 1 HTB each need 2" "too few TX queues explained"
expect_contains "$out" "ethtool -L one0 tx 2" "and how to fix it"
expect_contains "$out" "ethtool -L one0 tx 2" "with the fix"
expect_eq "$(tb_rtr tc qdisc show dev wan0 | grep -c htb)" 0 "nothing built after the refusal"

# dry run changes nothing
out=$(cs load -n "$WORK/six.csv") || fail "dry run"
expect_contains "$out" "dry run, nothing changed" "dry run says so"
expect_eq "$(cs show -j | jq .loaded)" false "dry run loaded nothing"

# --cpus 1: everything on CPU 1, only HTB 2: exists
cs load --cpus 1 "$WORK/six.csv" >/dev/null || fail "load --cpus 1"
expect_eq "$(cs show -j | jq -r '[.circuits[].cpu] | unique | join(",")')" 1 "--cpus 1 puts every circuit on CPU 1"
expect_eq "$(cs show -j | jq -r .cpus)" 1 "show reports the CPUs"
expect_eq "$(tb_rtr tc qdisc show dev lan0 | grep -c 'qdisc htb')" 1 "one HTB for one CPU"
before=$(cs show -j | jq -c '[.circuits[] | [.id, .cpu, .down.classid]]')

# a later load without --cpus keeps them; adding CPU 0 moves nobody, new ones balance
{ cat "$WORK/six.csv"; echo "c-7,Seven,d-7,,,,198.18.1.17,,5,2,100,40,"; echo "c-8,Eight,d-8,,,,198.18.1.18,,5,2,5,2,"; } > "$WORK/eight.csv"
cs load "$WORK/six.csv" >/dev/null || fail "reload"
expect_eq "$(cs show -j | jq -r .cpus)" 1 "a load without --cpus keeps the running CPU set"
out=$(cs load --cpus 0-1 "$WORK/eight.csv") || fail "load eight"
expect_contains "$out" "2 added, 0 changed, 0 moved, 0 removed" "two added"
after=$(cs show -j | jq -c '[.circuits[] | select(.id != "c-7" and .id != "c-8") | [.id, .cpu, .down.classid]]')
expect_eq "$after" "$before" "adding CPUs and circuits moved no existing circuit"
expect_eq "$(cs show -j | jq -r '.circuits[] | select(.id=="c-7") | .cpu')" 0 "the heavy new circuit goes to the empty CPU"

# show one circuit; an unknown one is an error
out=$(cs show c-7) || fail "show c-7"
expect_contains "$out" "circuit c-7 \"Seven\" cpu 0" "show ID, text"
expect_contains "$out" "down class 1:3 min 5Mbit max 100Mbit" "show ID, class and rates"
out=$(cs show c-99 2>&1); expect_eq "$?" 1 "show of an unknown circuit: exit 1"
expect_contains "$out" "no circuit \"c-99\"" "and says so"

# take CPU 1 away: its circuits move to CPU 0 and keep shaping; its classes go
on1=$(cs show -j | jq '[.circuits[] | select(.cpu == 1)] | length')
out=$(cs load --cpus 0 "$WORK/eight.csv") || fail "load --cpus 0"
expect_contains "$out" "0 added, 0 changed, $on1 moved, 0 removed" "the $on1 circuits of CPU 1 moved"
expect_eq "$(cs show -j | jq -r '[.circuits[].cpu] | unique | join(",")')" 0 "all on CPU 0 now"
expect_eq "$(tb_rtr tc class show dev lan0 | grep -c 'class htb 3:[3-9a-f]')" 0 "no circuit class left on CPU 1 (its HTB is 3:, src/handles.h)"

# a rate change and a removal
sed 's/^c-3,Customer 3,d-3,,,,198.18.1.13,2001:db8:1::13,5,2,30,12,/c-3,Customer 3,d-3,,,,198.18.1.13,2001:db8:1::13,5,2,33.5,12,/; /^c-8,/d' \
	"$WORK/eight.csv" > "$WORK/edit.csv"
out=$(cs load "$WORK/edit.csv") || fail "edit"
expect_contains "$out" "0 added, 1 changed, 0 moved, 1 removed" "one change, one removal"
cls=$(cs show -j | jq -r '.circuits[] | select(.id=="c-3") | .down.classid')
expect_contains "$(tb_rtr tc class show dev lan0 classid "$cls")" "ceil 33500Kbit" "class changed in place"
expect_eq "$(cs show -j | jq '[.circuits[] | select(.id=="c-8")] | length')" 0 "c-8 gone"

# a program removed behind our back is put back by the next load
tb_rtr ip link set dev wan0 xdp off
out=$(cs load "$WORK/edit.csv") || fail "repair load"
expect_contains "$(tb_rtr ip link show dev wan0)" "cs_xdp_steer" "missing XDP program re-attached"
# (the programs on this bed's devices: other shapers may run on the machine)
xdp_ids=$(for d in lan0 wan0; do tb_rtr ip -j link show dev $d | jq -r '.[0].xdp | .prog.id // .attached[0].prog.id'; done)
expect_eq "$(echo $xdp_ids | wc -w)" 2 "both devices run an XDP program"
# our maps, cs_*: a program loaded again has a .rodata of its own (the flow table's mask)
xdp_maps=$(for id in $xdp_ids; do
	bpftool prog show id "$id" -j | jq -r '.map_ids[]' | while read -r m; do
		bpftool map show id "$m" -j | jq -r 'select(.name | startswith("cs_")) | .id'; done | sort -n | tr '\n' ' '
	echo; done | sort -u | wc -l)
expect_eq "$xdp_maps" 1 "both XDP programs use the same maps"

# a different device pair is refused
ip -n "${TB}rtr" link add other0 numtxqueues 2 numrxqueues 2 type veth peer name other1 numtxqueues 2 numrxqueues 2
out=$(tb_rtr "$BIN" show --lan-dev lan0 --wan-dev other0 2>&1)
expect_contains "$out" "lan0 belongs to the running pair --lan-dev lan0 --wan-dev wan0" "devices must match what was loaded"

# a failed apply leaves the previous state: the kernel refuses the 4th operation
snap() { { tb_rtr tc class show dev lan0; tb_rtr tc class show dev wan0; cs show -j | config_only; } ; }
cs unload >/dev/null
cs load "$WORK/six.csv" >/dev/null 2>&1 || fail "load six"
snap > "$WORK/before"
{ cat "$WORK/six.csv"; for i in 7 8 9; do echo "c-$i,N$i,d-$i,,,,198.18.1.$((10 + i)),,5,2,10,4,"; done; } > "$WORK/nine.csv"
# (with options that change the running configuration: it must come back too)
out=$(CS_TEST_FAIL_AFTER=4 cs load --unknown cpu:1 --no-xdp-meta "$WORK/nine.csv" 2>&1); st=$?
expect_eq "$st" 1 "a load the kernel refuses midway: exit 1"
expect_contains "$out" "failed: Input/output error; restoring the previous state" "says what failed"
snap > "$WORK/after"
if cmp -s "$WORK/before" "$WORK/after"; then pass "the failed apply left classes and maps as they were"
else flunk "state changed by a failed apply: $(diff "$WORK/before" "$WORK/after")"; fi
# ... and the counters of a circuit whose record the failed apply wrote and put back:
# c-1's plan changes, its record is written (5th operation), the 6th fails
tb_subscriber 198.18.1.11 || fail "subscriber address"
tb_sub ping -c 5 -i 0.2 -W 1 -I 198.18.1.11 198.19.0.2 >/dev/null || flunk "ping through c-1"
counters() { cs show -j c-1 | jq -c '.circuits[0] | [.down.bytes, .down.packets, .up.bytes, .up.packets]'; }
c1=$(counters)
expect_ge "$(echo "$c1" | jq '.[1]')" 5 "c-1 counted the pings (down packets)"
sed 's/^c-1,Customer 1,\(.*\),5,2,10,4,$/c-1,Customer 1,\1,5,2,11,4,/' "$WORK/nine.csv" > "$WORK/nine-c1.csv"
out=$(CS_TEST_FAIL_AFTER=5 cs load "$WORK/nine-c1.csv" 2>&1); st=$?
expect_eq "$st/$(echo "$out" | grep -c 'applying "c-7" failed')" "1/1" "a load whose records fail after c-1's: exit 1"
expect_eq "$(counters)" "$c1" "c-1's record written and put back: its counters kept"
expect_contains "$(cs show c-1)" "max 10Mbit" "and its plan"

# a foreign class at a free minor of our HTB is adopted, and an orphan is collected
tb_rtr tc class add dev wan0 parent 1:1 classid 1:77 htb rate 1mbit || fail "foreign class"
out=$(cs load "$WORK/six.csv" 2>&1) || fail "load with an orphan class"
expect_contains "$out" "removed 1 class left by an interrupted run" "orphan class collected"
expect_eq "$(tb_rtr tc class show dev wan0 classid 1:77)" "" "and gone"

# a reload of the same file is a no-op
out=$(cs load "$WORK/six.csv") || fail "reload six"
expect_contains "$out" "0 added, 0 changed, 0 moved, 0 removed, 0 address updates" "reload is a no-op"

# A kernel refusal in one direction of a circuit: what was made or changed in the
# other direction goes back too. A foreign qdisc on CPU 1's free TX queue (--cpus 0)
# of one device holds the leaf handle the next new circuit (or leaf) gets.
leafsnap() { for d in lan0 wan0; do tb_rtr tc class show dev $d; tb_rtr tc qdisc show dev $d | grep -v 'parent 7fff:2 '; done; cs show -j | config_only; }
# the leaf handle after the highest one the circuits' leaves hold
next_leaf() {
	local h m=0
	for h in $(tb_rtr tc qdisc show dev lan0 | awk '$2 == "pfifo" && $4 == "parent" { split($5, p, ":"); if (p[2] + 0 > 2) print $3 }'); do
		h=$((16#${h%:})); [ "$h" -gt "$m" ] && m=$h
	done
	printf '%x' $((m + 1))
}
# hold DEV HANDLE: the foreign qdisc on DEV, and none with that handle on the other
unhold() { local d; for d in lan0 wan0; do tb_rtr tc qdisc replace dev $d parent 7fff:2 pfifo_fast; done; }
hold() {
	unhold
	tb_rtr tc qdisc replace dev "$1" parent 7fff:2 handle "$2": pfifo || fail "foreign qdisc $2: on $1"
}
{ echo "$HDR,sqm"; sed '1d; s/$/,/' "$WORK/six.csv" | sed '$s/,$/,none/'; } > "$WORK/six-none.csv"
cs unload >/dev/null
cs load --cpus 0 "$WORK/six.csv" >/dev/null 2>&1 || fail "load six on CPU 0"
for dev in wan0 lan0; do
	hold "$dev" "$(next_leaf)"
	leafsnap > "$WORK/before"
	out=$(cs load "$WORK/nine.csv" 2>&1); st=$?
	expect_eq "$st" 1 "a new circuit whose leaf $dev refuses: exit 1"
	expect_contains "$out" "applying \"c-7\" failed" "says which circuit failed ($dev)"
	leafsnap > "$WORK/after"
	if cmp -s "$WORK/before" "$WORK/after"; then pass "refused on $dev: no class or leaf of c-7 left on either device"
	else flunk "refused on $dev: state changed: $(diff "$WORK/before" "$WORK/after")"; fi
done
# a leaf change (sqm none to the FIFO) refused on wan0: lan0's new leaf goes back
cs load "$WORK/six-none.csv" >/dev/null 2>&1 || fail "load six, c-6 without a leaf"
hold wan0 "$(next_leaf)"
leafsnap > "$WORK/before"
out=$(cs load "$WORK/six.csv" 2>&1); st=$?
expect_eq "$st" 1 "a leaf change wan0 refuses: exit 1"
expect_contains "$out" "applying \"c-6\" failed" "says which circuit failed (leaf change)"
leafsnap > "$WORK/after"
if cmp -s "$WORK/before" "$WORK/after"; then pass "leaf change refused on wan0: lan0 has HTB's own leaf again"
else flunk "leaf change refused on wan0: state changed: $(diff "$WORK/before" "$WORK/after")"; fi
unhold

# A failed load --queue-ms: every FIFO and the leaves of :2 come back to their size.
cs load "$WORK/six.csv" >/dev/null 2>&1 || fail "load six"
leafsnap > "$WORK/before"
out=$(CS_TEST_FAIL_AFTER=3 cs load --queue-ms 60 "$WORK/six.csv" 2>&1); st=$?
expect_eq "$st" 1 "a --queue-ms load the kernel refuses midway: exit 1"
expect_contains "$out" "restoring the previous state" "says it restores"
leafsnap > "$WORK/after"
if cmp -s "$WORK/before" "$WORK/after"; then pass "the failed --queue-ms load left every leaf at its size"
else flunk "the failed --queue-ms load changed leaves: $(diff "$WORK/before" "$WORK/after")"; fi
out=$(cs load --queue-ms 60 "$WORK/six.csv" 2>&1) || flunk "load --queue-ms 60: $out"
expect_eq "$(cs show -j | jq .queue_ms)" 60 "and the same load without the fault applies"
cmp -s "$WORK/before" <(leafsnap); expect_eq "$?" 1 "(the leaves' sizes do change with --queue-ms)"
cs unload >/dev/null
cs load "$WORK/six.csv" >/dev/null 2>&1 || fail "load six again"

# show reports the leaf the kernel has (a get by the class), not the record's
kleaf() { cs show -j c-2 | jq -c "[.circuits[0].leaf.kernel | $1]"; }
cls=$(cs show -j c-2 | jq -r '.circuits[0].down.classid')
h=$(cs show -j c-2 | jq -r '.circuits[0].leaf.kernel.up.handle')
expect_eq "$(kleaf '.down.kind, .up.kind, .down.as_recorded, .up.as_recorded')" '["fifo","fifo",true,true]' "show -j: c-2's leaves as recorded"
expect_not_contains "$(cs show c-2)" "instead" "show: nothing said of them"
tb_rtr tc qdisc del dev lan0 parent "$cls" || fail "delete c-2's download leaf"
expect_contains "$(cs show c-2)" "down: the kernel has pfifo (HTB's own) instead" "show c-2: its download leaf deleted"
expect_eq "$(kleaf '.down.kind, .down.handle, .down.as_recorded, .up.as_recorded')" '["pfifo","0:",false,true]' "show -j says so"
expect_contains "$(cs show)" "down: the kernel has pfifo (HTB's own) instead" "show of all circuits too"
tb_rtr tc qdisc del dev wan0 parent "$cls" && tb_rtr tc qdisc add dev wan0 parent "$cls" handle "$h" bfifo limit 30000 ||
	fail "another kind of leaf for c-2's upload"
expect_contains "$(cs show c-2)" "up: the kernel has bfifo $h instead" "show c-2: a leaf of another kind named"
tb_rtr tc class del dev wan0 classid "$cls" || fail "delete c-2's upload class"
expect_contains "$(cs show c-2)" "up: no class in the kernel" "show c-2: no class, so no leaf"
expect_eq "$(kleaf '.up.kind, .up.as_recorded')" '[null,false]' "show -j: null kind"

# the RTT flow table: sized at the first load, another size said and not applied later
cs unload >/dev/null
cs load --rtt-flows 1000 "$WORK/six.csv" >/dev/null 2>&1 || fail "load --rtt-flows 1000"
expect_eq "$(cs show -j | jq .rtt_flows)" 1024 "--rtt-flows 1000: a table of 1024 flows"
out=$(cs load --rtt-flows 5000 "$WORK/six.csv" 2>&1) || flunk "load --rtt-flows 5000 on a running shaper"
expect_contains "$out" "note: --rtt-flows 5000 (8192 flows) takes effect at the next cold start, after 'cpushaper unload': the running table holds 1024 flows (32 KiB a CPU)" \
	"another size on a running shaper: said"
expect_eq "$(cs show -j | jq .rtt_flows)" 1024 "and not applied"
out=$(cs load --rtt-flows 1024 "$WORK/six.csv" 2>&1)
expect_not_contains "$out" "rtt-flows" "the running size again: nothing said"
cs unload >/dev/null
cs load "$WORK/six.csv" >/dev/null 2>&1 || fail "load six"
expect_eq "$(cs show -j | jq .rtt_flows)" 32768 "after unload, the default again: 32768"

# generic XDP on request
cs unload >/dev/null
cs load --xdp-mode skb "$WORK/six.csv" >/dev/null 2>&1 || fail "load --xdp-mode skb"
expect_contains "$(tb_rtr ip link show dev lan0)" "xdpgeneric" "--xdp-mode skb attaches generic XDP"
expect_eq "$(rc cs unload)" 0 "unload"
expect_eq "$(tb_rtr ip link show dev lan0 | grep -c xdp)" 0 "generic XDP removed too"

# the other way of running: all calls in one shell, with bpffs mounted
out=$(tb_rtr sh -c "mount -t bpf bpf /sys/fs/bpf &&
	'$BIN' load --lan-dev lan0 --wan-dev wan0 '$WORK/six.csv' >/dev/null 2>&1 &&
	'$BIN' show -j --lan-dev lan0 --wan-dev wan0 &&
	'$BIN' unload --lan-dev lan0 --wan-dev wan0 >/dev/null &&
	ls -R /sys/fs/bpf")
expect_eq "$(echo "$out" | head -1 | jq '.circuits | length')" 6 "one shell with bpffs: load and show"
expect_not_contains "$out" "dispatch-" "one shell with bpffs: no dispatcher pins left"
expect_eq "$(tb_rtr ip link show dev lan0 | grep -c xdp)" 0 "one shell with bpffs: unloaded"
# nothing in a customer file reaches a format string or a shell
canary="/tmp/cs$$p"; rm -f "$canary"
printf '%s\n%s\n' "$HDR" "\"c-%s%n%x\",\"\$(touch $canary); %p \`touch $canary\`\",d,,,,198.18.1.99,,1,1,2,2," > "$WORK/evil.csv"
cs load "$WORK/evil.csv" >/dev/null 2>&1 || flunk "load of a file with format and shell characters"
expect_contains "$(cs show)" "circuit c-%s%n%x \"\$(touch $canary); %p \`touch $canary\`\"" "printed verbatim"
expect_eq "$(cs show -j | jq -r '.circuits[0].name')" "\$(touch $canary); %p \`touch $canary\`" "JSON carries it verbatim"
[ ! -e "$canary" ]; verdict $? "no shell ran it" "$canary exists"
cs unload >/dev/null

# an offline or absent CPU, and no privileges: one clear line each
out=$(cs load --cpus 200 "$WORK/six.csv" 2>&1); st=$?
expect_eq "$st" 1 "a CPU that is not online: exit 1"
expect_eq "$out" "cpushaper: CPU 200 is not online; choose others with --cpus" "and says which"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$BIN" show --lan-dev lo --wan-dev lo 2>&1); st=$?
expect_eq "$st" 1 "without privileges: exit 1"
expect_eq "$(echo "$out" | wc -l)" 1 "without privileges: one line"
expect_contains "$out" "needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN)" "saying what is needed"

# writers are serialized: a second load waits for the first and says so
cs load "$WORK/six.csv" >/dev/null 2>&1
exec 9>"$WORK/lock"
flock 9
( sleep 1; flock -u 9 ) &
out=$(CS_LOCK_FILE="$WORK/lock" cs set-rate c-1 --down-max 11 2>&1 9>&-); st=$?
wait
exec 9>&-
expect_eq "$st" 0 "set-rate went ahead once the lock was free"
expect_contains "$out" "another cpushaper" "and said whom it waited for"
out=$(CS_LOCK_FILE="$WORK/lock" cs show c-1) || flunk "show"
expect_contains "$out" "max 11Mbit" "the change was made"
# readers take no lock: show and top answer while a writer holds it
exec 9>"$WORK/lock"
flock 9
out=$(CS_LOCK_FILE="$WORK/lock" timeout 5 ip netns exec "${TB}rtr" "$BIN" show -j --lan-dev lan0 --wan-dev wan0 2>&1 9>&-)
st=$?
out2=$(CS_LOCK_FILE="$WORK/lock" timeout 5 ip netns exec "${TB}rtr" "$BIN" top --once -j --lan-dev lan0 --wan-dev wan0 2>&1 9>&-)
st2=$?
exec 9>&-
expect_eq "$st/$st2" "0/0" "show and top do not wait for a writer's lock"
expect_not_contains "$out$out2" "another cpushaper" "and do not mention it"

# an HTB's handle taken by a classless qdisc (someone's tc): show still answers, naming
# the classes the kernel lacks (the kernel refuses a class get under it with EOPNOTSUPP)
show=$(cs show -j)
maj=$(echo "$show" | jq -r '.circuits[0].down.classid | split(":")[0]')
q=$(echo "$show" | jq -r --arg h "$maj:" '.htbs[] | select(.handle == $h) | .txq + 1')
tb_rtr tc qdisc del dev lan0 parent "7fff:$(printf %x "$q")" handle "$maj:" &&
	tb_rtr tc qdisc add dev lan0 parent "7fff:$(printf %x "$q")" handle "$maj:" pfifo || flunk "replace HTB $maj: with a pfifo"
out=$(cs show 2>&1); st=$?
expect_eq "$st" 0 "show with an HTB replaced by a pfifo: exit 0 ($out)"
expect_contains "$out" "no class in the kernel" "and names the classes the kernel lacks"
cs show -j >/dev/null 2>&1 || flunk "show -j with an HTB replaced by a pfifo"

# a device that disappears: unload cleans the other and says so
ip -n "${TB}rtr" link del wan0
out=$(cs unload 2>&1); st=$?
expect_eq "$st" 0 "unload with wan-dev gone: exit 0"
expect_contains "$out" "wan0 does not exist (any more)" "says wan-dev is gone"
expect_eq "$(tb_rtr tc qdisc show dev lan0 | grep -c 'htb\|clsact')" 0 "lan-dev cleaned"
expect_eq "$(tb_rtr ip link show dev lan0 | grep -c xdp)" 0 "lan-dev XDP removed"

done_tests
