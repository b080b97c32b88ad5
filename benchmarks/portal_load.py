"""Load test of the client's portal (issue 21), on 127.0.0.1 only and bounded in count and time.

``python -m benchmarks.portal_load [--sessions 200] [--concurrency 20] [--loans 5000] [--timeout 600]``

Builds a book (``incasso generate``) in a temporary directory, issues one personal link per client with a case
(``services.portal.issue_link``, as ``incasso portal code`` does), starts ``incasso serve portal`` as its own
process (plain http on 127.0.0.1, ``--insecure-cookies``), and has ``--sessions`` clients, ``--concurrency`` at a
time, each open the link, log in (one scrypt on the server) and view the claim. Prints p50 / p95 / max per step
and the load average; nothing is asserted. The figures go into benchmarks/RESULTS.md by hand.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import datetime
from pathlib import Path

import httpx2 as httpx
from sqlalchemy import select

from incasso_tui.cli.tui import DEMO_LENDER
from incasso_tui.clock import SystemClock
from incasso_tui.config import Settings
from incasso_tui.services.context import Context
from incasso_tui.services.portal import issue_link
from incasso_tui.services.users import resolve_actor
from incasso_tui.store.db import Database
from incasso_tui.store.models import Case, Client
from tests.portal.server import free_port

INCASSO = str(Path(sys.executable).with_name("incasso"))  # the command of this environment


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _one(base: str, token: str, code: str, secret: str) -> dict[str, float]:
    times: dict[str, float] = {}
    with httpx.Client(base_url=base, timeout=60, follow_redirects=False) as http:
        t = time.perf_counter()
        page = http.get(f"/l/{token}")
        times["link page"] = time.perf_counter() - t
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        t = time.perf_counter()
        r = http.post(f"/l/{token}", data={"csrf": csrf, "code": code, "secret": secret})
        times["login (scrypt)"] = time.perf_counter() - t
        if r.status_code != 303:
            raise RuntimeError(f"login refused: {r.status_code}")
        t = time.perf_counter()
        claim = http.get("/claim")
        times["claim"] = time.perf_counter() - t
        if claim.status_code != 200:
            raise RuntimeError(f"claim: {claim.status_code}")
        times["session"] = sum(times.values())
    return times


REFUSALS = 5  # both kinds from 127.0.0.1: 10 failures, the most the per-address limit lets through


def _refused(base: str, token: str, secret: str) -> float:
    with httpx.Client(base_url=base, timeout=60, follow_redirects=False) as http:
        page = http.get(f"/l/{token}")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        t = time.perf_counter()
        r = http.post(f"/l/{token}", data={"csrf": csrf, "code": "WRONG-CODE0", "secret": secret})
        elapsed = time.perf_counter() - t
        if r.status_code != 400:
            raise RuntimeError(f"a wrong code was not refused: {r.status_code}")
        return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--loans", type=int, default=5000)
    parser.add_argument("--timeout", type=float, default=600.0, help="the whole run stops after this many seconds")
    args = parser.parse_args(argv)
    if not 1 <= args.sessions <= 1000 or not 1 <= args.concurrency <= 100:
        parser.error("sessions 1..1000, concurrency 1..100")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "book.db"
        url = f"sqlite:///{path}"
        env = {**os.environ, **{f"INCASSO_{k.upper()}": v for k, v in DEMO_LENDER.items()}}
        subprocess.run(
            [INCASSO, "generate", "--db", url, "--loans", str(args.loans), "--seed", "7"],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        db = Database(url)
        ctx = Context(
            db=db, actor=resolve_actor(db, "demo"), clock=SystemClock(), settings=Settings(db_url=url, **DEMO_LENDER)
        )  # type: ignore[arg-type]
        with db.reader() as s:
            clients = list(
                s.execute(
                    select(Client.number, Client.kind, Client.birth_date, Client.kvk)
                    .where(Client.id.in_(select(Case.client_id)))
                    .order_by(Client.id)
                    .limit(args.sessions)
                )
            )
        t = time.perf_counter()
        links = []
        for number, kind, born, kvk in clients:
            link = issue_link(ctx, client_number=number)
            links.append(
                (link.url.rsplit("/", 1)[1], link.code, born.strftime("%d-%m-%Y") if kind == "natural" else kvk)
            )
        issuing = time.perf_counter() - t
        db.dispose()
        port = free_port()
        log = (Path(tmp) / "server.log").open("w")
        server = subprocess.Popen(
            [INCASSO, "serve", "portal", "--db", url, "--port", str(port), "--insecure-cookies"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.get(base + "/", timeout=2)
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise RuntimeError("the portal did not start") from None
                    time.sleep(0.1)
            load_before = os.getloadavg()
            samples: dict[str, list[float]] = {}
            failures = 0
            t0 = time.perf_counter()
            with ThreadPoolExecutor(args.concurrency) as pool:
                futures = [pool.submit(_one, base, *link) for link in links]
                for f in as_completed(futures, timeout=args.timeout):
                    try:
                        for k, v in f.result().items():
                            samples.setdefault(k, []).append(v)
                    except Exception as err:  # noqa: BLE001 - any failure of one session is counted and shown, the run goes on
                        failures += 1
                        print("failed:", err, file=sys.stderr)
            wall = time.perf_counter() - t0
            load_after = os.getloadavg()
            # what an outsider can time: a refused login with a link that does not exist against one with a real
            # link and a wrong code (one try per link: none gets locked), one after the other
            refused = {"unknown link": [], "real link, wrong code": []}
            for n, (token, _code, secret) in enumerate(links[:REFUSALS]):
                for kind, tok in (("unknown link", f"nosuchlink{n:012d}"), ("real link, wrong code", token)):
                    refused[kind].append(_refused(base, tok, secret))
        finally:
            server.terminate()
            server.wait(30)
            log.close()
            errors = [
                line
                for line in (Path(tmp) / "server.log").read_text().splitlines()
                if "Error" in line or "Traceback" in line
            ]
            for line in errors[:10]:
                print("server:", line, file=sys.stderr)
    print(
        f"### portal load: {len(links)} sessions, {args.concurrency} at a time, "
        f"{datetime.now().strftime('%Y-%m-%d %H:%M')} UTC"
    )
    print(
        f"Machine: {os.cpu_count()} CPU, {platform.platform()}, Python {platform.python_version()}; SQLite book "
        f"of {args.loans} loans; one uvicorn worker. Load average before {[round(x, 2) for x in load_before]}, "
        f"after {[round(x, 2) for x in load_after]}."
    )
    print(
        f"Issuing {len(links)} links: {issuing:.1f} s. Run: {wall:.1f} s wall, {failures} failed, "
        f"{len(links) / wall:.1f} sessions/s."
    )
    print("| step | n | p50 | p95 | max |\n|---|---|---|---|---|")
    for k, v in samples.items():
        print(
            f"| {k} | {len(v)} | {statistics.median(v) * 1000:.0f} ms | {_quantile(v, 0.95) * 1000:.0f} ms | "
            f"{max(v) * 1000:.0f} ms |"
        )
    print(f"Refused logins, {REFUSALS} each, one at a time after the run:")
    for k, v in refused.items():
        print(
            f"| {k} | {len(v)} | {statistics.median(v) * 1000:.0f} ms | {_quantile(v, 0.95) * 1000:.0f} ms | "
            f"{max(v) * 1000:.0f} ms |"
        )
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
