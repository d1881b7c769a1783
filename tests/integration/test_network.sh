#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The network above the circuits, enforced at every level, under real TCP: a
# network.json with a five-level path (Region > Site > Tower > [virtual Sector]
# > AP-1 > Mesh) beside the customer file. A plan above its node's bandwidth
# gets the node's; two circuits under one AP share it, each keeping its Min; a
# node's bandwidth changed by a reload takes effect at once; a circuit moved to
# another AP under traffic stays shaped while the others' counters run on.
# Then: refusals change nothing, a load killed in a node move is repaired by the
# next, a network file gone missing is refused, and --network none removes it.
# Usage: test_network.sh CPUSHAPER_BINARY
set -u
BIN=$(realpath "$1")
HERE=$(dirname "$(realpath "$0")")
TB="cs$$n-"
source "$HERE/../lib/testbed.sh"
source "$HERE/../lib/assert.sh"

tb_start || fail "test bed setup"
cs() { tb_rtr "$BIN" "$@" --lan-dev lan0 --wan-dev wan0; }

# network MESH_DOWN_MBPS [site]: the network file, Mesh's download bandwidth
# given, Mesh under AP-1 (or under Site)
network() {
	local mesh="\"Mesh\": { \"downloadBandwidthMbps\": $1, \"uploadBandwidthMbps\": 12 }"
	local under_ap1=$mesh under_site=""
	[ "${2:-}" = site ] && under_ap1="" under_site="$mesh,"
	cat >"$WORK/network.json" <<EOF
{ "Region": { "downloadBandwidthMbps": 200, "uploadBandwidthMbps": 100, "type": "Region", "children": {
    "Site": { "downloadBandwidthMbps": 100, "uploadBandwidthMbps": 50, "children": { $under_site
      "Tower": { "downloadBandwidthMbps": 80, "uploadBandwidthMbps": 40, "children": {
        "Sector": { "downloadBandwidthMbps": 80, "uploadBandwidthMbps": 40, "virtual": true, "children": {
          "AP-1": { "downloadBandwidthMbps": 30, "uploadBandwidthMbps": 15, "id": "ap-1", "children": {
            $under_ap1 } },
          "AP-2": { "downloadBandwidthMbps": 40, "uploadBandwidthMbps": 20, "id": "ap-2" } } } } } } } } } }
EOF
}
# customers AP_OF_C_A: the customer file, c-a under the given AP
customers() {
	cat >"$WORK/customers.csv" <<EOF
Circuit ID,Circuit Name,Device ID,Device Name,Parent Node,MAC,IPv4,IPv6,Download Min Mbps,Upload Min Mbps,Download Max Mbps,Upload Max Mbps,Comment,Parent Node ID
c-big,Big plan,d1,,Mesh,,198.18.1.11,,10,5,105,50,,
c-a,A,d2,,$1,,198.18.1.12,,15,5,40,20,,
c-b,B,d3,,,,198.18.1.13,,15,5,40,20,,ap-2
c-flat,Flat,d4,,,,198.18.1.14,,10,5,20,10,,
EOF
}
network 25
customers AP-2
tb_subscriber 198.18.1.11 198.18.1.12 198.18.1.13 198.18.1.14
for p in 5401 5402 5403 5404; do tb_iperf_server $p || fail "iperf3 server $p"; done

# flow NAME ADDR PORT DIR SECONDS [OMIT]: iperf3 from the subscriber, JSON into $WORK/NAME.json
flow() {
	local rev=""
	[ "$4" = down ] && rev=-R
	tb_sub iperf3 -c 198.19.0.2 -B "$2" -p "$3" $rev -t "$5" -O "${6:-1}" -J >"$WORK/$1.json" 2>&1
}
mbps() { jq -r '(.end.sum_received.bits_per_second // 0) / 1000000' "$WORK/$1.json"; }
ratio() { echo "$(mbps "$1") / $2" | bc -l; }
classid() { cs show -j | jq -r ".circuits[] | select(.id==\"$1\") | .$2.classid"; }
# parent_of DEV CLASSID: the parent class the kernel holds
parent_of() { tb_rtr tc class show dev "$1" classid "$2" | sed -n 's/.* parent \([0-9a-f:]*\) .*/\1/p'; }
class_bytes() { tb_rtr tc -s class show dev "$1" classid "$2" | awk '/Sent/ { print $2; exit }'; }
class_ceil() { tb_rtr tc class show dev "$1" classid "$2" | sed -n 's/.* ceil \([0-9A-Za-z]*\) .*/\1/p'; }

