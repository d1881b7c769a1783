#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The demo: install, build, and shape customers/example.csv in a namespace test
# bed (subscribers / shaper / internet), then show each circuit's iperf3 TCP
# goodput against its plan in both directions, and the CPU it runs on.
# As root on Debian 12. Everything it makes is removed when it exits.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CSV=${1:-$ROOT/customers/example.csv}
DUR=${CS_DEMO_SECONDS:-5}
[ "$(id -u)" = 0 ] || { echo "run as root: XDP, TC and namespaces need it" >&2; exit 1; }
bash "$ROOT/.ci/deps.sh"
cmake -S "$ROOT" -B "$ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$ROOT/build" -j"$(nproc)" >/dev/null
BIN=$ROOT/build/cpushaper

TB="csdemo$$-"
source "$ROOT/tests/lib/testbed.sh"
tb_start
cs() { tb_rtr "$BIN" "$@" --lan-dev lan0 --wan-dev wan0; }

echo "== cpushaper load $CSV"
cs load "$CSV"
cs show -j > "$WORK/show.json"

# One address per circuit to test from: its first one (a prefix's first host).
host() {
	local a=${1%/*} len=${1#*/}
	case "$a" in
	*:*) [ "$len" = 128 ] && echo "$a" || echo "${a%::}::1" ;;
	*) [ "$len" = 32 ] && echo "$a" || echo "${a%.*}.$(( ${a##*.} + 1 ))" ;;
	esac
}
mapfile -t IDS < <(jq -r '.circuits[].id' "$WORK/show.json")
ADDRS=()
for id in "${IDS[@]}"; do
	ADDRS+=("$(host "$(jq -r ".circuits[] | select(.id==\"$id\") | .addresses[0]" "$WORK/show.json")")")
done
tb_subscriber "${ADDRS[@]}"
for i in "${!IDS[@]}"; do tb_iperf_server $((5400 + i)); done

# Each direction: every circuit at once, one TCP flow each.
for dir in down up; do
	pids=()
	for i in "${!IDS[@]}"; do
		a=${ADDRS[$i]}
		case "$a" in *:*) srv=2001:db8:ff::2 ;; *) srv=198.19.0.2 ;; esac
		tb_sub iperf3 -c $srv -B "$a" -p $((5400 + i)) $([ $dir = down ] && echo -R) \
			-t "$DUR" -O 1 -J > "$WORK/$dir.$i.json" 2>&1 &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p" || true; done
done

echo
echo "== goodput against plan (iperf3 TCP, ${DUR}s, all circuits at once; 1448/1514 = 0.956 is the TCP/IPv4 ceiling, 0.943 for IPv6)"
printf '%-7s %-19s %3s  %-16s %9s %9s %6s  %9s %9s %6s\n' circuit name cpu address \
	"down max" goodput ratio "up max" goodput ratio
for i in "${!IDS[@]}"; do
	id=${IDS[$i]}
	c=$(jq -c ".circuits[] | select(.id==\"$id\")" "$WORK/show.json")
	row=()
	for dir in down up; do
		max=$(echo "$c" | jq -r ".$dir.max_mbps")
		got=$(jq -r '(.end.sum_received.bits_per_second // 0) / 1e6' "$WORK/$dir.$i.json")
		row+=("$max" "$got" "$(echo "$got / $max" | bc -l)")
	done
	printf '%-7s %-19.19s %3s  %-16s %9s %9.2f %6.3f  %9s %9.2f %6.3f\n' "$id" \
		"$(echo "$c" | jq -r .name)" "$(echo "$c" | jq -r .cpu)" "${ADDRS[$i]}" "${row[@]}"
done

echo
echo "== per-CPU HTB classes on lan0 (download) after the run"
tb_rtr tc -s class show dev lan0 | awk '/^class htb/ { cls=$3 } /Sent/ && cls { printf "  %-6s %s bytes %s pkts\n", cls, $2, $4; cls="" }'
echo
echo "== cpushaper unload"
cs unload
