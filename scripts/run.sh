#!/usr/bin/env bash
# Sets up, builds, and runs mmbpf's main job on its built-in default: `mmbpf run` with no
# arguments, the showcase (built-in workloads replayed against the MM model under the kernel's
# default LRU and the in-tree policies, a table per workload).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake --preset default >/dev/null
cmake --build --preset default -j2 --target mmbpf
build/mmbpf run "$@"