# 1. The network.json beside the customer file is found and built.
out=$(cs load "$WORK/customers.csv" 2>&1) || fail "load: $out"
expect_contains "$out" "network: 6 nodes, 6 added" "the 6 real nodes of network.json get classes (not the virtual one)"
# c-big's class hangs under Mesh, AP-1, Tower, Site, Region, then the root class :1
cls=$(classid c-big down)
chain=""
for ((i = 0; i < 8; i++)); do
	p=$(parent_of lan0 "$cls")
	[ -n "$p" ] || break
	chain+="$p "
	cls=$p
done
expect_eq "$(wc -w <<<"$chain")" 6 "c-big's download class is six levels below the root: $chain"
major=$(classid c-big down | cut -d: -f1)
expect_contains "$chain" "$major:1 " "the chain ends at its HTB's root class :1"
same=$(cs show -j | jq -r '[.circuits[] | select(.id != "c-flat") | .cpu] | unique | length')
expect_eq "$same" 1 "everything under Region shares one CPU"
# show --tree: plans against bandwidth per node, nested as in the file (virtual levels left out)
tree=$(cs show --tree -j)
expect_eq "$(jq -c '.tree | [length, .[0].name, .[0].circuits, .[0].down.plan_mbps, .[0].down.max_mbps]' <<<"$tree")" \
	'[1,"Region",3,185,200]' "show --tree: Region on top, its 3 circuits' plans against its 200 Mbit/s"
expect_eq "$(jq -c '.. | objects | select(.name? == "AP-2") | [.circuits, .down.plan_mbps, .down.max_mbps]' <<<"$tree")" \
	'[2,80,40]' "show --tree: AP-2 plans 80 Mbit/s on 40"
expect_eq "$(jq -c '.. | objects | select(.name? == "Tower") | [.children[].name] | sort' <<<"$tree")" \
	'["AP-1","AP-2"]' "show --tree: the APs hang under Tower (the virtual Sector is no level)"
expect_eq "$(jq '.circuits_under_no_node' <<<"$tree")" 1 "show --tree: one circuit under no node"
text=$(cs show --tree)
expect_contains "$text" $'\n      |  `- Mesh  cpu' "show --tree draws Mesh under AP-1, the fourth level below Region"

# 2. A 105 Mbit plan behind a 25 Mbit mesh node gets 25, a 50 Mbit upload 12.
flow big 198.18.1.11 5401 down 4
echo "  c-big: down $(mbps big) Mbit/s behind Mesh's 25"
expect_range "$(ratio big 25)" 0.88 1.0 "c-big download: goodput / Mesh's 25 Mbit/s"
flow big 198.18.1.11 5401 up 4
echo "  c-big: up $(mbps big) Mbit/s behind Mesh's 12"
expect_range "$(ratio big 12)" 0.88 1.0 "c-big upload: goodput / Mesh's 12 Mbit/s"

show=$(cs show -j)
expect_eq "$(jq -r '.circuits[] | select(.id=="c-big") | .parent' <<<"$show")" Mesh "show: c-big's parent is Mesh"
expect_eq "$(jq -r '.circuits[] | select(.id=="c-flat") | .parent' <<<"$show")" null "show: c-flat has no parent"
expect_eq "$(jq -c '[.nodes[].name] | sort' <<<"$show")" '["AP-1","AP-2","Mesh","Region","Site","Tower"]' "show: the six real nodes"
expect_eq "$(jq -c '.nodes[] | select(.name=="AP-1") | [.parent, .down.max_mbps, .up.max_mbps, .down.min_mbps]' <<<"$show")" \
	'["Tower",30,15,10]' "show: AP-1 under Tower, ceil its bandwidth, rate what is guaranteed below it (Mesh's 10)"
