"""The one safe-text module against a list of hostile strings (issue 16)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from incasso_tui.errors import BadInput
from incasso_tui.letters.render import escape_typst
from incasso_tui.safetext import (
    BIDI,
    C1,
    SafeStream,
    csv_cell,
    email_address,
    has_controls,
    header_value,
    is_email_address,
    letter_text,
    safe,
    safe_json,
)
from incasso_tui.store.models import Client, EmailOutbox

HOSTILE = [
    "\x1b]52;c;Y3VybCBldmlsLnNofHNo\x07",  # OSC 52: write the clipboard
    "\x1b]0;pwned\x07",  # OSC 0: the window title
    "\x1b]8;;http://evil.example\x1b\\klik\x1b]8;;\x1b\\",  # OSC 8 hyperlink
    "\x1b[2J\x1b[H",  # CSI: clear the screen
    "\x1bP+q544e\x1b\\",  # DCS: request termcap
    "\x9b31m rood",  # C1 CSI
    "\x9d0;title\x9c",  # C1 OSC ... ST
    "\x85next line",  # C1 NEL
    "\u202eRTL exe.fdp",  # right-to-left override
    "\u202a\u202b\u202c\u202d",  # embeddings, pop
    "\u2066\u2067\u2068\u2069",  # isolates
    "\u200e\u200f\u061c",  # marks
    "line\u2028separator\u2029",
    "bell\x07 backspace\x08 del\x7f nul\x00",
    "cr\roverwrite",
    "[bold red]X[/] [link=http://evil.example]k[/]",  # markup: text for safe(), a widget shows it literally
]
DANGEROUS = {*range(0x20), 0x7F, *C1, *BIDI}


@pytest.mark.parametrize("value", HOSTILE)
def test_safe_leaves_no_control_and_no_bidi_character(value: str) -> None:
    shown = safe(value)
    assert not any(ord(ch) in DANGEROUS for ch in shown)
    assert not has_controls(shown)


def test_safe_makes_them_visible() -> None:
    assert safe("\x1b]0;t\x07") == "␛]0;t␇"
    assert safe("\u202eRTL exe.fdp") == "<U+202E>RTL exe.fdp"  # not "pdf.exe LTR"
    assert safe("\x9b") == "<U+009B>"
    assert safe("Jan-Willem de Vries & Zn. [BV]") == "Jan-Willem de Vries & Zn. [BV]"  # ordinary text untouched


@pytest.mark.parametrize("value", HOSTILE)
def test_letter_text_strips_them(value: str) -> None:
    written = letter_text(value)
    assert not any(ord(ch) in DANGEROUS - {0x09, 0x0A} for ch in written)
    assert not any(ord(ch) in DANGEROUS for ch in escape_typst(value))  # what a letter prints


def test_a_letter_prints_the_name_in_its_real_order() -> None:
    assert letter_text("\u202eRTL exe.fdp") == "RTL exe.fdp"
    assert escape_typst("Jansen\u202e B.V.\u2066") == "Jansen B.V."


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r"])
def test_every_formula_prefix_is_defused(prefix: str) -> None:
    cell = csv_cell(f'{prefix}HYPERLINK("http://evil.example","klik")')
    assert cell.startswith("'")
    assert not any(ord(ch) in DANGEROUS for ch in cell)
    # and through the csv module the cell still starts with the apostrophe
    out = io.StringIO()
    csv.writer(out).writerow([cell])
    assert next(csv.reader(io.StringIO(out.getvalue())))[0].startswith("'")


def test_csv_keeps_ordinary_text() -> None:
    assert csv_cell("Bakkerij de Vries") == "Bakkerij de Vries"
    assert csv_cell(None) == ""
    assert csv_cell("a=b") == "a=b"  # only a leading prefix makes a formula


@pytest.mark.parametrize("value", HOSTILE)
def test_json_output_escapes_them_and_keeps_the_data(value: str) -> None:
    import json

    text = safe_json({"name": value})
    assert not any(ord(ch) in DANGEROUS for ch in text)
    assert json.loads(text) == {"name": value}


def test_the_output_stream_keeps_layout_and_defuses_the_rest() -> None:
    out = io.StringIO()
    SafeStream(out).write("a\tb\r\nc \x1b]0;t\x07 \u202e\n")  # type: ignore[arg-type]
    assert out.getvalue() == "a\tb\r\nc ␛]0;t␇ <U+202E>\n"


@pytest.mark.parametrize("good", ["klant@example.org", "jan.de-vries+incasso@sub.example.nl", "A_B@x-y.example"])
def test_one_valid_address(good: str) -> None:
    assert email_address(f" {good} ") == good and is_email_address(good)


@pytest.mark.parametrize(
    "bad",
    [
        "victim@example.com, attacker@evil.example",
        "victim@example.com;attacker@evil.example",
        "Victim <victim@example.com>",
        "victim@example.com\r\nBcc: attacker@evil.example",
        "victim@example.com\nx",
        "a b@example.com",
        "@example.com",
        "victim@",
        "victim@localhost",
        "victim@1.2.3.4",
        '"a,b"@example.com',
        "victim@exa_mple.com",
        "victim@example.com\u202e",
        "",
        "x" * 65 + "@example.com",
    ],
)
def test_not_one_valid_address_is_refused(bad: str) -> None:
    with pytest.raises(BadInput) as caught:
        email_address(bad)
    assert caught.value.field == "email"
    assert not is_email_address(bad)


def test_header_values_with_a_line_break_are_refused() -> None:
    assert header_value("Betalingsherinnering L123") == "Betalingsherinnering L123"
    for bad in ("Herinnering\r\nBcc: attacker@evil.example", "x\ny", "x\rY", "x\x00", "x\u202e"):
        with pytest.raises(BadInput):
            header_value(bad, name="Subject")


def test_an_address_is_validated_when_stored() -> None:
    client = Client()
    with pytest.raises(BadInput):
        client.email = "victim@example.com, attacker@evil.example"
    client.email = " klant@example.org "
    assert client.email == "klant@example.org"
    client.email = None
    with pytest.raises(BadInput):
        EmailOutbox(to_address="victim@example.com,attacker@evil.example")


def test_an_address_is_validated_when_sent(tmp_path: Path) -> None:
    from incasso_tui.mail.channels import Outgoing
    from incasso_tui.mail.smtp import PermanentFailure, SmtpSender

    sender = SmtpSender(host="127.0.0.1", port=1, sender="incasso@lender.example", starttls=False)
    with pytest.raises(PermanentFailure, match="e-mail address"):
        sender.message(
            Outgoing(to="victim@example.com, attacker@evil.example", subject="x", body="y\n", attachment=None)
        )
    with pytest.raises(PermanentFailure, match="line break"):
        sender.message(
            Outgoing(to="klant@example.org", subject="x\r\nBcc: attacker@evil.example", body="y\n", attachment=None)
        )
    msg = sender.message(Outgoing(to="klant@example.org", subject="Herinnering", body="y\n", attachment=None))
    assert msg["To"] == "klant@example.org"
