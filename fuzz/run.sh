#!/usr/bin/env bash
# Builds a libFuzzer target and fuzzes it from its seeds, in fuzz-corpus/TARGET.
#   fuzz/run.sh [TARGET] [SECONDS]     TARGET: fuzz_interp (default), fuzz_verifier,
#                                      fuzz_verifier_gen or fuzz_object; 3600 s default
# fuzz_interp and fuzz_verifier start from the programs in fuzz/seeds/*.s, fuzz_object from the
# test objects, fuzz_verifier_gen (whose input drives a program generator) from nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:-fuzz_interp}
secs=${2:-3600}
scripts/setup.sh
cmake --preset default >/dev/null && cmake --build --preset default -j2 --target mmbpf bpf_objects
cmake --preset fuzz >/dev/null && cmake --build --preset fuzz -j2 --target "$target"
corpus=fuzz-corpus/$target
mkdir -p "$corpus"
case "$target" in
  fuzz_interp|fuzz_verifier)
    for s in fuzz/seeds/*.s; do
      build/mmbpf asm < "$s" | python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.stdin.read()))' \
        > "$corpus/seed-$(basename "$s" .s)"
    done ;;
  fuzz_object)
    cp build/bpf/tests/bpf/progs/*.bpf.o "$corpus/" ;;
  fuzz_verifier_gen) ;;
esac
exec "build-fuzz/$target" -max_total_time="$secs" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 "$corpus"