expect_eq "$(jq -r '.nodes[] | select(.name=="Region") | .parent' <<<"$show")" null "show: Region is at the top"
expect_ge "$(jq -r '.nodes[] | select(.name=="Mesh") | .down.bytes' <<<"$show")" 5000000 "show: Mesh's class counted c-big's download"

# top: the busiest nodes (c-big's traffic went through Mesh and every node above it)
busy=$(cs top --once -j | jq -c '[.busiest_nodes[] | select(.down_bytes > 5000000) | .name] | sort')
expect_eq "$busy" '["AP-1","Mesh","Region","Site","Tower"]' "top -j: the nodes c-big's download went through"
expect_contains "$(cs top -n 2 -d 0.3)" "NODE" "top lists the busiest nodes live"

# the exporter: per-node series that a real parser reads
PORT=$((9700 + $$ % 200))
ip netns exec "${TB}rtr" "$BIN" metrics --listen 127.0.0.1:$PORT --lan-dev lan0 --wan-dev wan0 \
	>/dev/null 2>"$WORK/metrics.err" &
EXP=$!
TB_PIDS+=("$EXP")
for _ in $(seq 50); do tb_rtr curl -sf -o "$WORK/metrics.txt" http://127.0.0.1:$PORT/metrics && break; sleep 0.1; done
series=$(/usr/bin/python3 - "$WORK/metrics.txt" <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
out = {}
for f in text_string_to_metric_families(open(sys.argv[1]).read()):
    for s in f.samples:
        if "node" in s.labels and s.labels.get("direction") == "down":
            out[(s.name, s.labels["node"])] = s.value
print(len({n for _, n in out}), int(out[("cpushaper_node_max_bits_per_second", "Mesh")]),
      int(out[("cpushaper_node_bytes_total", "Mesh")] > 5e6))
PY
)
expect_eq "$series" "6 25000000 1" "the exporter: six nodes, Mesh's bandwidth and its bytes (parsed by prometheus_client)"
kill "$EXP" && wait "$EXP" 2>/dev/null

# 3. Two circuits under AP-2 (40 Mbit/s) share it; each keeps at least its Min (15).
flow a 198.18.1.12 5402 down 5 &
pa=$!
flow b 198.18.1.13 5403 down 5
wait $pa
sum=$(echo "$(mbps a) + $(mbps b)" | bc -l)
expect_range "$(echo "$sum / 40" | bc -l)" 0.88 1.0 "c-a + c-b: goodput / AP-2's 40 Mbit/s"
echo "  c-a $(mbps a) + c-b $(mbps b) Mbit/s under AP-2's 40"
expect_range "$(mbps a)" 13.5 40 "c-a keeps its Min of 15 Mbit/s (within 10%)"
expect_range "$(mbps b)" 13.5 40 "c-b keeps its Min of 15 Mbit/s (within 10%)"

# 4. Mesh's bandwidth changed by a reload: an in-place class change, in force at once.
mesh=$(parent_of lan0 "$(classid c-big down)")
network 15
out=$(cs load "$WORK/customers.csv" 2>&1) || flunk "reload: $out"
expect_contains "$out" "0 added, 1 changed, 0 moved, 0 removed" "one node changed in place"
expect_eq "$(parent_of lan0 "$(classid c-big down)")" "$mesh" "Mesh kept its class"
expect_eq "$(class_ceil lan0 "$mesh")" 15Mbit "Mesh's class has the new ceil"
flow big 198.18.1.11 5401 down 2 1 # the 2 s that start 1 s after the load
echo "  c-big: down $(mbps big) Mbit/s in the 2 s from 1 s after Mesh went to 15"
expect_range "$(ratio big 15)" 0.88 1.0 "c-big download right after the reload: goodput / 15 Mbit/s"

