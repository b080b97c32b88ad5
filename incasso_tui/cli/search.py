"""``incasso search TERM [--all] [--json]`` and ``incasso search --verify`` / ``--rebuild`` (issue 14, services.search).

- ``incasso search TERM``: the clients with a case on the desk whose name has a word starting with each word of
  TERM, or whose client number, loan number, KvK, IBAN, phone, e-mail, postcode or street and house number starts
  with it; ``--all``: every client (also handed over, closed, never in arrears). ``--limit N`` (50).
  A term of one letter or only punctuation is refused (exit 2).
- ``incasso search --verify``: recompute every client's words and compare them with the index; exit 1 naming
  the first problems.
- ``incasso search --rebuild``: rewrite the whole index (supervisor or admin; audited).
"""

from __future__ import annotations

import argparse
import json
import sys

from incasso_tui.cli import common
from incasso_tui.errors import N_
from incasso_tui.i18n import Translator

__all__ = ["register"]


def register(sub: common.Subparsers) -> None:
    help_ = "find clients and cases by name, number, KvK, IBAN, phone, e-mail or address"
    p = sub.add_parser("search", help=help_, description=help_)
    p.add_argument("term", nargs="*", metavar="TERM", help="words or word starts; a number; an address")
    p.add_argument("--all", action="store_true", help="all clients, not only the desk's cases")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true")
    p.add_argument("--verify", action="store_true", help="check the search index against the data")
    p.add_argument("--rebuild", action="store_true", help="rewrite the search index (supervisor, admin)")
    p.set_defaults(func=cmd_search)


# the fields a hit was found by (domain.search.FIELDS), as the desk says them
FIELD_LABELS = {
    "name": N_("name"),
    "contact": N_("contact person"),
    "number": N_("client or loan number"),
    "kvk": N_("KvK"),
    "iban": N_("IBAN"),
    "phone": N_("phone"),
    "email": N_("e-mail"),
    "address": N_("address"),
}


def cmd_search(args: argparse.Namespace) -> int:
    from incasso_tui.services.search import rebuild_index, search, verify_index
    from incasso_tui.ui.labels import STATUS
    from incasso_tui.ui.text import safe  # names are data: no control character reaches the terminal

    tr = Translator(common.settings(args).lang)
    with common.database(common.settings(args)) as db:
        ctx = common.context(args, db)
        if args.verify:
            report = verify_index(ctx)
            if args.json:
                print(
                    json.dumps(
                        {
                            "clients": report.clients,
                            "indexed": report.indexed,
                            "ok": report.ok,
                            "problems": list(report.problems[:100]),
                        }
                    )
                )
            else:
                print(
                    tr(
                        "Search index: {indexed} of {clients} clients indexed, {problems} problems",
                        indexed=report.indexed,
                        clients=report.clients,
                        problems=len(report.problems),
                    )
                )
                for line in report.problems[:20]:
                    print(line)
            return 0 if report.ok else 1
        if args.rebuild:
            done = rebuild_index(ctx)
            print(
                json.dumps({"indexed": done})
                if args.json
                else tr.plural("Search index rebuilt: {n} client", "Search index rebuilt: {n} clients", done, n=done)
            )
            return 0
        if not args.term:
            print("incasso: " + tr("Give a search term"), file=sys.stderr)
            return 2
        result = search(ctx, " ".join(args.term), "all" if args.all else "desk", limit=args.limit)
    if args.json:
        print(
            json.dumps(
                {
                    "term": result.term,
                    "scope": result.scope,
                    "words": list(result.words),
                    "total": result.total,
                    "hits": [
                        {
                            "client_id": h.client_id,
                            "client": h.client_number,
                            "name": h.name,
                            "city": h.city,
                            "loans": h.loan_numbers,
                            "case_id": h.case_id,
                            "case_status": h.case_status,
                            "stage": h.stage,
                            "arrears": None if h.arrears is None else str(h.arrears),
                            "on_desk": h.on_desk,
                            "matched": list(h.matched),
                        }
                        for h in result.hits
                    ],
                }
            )
        )
        return 0
    for h in result.hits:
        status = tr("no case") if h.case_status is None else tr(STATUS.get(h.case_status, h.case_status))
        found_by = ", ".join(tr(FIELD_LABELS[f]) for f in h.matched)
        print(safe(f"{h.client_number}  {h.name}  {h.city}  {h.loan_numbers}  {status}  ({found_by})"))
    print(tr("{shown} of {total} found", shown=len(result.hits), total=result.total))
    return 0
