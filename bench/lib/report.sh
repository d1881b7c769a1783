#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# report.sh RAW OUT: results.json, results.md and PNG plots from the raw JSON lines.
# report.sh - OUT: only redraw the plots of OUT/results.json.
set -euo pipefail
RAW=$1
OUT=$2
if [ "$RAW" != - ]; then
J='def median: sort | if length == 0 then null elif length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end;
   def stats(f): {median: (map(f) | median), min: (map(f) | min), max: (map(f) | max), n: length};
   def r3: if . == null then null else (. * 1000 | round) / 1000 end;'
slurp() { [ -s "$RAW/$1.jsonl" ] && jq -s . "$RAW/$1.jsonl" || echo '[]'; }

machine=$(jq -n --arg kernel "$(uname -r)" --arg cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')" \
	--argjson cpus "$(nproc)" --argjson mem "$(awk '/MemTotal/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo)" \
	--arg os "$(. /etc/os-release; echo "$PRETTY_NAME")" --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
	'{kernel: $kernel, cpu_model: $cpu, cpus: $cpus, memory_gib: $mem, os: $os, date: $date,
	  testbed: "3 network namespaces, veth pairs with 2 queues, iperf3 TCP"}')

jq -n --argjson machine "$machine" --argjson acc "$(slurp accuracy)" --argjson cap "$(slurp capacity)" \
	--argjson ctl "$(slurp control)" --argjson pp "$(slurp perpacket)" --argjson soak "$(slurp soak)" --argjson rec "$(slurp reconcile)" --argjson ro "$(slurp readout)" --argjson lat "$(slurp latency)" \
	--argjson net "$(slurp network)" "$J"'
