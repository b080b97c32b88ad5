#!/usr/bin/env bash
# SSH logins before and after a change, alternating in one run on the same machine (benchmarks/RESULTS.md,
# "SSH logins from a warm session starter"):
#   benchmarks/ssh_before_after.sh BEFORE_CHECKOUT BEFORE_PYTHON AFTER_CHECKOUT AFTER_PYTHON [ROUNDS] [OUTDIR] [BOOK]
# Each Python must have its checkout installed (pip install -e). Per round and side: 5 sessions one every
# 1.5 s, then 20 at once; the JSON of benchmarks.ssh_sessions goes to OUTDIR/{before,after}-{1,20}-rN.json.
# BOOK: an SQLite book each run copies (--book; the 1M book for issue 18's figures); without it the 2,400-loan
# demo book is generated per run. OUTDIR/summary.txt gets one line per run.
set -euo pipefail
before_dir=$1 before_py=$2 after_dir=$3 after_py=$4 rounds=${5:-3} out=${6:-benchmarks/out/ssh} book=${7:-}
mkdir -p "$out"; out=$(cd "$out" && pwd)
summary=$(cd "$(dirname "$0")" && pwd)/ssh_summary.py
for round in $(seq 1 "$rounds"); do
  for side in before after; do
    if [ "$side" = before ]; then dir=$before_dir py=$before_py; else dir=$after_dir py=$after_py; fi
    (cd "$dir" && "$py" -m benchmarks.ssh_sessions --stagger 1.5 --sessions 5 --idle 3 --keys 10 ${book:+--book "$book"} > "$out/$side-1-r$round.json")
    (cd "$dir" && "$py" -m benchmarks.ssh_sessions --sessions 20 --idle 3 --keys 10 ${book:+--book "$book"} > "$out/$side-20-r$round.json")
    python3 "$summary" "round $round $side" "$out/$side-1-r$round.json" "round $round $side" "$out/$side-20-r$round.json" \
      | tee -a "$out/summary.txt"
  done
done
