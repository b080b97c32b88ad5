"""``incasso calc``: argparse wiring, human and JSON output."""

from __future__ import annotations

import argparse
import json

import pytest

from incasso_tui.cli.calc import register as add_parser
from incasso_tui.errors import BadInput


def _run(argv: list[str], capsys: pytest.CaptureFixture[str], lang: str | None = None) -> str:
    parser = argparse.ArgumentParser(prog="incasso")
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    if lang is not None:
        args.lang = lang
    assert args.func(args) == 0
    return capsys.readouterr().out


def test_incassokosten_json(capsys: pytest.CaptureFixture[str]) -> None:
    out = _run(["calc", "incassokosten", "1000", "--json"], capsys)
    assert json.loads(out) == {"principal": "1000.00", "costs": "150.00", "vat": "0.00", "total": "150.00"}
    assert out.startswith('{"principal": "1000.00", "costs": "150.00", "vat": "0.00"')


def test_incassokosten_json_with_vat_and_dutch_amount(capsys: pytest.CaptureFixture[str]) -> None:
    out = _run(["calc", "incassokosten", "€ 2.500,00", "--btw", "--json"], capsys)
    assert json.loads(out) == {"principal": "2500.00", "costs": "375.00", "vat": "78.75", "total": "453.75"}


def test_incassokosten_human_dutch(capsys: pytest.CaptureFixture[str]) -> None:
    out = _run(["calc", "incassokosten", "1000"], capsys)
    assert out.replace("\xa0", " ") == ("Hoofdsom € 1.000,00 · incassokosten € 150,00 · btw € 0,00 · totaal € 150,00\n")


def test_incassokosten_human_english(capsys: pytest.CaptureFixture[str]) -> None:
    out = _run(["calc", "incassokosten", "50000"], capsys, lang="en")
    assert out == "Principal €50,000.00 · collection costs €1,275.00 · VAT €0.00 · total €1,275.00\n"


@pytest.mark.parametrize("amount", ["-5", "abc", "12,345"])
def test_incassokosten_bad_amount(amount: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(BadInput):
        _run(["calc", "incassokosten", amount, "--json"], capsys)
    assert capsys.readouterr().out == ""


def test_rente_json_across_a_rate_change(capsys: pytest.CaptureFixture[str]) -> None:
    out = _run(
        [
            "calc",
            "rente",
            "--amount",
            "1000",
            "--from",
            "2024-06-01",
            "--to",
            "2024-08-01",
            "--kind",
            "handels",
            "--json",
        ],
        capsys,
    )
    data = json.loads(out)
    assert data["interest"] == "20.63"
    assert (data["principal"], data["kind"], data["from"], data["to"]) == (
        "1000.00",
        "handels",
        "2024-06-01",
        "2024-08-01",
    )
    assert data["periods"] == [
        {
            "start": "2024-06-01",
            "end": "2024-07-01",
            "days": 30,
            "base": "1000.00",
            "rate": "0.125",
            "interest": "10.25",
        },
        {
            "start": "2024-07-01",
            "end": "2024-08-01",
            "days": 31,
            "base": "1000.00",
            "rate": "0.1225",
            "interest": "10.38",
        },
    ]
    assert data["unverified_rates"] is False
    assert [s["start"] for s in data["rate_sources"]] == ["2024-01-01", "2024-07-01"]


def test_rente_json_flags_unverified_rates(capsys: pytest.CaptureFixture[str]) -> None:
    out = _run(["calc", "rente", "--amount", "1000", "--from", "2024-01-01", "--to", "2026-01-01", "--json"], capsys)
    data = json.loads(out)
    assert data["kind"] == "wettelijk"
    assert data["interest"] == "134.20"
    assert data["unverified_rates"] is True  # the 2025-07-01 row


def test_rente_human_output(capsys: pytest.CaptureFixture[str]) -> None:
    out = _run(["calc", "rente", "--amount", "1.000,00", "--from", "2024-01-01", "--to", "2026-01-01"], capsys)
    text = out.replace("\xa0", " ")
    assert "2024-01-01  2025-01-01    366  € 1.000,00" in text
    assert "€ 70,00" in text and "€ 64,20" in text
    assert text.splitlines()[4].startswith("totaal") and text.splitlines()[4].endswith("€ 134,20")
    assert "LET OP: niet-geverifieerde rente gebruikt (vanaf 2025-07-01)" in text
    assert "rates.toml" in text


def test_rente_human_english_without_warning(capsys: pytest.CaptureFixture[str]) -> None:
    out = _run(["calc", "rente", "--amount", "1000", "--from", "2024-06-01", "--to", "2024-08-01"], capsys, "en")
    assert out.splitlines()[0] == (
        "Statutory interest on €1,000.00 from 2024-06-01 to 2024-08-01 (the payment day 2024-08-01 is not counted)"
    )
    assert "€11.67" in out
    assert "WARNING" not in out


@pytest.mark.parametrize(
    "argv",
    [
        ["--amount", "1000", "--from", "2024-13-01", "--to", "2025-01-01"],
        ["--amount", "1000", "--from", "20240101", "--to", "2025-01-01"],
        ["--amount", "1000", "--from", "2025-01-02", "--to", "2025-01-01"],
        ["--amount", "1000", "--from", "2010-01-01", "--to", "2025-01-01"],
        ["--amount", "-1000", "--from", "2024-01-01", "--to", "2025-01-01"],
    ],
)
def test_rente_bad_input(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(BadInput):
        _run(["calc", "rente", *argv], capsys)


def test_rente_same_day_is_zero(capsys: pytest.CaptureFixture[str]) -> None:
    out = _run(["calc", "rente", "--amount", "1000", "--from", "2025-01-01", "--to", "2025-01-01", "--json"], capsys)
    data = json.loads(out)
    assert (data["interest"], data["periods"], data["unverified_rates"]) == ("0.00", [], False)
