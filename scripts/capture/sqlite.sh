#!/usr/bin/env bash
# Workload: SQLite, 40000 point lookups by random primary key in a 245 MiB table (250000 rows of
# 1000-byte blobs, 4 KiB pages), in a 64 MiB memory cgroup. sqlite3 reads with pread64.
# Usage: sqlite.sh [DATA_DIR]
source "$(dirname "$0")/common.sh"
command -v sqlite3 >/dev/null || { echo "$0: sqlite3 is not installed (scripts/setup.sh installs it)" >&2; exit 1; }

db=$data/lookup.db
if [ ! -f "$data/.lookup.db.complete" ]; then
  rm -f "$db"
  echo "generating $db (250000 rows, about 245 MiB)"
  sqlite3 "$db" "PRAGMA journal_mode=OFF; CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB);
    WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<250000)
    INSERT INTO t SELECT i, randomblob(1000) FROM c;" > /dev/null
  touch "$data/.lookup.db.complete"
fi
capture_and_validate sqlite 64M sqlite3 "$db" "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL
  SELECT i+1 FROM r WHERE i<40000) SELECT sum(length((SELECT v FROM t WHERE
  id = (abs(random()) + 0*r.i) % 250000 + 1))) FROM r;"