# set-rate --node: the same change live, without the file; the next load puts the file's back
out=$(cs set-rate --node Mesh --down-max 10 -j) || flunk "set-rate --node: $out"
expect_eq "$(jq -c '[.node, .down.max_mbps, .down.changed, .up.changed]' <<<"$out")" '["Mesh",10,true,false]' "set-rate --node reports the change"
expect_eq "$(class_ceil lan0 "$mesh")" 10Mbit "Mesh's class has the ceil set-rate gave"
flow big 198.18.1.11 5401 down 2 1
echo "  c-big: down $(mbps big) Mbit/s in the 2 s from 1 s after set-rate --node Mesh --down-max 10"
expect_range "$(ratio big 10)" 0.88 1.0 "c-big download right after set-rate --node: goodput / 10 Mbit/s"
out=$(cs set-rate --node Mesh --down-min 20 2>&1)
expect_contains "$out" "Download Min (20) would be greater than its Max (10); nothing changed" "set-rate --node refuses Min above Max"
out=$(cs set-rate --node Nowhere --down-max 10 2>&1)
expect_contains "$out" "no node \"Nowhere\" is loaded" "set-rate --node of an unknown node"
out=$(cs set-rate --node Mesh --down-max 5 -j 2>&1)
expect_eq "$(jq -c '[.down.min_mbps, .down.max_mbps]' <<<"$out" 2>/dev/null)" '[5,5]' "set-rate --node: a Max below the guaranteed rate takes the rate along"
out=$(cs load "$WORK/customers.csv" 2>&1) || flunk "reload after set-rate: $out"
expect_eq "$(class_ceil lan0 "$mesh")" 15Mbit "the next load puts the file's bandwidth back"

# 5. c-a moves from AP-2 to AP-1 under traffic: make-before-break, others untouched.
old_a=$(classid c-a down)
flat=$(classid c-flat down)
flow a 198.18.1.12 5402 down 6 0 &
pa=$!
flow flat 198.18.1.14 5404 down 6 0 &
pf=$!
sleep 2
fb0=$(class_bytes lan0 "$flat")
customers AP-1
out=$(cs load "$WORK/customers.csv" 2>&1) || flunk "reload (move): $out"
expect_contains "$out" "0 added, 0 changed, 1 moved, 0 removed" "one circuit moved"
new_a=$(classid c-a down)
sleep 1
ab0=$(class_bytes lan0 "$new_a")
sleep 1
ab1=$(class_bytes lan0 "$new_a")
wait $pa $pf
fb1=$(class_bytes lan0 "$flat")
expect_eq "$(parent_of lan0 "$new_a")" "$(parent_of lan0 "$(parent_of lan0 "$(classid c-big down)")")" \
	"c-a's new class hangs under AP-1's"
expect_eq "$(tb_rtr tc class show dev lan0 classid "$old_a" | wc -l)" 0 "c-a's old class is gone"
expect_ge "$((ab1 - ab0))" 1000000 "c-a's traffic runs through its new class after the move"
expect_ge "$fb0" 1000000 "c-flat counted before the move"
expect_ge "$((fb1 - fb0))" 1000000 "c-flat's class counter kept counting up through the move"
expect_eq "$(classid c-flat down)" "$flat" "c-flat kept its class"
echo "  c-a per second, moved after 2 s: $(jq -r '[.intervals[].sum.bits_per_second / 1000000 | . * 10 | round / 10] | join(" ")' "$WORK/a.json") Mbit/s"
last=$(jq '[.intervals[-3:][].sum.bits_per_second] | add / 3 / 1000000' "$WORK/a.json")
expect_range "$last" 5 31 "c-a after the move is shaped under AP-1's 30 Mbit/s (last 3 s)"

# 6. Refusals change nothing.
before=$(cs show -j | config_only)
customers Nowhere
out=$(cs load "$WORK/customers.csv" 2>&1)
expect_eq "$?" 1 "an unknown parent is refused"
expect_contains "$out" "customers.csv:3: Parent Node \"Nowhere\" is no node name of the network" "the refusal names file, line, column and value"
echo '{"Region": {"downloadBandwidthMbps": 0, "uploadBandwidthMbps": 5}}' >"$WORK/bad.json"
customers AP-1
out=$(cs load --network "$WORK/bad.json" "$WORK/customers.csv" 2>&1)
expect_contains "$out" "bad.json: node \"Region\": downloadBandwidthMbps must be greater than 0" "a bad network file is refused"
out=$(cs load --network "$WORK/none.json" "$WORK/customers.csv" 2>&1)
expect_contains "$out" "none.json: No such file or directory" "a missing --network file is refused"
expect_eq "$(cs show -j | config_only)" "$before" "after the refusals the shaper is as it was"

