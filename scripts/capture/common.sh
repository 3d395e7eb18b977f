#!/usr/bin/env bash
# Shared by the capture workload scripts (sourced, not run): where the data and traces go, the
# mmbpf binary, and capture-then-validate of one workload.
#
#   MMBPF        the mmbpf binary (default: build/mmbpf of this checkout)
#   MMBPF_DATA   where data and traces are kept (default: /var/tmp/mmbpf-workloads); the first
#                argument of each script overrides it. It must be on a block-device file system
#                (not tmpfs): the capture records page cache of real devices only.
# Every capture starts cold: `mmbpf capture --drop-caches` syncs and drops the page cache
# (echo 3 > /proc/sys/vm/drop_caches) right before the command starts. Needs root.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
MMBPF=${MMBPF:-$repo/build/mmbpf}
data=${1:-${MMBPF_DATA:-/var/tmp/mmbpf-workloads}}
mkdir -p "$data"

[ "$(id -u)" -eq 0 ] || { echo "$0: needs root (BPF, cgroups, drop_caches)" >&2; exit 1; }
[ -x "$MMBPF" ] || { echo "$0: $MMBPF not found: build mmbpf first (or set MMBPF)" >&2; exit 1; }
if [ "$(stat -f -c %T "$data")" = tmpfs ]; then
  echo "$0: $data is on tmpfs; give a directory on a disk" >&2
  exit 1
fi

# capture_and_validate NAME LIMIT COMMAND [ARGS]...: the trace is $data/NAME.trace, the
# validation table is printed and its JSON kept in $data/NAME.validate.json.
capture_and_validate() {
  local name=$1 limit=$2
  shift 2
  local trace=$data/$name.trace
  echo "== $name: $* (memory limit $limit)"
  "$MMBPF" capture --drop-caches --memory-limit "$limit" --output "$trace" -- "$@"
  "$MMBPF" validate "$trace"
  "$MMBPF" validate "$trace" --json > "$data/$name.validate.json"
  echo "compare policies on it: $MMBPF run --trace $trace --trace-format mmbpf --memory $limit --policy default,lfu,s3fifo"
}
