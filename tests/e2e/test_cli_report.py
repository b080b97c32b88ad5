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
