#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Install the dependencies, build, and run the whole test suite through ctest:
# unit, BPF (test_run), netns integration (iperf3, crashes, valgrind); then the
# same suite built with ASan+UBSan, and a bounded libFuzzer run (FUZZ_SECONDS,
# default 60). As root on Debian 12. CS_QUICK=1 skips the last two.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "run as root: the BPF and netns tests need it" >&2; exit 1; }
bash .ci/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure
[ "${CS_QUICK:-0}" = 1 ] && exit 0

echo "== the same tests under AddressSanitizer + UndefinedBehaviorSanitizer"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCS_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$(nproc)" >/dev/null
ctest --test-dir build-asan --output-on-failure -E "integration_valgrind|integration_package"

echo "== fuzzing the customer and network parsers and planners for ${FUZZ_SECONDS:-60} s"
bash .ci/fuzz.sh
