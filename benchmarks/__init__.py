"""Benchmarks: timings live here, not in the test suite."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Mapping


def timed(cmd: list[str], env: Mapping[str, str] | None = None) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MiB, stdout) of ``cmd`` run in a fresh process under ``/usr/bin/time -v``."""
    started = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited with {done.returncode}:\n{done.stderr[-3000:]}")
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    if rss is None:
        raise RuntimeError(f"no peak RSS in the output of /usr/bin/time -v:\n{done.stderr[-3000:]}")
    return wall, int(rss.group(1)) / 1024, done.stdout
