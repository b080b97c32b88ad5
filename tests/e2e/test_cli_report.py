"""The real ``incasso report kpi`` command."""

from __future__ import annotations

import json
from decimal import Decimal

from tests.conftest import AS_OF
from tests.e2e.test_cli import one_line_error, run


def test_report_kpi_json(sqlite_template: str) -> None:
    url = f"sqlite:///{sqlite_template}"
    result = run("report", "kpi", "--db", url, "--date", AS_OF.isoformat(), "--from", "2026-06-01", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["from"], report["to"], report["scope"]) == ("2026-06-01", AS_OF.isoformat(), None)
    assert sum(b["count"] for b in report["buckets"].values()) == report["open_cases"] > 0
    assert sum(Decimal(b["amount"]) for b in report["buckets"].values()) == Decimal(report["arrears"])
    rates = {k: v for k, v in report.items() if k.endswith("_rate")}
    assert set(rates) >= {"cure_rate", "promises_kept_rate", "followup_timeliness_rate"}
    assert all(v is None or 0 <= v <= 1 for v in rates.values())
    assert set(report["arrangements"]) == {"kept", "broken"}
    assert sum(w["open_cases"] for w in report["workload"]) == report["open_cases"]
    mine = json.loads(run("report", "kpi", "--db", url, "--date", AS_OF.isoformat(), "--user", "demo", "--json").stdout)
    assert mine["scope"] == "demo" and [w["user"] for w in mine["workload"]] == ["demo"]


def test_report_kpi_refuses_a_reversed_period(sqlite_template: str) -> None:
    result = run("report", "kpi", "--db", f"sqlite:///{sqlite_template}", "--from", "2026-11-02", "--to", "2026-11-01")
    assert result.returncode != 0
    assert "eindigt voordat" in one_line_error(result)


def test_report_kpi_json_has_the_roll_rates(sqlite_template: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import shutil
    from datetime import timedelta

    from incasso_tui.clock import FixedClock
    from incasso_tui.services.procedure import run_procedure
    from incasso_tui.store.db import Database
    from tests.conftest import NOW, _context

    url = f"sqlite:///{sqlite_template}"
    none = json.loads(run("report", "kpi", "--db", url, "--date", AS_OF.isoformat(), "--json").stdout)["roll_rates"]
    assert none == {"since": None, "until": None, "available_from": None, "rows": {}}
    shutil.copy(sqlite_template, tmp_path / "book.db")
    book = Database(f"sqlite:///{tmp_path / 'book.db'}")
    later = AS_OF + timedelta(days=7)
    try:
        for day in (AS_OF, later):
            run_procedure(_context(book, FixedClock(NOW), "bakker"), day)
    finally:
        book.dispose()
    result = run("report", "kpi", "--db", f"sqlite:///{tmp_path / 'book.db'}", "--date", later.isoformat(), "--json")
    assert result.returncode == 0, result.stderr
    rr = json.loads(result.stdout)["roll_rates"]
    assert (rr["since"], rr["until"], rr["available_from"]) == (AS_OF.isoformat(), later.isoformat(), None)
    assert rr["rows"] and all(
        sum(t["count"] for t in row["to"].values()) == row["cases"] > 0 for row in rr["rows"].values()
    )
    assert all(0 <= t["roll_rate"] <= 1 for row in rr["rows"].values() for t in row["to"].values())


def test_report_kpi_take_and_stored_print_what_the_dashboard_shows(sqlite_template: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Issue 18: ``--take`` stores the figures (as the dashboard's `r`), ``--stored`` prints the newest stored ones
    (what the dashboard opens with), with their moment; both equal the live report of the same day."""
    import shutil

    shutil.copy(sqlite_template, tmp_path / "book.db")
    url = f"sqlite:///{tmp_path / 'book.db'}"
    day = ("--db", url, "--date", AS_OF.isoformat())
    none = run("report", "kpi", *day, "--stored")
    assert none.returncode != 0 and "nog geen cijfers opgeslagen" in one_line_error(none)
    live = json.loads(run("report", "kpi", *day, "--json").stdout)
    taken = json.loads(run("report", "kpi", *day, "--take", "--json").stdout)
    stored = json.loads(run("report", "kpi", *day, "--stored", "--json").stdout)
    assert stored == taken
    assert {k: v for k, v in stored.items() if k not in ("taken_at", "taken_by", "causes")} == live
    assert stored["taken_by"].startswith("cli:") and sum(stored["causes"].values()) == live["open_cases"]
    text = run("report", "kpi", *day, "--stored")
    assert text.returncode == 0 and "Opgeslagen cijfers: berekend op" in text.stdout
    both = run("report", "kpi", *day, "--stored", "--from", "2026-11-01")
    assert both.returncode != 0 and "laat --from en --to weg" in one_line_error(both)
