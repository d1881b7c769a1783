#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Running it in production: the configuration file (every command without
# device options, precedence of the command line, refusals as FILE:LINE, load
# without FILE); the systemd units (systemd-analyze verify, then each unit's
# command lines run as the unit would: its capability bounding set, no new
# privileges, a read-only file system but /run, a private /tmp, and the default
# configuration file); a reload after a file written and renamed, and one of a
# half-written file, which must leave the running shaping as it was; the
# exporter's unit; a device deleted and created again.
# Usage: test_production.sh CPUSHAPER_BINARY UNIT_DIR
set -u
BIN=$(realpath "$1")
UNITS=$(realpath "$2")
HERE=$(dirname "$(realpath "$0")")
TB="cs$$p-"
source "$HERE/../lib/testbed.sh"
source "$HERE/../lib/assert.sh"

MADE_ETC=0
cleanup_etc() { [ "$MADE_ETC" = 1 ] && rmdir /etc/cpushaper 2>/dev/null; }
tb_start || fail "test bed setup"
trap 'cleanup_etc; tb_teardown' EXIT
HDR="Circuit ID,Circuit Name,Device ID,Device Name,Parent Node,MAC,IPv4,IPv6,Download Min Mbps,Upload Min Mbps,Download Max Mbps,Upload Max Mbps,Comment"
mkdir -p "$WORK/etc"
{
	echo "$HDR"
	echo "c-a,A,d1,,,,198.18.1.10,,5,5,30,20,"
	echo "c-b,B,d2,,,,198.18.1.11,,5,5,40,25,"
} >"$WORK/etc/ShapedDevices.csv"
PORT=$((9700 + $$ % 200))
cat >"$WORK/etc/cpushaper.conf" <<EOF
# the test bed's shaper
lan-dev = lan0
wan-dev = wan0
customers = ShapedDevices.csv   ; beside this file
network = none
link-mbps = 100
default-mbps = 50
listen = 127.0.0.1:$PORT
EOF
CONF="$WORK/etc/cpushaper.conf"
csc() { tb_rtr "$BIN" "$@"; }
root_rate() { tb_rtr tc class show dev lan0 classid 1:1 | grep -o 'rate [0-9]*[KMG]bit' | head -1; }
ids() { tb_rtr "$BIN" show -j --config "$CONF" 2>/dev/null | jq -r '[.circuits[].id] | sort | join(",")'; }

# 1. The configuration file.
out=$(csc load --config "$CONF" 2>&1); st=$?
expect_eq "$st" 0 "load without FILE or devices: the configured ones ($out)"
expect_contains "$out" "$WORK/etc/ShapedDevices.csv: 2 circuits" "the customer file is read from the configuration's directory"
expect_eq "$(ids)" "c-a,c-b" "show with only --config"
expect_eq "$(csc top --once -j --config "$CONF" | jq '[.cpus[].circuits] | add')" 2 "top with only --config"
expect_eq "$(root_rate)" "rate 100Mbit" "link-mbps from the file"
csc load --config "$CONF" --link-mbps 200 >/dev/null 2>&1
expect_eq "$(root_rate)" "rate 200Mbit" "an option on the command line wins over the file"
csc load --config="$CONF" >/dev/null 2>&1
expect_eq "$(root_rate)" "rate 100Mbit" "--config=FILE, and the file again without the option"
sed 's/^lan-dev = lan0/lan-dev = nosuch0/' "$CONF" >"$WORK/etc/other.conf"
out=$(csc show --config "$WORK/etc/other.conf" --lan-dev lan0 -j 2>&1 | jq -r '.circuits | length')
expect_eq "$out" 2 "--lan-dev on the command line wins over the file's lan-dev"
out=$(csc show --config "$WORK/etc/other.conf" 2>&1); st=$?
expect_contains "$out" "nosuch0 does not exist" "the file's device is used without the option"