def slope(f): # least-squares growth of f per 100 cycles over the samples
  (map(.cycle) | add / length) as $mx | (map(f) | add / length) as $my |
  (map((.cycle - $mx) * (.cycle - $mx)) | add) as $sxx |
  if $sxx == 0 then 0 else (map((.cycle - $mx) * (f - $my)) | add) / $sxx * 100 end;
{
  machine: $machine,
  accuracy: {
    single: ($acc | map(select(.test == "single")) | group_by([.plan_mbps, .family, .dir])
             | map({plan_mbps: .[0].plan_mbps, family: .[0].family, dir: .[0].dir, cpu: .[0].cpu,
                    ratio: stats(.ratio) | map_values(r3)})),
    compete_one_cpu: ($acc | map(select(.test == "compete_one_cpu")) | group_by(.circuit)
             | map({circuit: .[0].circuit, min_mbps: .[0].min_mbps, link_mbps: .[0].link_mbps,
                    goodput_mbps: stats(.goodput_bps / 1e6) | map_values(r3)})),
    both_cpus: ($acc | map(select(.test == "both_cpus")) | group_by(.circuit)
             | map({circuit: .[0].circuit, cpu: .[0].cpu, plan_mbps: .[0].plan_mbps, ratio: stats(.ratio) | map_values(r3)}))
  },
  capacity: {
    aggregate: ($cap | map(select(.test == "aggregate")) | group_by(.config)
             | map({config: .[0].config, flows: .[0].flows, circuits: .[0].circuits,
                    ratio_to_plain: stats(.ratio) | map_values(r3), goodput_gbps: stats(.goodput_bps / 1e9) | map_values(r3)})),
    single_flow: ($cap | map(select(.test == "single_flow")) | group_by(.config)
             | map({config: .[0].config, ratio_to_plain: stats(.ratio) | map_values(r3), goodput_gbps: stats(.goodput_bps / 1e9) | map_values(r3)})),
    inpath_ns: ($cap | map(select(.test == "inpath_ns")) | group_by([.config, .prog])
             | map({config: .[0].config, prog: .[0].prog, runs: (map(.runs) | add), ns: stats(.ns) | map_values(r3)}))
  },
  control: {
    cold_load: ($ctl | map(select(.test == "cold_load")) | group_by([.tool, .circuits])
             | map({tool: .[0].tool, circuits: .[0].circuits, seconds: stats(.seconds) | map_values(r3),
                    user: (if .[0].user == null then null else stats(.user) | map_values(r3) end),
                    system: (if .[0].system == null then null else stats(.system) | map_values(r3) end),
                    slab_bytes_per_circuit: ((map(.slab_kb_delta) | median) * 1024 / .[0].circuits | round)})),
    edit_1pct: ($ctl | map(select(.test == "edit_1pct")) | group_by(.circuits)
             | map({circuits: .[0].circuits, seconds: stats(.seconds) | map_values(r3)})),
    reload_unchanged: ($ctl | map(select(.test == "reload_unchanged")) | group_by(.circuits)
             | map({circuits: .[0].circuits, seconds: stats(.seconds) | map_values(r3)})),
    set_rate: ($ctl | map(select(.test == "set_rate")))
  },
  reconcile: ($rec | map(select(.test == "reload")) | group_by(.circuits)
             | map(.[0].circuits as $n | {circuits: $n, with_s: stats(.with) | map_values(r3), without_s: stats(.without) | map_values(r3),
                    show_s: stats(.show) | map_values(r3),
                    repaired: ($rec | map(select(.test == "repair" and .circuits == $n))[0].found_and_repaired)})),
  latency: ($lat | group_by([.plan_mbps, .leaf])
             | map({plan_mbps: .[0].plan_mbps, leaf: .[0].leaf, ping_median_ms: stats(.ping_median_ms) | map_values(r3),
                    ping_p90_ms: stats(.ping_p90_ms) | map_values(r3), tcp_ratio: stats(.tcp_ratio) | map_values(r3),
                    rtt_p50_ms: (map(.rtt_p50_ms // empty) | if length > 0 then stats(.) | map_values(r3) else null end)})),
  readout: ($ro | group_by([.circuits, .way])
             | map({circuits: .[0].circuits, way: .[0].way, show_s: stats(.show) | map_values(r3),
                    show_one_s: stats(.show_one) | map_values(r3), top_s: stats(.top) | map_values(r3),
                    top_refresh_s: stats(.top_refresh // 0) | map_values(r3),
                    scrape_s: stats(.scrape) | map_values(r3), scrape_next_s: stats(.scrape_next // 0) | map_values(r3)})),
  network: {
    build: ($net | map(select(.test == "build")) | group_by(.mode)
             | map({mode: .[0].mode, circuits: .[0].circuits, nodes: .[0].nodes, lan_classes: .[0].lan_classes,
                    cold_s: stats(.cold) | map_values(r3), reload_1pct_s: stats(.reload_1pct) | map_values(r3),
                    reload_unchanged_s: stats(.reload_unchanged) | map_values(r3)})),
    node_cap: ($net | map(select(.test == "node_cap")) | group_by(.dir)
             | map({dir: .[0].dir, cap_mbps: .[0].cap_mbps, plan_mbps: .[0].plan_mbps, ratio: stats(.ratio) | map_values(r3)}))
  },
  soak: (($soak | map(select(.test == "sample")) | sort_by(.cycle)) as $s |
         ($soak | map(select(.test == "end"))[0]) as $e |
         if ($s | length) == 0 then null else
         # cycle 0 is before the first load: a baseline, not part of the trend
         ($s | map(select(.cycle > 0))) as $w |
         {end: $e, samples: ($w | length),
          series: ([["maps", "progs", "links", "kthreads", "slab_kb", "sunreclaim_kb", "kmalloc_kb", "exporter_rss_kb", "exporter_fds"][] as $k |
                    {key: $k, value: {before: $s[0][$k], first: $w[0][$k], last: $w[-1][$k], min: ($w | map(.[$k]) | min), max: ($w | map(.[$k]) | max),
                                      per_100_cycles: ($w | slope(.[$k]) | r3)}}] | from_entries)} end),
  perpacket: ($pp | group_by([.prog, .frame, .entries])
             | map({prog: .[0].prog, frame: .[0].frame, entries: .[0].entries, ns: stats(.ns) | map_values(r3)}))
}' > "$OUT/results.new.json"
# A run of some sections (SECTIONS=soak) keeps the others' figures from the last full run.
if [ -s "$OUT/results.json" ]; then
	keep=$(for k in accuracy capacity control perpacket soak reconcile network readout latency; do [ -s "$RAW/$k.jsonl" ] || echo "$k"; done | jq -R . | jq -sc .)
	jq --argjson keep "$keep" --slurpfile old "$OUT/results.json" \
		'reduce $keep[] as $k (.; .[$k] = $old[0][$k] |
		   .machine.kept_from[$k] = ($old[0].machine.kept_from[$k] // $old[0].machine.date))' \
		"$OUT/results.new.json" >"$OUT/results.merged.json"
	mv "$OUT/results.merged.json" "$OUT/results.new.json"
fi
mv "$OUT/results.new.json" "$OUT/results.json"

# Markdown
{
	jq -r '.machine | "Measured \(.date) on \(.os), kernel \(.kernel), \(.cpus) vCPUs (\(.cpu_model)), \(.memory_gib) GiB; \(.testbed). Figures are medians of the repetitions, with min–max." +
		(if (.kept_from // {}) == {} then "" else " Sections kept from earlier runs: " + ([.kept_from | to_entries[] | "\(.key) (\(.value))"] | join(", ")) + "." end)' "$OUT/results.json"
	echo
	echo "### Accuracy: TCP goodput / plan Max (ceiling: 0.956 IPv4, 0.943 IPv6)"
	echo
	echo "| plan Mbit/s | IPv4 down | IPv4 up | IPv6 down | IPv6 up |"
	echo "|---:|---|---|---|---|"
	jq -r '.accuracy.single | group_by(.plan_mbps)[] | sort_by(.family, .dir) |
		"| \(.[0].plan_mbps) | " + (map(select(.dir == "down" and .family == "ipv4"), select(.dir == "up" and .family == "ipv4"),
		select(.dir == "down" and .family == "ipv6"), select(.dir == "up" and .family == "ipv6")) |
		map("\(.ratio.median) (\(.ratio.min)–\(.ratio.max))") | join(" | ")) + " |"' "$OUT/results.json"
	echo
	echo "Three circuits on one CPU under a 100 Mbit link class, Min 10/20/30, Max 100 each, all downloading:"
	jq -r '.accuracy.compete_one_cpu[] | "\(.circuit) (Min \(.min_mbps)): \(.goodput_mbps.median) Mbit/s (\(.goodput_mbps.min)–\(.goodput_mbps.max))"' "$OUT/results.json" | sed 's/^/- /'
	echo
	echo "Four 200 Mbit circuits on both CPUs at once: goodput / plan $(jq -r '[.accuracy.both_cpus[] | "\(.circuit)@cpu\(.cpu) \(.ratio.median)"] | join(", ")' "$OUT/results.json")."
	echo
	echo "### Capacity: aggregate download, as a ratio of plain forwarding in the same round"
	echo
	echo "| configuration | ratio to plain | Gbit/s |"
	echo "|---|---|---|"
	jq -r '.capacity.aggregate[] | "| \(.config) | \(.ratio_to_plain.median) (\(.ratio_to_plain.min)–\(.ratio_to_plain.max)) | \(.goodput_gbps.median) |"' "$OUT/results.json"
	jq -r '.capacity.single_flow[] | "| single flow: \(.config) | \(.ratio_to_plain.median) (\(.ratio_to_plain.min)–\(.ratio_to_plain.max)) | \(.goodput_gbps.median) |"' "$OUT/results.json"
	echo
	echo "Each program's own cost in that path (kernel BPF run-time stats during the aggregate run, ns per run; the stats' clock reads included):"
	echo
	echo "| configuration | XDP steer | cpumap arrival | TC classify |"
	echo "|---|---|---|---|"
	jq -r '.capacity.inpath_ns | group_by(.config)[] | . as $g | def ns($p): ($g | map(select(.prog == $p))[0].ns // null) | if . == null then "-" else "\(.median | round) (\(.min | round)–\(.max | round))" end;
		"| \($g[0].config) | \(ns("cs_xdp_steer")) | \(ns("cs_cpumap_arrive")) | \(ns("cs_tc_classify")) |"' "$OUT/results.json"
	echo
	echo "### Control plane"
	echo
	echo "Cold build of the tree on devices with 8 TX queues per CPU: cpushaper (--leaf none: tc builds no leaves either) puts 8 HTBs on each CPU (its default on such devices);"
	echo "tc -batch builds the tree other shapers build (MQ, one HTB per CPU). The two columns after the ratio separate the layout from"
	echo "the tool: cpushaper with --htbs-per-cpu 1, and tc -batch building cpushaper's 8-HTB tree."
	echo
	echo "| circuits | cpushaper s | tc -batch s | cpushaper / tc | cpushaper, 1 HTB/CPU s | tc -batch, 8 HTBs/CPU s | 1% edit s | unchanged reload s | slab bytes/circuit (cpushaper, tc) |"
	echo "|---:|---|---|---|---|---|---|---|---|"
	jq -r '.control as $c | $c.cold_load | group_by(.circuits)[] | . as $g |
		def t($n): ($g | map(select(.tool == $n))[0]);
		def f($x): if $x == null then "-" else "\($x.seconds.median) (\($x.seconds.min)–\($x.seconds.max))" end;
		t("cpushaper") as $a | t("tc_batch") as $t |
		($c.edit_1pct | map(select(.circuits == $a.circuits))[0]) as $e |
		($c.reload_unchanged | map(select(.circuits == $a.circuits))[0]) as $u |
		"| \($a.circuits) | \(f($a)) | \(f($t)) | \(if $t.seconds.median > 0 then ($a.seconds.median / $t.seconds.median * 100 | round / 100) else "-" end) | \(f(t("cpushaper_1htb"))) | \(f($g | map(select(.tool | test("^tc_batch_[0-9]+htb$")))[0])) | \($e.seconds.median) | \($u.seconds.median) | \($a.slab_bytes_per_circuit), \($t.slab_bytes_per_circuit) |"' "$OUT/results.json"
	echo
	echo "One HTB per CPU, the tree real NICs get (one TX queue per CPU): cpushaper against tc -batch building the identical tree"
	echo "(cpushaper's majors, which skip the hash bucket of the kernel's default leaves: src/handles.h) and tc -batch with majors"
	echo "1..CPUs (1 and 2 here: 2 shares that bucket). No leaf qdiscs in these rows; the last column is cpushaper's default"
	echo "(leaf qdiscs, 8 HTBs per CPU). Wall seconds median (min–max), then user / system medians."
	echo
	echo "| circuits | cpushaper 1 HTB/CPU | tc -batch, identical tree | tc -batch, majors 1..CPUs | identical tree / cpushaper | cpushaper, 8 HTBs/CPU | tc -batch, its 8-HTB tree | cpushaper with leaves |"
	echo "|---:|---|---|---|---|---|---|---|"
	jq -r '.control.cold_load | group_by(.circuits)[] | . as $g |
		def t($n): ($g | map(select(.tool == $n))[0]);
		def f($x): if $x == null then "-" else "\($x.seconds.median) (\($x.seconds.min)–\($x.seconds.max)), \($x.user.median // "-") / \($x.system.median // "-")" end;
		t("cpushaper_1htb") as $a | t("tc_batch_same") as $s |
		select($a != null) |
		"| \($a.circuits) | \(f($a)) | \(f($s)) | \(f(t("tc_batch"))) | \(if $s != null and $a.seconds.median > 0 then ($s.seconds.median / $a.seconds.median * 100 | round / 100) else "-" end) | \(f(t("cpushaper"))) | \(f($g | map(select(.tool | test("^tc_batch_[0-9]+htb$")))[0])) | \(f(t("cpushaper_leaves"))) |"' "$OUT/results.json"
	jq -r '.control.set_rate[] | "\nset-rate (a whole CLI invocation each) with \(.circuits) circuits loaded, \(.changes) changes: p50 \(.p50_ms | . * 10 | round / 10) ms, p99 \(.p99_ms | . * 10 | round / 10) ms."' "$OUT/results.json"
	echo
	echo "### Per-packet cost (bpf_prog_test_run_opts, ns per packet)"
	echo
	echo "N entries = N host addresses (half IPv4, half IPv6) + N/4 prefixes (/30, /64). xdp, tc: as cpushaper loads them, hosts in the"
	echo "exact-match hash and prefixes in the trie; xdp_trie, tc_trie: the same entries all in the trie (the layout before the hash)."
	echo "TC's path with XDP's metadata cannot be run by bpf_prog_test_run_opts (no way to hand it metadata): see the in-path table above."
	echo
	echo "| program | frame | 10 entries | 10k entries | 100k entries |"
	echo "|---|---|---|---|---|"
	jq -r '.perpacket | map(select(.entries == 0))[] | "| \(.prog) (floor) | \(.frame) | \(.ns.median) | | |"' "$OUT/results.json"
	jq -r '.perpacket | map(select(.entries > 0 and (.prog | startswith("tc_rtt") | not))) | group_by([.prog, .frame])[] |
		"| \(.[0].prog) | \(.[0].frame) | " + (sort_by(.entries) | map("\(.ns.median)") | join(" | ")) + " |"' "$OUT/results.json"
	if jq -e '.perpacket | any(.prog | startswith("tc_rtt"))' "$OUT/results.json" >/dev/null; then
		echo
		echo "TCP round-trip tracking (load --rtt, the default; --no-rtt) on a TCP segment with the timestamp option, the largest map, ns:"
		echo
		echo "| frame | tracking on | off | cost |"
		echo "|---|---|---|---|"
		jq -r '.perpacket | map(select(.prog | startswith("tc_rtt"))) | group_by(.frame)[] |
			(map(select(.prog == "tc_rtt_on"))[0].ns.median) as $on | (map(select(.prog == "tc_rtt_off"))[0].ns.median) as $off |
			"| \(.[0].frame) | \($on) | \($off) | \($on - $off) |"' "$OUT/results.json"
	fi
	if jq -e '(.latency // []) | length > 0' "$OUT/results.json" >/dev/null; then
		echo
		echo "### Latency under load"
		echo
		echo "One circuit, 8 TCP download flows; a ping through the same circuit (ms), the download against the plan, and the"
		echo "subscriber-side round trip cpushaper measured (p50, ms). Leaf none: HTB's own 1000-packet pfifo; fifo: the bounded"
		echo "fallback of --queue-ms 20 (this kernel has no fq_codel or cake):"
		echo
		echo "| plan Mbit | leaf | ping median | ping p90 | TCP / plan | cpushaper RTT p50 |"
		echo "|---:|---|---:|---:|---:|---:|"
		jq -r '.latency[] | "| \(.plan_mbps) | \(.leaf) | \(.ping_median_ms.median) | \(.ping_p90_ms.median) | \(.tcp_ratio.median) | \(.rtt_p50_ms.median // "-") |"' "$OUT/results.json"
	fi
	if jq -e '(.readout // []) | length > 0' "$OUT/results.json" >/dev/null; then
		echo
		echo "### Reading the counters"
		echo
		echo "show -j, show of one circuit, top --once -j and a scrape, the new way (TC counts per circuit: one batched map read,"
		echo "single-class requests for drops and backlog) and the old way (a class dump per HTB, a qdisc dump), 8 HTBs per CPU, seconds:"
		echo
		echo "A running top's refresh and the next scrape ask only for the classes of circuits that saw packets since (none"
		echo "here: an idle bed), and every class once a minute; the rest ask for all, one by one up to 2000, else by the HTBs' dumps."
		echo
		echo "| circuits | way | show -j | show CIRCUIT | top --once -j | top refresh | scrape | next scrape |"
		echo "|---:|---|---|---|---|---|---|---|"
		jq -r '.readout[] | "| \(.circuits) | \(.way) | \(.show_s.median) | \(.show_one_s.median) | \(.top_s.median) | \(.top_refresh_s.median) | \(.scrape_s.median) | \(.scrape_next_s.median) |"' "$OUT/results.json"
	fi
	if jq -e '(.reconcile // []) | length > 0' "$OUT/results.json" >/dev/null; then
		echo
		echo "### The reconcile step of a load"
		echo
		echo "Every load reads both devices' classes (one dump per HTB) to find and repair what changed under the shaper. An unchanged"
		echo "reload with the step and without it (a bench hook), alternating in one bed with 8 HTBs per CPU; and \`show -j\`, which reads the same:"
		echo
		echo "| circuits | reload with the step s | without s | the step s | show -j s | a deleted class found and put back |"
		echo "|---:|---|---|---:|---|---|"
		jq -r '.reconcile[] | "| \(.circuits) | \(.with_s.median) (\(.with_s.min)–\(.with_s.max)) | \(.without_s.median) (\(.without_s.min)–\(.without_s.max)) | \((.with_s.median - .without_s.median) * 1000 | round / 1000) | \(.show_s.median) | \(.repaired) |"' "$OUT/results.json"
	fi
	if jq -e '(.network.build // []) | length > 0' "$OUT/results.json" >/dev/null; then
		echo
		echo "### The network above the customers"
		echo
		echo "The same circuits flat and under a network.json three levels deep (sites > towers > access points, each a class per"
		echo "direction), alternating in one bed with 8 HTBs per CPU: a cold build, a reload with 1% of the plans changed, an"
		echo "unchanged reload (seconds, median (min–max)):"
		echo
		echo "| circuits | nodes | classes on lan0 | cold build s | 1% reload s | unchanged reload s |"
		echo "|---:|---:|---:|---|---|---|"
		jq -r '.network.build[] | "| \(.circuits) | \(.nodes) | \(.lan_classes) | \(.cold_s.median) (\(.cold_s.min)–\(.cold_s.max)) | \(.reload_1pct_s.median) (\(.reload_1pct_s.min)–\(.reload_1pct_s.max)) | \(.reload_unchanged_s.median) |"' "$OUT/results.json"
		echo
		echo "TCP goodput of a circuit whose plan is above its access point's bandwidth, against that bandwidth:"
		echo
		echo "| direction | plan Mbit/s | AP Mbit/s | goodput / AP, median (min–max) |"
		echo "|---|---:|---:|---|"
		jq -r '.network.node_cap[] | "| \(.dir) | \(.plan_mbps) | \(.cap_mbps) | \(.ratio.median) (\(.ratio.min)–\(.ratio.max)) |"' "$OUT/results.json"
	fi
	if jq -e '.soak != null' "$OUT/results.json" >/dev/null; then
		echo
		echo "### Soak: load/reload/set-rate/top/scrape/unload cycles under traffic, with loads killed by kill -9"
		echo
		jq -r '.soak.end | "\(.cycles) cycles in \(.seconds | round) s, \(.killed_loads) loads killed while running, \(.command_errors) failed commands. At the end the first file was loaded again: \(.circuits) of \(.circuits_expected) circuits, \(.circuits_misshaped) with a class whose rate or ceil differs from its plan; a fresh 3 s download of the steady circuit got \(.steady_goodput_bps / .steady_plan_bps * 1000 | round / 1000) of its plan; nothing of ours left after the last unload: \(.nothing_left_after_unload)."' "$OUT/results.json"
		echo
		echo "Sampled after an unload every few cycles, once the kernel's deferred frees ran (kernel objects: ours, beyond what the"
		echo "machine held before; memory in kB). 'before' is before the first load; the rest are over the $(jq .soak.samples "$OUT/results.json") samples after it,"
		echo "with the least-squares trend per 100 cycles."
		echo
		echo "| what | before | first | last | min | max | trend per 100 cycles |"
		echo "|---|---:|---:|---:|---:|---:|---:|"
		jq -r '.soak.series | to_entries[] | "| \(.key) | \(.value.before) | \(.value.first) | \(.value.last) | \(.value.min) | \(.value.max) | \(.value.per_100_cycles) |"' "$OUT/results.json"
	fi
} > "$OUT/results.md"
fi

# Plots
command -v gnuplot >/dev/null || { echo "report: gnuplot missing, no plots" >&2; exit 0; }
jq -r '.accuracy.single[] | "\(.family)_\(.dir) \(.plan_mbps) \(.ratio.median) \(.ratio.min) \(.ratio.max)"' "$OUT/results.json" > "$OUT/acc.dat"
jq -r '.capacity.aggregate[] | "\(.config) \(.ratio_to_plain.median) \(.ratio_to_plain.min) \(.ratio_to_plain.max)"' "$OUT/results.json" > "$OUT/cap.dat"
jq -r '.control.cold_load[] | "\(.tool) \(.circuits) \(.seconds.median) \(.seconds.min) \(.seconds.max)"' "$OUT/results.json" > "$OUT/ctl.dat"
jq -r '.perpacket[] | select(.entries > 0 and (.prog | startswith("tc_rtt") | not)) | "\(.prog)_\(.frame) \(.entries) \(.ns.median)"' "$OUT/results.json" > "$OUT/pp.dat"
floor_xdp=$(jq '.perpacket[] | select(.prog == "xdp_empty") | .ns.median' "$OUT/results.json")
floor_tc=$(jq '.perpacket[] | select(.prog == "tc_empty") | .ns.median' "$OUT/results.json")
cd "$OUT"
gnuplot <<GP
set terminal pngcairo size 900,500 font ",10" noenhanced
set grid
set key bottom right

set output "accuracy.png"
set title "Accuracy: TCP goodput / plan (median, min-max)"
set logscale x; set xlabel "plan Max, Mbit/s"; set ylabel "goodput / plan"; set yrange [0.9:1.0]
plot 0.956 dt 2 lc "gray" title "TCP/IPv4 ceiling", 0.943 dt 3 lc "gray" title "TCP/IPv6 ceiling", \
  for [s in "ipv4_down ipv4_up ipv6_down ipv6_up"] "< grep '^".s." ' acc.dat" using 2:3:4:5 with yerrorlines title s
unset logscale x; set yrange [*:*]

set output "capacity.png"
set title "Capacity: aggregate download as a ratio of plain forwarding (median, min-max)"
set style data histogram; set style histogram errorbars gap 1 lw 1; set style fill solid 0.5
set ylabel "ratio to plain forwarding"; set xlabel ""; set yrange [0:1.2]; set xtics rotate by -20
plot "cap.dat" using 2:3:4:xtic(1) title ""
set style data lines; set xtics norotate; set yrange [*:*]

set output "control.png"
set title "Control plane: cold build of the shaping tree"
set logscale xy; set xlabel "circuits"; set ylabel "seconds"; set key top left
plot for [t in "cpushaper cpushaper_1htb tc_batch tc_batch_same tc_batch_8htb cpushaper_leaves"] "< grep '^".t." ' ctl.dat" using 2:3:4:5 with yerrorlines title t
unset logscale

set output "perpacket.png"
set title "Per-packet cost (bpf_prog_test_run_opts)"
set logscale x; set xlabel "entries in the address map"; set ylabel "ns per packet"; set yrange [0:*]; set key outside right
plot $floor_xdp dt 2 lc "gray" title "empty XDP", $floor_tc dt 3 lc "gray" title "empty TC", \
  for [s in "xdp_ipv4 xdp_trie_ipv4 xdp_ipv6 xdp_trie_ipv6 xdp_ipv4_prefix xdp_unknown_ipv4 tc_ipv4 tc_trie_ipv4 tc_ipv6_prefix tc_unknown_ipv4"] "< grep '^".s." ' pp.dat" using 2:3 with linespoints title s
GP
rm -f acc.dat cap.dat ctl.dat pp.dat
