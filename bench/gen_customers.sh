#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# gen_customers.sh N [SEED]: a ShapedDevices.csv with N circuits on stdout.
# Circuit i gets 198.18.0.0/15 address i+256 (skipping the test bed's 198.18.1.0/24
# routers and hosts stay reachable) and 2001:db8:100::i; plans vary with SEED.
set -eu
n=$1
seed=${2:-1}
awk -v n="$n" -v seed="$seed" 'BEGIN {
	print "Circuit ID,Circuit Name,Device ID,Device Name,Parent Node,MAC,IPv4,IPv6,Download Min Mbps,Upload Min Mbps,Download Max Mbps,Upload Max Mbps,Comment"
	split("10 25 50 100 200 300 500 1000", plan, " ")
	srand(seed)
	for (i = 0; i < n; i++) {
		a = i + 512                       # 198.18.2.0 onwards
		p = plan[1 + int(rand() * 8)]
		printf "g-%06d,Customer %d,d-%06d,,,,198.%d.%d.%d,2001:db8:100::%x,%g,%g,%g,%g,\n",
			i, i, i, 18 + int(a / 65536), int(a / 256) % 256, a % 256, i + 1,
			p / 4, p / 8, p, p / 2
	}
}'
