#!/usr/bin/env bash
# Sets up, builds, and runs mmbpf's main job on its built-in default.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake --preset default >/dev/null
cmake --build --preset default -j2 --target mmbpf
# fib(n) in eBPF, n = 20 given as input memory; prints r0 = fib(20) = 0x1a6d
build/mmbpf exec "14 00 00 00" < samples/fib.hex