printf 'lan-dev = lan0\nwan-dev = wan0\nlink-mbps = 1O0\nleaf = fq\n' >"$WORK/bad.conf"
for cmd in load show top set-rate metrics; do
	out=$(csc $cmd --config "$WORK/bad.conf" 2>&1); st=$?
	expect_eq "$st" 2 "$cmd with a bad configuration file: exit 2"
	expect_contains "$out" "$WORK/bad.conf:3: link-mbps \"1O0\"" "$cmd names FILE:LINE of the bad value"
	expect_contains "$out" "$WORK/bad.conf:4: leaf \"fq\" takes one of" "$cmd names every bad line"
done
expect_eq "$(ids)" "c-a,c-b" "a bad configuration changed nothing"
expect_eq "$(root_rate)" "rate 100Mbit" "nor the link rate"
out=$(csc show --config "$WORK/none.conf" 2>&1); st=$?
expect_eq "$st" 1 "a missing --config file: exit 1"
expect_contains "$out" "$WORK/none.conf: cannot read the configuration: No such file" "says so"
out=$(csc load --config /dev/null --lan-dev lan0 --wan-dev wan0 2>&1); st=$?
expect_eq "$st" 2 "load without FILE and without customers ="
expect_contains "$out" "expected a customer FILE (or customers = FILE in /dev/null)" "says where to put it"
out=$(csc show --config /dev/null 2>&1); st=$?
expect_contains "$out" "--lan-dev and --wan-dev are required (or lan-dev and wan-dev in /dev/null)" "devices: neither option nor key"
out=$(csc --conf "$WORK/bad.conf" unload 2>&1); st=$?
expect_eq "$st" 0 "unload with a bad configuration file still unloads ($out)"
expect_contains "$out" "warning: $WORK/bad.conf:3: link-mbps" "warning with FILE:LINE"
expect_contains "$out" "unload goes on with the lines of $WORK/bad.conf that are right" "and saying it goes on"
expect_eq "$(tb_rtr tc qdisc show dev lan0 | grep -c 'mq 7fff')" 0 "using the file's devices"

# 2. The units: systemd-analyze verify, and a control that the check can fail.
out=$(systemd-analyze verify --man=no "$UNITS"/cpushaper.service "$UNITS"/cpushaper-reload.path \
	"$UNITS"/cpushaper-reload.service "$UNITS"/cpushaper-metrics.service 2>&1); st=$?
expect_eq "$st:$out" "0:" "systemd-analyze verify: clean"
sed 's/^ExecStop=/ExecStopp=/' "$UNITS/cpushaper.service" >"$WORK/broken.service"
out=$(systemd-analyze verify --man=no "$WORK/broken.service" 2>&1)
expect_contains "$out" "Unknown key" "the same check sees a broken unit"
expect_eq "$(sed -n 's/^PathChanged=//p' "$UNITS/cpushaper-reload.path")" /etc/cpushaper "the path unit watches /etc/cpushaper"
expect_eq "$(sed -n 's/^ExecStart=//p' "$UNITS/cpushaper-reload.service")" "/bin/systemctl --no-block try-reload-or-restart cpushaper.service" \
	"and reloads cpushaper.service only if it runs"

