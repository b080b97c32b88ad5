"""The dossier of a claim handed to an outside party (issue 19), typeset as one PDF with Typst.

``render_dossier(dossier, tr)`` takes the plain dict that ``services.external`` also writes as the machine-readable
file (docs/external-collection.md), so the PDF and the JSON always say the same. Every value from data goes through
:func:`~incasso_tui.letters.render.escape_typst` (printed literally, never as Typst markup); amounts and dates are
formatted for the translator's locale. Typst compiles from memory with an empty root and its built-in fonts only.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import typst

from incasso_tui.errors import N_
from incasso_tui.i18n import Translator
from incasso_tui.letters.render import LetterError, escape_typst

__all__ = ["dossier_source", "render_dossier"]


def _e(value: object) -> str:
    return escape_typst(str(value)) if value not in (None, "") else "–"


def _cells(*values: str) -> str:
    return ", ".join(f"[{v}]" for v in values)


def _table(columns: str, head: tuple[str, ...], rows: list[tuple[str, ...]], tr: Translator) -> str:
    if not rows:
        none = escape_typst(tr(N_("none")))
        return f"_{none}_\n"
    body = ",\n  ".join(_cells(*row) for row in rows)
    header = _cells(*(f"*{escape_typst(h)}*" for h in head))
    return f"#table(columns: {columns}, stroke: 0.4pt + gray, inset: 4pt,\n  {header},\n  {body},\n)\n"


def dossier_source(d: dict[str, Any], tr: Translator) -> str:
    """The Typst source of the dossier ``d`` (see ``services.external._dossier``)."""
    m = lambda v: escape_typst(tr.money(Decimal(v)))  # noqa: E731
    dt = lambda v: escape_typst(tr.date(date.fromisoformat(v))) if v else "–"  # noqa: E731
    party, client, st = d["party"], d["client"], d["statement"]
    # the texts first: a message id inside an f-string is not seen by the catalog extraction
    title = escape_typst(tr(N_("Dossier of claim {number}"), number=d["claim"]))
    claim_word = escape_typst(tr(N_("claim")))
    statement_head = escape_typst(
        tr(N_("Claim statement as of {date}"), date=tr.date(date.fromisoformat(d["handed_on"])))
    )
    total_word = escape_typst(tr(N_("Total")))
    heads = {
        key: escape_typst(tr(text))
        for key, text in (
            ("documents", N_("Documents")),
            ("letters", N_("Letters sent")),
            ("contacts", N_("Contacts")),
            ("arrangements", N_("Payment arrangements")),
        )
    }
    out = [
        '#set page(paper: "a4", margin: 2cm, footer: context [#set text(size: 8pt)\n'
        f"{escape_typst(d['lender'])} · {claim_word} {d['claim']} #h(1fr) "
        '#counter(page).display("1 / 1", both: true)])',
        f'#set text(font: "Libertinus Serif", size: 10pt, lang: "{tr.lang}")',
        f"#set document(title: [{title}])",
        f"= {title}",
        "",
        _table(
            "(5cm, 1fr)",
            (tr(N_("Item")), tr(N_("Value"))),
            [
                (escape_typst(tr(N_("Handed to"))), f"{_e(party['name'])} ({escape_typst(tr(party['kind_label']))})"),
                (escape_typst(tr(N_("Address"))), _e(", ".join(party["address"]))),
                (escape_typst(tr(N_("Wki registration"))), _e(party.get("wki_registration"))),
                (escape_typst(tr(N_("Handed over on"))), dt(d["handed_on"])),
                (escape_typst(tr(N_("Decided by"))), f"{_e(d['proposed_by'])} / {_e(d['decided_by'])}"),
                (escape_typst(tr(N_("Client"))), f"{_e(client['name'])} ({_e(client['number'])})"),
                (escape_typst(tr(N_("Client address"))), _e(", ".join(client["address"]))),
                (escape_typst(tr(N_("Consumer"))), escape_typst(tr(N_("yes")) if client["consumer"] else tr(N_("no")))),
            ],
            tr,
        ),
        f"== {statement_head}",
        _table(
            "(1fr, auto, auto, auto, auto, auto)",
            (tr(N_("Loan")), tr(N_("Principal")), tr(N_("Interest")), tr(N_("Costs")), tr(N_("Paid")), tr(N_("Total"))),
            [
                (
                    _e(ln["loan"]),
                    m(ln["principal"]),
                    m(ln["interest"]),
                    m(ln["costs"]),
                    m(ln["payments"]),
                    m(ln["total"]),
                )
                for ln in st["loans"]
            ]
            + [
                (
                    f"*{total_word}*",
                    m(st["principal"]),
                    m(st["interest"]),
                    m(st["costs"]),
                    m(st["payments"]),
                    f"*{m(st['total'])}*",
                )
            ],
            tr,
        ),
        f"== {heads['documents']}",
        _table(
            "(1fr, auto, auto)",
            (tr(N_("Loan")), tr(N_("Loan agreement")), tr(N_("Pledge deed"))),
            [
                (
                    _e(doc["loan"]),
                    escape_typst(tr(N_("present")) if doc["loan_agreement"] else tr(N_("missing"))),
                    escape_typst(tr(N_("present")) if doc["pledge_deed"] else tr(N_("missing"))),
                )
                for doc in d["documents"]
            ],
            tr,
        ),
        f"== {heads['letters']}",
        _table(
            "(auto, 1fr, auto, auto, auto)",
            (tr(N_("Date")), tr(N_("Letter")), tr(N_("Channel")), tr(N_("Status")), tr(N_("Dispatched"))),
            [
                (dt(ltr["date"]), _e(ltr["kind"]), _e(ltr["channel"]), _e(ltr["status"]), _e(ltr["sent_at"]))
                for ltr in d["letters"]
            ],
            tr,
        ),
        f"== {heads['contacts']}",
        _table(
            "(auto, auto, auto, 1fr)",
            (tr(N_("When")), tr(N_("Channel")), tr(N_("Outcome")), tr(N_("Summary"))),
            [
                (_e(c["at"].replace("T", " ")), _e(c["channel"]), _e(c["outcome"]), _e(c["summary"]))
                for c in d["contacts"]
            ],
            tr,
        ),
        f"== {heads['arrangements']}",
        _table(
            "(auto, auto, auto, 1fr)",
            (tr(N_("Made on")), tr(N_("Status")), tr(N_("Installments")), tr(N_("Covered"))),
            [(dt(a["made_on"]), _e(a["status"]), _e(a["installments"]), m(a["covered"])) for a in d["arrangements"]],
            tr,
        ),
    ]
    return "\n".join(out) + "\n"


def render_dossier(d: dict[str, Any], tr: Translator) -> bytes:
    """The dossier as a PDF; a Typst failure is a :class:`LetterError` (nothing is written by the caller)."""
    source = dossier_source(d, tr)
    created = datetime.combine(date.fromisoformat(d["handed_on"]), time(), tzinfo=UTC)
    with tempfile.TemporaryDirectory(prefix="incasso-dossier-") as empty_root:
        try:
            pdf = typst.compile(
                source.encode("utf-8"), format="pdf", root=empty_root, ignore_system_fonts=True, timestamp=created
            )
        except typst.TypstError as exc:
            raise LetterError(
                N_("The dossier cannot be typeset: {detail}"), where="dossier", detail=exc.message
            ) from None
    assert isinstance(pdf, bytes)
    return pdf
