"""One line per JSON of ``benchmarks.ssh_sessions`` (what ``ssh_before_after.sh`` writes to its summary).

Usage: ``python benchmarks/ssh_summary.py LABEL FILE.json [LABEL FILE.json ...]``
"""

from __future__ import annotations

import json
import sys


def line(label: str, path: str) -> str:
    with open(path, encoding="utf-8") as f:
        d = json.load(f)
    painted = d["connect_to_painted_s"]
    keys = d["keys_all_typing"]["status_line_s"]
    cpu = d.get("cpu_to_painted_s")  # not in the JSON of an older ssh_sessions.py
    spent = (
        f"; CPU to the last painted: apps {cpu['apps']} s ({cpu['apps_per_session']} each), server {cpu['server']}, "
        f"starter {cpu['starter']}, client {cpu['client']}"
        if cpu
        else ""
    )
    return (
        f"{label}: {d['sessions']} sessions, stagger {d['stagger_s']} s: painted p50 {painted['p50']:.3f} / "
        f"max {painted['max']:.3f} s; PSS per session {d['app_pss_mib']['per_session']} MiB; key -> status line "
        f"(all typing) p95 {keys['p95'] * 1000:.0f} ms{spent}; load {d['load_before']} -> {d['load_after']}"
    )


if __name__ == "__main__":
    args = sys.argv[1:]
    for label, path in zip(args[::2], args[1::2], strict=True):
        print(line(label, path))
