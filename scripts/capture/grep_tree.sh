#!/usr/bin/env bash
# Workload: a recursive search (grep -r, two passes) over a generated tree of 4000 text files
# (4-96 KiB each, 205 MiB) in a 96 MiB memory cgroup: every pass reads more than the cgroup
# holds. Usage: grep_tree.sh [DATA_DIR]
source "$(dirname "$0")/common.sh"

tree=$data/tree
if [ ! -f "$tree/.complete" ]; then
  echo "generating $tree (4000 files, about 205 MiB)"
  rm -rf "$tree"
  python3 - "$tree" <<'PY'
import base64, os, random, sys
root = sys.argv[1]
random.seed(1)
for d in range(40):
    for s in range(5):
        p = f"{root}/d{d:02}/s{s}"
        os.makedirs(p, exist_ok=True)
        for f in range(20):
            size = random.randint(4096, 98304)
            with open(f"{p}/f{f:03}.txt", "wb") as fh:
                fh.write(base64.encodebytes(os.urandom(size * 3 // 4 + 3))[:size])
PY
  touch "$tree/.complete"
fi
capture_and_validate grep_tree 96M sh -c "grep -r zzqqxxyy '$tree'; grep -r zzqqxxyy '$tree'; true"
