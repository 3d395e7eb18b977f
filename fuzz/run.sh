#!/usr/bin/env bash
# Builds the libFuzzer target and fuzzes the decoder + checked interpreter, starting from the
# seed programs in fuzz/seeds/*.s. Usage: fuzz/run.sh [SECONDS] (default 3600).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-3600}
scripts/setup.sh
cmake --preset default >/dev/null && cmake --build --preset default -j2 --target mmbpf
cmake --preset fuzz >/dev/null && cmake --build --preset fuzz -j2 --target fuzz_interp
mkdir -p fuzz-corpus
for s in fuzz/seeds/*.s; do
  build/mmbpf asm < "$s" | python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.stdin.read()))' \
    > "fuzz-corpus/seed-$(basename "$s" .s)"
done
exec build-fuzz/fuzz_interp -max_total_time="$secs" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 fuzz-corpus
