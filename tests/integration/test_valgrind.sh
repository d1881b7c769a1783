#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Every command under valgrind memcheck against a real kernel: no invalid access,
# no use of uninitialised memory, no leak (suppressions only for libbpf/libxdp's
# bpf() syscall, see tests/valgrind.supp).
# Usage: test_valgrind.sh CPUSHAPER_BINARY
set -u
BIN=$(realpath "$1")
HERE=$(dirname "$(realpath "$0")")
TB="cs$$v-"
source "$HERE/../lib/testbed.sh"
source "$HERE/../lib/assert.sh"
command -v valgrind >/dev/null || fail "valgrind is not installed"
tb_start || fail "test bed setup"

VG=(valgrind --suppressions="$HERE/../valgrind.supp" --leak-check=full --show-leak-kinds=definite,indirect
    --errors-for-leak-kinds=definite,indirect --error-exitcode=99 -q)
sed 's/^c-101,Alice Ng,d-1011,Alice router,Tower A,02:00:00:00:10:11,198.18.1.10,2001:db8:1::10,5,2,12,4/c-101,Alice Ng,d-1011,Alice router,Tower A,02:00:00:00:10:11,198.18.1.10,2001:db8:1::10,5,2,15,4/; /^c-106/d' \
	"$HERE/../../customers/example.csv" > "$WORK/edit.csv"
printf 'Circuit ID,IPv4,Download Min Mbps,Upload Min Mbps,Download Max Mbps,Upload Max Mbps\nc,1.2.3,1,1,x,2\n' > "$WORK/bad.csv"

run() { # WHAT ARGS...
	local what=$1; shift
	tb_rtr "${VG[@]}" "$BIN" "$@" --lan-dev lan0 --wan-dev wan0 >/dev/null 2>"$WORK/vg.txt"
	local st=$?
	[ $st != 99 ] && ! grep -q '^==[0-9]*==' "$WORK/vg.txt"
	verdict $? "valgrind clean: $what" "exit $st: $(grep '^==' "$WORK/vg.txt" | head -8)"
}
run "load (first)" load "$HERE/../../customers/example.csv"
run "load (no change)" load "$HERE/../../customers/example.csv"
run "load (a change and a removal)" load "$WORK/edit.csv"
run "load (a refused file)" load "$WORK/bad.csv"
run "show" show
run "show -j" show -j
run "top --once" top --once
run "top --once -j" top --once -j
run "set-rate" set-rate c-101 --down-max 20
run "unload" unload
done_tests
