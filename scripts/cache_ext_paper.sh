#!/usr/bin/env bash
# The cache_ext paper's experiments (SOSP '25 §5) in the model, at the sizes quoted in the
# closing note of the cache_ext issue; tests/cli/cache_ext_findings_test.cpp runs them scaled
# down and asserts each finding. Every policy is an in-tree BPF program except "default" (the
# kernel's LRU) and "belady" (the offline optimum). Usage: scripts/cache_ext_paper.sh [--json]
set -euo pipefail
cd "$(dirname "$0")/.."
mmbpf=build/mmbpf
[ -x "$mmbpf" ] || { echo "build first: scripts/test.sh or cmake --build --preset default" >&2; exit 1; }
json=("$@")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

echo "== 1. file search: a 99.5 MiB tree (3000 files) searched 10 times in a 71 MiB cgroup (1.4x)"
printf 'memory 4G\ncgroup 1 /search memory.max=71M\n' >"$dir/search.conf"
$mmbpf run --workload search:files=3000,passes=10,cg=1 --config "$dir/search.conf" \
  --policy default,mru,lfu,fifo "${json[@]}"

echo; echo "== 2. YCSB C: 1M 1 KiB records (1 GiB), zipf 0.99, 2M reads, cgroup 100 MiB (10 %)"
printf 'memory 4G\ncgroup 1 /ycsb memory.max=100M\n' >"$dir/ycsb.conf"
$mmbpf run --workload ycsb:workload=c,records=1M,ops=2M,cg=1 --config "$dir/ycsb.conf" \
  --policy default,lfu,lhd,s3fifo,mglru,fifo,mru "${json[@]}"

echo; echo "== 3. GET-SCAN: YCSB C GETs (pid 1) and a 1 GiB scan of the same file (pid 2, 1000 reads of 1 MiB): 99.95 / 0.05 %"
printf 'memory 4G\ncgroup 1 /db memory.max=100M\n' >"$dir/db.conf"
$mmbpf run --workload 'ycsb:workload=c,records=1M,ops=2M,cg=1,pid=1,ino=1;scan:pages=256000,io=256,cg=1,pid=2,ino=1' \
  --config "$dir/db.conf" --policy default,get_scan,lfu --bpf-map scan_pids=2 "${json[@]}"

echo; echo "== 4. isolation: YCSB C in /ycsb (100 MiB) beside file search in /search (71 MiB)"
printf 'memory 4G\ncgroup 1 /ycsb memory.max=100M\ncgroup 2 /search memory.max=71M\n' >"$dir/iso.conf"
$mmbpf run --workload 'ycsb:workload=c,records=1M,ops=2M,cg=1,pid=1,ino=1;search:files=3000,passes=10,cg=2,pid=2,ino=100' \
  --config "$dir/iso.conf" --policy default,lfu,mru --attach /ycsb=lfu,/search=mru "${json[@]}"
