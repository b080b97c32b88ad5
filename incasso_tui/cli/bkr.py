"""``incasso bkr export --date D --out FILE``: the BKR mutations of day D as CSV (docs/bkr-export.md); the exported
rows are marked with the export day. Without ``--user`` it acts as the operator ``cli:<os user>`` with the admin
role, as ``incasso procedure run`` does.
"""

from __future__ import annotations

import argparse

from incasso_tui.cli import common
from incasso_tui.domain.enums import Role
from incasso_tui.safetext import safe

__all__ = ["register"]


def register(sub: common.Subparsers) -> None:
    bkr = sub.add_parser("bkr", help="BKR credit registry", description="BKR credit registry")
    bkr.set_defaults(func=lambda _a: common.usage(bkr))
    bkr_sub = bkr.add_subparsers(title="bkr commands", metavar="COMMAND")
    export = bkr_sub.add_parser("export", help="write the mutations of --date as CSV (docs/bkr-export.md)")
    export.add_argument(
        "--out",
        required=True,
        metavar="NAME",
        help="the CSV file to write: a plain file name, written into the export_dir setting's folder",
    )
    export.set_defaults(func=cmd_bkr_export)


def cmd_bkr_export(args: argparse.Namespace) -> int:
    from incasso_tui.services.bkr import export_mutations
    from incasso_tui.services.exports import export_path

    settings = common.settings(args)
    with common.database(settings) as db:
        ctx = common.context(args, db, operator_role=Role.ADMIN)
        count = export_mutations(ctx, ctx.clock.today(), args.out)
    print(f"{count}\t{safe(export_path(settings, args.out))}")
    return 0
