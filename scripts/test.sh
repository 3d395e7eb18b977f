#!/usr/bin/env bash
# Builds mmbpf and runs every test (CTest). This is the command CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake --preset default >/dev/null
cmake --build --preset default -j2
ctest --preset default
