"""``incasso calc``: the legal calculations on the command line, for operators and auditors.

- ``incasso calc incassokosten AMOUNT [--btw] [--json]``: collection costs by the WIK scale.
- ``incasso calc rente --amount A --from D1 --to D2 [--kind wettelijk|handels] [--json]``:
  statutory interest with its periods and where each rate came from.

Bad input raises :class:`~incasso_tui.errors.BadInput`; the main CLI prints it and exits 2.
Amounts in ``--json`` output are decimal strings, never floats.
"""

from __future__ import annotations

import argparse
import json
from datetime import date
from decimal import Decimal
from typing import Any

from babel.numbers import format_currency, format_decimal

from incasso_tui.domain.costs import quote_costs
from incasso_tui.domain.interest import DEFAULT_RATES_PATH, load_rates, rows_in_force, statutory_interest
from incasso_tui.domain.money import parse_amount
from incasso_tui.errors import N_
from incasso_tui.i18n import Translator

__all__ = ["add_parser", "run_incassokosten", "run_rente"]

_LOCALES = {"nl": "nl_NL", "en": "en_GB"}
# the texts of the print-outs (Dutch in the catalogs: i18n/nl/calc.po)
_TEXT = {
    "costs": N_("Principal {principal} · collection costs {costs} · VAT {vat} · total {total}"),
    "title": N_("{kind} on {principal} from {start} to {end} (the payment day {end} is not counted)"),
    "wettelijk": N_("Statutory interest"),
    "handels": N_("Statutory commercial interest"),
    "total": N_("total"),
    "table": N_("Rate table: {path}"),
    "source": N_("Source {start}: {source}"),
    "warning": N_("WARNING: unverified rate used (from {dates}); check before use."),
}
_HEADER = (N_("from"), N_("to"), N_("days"), N_("base"), N_("rate %"), N_("interest"))


def _lang(args: argparse.Namespace) -> str:
    lang = getattr(args, "lang", None) or "nl"
    return lang if lang in _LOCALES else "nl"


def _eur(amount: Decimal, lang: str) -> str:
    return format_currency(amount, "EUR", locale=_LOCALES[lang])


def _parse_date(text: str, field: str) -> date:
    """A date as YYYY-MM-DD (only that form: 20240101 or 2024-W01-1 are refused), within the days the program works
    with (``cli.parse_date``)."""
    from incasso_tui.cli import parse_date

    return parse_date(text, field)


def run_incassokosten(args: argparse.Namespace) -> int:
    """Print the collection costs on ``args.amount`` (art. 2 Besluit BIK)."""
    quote = quote_costs(parse_amount(args.amount), with_vat=args.btw)
    if args.json:
        print(
            json.dumps(
                {
                    "principal": str(quote.principal),
                    "costs": str(quote.costs),
                    "vat": str(quote.vat),
                    "total": str(quote.total),
                }
            )
        )
        return 0
    lang = _lang(args)
    print(
        Translator(lang)(
            _TEXT["costs"],
            principal=_eur(quote.principal, lang),
            costs=_eur(quote.costs, lang),
            vat=_eur(quote.vat, lang),
            total=_eur(quote.total, lang),
        )
    )
    return 0


def run_rente(args: argparse.Namespace) -> int:
    """Print the statutory interest on ``args.amount`` from ``--from`` up to (not including) ``--to``."""
    amount = parse_amount(args.amount)
    start, end = _parse_date(args.from_date, "from"), _parse_date(args.to_date, "to")
    rates = load_rates()
    result = statutory_interest(amount, start, end, args.kind, rates)
    used = rows_in_force(start, end, rates) if result.periods else ()
    unverified = [row for row in used if not row.verified]
    if args.json:
        document: dict[str, Any] = {
            "kind": args.kind,
            "principal": str(result.principal),
            "from": start.isoformat(),
            "to": end.isoformat(),
            "interest": str(result.interest),
            "periods": [
                {
                    "start": p.start.isoformat(),
                    "end": p.end.isoformat(),
                    "days": p.days,
                    "base": str(p.base),
                    "rate": str(p.rate),
                    "interest": str(p.interest),
                }
                for p in result.periods
            ],
            "unverified_rates": bool(unverified),
            "rate_table": str(DEFAULT_RATES_PATH),
            "rate_sources": [
                {"start": row.start.isoformat(), "verified": row.verified, "source": row.source} for row in used
            ],
        }
        print(json.dumps(document))
        return 0
    lang = _lang(args)
    tr = Translator(lang)
    locale = _LOCALES[lang]
    print(
        tr(
            _TEXT["title"],
            kind=tr(_TEXT[args.kind]),
            principal=_eur(result.principal, lang),
            start=start.isoformat(),
            end=end.isoformat(),
        )
    )
    rows = [
        (
            p.start.isoformat(),
            p.end.isoformat(),
            str(p.days),
            _eur(p.base, lang),
            format_decimal(p.rate * 100, format="#,##0.00##", locale=locale),
            _eur(p.interest, lang),
        )
        for p in result.periods
    ]
    rows.append((tr(_TEXT["total"]), "", "", "", "", _eur(result.interest, lang)))
    table = [tuple(tr(h) for h in _HEADER), *rows]
    widths = [max(len(row[col]) for row in table) for col in range(6)]
    for row in table:
        cells = [
            cell.ljust(w) if col < 2 else cell.rjust(w) for col, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())
    print(tr(_TEXT["table"], path=str(DEFAULT_RATES_PATH)))
    for row in used:
        print(tr(_TEXT["source"], start=row.start.isoformat(), source=row.source))
    if unverified:
        print(tr(_TEXT["warning"], dates=", ".join(row.start.isoformat() for row in unverified)))
    return 0


def add_parser(subparsers: Any) -> None:
    """Register ``calc`` and its sub-commands on an argparse sub-parsers object.

    Each sub-command sets ``func``; the caller runs ``args.func(args)`` and uses its return value as
    the exit code.
    """
    calc = subparsers.add_parser("calc", help="legal calculations: collection costs, statutory interest")
    commands = calc.add_subparsers(dest="calc_command", required=True, metavar="COMMAND")

    costs = commands.add_parser(
        "incassokosten", help="collection costs by the WIK scale (art. 2 Besluit BIK, art. 6:96 BW)"
    )
    costs.add_argument("amount", metavar="AMOUNT", help="principal, e.g. 1.234,56 or 1234.56")
    costs.add_argument("--btw", action="store_true", help="add 21 %% VAT (only when an outside collector charges VAT)")
    costs.add_argument("--json", action="store_true", help="print JSON with decimal strings")
    costs.set_defaults(func=run_incassokosten)

    interest = commands.add_parser("rente", help="statutory interest (art. 6:119, 6:119a, 6:120 BW)")
    interest.add_argument("--amount", required=True, help="principal, e.g. 1.234,56 or 1234.56")
    interest.add_argument("--from", dest="from_date", required=True, metavar="YYYY-MM-DD", help="first day of interest")
    interest.add_argument("--to", dest="to_date", required=True, metavar="YYYY-MM-DD", help="payment day (not counted)")
    interest.add_argument("--kind", choices=("wettelijk", "handels"), default="wettelijk", help="default: wettelijk")
    interest.add_argument("--json", action="store_true", help="print JSON with decimal strings")
    interest.set_defaults(func=run_rente)

    from incasso_tui.cli_budget import add_calc_parser  # issue 15: the repayment capacity

    add_calc_parser(commands)
