#!/usr/bin/env bash
# Runs the four capture workloads (grep -r over a tree, sequential reads, fio zipfian random
# reads, SQLite point lookups) and prints one summary of kernel vs model per workload.
# Usage: all.sh [DATA_DIR]
set -euo pipefail
dir=$(dirname "$0")
for w in grep_tree seq_read fio_zipf sqlite; do
  "$dir/$w.sh" "$@"
  echo
done
source "$dir/common.sh"
echo "== summary (relative error of the model against the kernel)"
for w in grep_tree seq_read fio_zipf sqlite; do
  python3 - "$data/$w.validate.json" "$w" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))
cells = []
for m in v["metrics"]:
    e = m["relative_error"]
    cells.append(f"{m['name']} {m['kernel']:.0f}/{m['model']:.0f} ({'-' if e is None else f'{e*100:+.1f}%'})")
print(f"{sys.argv[2]:<10} lost={v['lost']}  " + "  ".join(cells))
PY
done
