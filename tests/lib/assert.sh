#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Assertions for the shell tests; done_tests prints "N passed, N failed".
T_PASS=0
T_FAIL=0
pass() { T_PASS=$((T_PASS + 1)); echo "ok: $*"; }
flunk() { T_FAIL=$((T_FAIL + 1)); echo "FAIL: $*" >&2; }
# fail: a failure after which the test cannot go on.
fail() { flunk "$@"; done_tests; }
verdict() { if [ "$1" = 0 ]; then pass "$2"; else flunk "$2 ($3)"; fi; }
expect_eq() { [ "$1" = "$2" ]; verdict $? "$3" "got '$1', want '$2'"; }
is_int() { [[ "$1" =~ ^[0-9]+$ ]]; }
expect_ge() { is_int "$1" && [ "$1" -ge "$2" ]; verdict $? "$3" "got '$1', want >= $2"; }
expect_le() { is_int "$1" && [ "$1" -le "$2" ]; verdict $? "$3" "got '$1', want <= $2"; }
expect_range() {
	[[ "$1" =~ ^[0-9.]+$ ]] && [ "$(echo "$1 >= $2 && $1 <= $3" | bc -l)" = 1 ]
	verdict $? "$4" "got $1, want [$2, $3]"
}
expect_contains() { [[ "$1" == *"$2"* ]]; verdict $? "$3" "'$2' not in: $1"; }
expect_not_contains() { [[ "$1" != *"$2"* ]]; verdict $? "$3" "'$2' found in: $1"; }
done_tests() {
	echo "$T_PASS passed, $T_FAIL failed"
	[ "$T_FAIL" -eq 0 ] && exit 0
	exit 1
}

# `cpushaper show -j` without its counters and round trips: what a load configured.
config_only() {
	jq -c '.circuits[] |= (.down |= del(.bytes, .packets, .drops, .backlog, .qlen)
	                     | .up |= del(.bytes, .packets, .drops, .backlog, .qlen)
	                     | del(.rtt, .rtt_internet, .retransmits))'
}
