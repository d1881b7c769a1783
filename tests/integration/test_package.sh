#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The Debian package: built with CPack from a fresh build directory, lintian
# without errors, installed with dpkg -i; then the installed binary and the
# installed configuration file shape the example customers in a namespace bed
# (load without options, show, unload), the installed units verify with their
# man page, bash completion completes commands and the running circuit IDs; and
# dpkg --purge leaves nothing of it. Refuses to touch a machine where the
# package is already installed.
# Usage: test_package.sh SOURCE_DIR BUILD_DIR
set -u
SRC=$(realpath "$1")
PKG_BUILD=$2
HERE=$(dirname "$(realpath "$0")")
TB="cs$$k-"
source "$HERE/../lib/testbed.sh"
source "$HERE/../lib/assert.sh"

if dpkg-query -W -f='${Status}' cpushaper 2>/dev/null | grep -q "ok installed"; then
	fail "the cpushaper package is installed on this machine: not touching it"
fi
rm -rf "$PKG_BUILD"
cmake -S "$SRC" -B "$PKG_BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr >/dev/null ||
	fail "configure"
cmake --build "$PKG_BUILD" -j"$(nproc)" --target cpushaper manpage debchangelog >/dev/null || fail "build"
(cd "$PKG_BUILD" && cpack -G DEB >cpack.log 2>&1) || fail "cpack: $(tail -5 "$PKG_BUILD/cpack.log")"
DEB=$(ls "$PKG_BUILD"/cpushaper_*.deb)
expect_contains "$(dpkg-deb -f "$DEB" Depends)" "libbpf1" "Depends computed from the shared libraries"
expect_contains "$(dpkg-deb -f "$DEB" Depends)" "libinih1" "libinih among them"
expect_eq "$(dpkg-deb -e "$DEB" "$PKG_BUILD/control" && cat "$PKG_BUILD/control/conffiles")" \
	/etc/cpushaper/cpushaper.conf "the configuration is a conffile"
lint=$(lintian --tag-display-limit 0 "$DEB" 2>&1 | grep -v 'running with root privileges')
expect_eq "$(grep -c '^E:' <<<"$lint")" 0 "lintian: no errors ($lint)"
expect_eq "$(grep -c '^W:' <<<"$lint")" 0 "lintian: no warnings"

tb_start || fail "test bed setup"
trap 'dpkg --purge cpushaper >/dev/null 2>&1; tb_teardown' EXIT
out=$(dpkg -i "$DEB" 2>&1); st=$?
expect_eq "$st" 0 "dpkg -i ($out)"
for f in /usr/sbin/cpushaper /etc/cpushaper/cpushaper.conf /lib/systemd/system/cpushaper.service \
	/lib/systemd/system/cpushaper-reload.path /lib/systemd/system/cpushaper-reload.service \
	/lib/systemd/system/cpushaper-metrics.service /usr/share/man/man8/cpushaper.8.gz \
	/usr/share/bash-completion/completions/cpushaper /usr/share/doc/cpushaper/copyright \
	/usr/share/doc/cpushaper/examples/example.csv; do
	[ -e "$f" ]; verdict $? "installed: $f"
done
expect_contains "$(man -w cpushaper 2>&1)" "/usr/share/man/man8/cpushaper.8.gz" "man cpushaper finds the page"
expect_contains "$(MANWIDTH=80 man cpushaper 2>/dev/null | col -b)" "CONFIGURATION FILE" "the page renders"
out=$(systemd-analyze verify /lib/systemd/system/cpushaper.service /lib/systemd/system/cpushaper-reload.path \
	/lib/systemd/system/cpushaper-reload.service /lib/systemd/system/cpushaper-metrics.service 2>&1); st=$?
expect_eq "$st:$out" "0:" "the installed units verify, man page included"
expect_eq "$(/usr/sbin/cpushaper --version)" "cpushaper $(sed -n 's/^project(cpushaper VERSION \([0-9.]*\).*/\1/p' "$SRC/CMakeLists.txt")" \
	"--version"

