"""What the steps of the run share: the run's state (:class:`Run`) and its report (:class:`RunReport`), the group
size, the open-line condition and the selections several steps apply (timed into the report)."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import and_, exists
from sqlalchemy.orm import Session, aliased

from incasso_tui.domain.enums import TrackStatus
from incasso_tui.domain.guards import BkrWindow
from incasso_tui.domain.legal_data import BkrRules, load_bkr_rules
from incasso_tui.domain.procedure import LETTER_KIND, TASK_KIND, Procedure
from incasso_tui.services.context import Context
from incasso_tui.store.models import Case, DebtTrack, Installment

# the cases, clients or ids the run decides on and writes as one group; read at call time (the tests set it to 1)
CHUNK = 500
OPEN_LINE = Installment.principal_paid + Installment.interest_paid < Installment.principal + Installment.interest

# Every kind a run can count, so a report always lists all of them (a second run shows each at 0).
ACTION_KINDS: tuple[str, ...] = (
    "case_opened",
    "case_moved",
    "case_closed",
    "pause_ended",
    *(f"letter_{kind}" for kind in LETTER_KIND.values()),
    *(f"task_{kind}" for kind in TASK_KIND.values()),
    *(f"bkr_{code}" for code in ("A", "H", "1", "2", "3")),
    "charge_collection_costs",
    "charge_statutory_interest",
)


@dataclass
class RunReport:
    day: date
    dry_run: bool
    actions: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ACTION_KINDS, 0))
    held: Counter[str] = field(default_factory=Counter)
    run_id: int | None = None
    # seconds spent in the SQL statements that select what acts, per selection
    selection: dict[str, float] = field(default_factory=dict)
    steps: dict[str, float] = field(default_factory=dict)  # seconds per step of the run
    seconds: float = 0.0
    # the unverified rate rows and rules the run applied (data/rates.toml, data/bkr.toml, data/costs.toml)
    unverified: set[str] = field(default_factory=set)

    @property
    def selection_seconds(self) -> float:
        return sum(self.selection.values())

    def as_json(self) -> dict[str, object]:
        return {
            "date": self.day.isoformat(),
            "dry_run": self.dry_run,
            "actions": dict(self.actions),
            "held": dict(sorted(self.held.items())),
            "unverified": sorted(self.unverified),
            "run_id": self.run_id,
            "selection_seconds": round(self.selection_seconds, 3),
            "selection": {name: round(t, 3) for name, t in self.selection.items()},
            "steps": {name: round(t, 3) for name, t in self.steps.items()},
            "seconds": round(self.seconds, 3),
        }


@dataclass
class Run:
    s: Session
    ctx: Context
    day: date
    procedure: Procedure
    report: RunReport
    actor: str
    now: datetime
    window: BkrWindow
    touched: set[int] = field(default_factory=set)
    numbers: dict[int, str] = field(default_factory=dict)  # loan id -> number, of the loans _positions loaded
    # (case id, kind) of the letters that wait to be dispatched, of the cases of the group being decided: the run
    # never decides a second one (the unique index ux_letters_waiting would refuse it)
    waiting: set[tuple[int, str]] = field(default_factory=set)
    line_counts: dict[int, int] = field(default_factory=dict)  # loan id -> open past-due installments
    commercial: dict[int, bool] = field(default_factory=dict)  # loan id -> a commercial agreement (art. 6:96 lid 4)
    bkr_rules: BkrRules = field(default_factory=load_bkr_rules)

    def count(self, kind: str) -> None:
        self.report.actions[kind] += 1

    def unverified(self, what: str) -> None:
        """Say in the report that the run applied a rule or rate marked unverified."""
        self.report.unverified.add(what)


def chunks(items: list[int]) -> list[list[int]]:
    return [items[i : i + CHUNK] for i in range(0, len(items), CHUNK)]


def selected(run: Run, name: str, query) -> list:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    rows = list(run.s.execute(query))
    run.report.selection[name] = run.report.selection.get(name, 0.0) + time.perf_counter() - started
    return rows


def no_open_track():  # type: ignore[no-untyped-def]
    from incasso_tui.services.external import outside_desk_hold  # issue 19: at a bailiff/agency, or disputed

    return and_(
        ~exists().where(DebtTrack.case_id == Case.id, DebtTrack.status == TrackStatus.OPEN), outside_desk_hold()
    )


def clean_slate(client_id):  # type: ignore[no-untyped-def]
    """The client has a debt track that ended with a clean slate (schone lei): no dunning, costs, interest or BKR step
    follows on what remained."""
    other = aliased(Case)
    return exists().where(
        other.client_id == client_id, DebtTrack.case_id == other.id, DebtTrack.outcome == "schone_lei"
    )