# 7. A load killed in the middle of a node move leaves classes no record names;
# the next load removes them before it builds (HTB never re-parents a class).
# network FILE_MESH_UNDER_SITE: Mesh moved from AP-1 to Site
network 15 site
# killed once the new records are written, before the old classes go: the old
# Mesh class is then in the kernel with no record naming it
out=$(CS_TEST_DIE_AFTER=7 cs load "$WORK/customers.csv" 2>&1)
expect_eq "$?" 137 "the load was killed in the middle (test hook)"
out=$(cs load "$WORK/customers.csv" 2>&1) || flunk "load after the kill: $out"
expect_contains "$out" "left by an interrupted run" "the next load removes what the killed one left"
expect_eq "$(parent_of lan0 "$(parent_of lan0 "$(classid c-big down)")")" \
	"$(cs show -j | jq -r '.nodes[] | select(.name=="Site") | .down.classid')" "Mesh now hangs under Site"
expect_eq "$(cs show -j | jq -r '.nodes[] | select(.name=="Mesh") | .down.classid')" \
	"$(parent_of lan0 "$(classid c-big down)")" "c-big hangs under Mesh's class"
n_cls=$(tb_rtr tc class show dev lan0 | grep -c '^class htb')
n_htb=$(tb_rtr tc class show dev lan0 | grep -c '^class htb [0-9a-f]*:1 root')
n_want=$(($(cs show -j | jq '(.nodes | length) + (.circuits | length)') + 2 * n_htb))
expect_eq "$n_cls" "$n_want" "lan0 holds one class per node and circuit, :1 and :2 of each HTB, nothing else"
out=$(cs load "$WORK/customers.csv" 2>&1)
expect_contains "$out" "0 added, 0 changed, 0 moved, 0 removed" "a load after the repair finds nothing to do"

# 8. Without the network file: refused while nodes run; --network none removes them.
mv "$WORK/network.json" "$WORK/network.off"
before=$(cs show -j | config_only)
out=$(cs load "$WORK/customers.csv" 2>&1)
expect_contains "$out" "the running shaper has 6 network nodes, but there is no network file beside it" "a network.json gone missing is refused"
expect_eq "$(cs show -j | config_only)" "$before" "and changes nothing"
out=$(cs load --network none "$WORK/customers.csv" 2>&1) || flunk "load --network none: $out"
expect_contains "$out" "3 circuits name a parent node, but --network none was given" "--network none says what it ignores"
nodes=$(tb_rtr tc class show dev lan0 | grep -v ' parent [0-9a-f]*:1 ' | grep -vc ' root ')
expect_eq "$nodes" 0 "every class hangs under a root class: the node classes are gone"
mv "$WORK/network.off" "$WORK/network.json"
out=$(cs load "$WORK/customers.csv" 2>&1) || flunk "load with the network again: $out"
expect_contains "$out" "network: 6 nodes, 6 added" "the network comes back"

# 9. --root: one shaper's part of a network that several share.
cs unload >/dev/null || flunk "unload"
out=$(cs load --root AP-2 "$WORK/customers.csv" 2>&1) || flunk "load --root AP-2: $out"
show=$(cs show -j)
expect_eq "$(jq -c '[.nodes[].name]' <<<"$show")" '["AP-2"]' "--root AP-2: AP-2's class alone"
expect_eq "$(jq -c '[.circuits[] | [.id, .parent]]' <<<"$show")" '[["c-b","AP-2"]]' "--root AP-2: only the circuit under it"
expect_eq "$(parent_of lan0 "$(classid c-b down)")" "$(jq -r '.nodes[0].down.classid' <<<"$show")" "c-b hangs under AP-2's class"
out=$(cs load --root Nowhere "$WORK/customers.csv" 2>&1)
expect_contains "$out" '--root "Nowhere" is no node of the network' "an unknown --root is refused"
cs unload >/dev/null || flunk "unload"
done_tests
