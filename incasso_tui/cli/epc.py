"""``incasso calc epc``: the EPC payment QR code of a loan (``services.payment_qr``).

``incasso calc epc --loan L00012345 [--amount 123,45] [--png qr.png] [--svg qr.svg] [--json]`` prints the payload
(the text the code holds: the lender's IBAN, the amount, the loan's RF reference) and writes the code as PNG and/or
SVG to the paths given. Without ``--amount`` the loan's arrears as of today (``--date``). Acts as ``--user`` (the
desk, special management or an admin). It also says whether a payment link can be had (``services.payment_link``:
"not configured" until a provider's adapter is). JSON: ``loan``, ``amount`` (a string), ``iban``, ``reference``,
``payload``, ``png``/``svg`` (the paths written, or null), ``payment_link`` (``{"url": ...}`` or
``{"not_configured": reason}``).
"""

from __future__ import annotations

import argparse
import json
import os
from decimal import Decimal
from pathlib import Path

from incasso_tui.cli import common
from incasso_tui.domain.money import parse_amount
from incasso_tui.errors import N_, BadInput
from incasso_tui.i18n import Translator

__all__ = ["cmd_epc", "register"]


def register(sub: common.Subparsers) -> None:
    p = common.commands_of(sub, "calc").add_parser(  # epc is one more calculation of calc
        "epc",
        help="the EPC payment QR code of a loan (banking apps scan it)",
        description="the EPC payment QR code (EPC069-12 SCT) that pays a loan's arrears or an amount, with its RF "
        "reference: prints the payload, writes the code as PNG/SVG",
    )
    p.add_argument("--loan", required=True, metavar="LOAN", help="the loan number, e.g. L00012345")
    p.add_argument("--amount", metavar="A", default=None, help="the amount to pay (default: the arrears as of today)")
    p.add_argument("--png", metavar="PATH", type=Path, default=None, help="write the code as a PNG image here")
    p.add_argument("--svg", metavar="PATH", type=Path, default=None, help="write the code as an SVG image here")
    p.add_argument("--json", action="store_true", help="print JSON (amount as a decimal string)")
    p.set_defaults(func=cmd_epc)


def _amount(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        return parse_amount(text)
    except BadInput as err:
        raise BadInput(err.msgid, field="amount", **err.params) from None


def _write(path: Path, content: bytes) -> str:
    """Write ``content`` to ``path`` whole or not at all (a temporary file renamed)."""
    path = path.expanduser()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(content)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return str(path)


def cmd_epc(args: argparse.Namespace) -> int:
    from incasso_tui.services.payment_link import LinkNotConfigured, payment_link
    from incasso_tui.services.payment_qr import loan_qr

    settings = common.settings(args)
    tr = Translator(settings.lang)
    amount = _amount(args.amount)
    with common.database(settings) as db:
        qr = loan_qr(common.context(args, db), args.loan, amount)
    link = payment_link(settings, loan_number=args.loan, amount=qr.amount)
    png = _write(args.png, qr.png) if args.png else None
    svg = _write(args.svg, qr.svg.encode("utf-8")) if args.svg else None
    if args.json:
        print(
            json.dumps(
                {
                    "loan": args.loan,
                    "amount": str(qr.amount),
                    "iban": qr.iban,
                    "reference": qr.reference,
                    "payload": qr.payload,
                    "png": png,
                    "svg": svg,
                    "payment_link": {"not_configured": link.reason}
                    if isinstance(link, LinkNotConfigured)
                    else {"url": link.url, "provider": link.provider},
                },
                ensure_ascii=False,
            )
        )
        return 0
    print(
        tr(
            N_("Payment QR code for loan {loan}: {amount} to {iban} ({name}), reference {reference}"),
            loan=args.loan,
            amount=qr.amount,
            iban=qr.iban,
            name=qr.name,
            reference=qr.reference,
        )
    )
    print(qr.payload)
    for path in (png, svg):
        if path:
            print(tr(N_("Written: {path}"), path=path))
    if isinstance(link, LinkNotConfigured):
        print(tr(link.message, **link.params))
    else:
        print(tr(N_("Payment link ({provider}): {url}"), provider=link.provider, url=link.url))
    return 0