# unit_run UNIT KEY: UNIT's KEY command line, in the rtr namespace, as systemd would run it
# (call it in a subshell: it ends in exec, so a background one's PID is the command's)
# here: the default configuration file (this test's, bound over /etc/cpushaper in a mount
# namespace of its own), the unit's capability bounding set, no new privileges,
# / read-only but /run, a private /tmp.
if [ ! -d /etc/cpushaper ]; then mkdir /etc/cpushaper && MADE_ETC=1; fi
unit_run() {
	local unit=$UNITS/$1 cmd caps
	cmd=$(sed -n "s/^$2=//p" "$unit")
	caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit" | tr 'A-Z' 'a-z' | sed 's/cap_/+/g; s/ /,/g')
	grep -q '^NoNewPrivileges=yes' "$unit" || { echo "unit without NoNewPrivileges" >&2; return 99; }
	grep -q '^ProtectSystem=strict' "$unit" || { echo "unit without ProtectSystem=strict" >&2; return 99; }
	exec unshare -m --propagation private bash -c '
		mount --bind "$1/etc" /etc/cpushaper && mount --rbind /run /run &&
		mount -o remount,bind,ro / || exit 98
		# PrivateTmp, unless that would hide the binary of a build under /tmp
		case $(realpath "$(cut -d" " -f1 <<<"$4")") in /tmp/*) ;; *) mount -t tmpfs tmpfs /tmp || exit 98 ;; esac
		shift
		exec ip netns exec "$1" setpriv --no-new-privs --inh-caps=-all --bounding-set="-all,$2" $3' \
		_ "$WORK" "${TB}rtr" "$caps" "$cmd"
}

tb_rtr ip link del wan0
unit_run cpushaper.service ExecStart >"$WORK/start.out" 2>&1 &
START=$!
sleep 1
tb_veth "${TB}rtr" wan0 "${TB}net" net0 || fail "wan0 again"
ip -n "${TB}rtr" addr add 198.19.0.1/24 dev wan0
ip -n "${TB}net" addr add 198.19.0.2/24 dev net0
ip -n "${TB}net" route add 198.18.0.0/16 via 198.19.0.1
tb_net ethtool -K net0 tx off >/dev/null
wait $START; st=$?
expect_eq "$st" 0 "cpushaper.service ExecStart, as the unit runs it ($(cat "$WORK/start.out"))"
expect_contains "$(cat "$WORK/start.out")" "waiting up to 120 s for device wan0" "it waited for a device that came late"
expect_eq "$(ids)" "c-a,c-b" "the configured customers are shaped"
expect_eq "$(tb_rtr "$BIN" show -j --config "$CONF" | jq -c .damage.programs)" "[]" "all four programs attached"

# a writer (of another owner, a file only it may read) that writes a new file and renames it
{ cat "$WORK/etc/ShapedDevices.csv"; echo "c-c,C,d3,,,,198.18.1.12,,5,5,50,30,"; } >"$WORK/etc/.new.csv"
chown nobody "$WORK/etc/.new.csv" && chmod 600 "$WORK/etc/.new.csv"
mv "$WORK/etc/.new.csv" "$WORK/etc/ShapedDevices.csv"
out=$(unit_run cpushaper.service ExecReload 2>&1); st=$?
expect_eq "$st" 0 "ExecReload after a rename ($out)"
expect_eq "$(ids)" "c-a,c-b,c-c" "the new circuit is shaped"
# a writer caught half-way through a line
cp "$WORK/etc/ShapedDevices.csv" "$WORK/good.csv"
{ cat "$WORK/good.csv"; printf 'c-d,D,d4,,,,198.18.1.13,,5,5,5'; } >"$WORK/etc/ShapedDevices.csv"
out=$(unit_run cpushaper.service ExecReload 2>&1); st=$?
expect_eq "$st" 1 "ExecReload of a half-written file fails (systemctl reload reports it)"
expect_contains "$out" "ShapedDevices.csv:5:" "naming the line"
expect_contains "$out" "nothing was changed" "and saying nothing changed"
expect_eq "$(ids)" "c-a,c-b,c-c" "the running shaping stays as it was"
head -c 120 "$WORK/good.csv" >"$WORK/etc/ShapedDevices.csv"
out=$(unit_run cpushaper.service ExecReload 2>&1); st=$?
expect_eq "$st" 1 "ExecReload of a file cut inside the header or first row fails too"
expect_eq "$(ids)" "c-a,c-b,c-c" "and changes nothing"
mv "$WORK/good.csv" "$WORK/etc/ShapedDevices.csv"

# metrics_unit_page: one page of cpushaper-metrics.service, started as the unit would, then stopped
metrics_unit_page() {
	local pid page=""
	unit_run cpushaper-metrics.service ExecStart >/dev/null 2>"$WORK/metrics.err" &
	pid=$!
	TB_PIDS+=("$pid")
	for _ in $(seq 50); do
		page=$(tb_rtr curl -sf "http://127.0.0.1:$PORT/metrics") && break
		sleep 0.1
	done
	kill "$pid"; wait "$pid" 2>/dev/null
	echo "$page"
}

# the exporter's unit reads the same configuration
page=$(metrics_unit_page)
expect_contains "$page" "cpushaper_up 1" "cpushaper-metrics.service serves the configured pair on the configured address"
expect_contains "$page" 'circuit="c-c"' "with its circuits"

# 3. A device deleted and created again: show says what is missing, a reload puts it back.
tb_rtr ip link del lan0
out=$(tb_rtr "$BIN" show --config "$CONF" 2>&1 >/dev/null); st=$?
expect_eq "$st" 0 "show with lan0 gone still reads wan0's shaper"
expect_contains "$out" "lan0 does not exist (deleted, or not created yet): nothing is shaped on it" "and says lan0 is missing"
expect_eq "$(tb_rtr "$BIN" show -j --config "$CONF" 2>/dev/null | jq -c '.damage | [.devices_missing, .lan_classes_missing, .programs]')" \
	'[["lan0"],3,["lan TC","lan XDP"]]' "show -j: the device, its classes and programs"
expect_eq "$(tb_rtr "$BIN" top --once -j --config "$CONF" 2>/dev/null | jq '[.cpus[].circuits] | add')" 3 "top still reads the other device"
page=$(metrics_unit_page)
expect_contains "$page" 'cpushaper_device_missing{device="lan"} 1' "the exporter: lan0 missing, a series to alert on"
expect_contains "$page" 'cpushaper_device_missing{device="wan"} 0' "and wan0 there"
out=$(unit_run cpushaper.service ExecReload 2>&1); st=$?
expect_eq "$st" 1 "a reload while lan0 is gone fails"
expect_contains "$out" "device lan0 does not exist" "naming the device"
tb_veth "${TB}sub" sub0 "${TB}rtr" lan0 || fail "lan0 again"
ip -n "${TB}rtr" addr add 198.18.1.1/24 dev lan0
tb_sub ethtool -K sub0 tx off >/dev/null
tb_subscriber 198.18.1.10
out=$(tb_rtr "$BIN" show --config "$CONF" 2>&1 >/dev/null)
expect_contains "$out" "lan0: 0 of 3 circuit classes present - run load to repair" "lan0 back, empty: show says so"
out=$(unit_run cpushaper.service ExecReload 2>&1); st=$?
expect_eq "$st" 0 "the reload attaches everything to the new lan0 ($out)"
expect_eq "$(tb_rtr "$BIN" show -j --config "$CONF" | jq -c .damage)" \
	'{"devices_missing":[],"lan_classes_missing":0,"wan_classes_missing":0,"programs":[]}' "nothing missing after it"
tb_iperf_server 5811 || fail "iperf3 server"
for try in 1 2; do
	tb_sub iperf3 -c 198.19.0.2 -B 198.18.1.10 -p 5811 -R -t 3 -O 1 -J >"$WORK/r.json" 2>&1
	r=$(jq -r '.end.sum_received.bits_per_second / 30000000' "$WORK/r.json" 2>/dev/null)
	[ "$(echo "${r:-0} >= 0.88 && ${r:-0} <= 1.02" | bc -l)" = 1 ] && break
done
expect_range "${r:-0}" 0.88 1.02 "c-a's download on the new lan0 at its plan (30 Mbit)"

out=$(unit_run cpushaper.service ExecStop 2>&1); st=$?
expect_eq "$st" 0 "ExecStop unloads ($out)"
expect_eq "$(tb_rtr tc qdisc show dev lan0 | grep -c 'mq 7fff')" 0 "nothing left on lan0"
done_tests
