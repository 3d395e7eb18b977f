#!/usr/bin/env bash
# Workload: fio, 100000 random 4 KiB preads with a zipfian (theta 0.9) distribution over a
# 512 MiB file, in a 128 MiB memory cgroup. fio advises POSIX_FADV_RANDOM (no readahead) and
# first drops the file's cache (POSIX_FADV_DONTNEED); --thread keeps its job in one process.
# Usage: fio_zipf.sh [DATA_DIR]
source "$(dirname "$0")/common.sh"
command -v fio >/dev/null || { echo "$0: fio is not installed (scripts/setup.sh installs it)" >&2; exit 1; }

f=$data/zipf.dat
[ -s "$f" ] && [ "$(stat -c %s "$f")" -eq 536870912 ] || head -c 536870912 /dev/urandom > "$f"
capture_and_validate fio_zipf 128M fio --name=zipf --filename="$f" --rw=randread --bs=4k \
  --ioengine=psync --size=512M --random_distribution=zipf:0.9 --number_ios=100000 --thread \
  --norandommap --randrepeat=1 --output=/dev/null