# the installed configuration, edited as an operator would
sed -i 's|^#lan-dev = .*|lan-dev = lan0|; s|^#wan-dev = .*|wan-dev = wan0|;
	s|^#customers = .*|customers = /usr/share/doc/cpushaper/examples/example.csv|' /etc/cpushaper/cpushaper.conf
out=$(tb_rtr /usr/sbin/cpushaper load 2>&1); st=$?
expect_eq "$st" 0 "the installed binary loads the configured file with no options ($out)"
n=$(tail -n +2 /usr/share/doc/cpushaper/examples/example.csv | cut -d, -f1 | sort -u | wc -l)
expect_eq "$(tb_rtr /usr/sbin/cpushaper show -j | jq '.circuits | length')" "$n" "show: every circuit of the example"
expect_eq "$(tb_rtr /usr/sbin/cpushaper show -j | jq -c .damage.programs)" "[]" "all programs attached"

# bash completion: commands, options, and the running shaper's circuit IDs
# comp WORD...: what TAB offers after the line WORD... (the last word is the one completed);
# words are split at "=" as readline splits them (COMP_WORDBREAKS)
comp() {
	tb_rtr bash -c 'source /usr/share/bash-completion/bash_completion
		source /usr/share/bash-completion/completions/cpushaper
		COMP_WORDS=()
		for a in "$@"; do
			if [[ $a == --*=* ]]; then COMP_WORDS+=("${a%%=*}" "=" "${a#*=}"); else COMP_WORDS+=("$a"); fi
		done
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_cpushaper cpushaper "${COMP_WORDS[-1]}" "${COMP_WORDS[-2]}"
		printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' _ "$@"
}
expect_eq "$(comp cpushaper lo)" "load " "completion: a command"
expect_eq "$(comp cpushaper ch)" "check " "completion: check"
expect_eq "$(comp cpushaper load --max)" "--max-remove= " "completion: the guard's option"
expect_contains "$(comp cpushaper load --lea)" "--leaf" "completion: an option of the command"
expect_eq "$(comp cpushaper load --leaf "")" "cake fifo fq_codel none " "completion: an option's values"
expect_eq "$(comp cpushaper show c-10)" "c-101 c-102 c-103 c-104 c-105 c-106 " "completion: the running circuit IDs"
expect_eq "$(comp cpushaper set-rate --lan-dev=lan0 --wan-dev=wan0 c-103)" "c-103 " \
	"completion: the circuit IDs of the devices given as --opt=value"
expect_eq "$(comp cpushaper top --config=/etc/cpushaper/cpushaper.conf --inter)" "--interval= " \
	"completion: after --config=FILE, the command's options"
expect_eq "$(comp cpushaper load --leaf=fq)" "fq_codel " "completion: a value given as --opt=value"

# enabling the units, then a purge: nothing of them is left
systemctl enable cpushaper.service cpushaper-reload.path >/dev/null 2>&1
[ -L /etc/systemd/system/multi-user.target.wants/cpushaper.service ]
verdict $? "systemctl enable links the unit"
expect_eq "$(dpkg-deb -I "$DEB" | grep -cE ' (postinst|prerm|postrm) ')" 3 "maintainer scripts for the units"

out=$(tb_rtr /usr/sbin/cpushaper unload 2>&1); st=$?
expect_eq "$st" 0 "unload with no options ($out)"
out=$(dpkg --purge cpushaper 2>&1); st=$?
expect_eq "$st" 0 "dpkg --purge"
[ ! -e /etc/cpushaper ] && [ ! -e /usr/sbin/cpushaper ] && [ ! -e /lib/systemd/system/cpushaper.service ]
verdict $? "purge removed the binary, the units and the configuration"
[ ! -L /etc/systemd/system/multi-user.target.wants/cpushaper.service ] &&
	[ ! -L /etc/systemd/system/multi-user.target.wants/cpushaper-reload.path ]
verdict $? "and the links enabling the units"
done_tests
