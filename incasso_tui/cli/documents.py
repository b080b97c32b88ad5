"""``incasso documents ...``: a client's dossier documents, one seen whole, a copy to print (issues 12 and 19).

- ``documents list CLIENT [--json]``: every document of the client's dossier, oldest first, with a letter's status,
  dispatch and assumed receipt.
- ``documents show ID [--json]``: one document with its letter's facts (services.documents).
- ``documents copy ID --out NAME [--json]``: a copy of its PDF as the new file NAME in the export folder
  (``export_dir``), as the dossier tab's ``s`` does; audited. Acts as ``--user`` (default: the OS user).

Reading without ``--user`` acts as the operator ``cli:<os user>`` with the auditor's role. Refusals are one line,
exit 2 (``cli.main``).
"""

from __future__ import annotations

import argparse
from typing import Any

from incasso_tui.cli import common
from incasso_tui.domain.enums import Role
from incasso_tui.errors import N_
from incasso_tui.i18n import Translator
from incasso_tui.safetext import safe
from incasso_tui.services.documents import DocumentView
from incasso_tui.ui import document_text

__all__ = ["register"]


def register(sub: common.Subparsers) -> None:
    group = sub.add_parser("documents", help="a client's dossier documents: list, show one, copy one to print")
    docs = group.add_subparsers(dest="documents_cmd", required=True)
    p = docs.add_parser("list", help="the documents of a client's dossier, oldest first")
    p.add_argument("client", metavar="CLIENT", help="the client number, e.g. C1234567")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_list)
    p = docs.add_parser("show", help="one document with its letter's status, dispatch and assumed receipt")
    p.add_argument("id", metavar="ID", type=int, help="the document's number (documents list)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_show)
    p = docs.add_parser("copy", help="a copy of the document's PDF into the export folder, to print (audited)")
    p.add_argument("id", metavar="ID", type=int, help="the document's number (documents list)")
    p.add_argument("--out", metavar="NAME", required=True, help="a new file name in the export_dir folder")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_copy)


def _json(view: DocumentView) -> dict[str, Any]:
    letter = view.letter
    return {
        "id": view.id,
        "client_id": view.client_id,
        "kind": view.kind,
        "title": view.title,
        "added_on": view.added_on.isoformat(),
        "path": view.path,
        "on_disk": view.on_disk,
        "letter": None
        if letter is None
        else {
            "id": letter.id,
            "kind": letter.kind,
            "channel": letter.channel,
            "status": letter.status,
            "letter_date": letter.letter_date.isoformat(),
            "dispatched_on": letter.dispatched_on.isoformat() if letter.dispatched_on else None,
            "assumed_received_on": letter.received_on.isoformat() if letter.received_on else None,
            "batch_id": letter.batch_id,
            "addressee": letter.addressee,
            "sent_with": list(letter.sent_with),
            "error": letter.error,
        },
    }


def _line(tr: Translator, view: DocumentView) -> str:
    state = document_text.state(tr, view)
    return f"{view.id:>6}  {tr.date(view.added_on)}  {safe(view.title)}" + (f"  [{safe(state)}]" if state else "")


def cmd_list(args: argparse.Namespace) -> int:
    from incasso_tui.services.cases import client_by_number
    from incasso_tui.services.documents import documents

    settings = common.settings(args)
    with common.database(settings) as db:
        ctx = common.context(args, db, operator_role=Role.AUDITOR)
        views = documents(ctx, client_by_number(ctx, args.client))
    if args.json:
        common.print_json([_json(v) for v in views])
        return 0
    tr = Translator(settings.lang)
    for view in views:
        print(_line(tr, view))
    if not views:
        print(tr(N_("No documents")))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from incasso_tui.services.documents import document

    settings = common.settings(args)
    with common.database(settings) as db:
        view = document(common.context(args, db, operator_role=Role.AUDITOR), args.id)
    if args.json:
        common.print_json(_json(view))
        return 0
    tr = Translator(settings.lang)
    print(f"{view.id:>6}  " + "\n        ".join(safe(text) for text, _style in document_text.fact_lines(tr, view)))
    return 0


def cmd_copy(args: argparse.Namespace) -> int:
    from incasso_tui.services.documents import copy_document

    settings = common.settings(args)
    with common.database(settings) as db:
        target = copy_document(common.context(args, db), args.id, args.out)
    if args.json:
        common.print_json({"id": args.id, "file": str(target)})
        return 0
    print(Translator(settings.lang)(N_("Copy written to {path}"), path=str(target)))
    return 0
