#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Install what building, testing and the demo need (Debian 12, as root).
set -e
PKGS=(gcc libc6-dev make cmake pkg-config clang llvm bpftool linux-libc-dev
      libbpf-dev libxdp-dev libnl-3-dev libnl-route-3-dev libelf-dev zlib1g-dev
      libmicrohttpd-dev libjansson-dev libinih-dev iproute2 ethtool iperf3 jq bc curl python3-prometheus-client
      valgrind libclang-rt-dev util-linux gnuplot-nox
      scdoc dpkg-dev file lintian man-db bsdextrautils bash-completion systemd iputils-ping)
missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
