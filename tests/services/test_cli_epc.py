"""``incasso calc epc``: the payload printed, the PNG and SVG written, JSON, and the refusals in one line."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import select

from incasso_tui import cli
from incasso_tui.domain.epc import parse_payload
from incasso_tui.domain.references import loan_rf
from incasso_tui.services.positions import loan_positions
from incasso_tui.store.models import Case, Loan
from tests.conftest import AS_OF
from tests.qr_decode import decode_png

LENDER = {"INCASSO_LENDER_NAME": "Demo Kredietverlener B.V.", "INCASSO_LENDER_IBAN": "NL91ABNA0417164300"}


@pytest.fixture
def book(sqlite_db, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("INCASSO_CONFIG", str(tmp_path / "none.toml"))
    for key, value in LENDER.items():
        monkeypatch.setenv(key, value)
    return sqlite_db


def _loan_in_arrears(db) -> tuple[str, Decimal]:  # type: ignore[no-untyped-def]
    with db.reader() as s:
        for loan_id, number in s.execute(
            select(Loan.id, Loan.number)
            .join(Case, Case.client_id == Loan.client_id)
            .where(Case.pos_arrears > 0)
            .order_by(Loan.id)
        ):
            position = loan_positions(s, [loan_id], AS_OF).get(loan_id)
            if position is not None and position.total > 0:
                return number, position.total
    raise AssertionError("the test book has no loan in arrears")


def test_the_arrears_of_a_loan_as_payload_png_and_svg(book, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    number, arrears = _loan_in_arrears(book)
    png, svg = tmp_path / "qr.png", tmp_path / "qr.svg"
    code = cli.main(
        [
            "calc",
            "epc",
            "--loan",
            number,
            "--db",
            book.url,
            "--user",
            "demo",
            "--date",
            AS_OF.isoformat(),
            "--png",
            str(png),
            "--svg",
            str(svg),
            "--lang",
            "en",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    payload = "\n".join(out.splitlines()[1:11])
    payment = parse_payload(payload)
    assert payment.amount == arrears and payment.reference == loan_rf(number, "INC")
    assert decode_png(png.read_bytes()) == [payload]
    assert svg.read_text().startswith("<svg")
    assert out.splitlines()[0].startswith(f"Payment QR code for loan {number}:")
    assert out.splitlines()[-1] == "Payment by link is not configured (setting payment_link_provider)"


def test_json_with_a_given_amount(book, capsys) -> None:  # type: ignore[no-untyped-def]
    number, _arrears = _loan_in_arrears(book)
    assert (
        cli.main(
            ["calc", "epc", "--loan", number, "--amount", "1.234,50", "--json", "--db", book.url, "--user", "demo"]
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert (data["amount"], data["png"], data["svg"], data["iban"]) == ("1234.50", None, None, "NL91ABNA0417164300")
    assert data["payment_link"] == {"not_configured": "no_provider"}
    assert parse_payload(data["payload"]).amount == Decimal("1234.50")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--loan", "L99999999"], "No loan L99999999"),
        (["--amount", "0"], "between 0.01"),
        (["--amount", "12,345"], "2 decimals"),
        (["--amount", "1000000000"], "between 0.01"),
    ],
)
def test_refusals_in_one_line(book, capsys, args: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    number, _arrears = _loan_in_arrears(book)
    argv = [
        "calc",
        "epc",
        *(args if args[0] == "--loan" else ["--loan", number, *args]),
        "--db",
        book.url,
        "--user",
        "demo",
        "--lang",
        "en",
    ]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_a_wrong_lender_iban_is_refused_before_anything_is_made(book, tmp_path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("INCASSO_LENDER_IBAN", "XX62ABNA0417164300")
    number, _arrears = _loan_in_arrears(book)
    png = tmp_path / "qr.png"
    assert cli.main(["calc", "epc", "--loan", number, "--db", book.url, "--user", "demo", "--png", str(png)]) == 2
    assert "lender_iban" in capsys.readouterr().err and not png.exists()
