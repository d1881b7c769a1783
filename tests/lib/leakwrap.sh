#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# leakwrap.sh CMD...: run a test that loads BPF objects outside a test bed, then
# fail it if it left any BPF map, program, link or cpumap thread in the kernel.
. "$(dirname "$(realpath "$0")")/leakcheck.sh"
leak_snapshot
"$@"
rc=$?
leak_check || rc=1
leak_cleanup
[ "$rc" = 0 ] && echo "ok: leak check: nothing left in the kernel"
exit "$rc"
