"""The run's batch writer (:class:`Batch`): what the run decided for a group of cases, written in a few set-based
statements with its audit events in decision order."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Table, update

from incasso_tui.domain.case_status import check_transition
from incasso_tui.services import audit
from incasso_tui.services.procedure.common import Run, chunks
from incasso_tui.store.bulk import insert_returning_ids
from incasso_tui.store.models import Base, BkrMutation, Case, Charge, Letter, Task


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


# the tables a batch inserts into, and the audit entity of each
_INSERTS: dict[str, tuple[Table, str]] = {
    "letters": (_table(Letter), "letter"),
    "tasks": (_table(Task), "task"),
    "bkr_mutations": (_table(BkrMutation), "bkr_mutation"),
    "charges": (_table(Charge), "charge"),
}
CASES = _table(Case)


@dataclass
class Batch:
    """What the run decided for a group of cases, written once (``write``): the case updates grouped by their new
    values (``UPDATE ... WHERE id IN``), one multi-row ``INSERT ... RETURNING id`` per table, and the audit events
    through one ``audit.record_many`` in the order of the decisions, so a case's events follow each other exactly
    as when the run acted on one case at a time. Used once per group."""

    run: Run
    updates: dict[tuple[tuple[str, object], ...], list[int]] = field(default_factory=dict)
    rows: dict[str, list[dict[str, object]]] = field(default_factory=lambda: {name: [] for name in _INSERTS})
    # per event: (table or None, row index or the case id, action, case id, before, after)
    log: list[tuple[str | None, int, str, int | None, dict[str, object] | None, dict[str, object]]] = field(
        default_factory=list
    )

    def update_case(self, case_id: int, values: dict[str, object], from_status: str | None = None) -> None:
        """Give the case ``values``; a new ``status`` needs the case's present one (``from_status``) and must be an
        allowed transition (``domain.case_status``), refused here, before the batch writes anything."""
        if "status" in values:
            if from_status is None:
                raise ValueError("a batch status change needs the case's present status")
            check_transition(from_status, str(values["status"]))
        self.updates.setdefault(tuple(sorted(values.items())), []).append(case_id)

    def case_event(self, action: str, case_id: int, before: dict[str, object] | None, after: dict[str, object]) -> None:
        self.log.append((None, case_id, action, case_id, before, after))

    def insert(
        self, table: str, row: dict[str, object], action: str, case_id: int | None, after: dict[str, object]
    ) -> None:
        """A new row and its audit event (whose entity id is the row's id, known once the batch is written)."""
        self.rows[table].append(row)
        self.log.append((table, len(self.rows[table]) - 1, action, case_id, None, after))

    def write(self) -> None:
        run = self.run
        for items, case_ids in self.updates.items():
            _update_cases(run, case_ids, dict(items))
        ids: dict[str, list[int]] = {}
        for name, rows in self.rows.items():
            if rows:
                table = _INSERTS[name][0]
                ids[name] = insert_returning_ids(run.s, table, rows)
        events = []
        for table, ref, action, case_id, before, after in self.log:
            entity, entity_id = ("case", ref) if table is None else (_INSERTS[table][1], ids[table][ref])
            events.append(
                audit.Event(
                    at=run.now,
                    actor=run.actor,
                    action=action,
                    entity=entity,
                    entity_id=entity_id,
                    case_id=case_id,
                    before=before,
                    after=after,
                )
            )
        audit.record_many(run.s, events)


def _update_cases(run: Run, case_ids: list[int], values: dict[str, object]) -> None:
    """Set the same values on these cases (in slices of ``common.CHUNK`` ids), stamped with the run's actor and time;
    the version goes up as with every change to a case, so a form opened before the run is refused as stale."""
    for chunk in chunks(case_ids):
        run.s.execute(
            update(CASES)
            .where(CASES.c.id.in_(chunk))
            .values(**values, updated_by=run.actor, updated_at=run.now, version=CASES.c.version + 1)
        )


def mutation(
    batch: Batch,
    case_id: int | None,
    loan_id: int,
    client_id: int,
    code: str,
    amount: Decimal,
    warning_id: int | None = None,
) -> None:
    run = batch.run
    batch.insert(
        "bkr_mutations",
        {
            "loan_id": loan_id,
            "client_id": client_id,
            "code": code,
            "mutation_date": run.day,
            "amount": amount,
            "warning_letter_id": warning_id,
            "created_by": run.actor,
            "created_at": run.now,
        },
        f"bkr.{code}",
        case_id,
        {"loan_id": loan_id, "code": code, "amount": amount, "mutation_date": run.day, "warning_letter_id": warning_id},
    )
    run.count(f"bkr_{code}")
