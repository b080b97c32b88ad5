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
from typing import Any

from babel.numbers import format_decimal

from incasso_tui.cli import common
from incasso_tui.domain.costs import quote_costs
from incasso_tui.domain.interest import DEFAULT_RATES_PATH, load_rates, rows_in_force, statutory_interest
from incasso_tui.domain.money import parse_amount
from incasso_tui.errors import N_
from incasso_tui.i18n import Translator

__all__ = ["register", "run_incassokosten", "run_rente"]

# the texts of the print-outs (Dutch in the catalogs: i18n/nl/calc.po), amounts in the session's locale (Translator)
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


def _translator(args: argparse.Namespace) -> Translator:
    """The session's translator (``--lang``, else the settings' language, set by ``main``)."""
    return Translator(getattr(args, "lang", None) or "nl")


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
    tr = _translator(args)
    print(
        tr(
            _TEXT["costs"],
            principal=tr.money(quote.principal),
            costs=tr.money(quote.costs),
            vat=tr.money(quote.vat),
            total=tr.money(quote.total),
        )
    )
    return 0


def run_rente(args: argparse.Namespace) -> int:
    """Print the statutory interest on ``args.amount`` from ``--from`` up to (not including) ``--to``."""
    amount = parse_amount(args.amount)
    # YYYY-MM-DD only (20240101 or 2024-W01-1 are refused), within the days the program works with
    start, end = common.parse_date(args.from_date, "from"), common.parse_date(args.to_date, "to")
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
    tr = _translator(args)
    print(
        tr(
            _TEXT["title"],
            kind=tr(_TEXT[args.kind]),
            principal=tr.money(result.principal),
            start=start.isoformat(),
            end=end.isoformat(),
        )
    )
    rows = [
        (
            p.start.isoformat(),
            p.end.isoformat(),
            str(p.days),
            tr.money(p.base),
            format_decimal(p.rate * 100, format="#,##0.00##", locale=tr.locale),
            tr.money(p.interest),
        )
        for p in result.periods
    ]
    rows.append((tr(_TEXT["total"]), "", "", "", "", tr.money(result.interest)))
    table = [tuple(tr(h) for h in _HEADER), *rows]
    widths = [max(len(row[col]) for row in table) for col in range(6)]
    for row in table:
        cells = [
            cell.ljust(w) if col < 2 else cell.rjust(w) for col, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())
    print(tr(_TEXT["table"], path=str(DEFAULT_RATES_PATH)))
    for rate in used:
        print(tr(_TEXT["source"], start=rate.start.isoformat(), source=rate.source))
    if unverified:
        print(tr(_TEXT["warning"], dates=", ".join(row.start.isoformat() for row in unverified)))
    return 0


def register(subparsers: common.Subparsers) -> None:
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
