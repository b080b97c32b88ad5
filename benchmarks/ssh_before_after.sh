#!/usr/bin/env bash
# SSH logins before and after a change, alternating in one run on the same machine (benchmarks/RESULTS.md,
# "SSH logins from a warm session starter"):
#   benchmarks/ssh_before_after.sh BEFORE_CHECKOUT BEFORE_PYTHON AFTER_CHECKOUT AFTER_PYTHON [ROUNDS] [OUTDIR]
# Each Python must have its checkout installed (pip install -e). Per round and side: 5 sessions one every
# 1.5 s, then 20 at once; the JSON of benchmarks.ssh_sessions goes to OUTDIR/{before,after}-{1,20}-rN.json.
set -euo pipefail
before_dir=$1 before_py=$2 after_dir=$3 after_py=$4 rounds=${5:-3} out=${6:-benchmarks/out/ssh}
mkdir -p "$out"; out=$(cd "$out" && pwd)
for round in $(seq 1 "$rounds"); do
  for side in before after; do
    if [ "$side" = before ]; then dir=$before_dir py=$before_py; else dir=$after_dir py=$after_py; fi
    (cd "$dir" && "$py" -m benchmarks.ssh_sessions --stagger 1.5 --sessions 5 --idle 3 --keys 10 > "$out/$side-1-r$round.json")
    (cd "$dir" && "$py" -m benchmarks.ssh_sessions --sessions 20 --idle 3 --keys 10 > "$out/$side-20-r$round.json")
    echo "round $round $side done, load $(cut -d' ' -f1-3 /proc/loadavg)"
  done
done
