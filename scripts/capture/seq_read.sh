#!/usr/bin/env bash
# Workload: sequential reads of four 64 MiB files, twice, in a 128 MiB memory cgroup (each pass
# reads twice what the cgroup holds: the second pass misses and refaults).
# Usage: seq_read.sh [DATA_DIR]
source "$(dirname "$0")/common.sh"

for i in 1 2 3 4; do
  f=$data/seq$i.dat
  [ -s "$f" ] && [ "$(stat -c %s "$f")" -eq 67108864 ] || head -c 67108864 /dev/urandom > "$f"
done
files="$data/seq1.dat $data/seq2.dat $data/seq3.dat $data/seq4.dat"
capture_and_validate seq_read 128M sh -c "cat $files > /dev/null; cat $files > /dev/null"
