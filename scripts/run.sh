#!/usr/bin/env bash
# Sets up, builds, and runs mmbpf's main job on its built-in default.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake --preset default >/dev/null
cmake --build --preset default -j2 --target mmbpf
build/mmbpf exec samples/fib.hex
