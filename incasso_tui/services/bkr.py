"""The BKR export: the day's mutations as a CSV file of our own layout (docs/bkr-export.md).

The BKR's own file format is not public, so the desk exports a documented CSV that can be converted or
uploaded by hand. Exporting marks the rows with the export day (``exported_on``, kept from the first
export); exporting the same day again writes the same rows again.
"""

from __future__ import annotations

import csv
import os
from datetime import date

from sqlalchemy import select, update

from incasso_tui.atomicfile import atomic_file
from incasso_tui.safetext import csv_cell
from incasso_tui.services import audit
from incasso_tui.services.context import Context
from incasso_tui.services.exports import export_path
from incasso_tui.services.procedure import RUN_ROLES
from incasso_tui.store.models import BkrMutation, Client, Letter, Loan

__all__ = ["COLUMNS", "export_mutations"]

COLUMNS = (
    "mutation_id",
    "mutation_date",
    "code",
    "loan_number",
    "client_number",
    "client_kind",
    "consumer",
    "name",
    "kvk",
    "postcode",
    "amount",
    "warning_letter_id",
    "warning_date",
    "created_by",
)


def export_mutations(ctx: Context, day: date, out: str | os.PathLike[str]) -> int:
    """Write the mutations dated ``day`` to the file ``out`` in the export directory (a plain file name:
    ``exports.export_path``; replaced atomically); returns how many."""
    ctx.require(*RUN_ROLES)
    target = export_path(ctx.settings, out)
    with ctx.db.transaction() as s:
        rows = s.execute(
            select(BkrMutation, Loan.number, Client, Letter.letter_date)
            .join(Loan, Loan.id == BkrMutation.loan_id)
            .join(Client, Client.id == BkrMutation.client_id)
            .outerjoin(Letter, Letter.id == BkrMutation.warning_letter_id)
            .where(BkrMutation.mutation_date == day)
            .order_by(BkrMutation.id)
        ).all()
        # the file appears whole (mode 0600) when the block ends without an error: after the rows are marked and
        # the audit event is written, before the transaction commits (atomicfile)
        with atomic_file(target, newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(COLUMNS)
            for m, loan_number, client, warning_date in rows:
                writer.writerow(
                    [  # every text cell through the formula guard (safetext.csv_cell)
                        m.id,
                        m.mutation_date.isoformat(),
                        csv_cell(m.code),
                        csv_cell(loan_number),
                        csv_cell(client.number),
                        csv_cell(client.kind),
                        "1" if client.consumer else "0",
                        csv_cell(client.name),
                        csv_cell(client.kvk),
                        csv_cell(client.postcode),
                        f"{m.amount:.2f}",
                        m.warning_letter_id or "",
                        warning_date.isoformat() if warning_date else "",
                        csv_cell(m.created_by),
                    ]
                )
            new = [m.id for m, *_ in rows if m.exported_on is None]
            if new:
                s.execute(update(BkrMutation).where(BkrMutation.id.in_(new)).values(exported_on=ctx.clock.today()))
            audit.record(
                s,
                at=ctx.clock.now(),
                actor=ctx.actor.name,
                action="bkr.export",
                entity="bkr_export",
                entity_id=None,
                after={"date": day, "rows": len(rows), "newly_exported": new, "file": str(target)},
            )
    return len(rows)
