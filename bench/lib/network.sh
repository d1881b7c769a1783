#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The network above the customers: a cold build and a 1% reload (plans of 1%
# of the circuits changed) of NETWORK_CIRCUITS circuits (default 10000) under
# ~500 nodes three levels deep (10 sites x 7 towers x 7 access points), next
# to the same circuits flat, alternating in one bed (8 TX queues per CPU, as
# the control section); then TCP goodput of a circuit whose plan is above its
# access point's bandwidth, against that bandwidth.
SECTION=network
NCPU=$(getconf _NPROCESSORS_CONF)
TB_QUEUES=$((NCPU * 8))
source "$(dirname "$0")/common.sh"
N=${NETWORK_CIRCUITS:-10000}
REPS=${REPS:-3}
DUR=${DUR:-6}
SITES=10 TOWERS=7 APS=7
[ "$SMOKE" = 1 ] && N=200 REPS=1 DUR=2 SITES=2 TOWERS=2 APS=2

tb_start || exit 1
# secs CMD...: how long CMD took; a failed command stops the section (no figure for it)
secs() {
	local a b
	a=$(now)
	"$@" >/dev/null 2>"$WORK/secs.err" || { log "failed: $* ($(tail -1 "$WORK/secs.err"))"; exit 1; }
	b=$(now)
	echo "$b - $a" | bc -l | sed 's/^\./0./'
}

# network.json: Site-s > Tower-s-t > AP-s-t-a
mkdir -p "$WORK/net" "$WORK/flat"
awk -v S=$SITES -v T=$TOWERS -v A=$APS 'BEGIN {
	printf "{"
	for (s = 0; s < S; s++) {
		printf "%s\"Site-%d\": {\"downloadBandwidthMbps\": 20000, \"uploadBandwidthMbps\": 10000, \"children\": {", s ? "," : "", s
		for (t = 0; t < T; t++) {
			printf "%s\"Tower-%d-%d\": {\"downloadBandwidthMbps\": 5000, \"uploadBandwidthMbps\": 2500, \"children\": {", t ? "," : "", s, t
			for (a = 0; a < A; a++)
				printf "%s\"AP-%d-%d-%d\": {\"downloadBandwidthMbps\": 1000, \"uploadBandwidthMbps\": 500}", a ? "," : "", s, t, a
			printf "}}"
		}
		printf "}}"
	}
	print "}"
}' >"$WORK/net/network.json"
nodes=$((SITES + SITES * TOWERS + SITES * TOWERS * APS))
# the customers, each under an access point (round robin); the same file flat
# gen FILE SEED: circuits with plans of SEED (another seed changes some plans)
gen() {
	"$ROOT/bench/gen_customers.sh" "$N" "$2" | awk -F, -v OFS=, -v S=$SITES -v T=$TOWERS -v A=$APS '
		NR > 1 { i = NR - 2; ap = i % (S * T * A)
		         $5 = sprintf("AP-%d-%d-%d", int(ap / (T * A)), int(ap / A) % T, ap % A) } { print }' >"$1"
}
gen "$WORK/c.csv" 1
# 1%: every hundredth circuit gets another plan
awk -F, -v OFS=, 'NR > 1 && (NR - 2) % 100 == 0 { $11 = $11 + 1; $12 = $12 + 1 } { print }' "$WORK/c.csv" >"$WORK/c1.csv"
cp "$WORK/c.csv" "$WORK/flat/c.csv"
cp "$WORK/c1.csv" "$WORK/flat/c1.csv"

for i in $(seq "$REPS"); do
	for mode in flat hierarchy; do
		if [ $mode = flat ]; then
			load() { cs load "$WORK/flat/$1"; }
		else
			load() { cs load --network "$WORK/net/network.json" "$WORK/$1"; }
		fi
		cold=$(secs load c.csv) || exit 1
		edit=$(secs load c1.csv) || exit 1
		again=$(secs load c1.csv) || exit 1
		classes=$(tb_rtr tc class show dev lan0 | grep -c '^class htb')
		cs unload >/dev/null
		emit "{\"test\":\"build\",\"mode\":\"$mode\",\"circuits\":$N,\"nodes\":$([ $mode = flat ] && echo 0 || echo $nodes),\"rep\":$i,\"cold\":$cold,\"reload_1pct\":$edit,\"reload_unchanged\":$again,\"lan_classes\":$classes}"
		log "$mode rep $i: cold $cold s, 1% reload $edit s, unchanged $again s ($classes classes)"
	done
done

# goodput against a node's cap: a 200 Mbit/s plan behind a 50 Mbit/s access point
tb_subscriber 198.18.1.10
tb_iperf_server 5601 || exit 1
cat >"$WORK/net/cap.json" <<'EOF'
{"Site": {"downloadBandwidthMbps": 1000, "uploadBandwidthMbps": 1000, "children": {
  "AP": {"downloadBandwidthMbps": 50, "uploadBandwidthMbps": 25}}}}
EOF
cat >"$WORK/cap.csv" <<'EOF'
Circuit ID,Circuit Name,Device ID,Device Name,Parent Node,MAC,IPv4,IPv6,Download Min Mbps,Upload Min Mbps,Download Max Mbps,Upload Max Mbps,Comment
cap,Above its AP,d,,AP,,198.18.1.10,,10,5,200,100,
EOF
cs load --network "$WORK/net/cap.json" "$WORK/cap.csv" >/dev/null 2>&1 || exit 1
for i in $(seq "$REPS"); do
	for dir in down up; do
		rev=""
		[ $dir = down ] && rev=-R cap=50 || cap=25
		tb_sub iperf3 -c 198.19.0.2 -B 198.18.1.10 -p 5601 $rev -t "$DUR" -O 1 -J >"$WORK/cap.json" 2>&1
		bps=$(goodput "$WORK/cap.json")
		emit "{\"test\":\"node_cap\",\"dir\":\"$dir\",\"cap_mbps\":$cap,\"plan_mbps\":$([ $dir = down ] && echo 200 || echo 100),\"rep\":$i,\"goodput_bps\":$bps,\"ratio\":$(echo "$bps / ($cap * 1000000)" | bc -l)}"
	done
done
cs unload >/dev/null
log "done"
