"""Campaigns (issue 8): one bulk action on a saved selection's cases, a result per client, and its measurement.

Actions, and who may run them (``ACTION_ROLES``):
- ``letter`` / ``email``: a payment reminder or a request to contact us (``letters.CAMPAIGN_KINDS``) by post, or
  by e-mail through the outbox (only to clients with an e-mail address): supervisors, because a campaign speaks to
  many clients at once in the desk's name;
- ``call_task``: a call task with a due date and a note: employees and supervisors;
- ``assign``: the cases to an employee who works the desk: supervisors.
Auditors, admins and special management run none; everyone may list campaigns and their measurement.

Every case goes through the same code as the single action: ``letters.decide_letter`` (the guards of a letter by
hand), ``tasks.add_call_task``, ``assignment.assign_in``. On top, a bulk action passes by a case that a colleague
has open right now ("in progress by NAME"): in a single action the person sees that mark and decides; in bulk
nobody does.

Transactions (a crash half way leaves an honest record):
1. ``start_campaign``: one transaction writes the campaign (the selection's name and criteria copied in), its
   members (``INSERT .. SELECT`` of the desk's cases that match the criteria now: ``pending``) and the audit event
   ``campaign.start``. Nothing of the group is loaded into Python.
2. ``process_campaign``: the pending members in case order, ``SLICE`` per transaction. Within it each case runs in a
   SAVEPOINT: its guards and its action, or a refusal that rolls back that case only. The member becomes ``done``
   (with the letter's or the task's id) or ``refused`` (the reason's msgid and parameters); the slice's audit events
   (the action's own, naming the campaign, and ``campaign.refused`` per refused case) are written with one
   ``record_many``, and the campaign's counts are updated, in the same transaction.
3. The campaign is marked finished (``campaign.finish``).
A crash between slices leaves the campaign unfinished: what was committed stays with its effects and its record,
the pending members were not touched, and ``resume_campaign`` goes on with them. The guards make a repeat
harmless (a letter of the kind waiting, an open call task, the same assignee: refused, with the reason).

Letters are stored ``pending`` and rendered afterwards by ``render_campaign_letters`` (one transaction per letter,
as every letter), so a PDF never holds a slice's transaction open.

Measurement (``measure``): of the members done (and, apart, of those refused, who were not reached), how many paid
and how much in the 14 and in the 30 days after the campaign's day (bookings from the day after up to and including
day + 14 / day + 30): ledger payments on the client's loans less reversals, per client; a client counts as paid
when that is above zero.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import Integer, and_, case, func, insert, literal, select, type_coerce, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from incasso_tui.domain.enums import LedgerKind, Role
from incasso_tui.domain.money import from_cents
from incasso_tui.errors import N_, BadInput, IncassoError, NotFound, RuleViolation
from incasso_tui.services import audit
from incasso_tui.services.assignment import assign_in, desk_employee
from incasso_tui.services.cases import changed_by
from incasso_tui.services.context import Context
from incasso_tui.services.criteria import Criteria
from incasso_tui.services.letters import CAMPAIGN_KINDS, RenderReport, decide_letter, render_pending
from incasso_tui.services.selections import get_selection, selection_filter
from incasso_tui.services.tasks import CallTaskInput, add_call_task, validate_call_task
from incasso_tui.services.worklist import Worklist
from incasso_tui.store.models import (
    Arrangement,
    Campaign,
    CampaignMember,
    Case,
    CaseLock,
    Client,
    LedgerEntry,
    Loan,
    PortalLink,
    PortalSession,
    User,
)

__all__ = [
    "ACTIONS",
    "ACTION_ROLES",
    "CampaignAction",
    "CampaignInfo",
    "CampaignMeasure",
    "CampaignReport",
    "MemberRow",
    "Uptake",
    "campaign",
    "campaigns",
    "check_campaign",
    "members",
    "may_run",
    "measure",
    "process_campaign",
    "refusals",
    "render_campaign_letters",
    "resume_campaign",
    "run_campaign",
    "start_campaign",
]

Action = Literal["letter", "email", "call_task", "assign"]
ACTIONS: tuple[Action, ...] = ("letter", "email", "call_task", "assign")
ACTION_ROLES: dict[str, tuple[Role, ...]] = {
    "letter": (Role.SUPERVISOR,),
    "email": (Role.SUPERVISOR,),
    "call_task": (Role.EMPLOYEE, Role.SUPERVISOR),
    "assign": (Role.SUPERVISOR,),
}
SLICE = 50  # cases per transaction: short enough that colleagues' saves do not wait long for the write lock
WINDOWS = (14, 30)  # days after the campaign over which payments are measured
Progress = Callable[[int, int], None]  # (members handled, members in all)


@dataclass(frozen=True)
class CampaignAction:
    """What a campaign does to each case, and with what: ``kind`` for a letter or an e-mail, ``due_date`` and
    ``note`` for a call task, ``employee`` (a user name) for an assignment."""

    action: str
    kind: str | None = None
    due_date: date | None = None
    note: str | None = None
    employee: str | None = None

    def to_json(self) -> str:
        return json.dumps(
            {
                k: (v.isoformat() if isinstance(v, date) else v)
                for k, v in asdict(self).items()
                if v is not None and k != "action"
            },
            sort_keys=True,
            ensure_ascii=False,
        )

    @classmethod
    def from_row(cls, action: str, parameters: str) -> CampaignAction:
        raw = json.loads(parameters)
        if "due_date" in raw:
            raw["due_date"] = date.fromisoformat(raw["due_date"])
        return cls(action=action, **raw)


@dataclass(frozen=True)
class CampaignInfo:
    id: int
    selection_id: int | None
    selection_name: str
    criteria: Criteria
    action: CampaignAction
    actor: str
    run_date: date
    started_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    selected: int
    done: int
    refused: int

    @property
    def pending(self) -> int:
        return self.selected - self.done - self.refused

    @property
    def finished(self) -> bool:
        return self.finished_at is not None


@dataclass(frozen=True)
class CampaignReport:
    campaign: CampaignInfo
    seconds: float


@dataclass(frozen=True)
class MemberRow:
    case_id: int
    client_number: str
    client_name: str
    outcome: str  # pending | done | refused
    reason: str | None  # an English msgid
    params: dict[str, Any]  # its parameters (amounts as Decimal, dates as date)
    entity_id: int | None


@dataclass(frozen=True)
class Uptake:
    """Of ``members`` clients, how many paid and how much within each window."""

    members: int
    paid_14: int
    amount_14: Decimal
    paid_30: int
    amount_30: Decimal


@dataclass(frozen=True)
class PortalUptake:
    """Of the clients the campaign reached (``done``), how many opened their portal link, logged in to the portal,
    and made an arrangement there, within each window (from the campaign's day up to and including day + 14 / 30;
    issue 21)."""

    opened_14: int
    opened_30: int
    visited_14: int
    visited_30: int
    arranged_14: int
    arranged_30: int


@dataclass(frozen=True)
class CampaignMeasure:
    campaign_id: int
    run_date: date
    as_of: date
    done: Uptake
    refused: Uptake
    portal: PortalUptake

    def window_end(self, days: int) -> date:
        return self.run_date + timedelta(days=days)

    def complete(self, days: int) -> bool:
        """Whether the window has passed (otherwise the figures can still grow)."""
        return self.as_of >= self.window_end(days)


# ----- checking the action


def check_action(ctx: Context, s: Session, given: CampaignAction) -> None:
    """The actor may run this action, and its parameters are complete and valid (before any case is touched)."""
    if given.action not in ACTIONS:
        raise BadInput(
            N_("Unknown campaign action {action}: use one of {actions}"),
            field="action",
            action=given.action,
            actions=", ".join(ACTIONS),
        )
    ctx.require(*ACTION_ROLES[given.action])
    if given.action in ("letter", "email"):
        if given.kind not in CAMPAIGN_KINDS:
            raise BadInput(
                N_("A campaign sends a letter of the kind {kinds}, not {kind}"),
                field="kind",
                kind=given.kind or "-",
                kinds=", ".join(CAMPAIGN_KINDS),
            )
    elif given.action == "call_task":
        validate_call_task(CallTaskInput(given.due_date, given.note or ""), ctx.clock.today())
    else:
        if not given.employee:
            raise BadInput(N_("To whom? Please choose an employee"), field="employee")
        desk_employee(s, given.employee)


def check_campaign(ctx: Context, given: CampaignAction) -> CampaignAction:
    """Refuse an action the actor may not run or whose parameters are wrong, writing nothing (a form checks before it
    asks to confirm); returns it unchanged."""
    with ctx.db.reader() as s:
        check_action(ctx, s, given)
    return given


# ----- running


def start_campaign(ctx: Context, selection: str, given: CampaignAction) -> int:
    """Write the campaign and its members (the desk's cases that match the selection now); returns its id."""
    info = get_selection(ctx, selection)
    wl = Worklist(ctx, selection_filter(info))
    now = ctx.clock.now()
    with ctx.db.transaction() as s:
        check_action(ctx, s, given)
        row = Campaign(
            selection_id=info.id,
            selection_name=info.name,
            criteria=info.criteria.to_json(),
            action=given.action,
            parameters=given.to_json(),
            actor=ctx.actor.name,
            run_date=ctx.clock.today(),
            started_at=now,
            updated_at=now,
            selected=0,
            done=0,
            refused=0,
        )
        s.add(row)
        s.flush()
        chosen = select(literal(row.id), Case.id, Case.client_id, literal("pending")).where(*wl.conditions())
        s.execute(insert(CampaignMember).from_select(["campaign_id", "case_id", "client_id", "outcome"], chosen))
        row.selected = int(s.scalar(select(func.count()).where(CampaignMember.campaign_id == row.id)) or 0)
        audit.record(
            s,
            at=now,
            actor=ctx.actor.name,
            action="campaign.start",
            entity="campaign",
            entity_id=row.id,
            after={
                "selection": info.name,
                "criteria": info.criteria.model_dump(exclude_defaults=True),
                "action": given.action,
                "parameters": json.loads(given.to_json()),
                "members": row.selected,
            },
        )
        return row.id


def _encode(params: dict[str, Any]) -> str:
    """A refusal's parameters as JSON that keeps amounts and dates apart from plain text (see ``_decode``)."""

    def one(value: Any) -> Any:
        if isinstance(value, Decimal):
            return {"$decimal": str(value)}
        if isinstance(value, date):
            return {"$date": value.isoformat()}
        return value if isinstance(value, (int, str, bool)) or value is None else str(value)

    return json.dumps({k: one(v) for k, v in params.items()}, sort_keys=True, ensure_ascii=False)


def _decode(raw: str | None) -> dict[str, Any]:
    def one(value: Any) -> Any:
        if isinstance(value, dict) and "$decimal" in value:
            return Decimal(value["$decimal"])
        if isinstance(value, dict) and "$date" in value:
            return date.fromisoformat(value["$date"])
        return value

    return {k: one(v) for k, v in json.loads(raw).items()} if raw else {}


def _act(
    ctx: Context, s: Session, row: Campaign, given: CampaignAction, case_: Case, employee: User | None
) -> tuple[int | None, list[audit.Event]]:
    """One case: the bulk-only guard, then the single action's own code (in the caller's savepoint)."""
    busy = s.scalar(
        select(CaseLock.user_name).where(
            CaseLock.case_id == case_.id, CaseLock.until > ctx.clock.now(), CaseLock.user_name != ctx.actor.name
        )
    )
    if busy is not None:
        raise RuleViolation(N_("{name} has the case open now"), name=busy)
    if given.action in ("letter", "email"):
        assert given.kind is not None
        letter, event = decide_letter(
            ctx,
            s,
            case_.id,
            given.kind,
            given.action if given.action == "email" else "letter",
            action="letter.campaign",
            extra={"campaign_id": row.id},
        )
        return letter.id, [event]
    if given.action == "call_task":
        task_id, events = add_call_task(ctx, s, case_, CallTaskInput(given.due_date, given.note or ""))
        return task_id, [_tagged(e, row.id) for e in events]
    assert employee is not None
    return None, [_tagged(e, row.id) for e in assign_in(ctx, s, case_, employee)]


def _tagged(event: audit.Event, campaign_id: int) -> audit.Event:
    return audit.Event(
        event.at,
        event.actor,
        event.action,
        event.entity,
        event.entity_id,
        event.case_id,
        event.before,
        {**(event.after or {}), "campaign_id": campaign_id},
    )


def _slice(ctx: Context, campaign_id: int, given: CampaignAction) -> int:
    """Handle the next ``SLICE`` pending members in one transaction; returns how many were handled."""
    now = ctx.clock.now()
    with ctx.db.transaction() as s:
        row = s.get(Campaign, campaign_id)
        assert row is not None
        query = (
            select(CampaignMember)
            .where(CampaignMember.campaign_id == campaign_id, CampaignMember.outcome == "pending")
            .order_by(CampaignMember.case_id)
            .limit(SLICE)
        )
        if ctx.db.backend == "postgresql":  # two resumes at once never take the same member
            query = query.with_for_update(skip_locked=True)
        batch = list(s.scalars(query))
        if not batch:
            return 0
        employee = desk_employee(s, given.employee) if given.action == "assign" and given.employee else None
        cases = {c.id: c for c in s.scalars(select(Case).where(Case.id.in_([m.case_id for m in batch])))}
        events: list[audit.Event] = []
        done = refused = 0
        for member in batch:
            case_ = cases[member.case_id]
            try:
                with s.begin_nested():
                    entity_id, made = _act(ctx, s, row, given, case_, employee)
            except IncassoError as err:
                member.outcome, member.reason, member.reason_params = "refused", err.msgid, _encode(err.params)
            except (StaleDataError, IntegrityError):  # a colleague's commit came first (PostgreSQL)
                s.refresh(case_)
                err = changed_by(case_)
                member.outcome, member.reason, member.reason_params = "refused", err.msgid, _encode(err.params)
            else:
                member.outcome, member.entity_id = "done", entity_id
                events += made
            member.at = now
            if member.outcome == "refused":
                refused += 1
                events.append(
                    audit.Event(
                        at=now,
                        actor=ctx.actor.name,
                        action="campaign.refused",
                        entity="campaign",
                        entity_id=campaign_id,
                        case_id=member.case_id,
                        after={"reason": member.reason, "params": json.loads(member.reason_params or "{}")},
                    )
                )
            else:
                done += 1
        s.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id)
            .values(done=Campaign.done + done, refused=Campaign.refused + refused, updated_at=now)
        )
        audit.record_many(s, events)
        return len(batch)


def process_campaign(ctx: Context, campaign_id: int, progress: Progress | None = None) -> CampaignInfo:
    """Handle every pending member of the campaign, a slice per transaction, then mark it finished."""
    info = campaign(ctx, campaign_id)
    with ctx.db.reader() as s:
        check_action(ctx, s, info.action)
    handled = info.done + info.refused
    while True:
        count = _slice(ctx, campaign_id, info.action)
        if count == 0:
            break
        handled += count
        if progress is not None:
            progress(handled, info.selected)
    now = ctx.clock.now()
    with ctx.db.transaction() as s:
        row = s.get(Campaign, campaign_id)
        assert row is not None
        pending = s.scalar(
            select(func.count()).where(CampaignMember.campaign_id == campaign_id, CampaignMember.outcome == "pending")
        )
        if not pending and row.finished_at is None:
            row.finished_at = now
            audit.record(
                s,
                at=now,
                actor=ctx.actor.name,
                action="campaign.finish",
                entity="campaign",
                entity_id=row.id,
                after={"done": row.done, "refused": row.refused},
            )
    return campaign(ctx, campaign_id)


def run_campaign(
    ctx: Context, selection: str, given: CampaignAction, progress: Progress | None = None
) -> CampaignReport:
    """Start a campaign on the selection and handle all its members (see the module docstring)."""
    started = datetime.now()
    campaign_id = start_campaign(ctx, selection, given)
    info = process_campaign(ctx, campaign_id, progress)
    return CampaignReport(info, (datetime.now() - started).total_seconds())


def resume_campaign(ctx: Context, campaign_id: int, progress: Progress | None = None) -> CampaignReport:
    """Go on with an interrupted campaign's pending members (the same action, the same roles)."""
    info = campaign(ctx, campaign_id)
    if info.finished:
        raise RuleViolation(N_("Campaign {id} is finished: nothing to resume"), id=campaign_id)
    started = datetime.now()
    info = process_campaign(ctx, campaign_id, progress)
    return CampaignReport(info, (datetime.now() - started).total_seconds())


def render_campaign_letters(ctx: Context, campaign_id: int, limit: int | None = None) -> RenderReport:
    """Render the letters the campaign decided that are still pending (at most ``limit``; one transaction per
    letter). A screen calls it a batch at a time to show its progress."""
    info = campaign(ctx, campaign_id)
    if info.action.action not in ("letter", "email"):
        return RenderReport(0, 0, 0, ())
    only = select(CampaignMember.entity_id).where(
        CampaignMember.campaign_id == campaign_id, CampaignMember.outcome == "done"
    )
    return render_pending(ctx, limit, only=only)  # type: ignore[arg-type]


# ----- reading


def _info(row: Campaign) -> CampaignInfo:
    return CampaignInfo(
        row.id,
        row.selection_id,
        row.selection_name,
        Criteria.from_json(row.criteria),
        CampaignAction.from_row(row.action, row.parameters),
        row.actor,
        row.run_date,
        row.started_at,
        row.updated_at,
        row.finished_at,
        row.selected,
        row.done,
        row.refused,
    )


def campaign(ctx: Context, campaign_id: int) -> CampaignInfo:
    with ctx.db.reader() as s:
        row = s.get(Campaign, campaign_id)
        if row is None:
            raise NotFound(N_("There is no campaign {id}"), id=campaign_id)
        return _info(row)


def campaigns(ctx: Context, *, selection_id: int | None = None, limit: int = 200) -> list[CampaignInfo]:
    """The newest campaigns first (of one selection when ``selection_id``)."""
    query = select(Campaign).order_by(Campaign.id.desc()).limit(limit)
    if selection_id is not None:
        query = query.where(Campaign.selection_id == selection_id)
    with ctx.db.reader() as s:
        return [_info(row) for row in s.scalars(query)]


def members(
    ctx: Context, campaign_id: int, *, outcome: str | None = None, after_case: int = 0, limit: int = 500
) -> list[MemberRow]:
    """A page of the campaign's members in case order (keyset: those after ``after_case``)."""
    query = (
        select(CampaignMember, Client.number, Client.name)
        .join(Client, Client.id == CampaignMember.client_id)
        .where(CampaignMember.campaign_id == campaign_id, CampaignMember.case_id > after_case)
        .order_by(CampaignMember.case_id)
        .limit(limit)
    )
    if outcome is not None:
        query = query.where(CampaignMember.outcome == outcome)
    with ctx.db.reader() as s:
        if s.get(Campaign, campaign_id) is None:
            raise NotFound(N_("There is no campaign {id}"), id=campaign_id)
        return [
            MemberRow(m.case_id, number, name, m.outcome, m.reason, _decode(m.reason_params), m.entity_id)
            for m, number, name in s.execute(query)
        ]


def refusals(ctx: Context, campaign_id: int) -> list[tuple[str, int]]:
    """The reasons (English msgids) the campaign's cases were refused for, with how many each, most first."""
    count = func.count()
    with ctx.db.reader() as s:
        return [
            (str(reason), int(n))
            for reason, n in s.execute(
                select(CampaignMember.reason, count)
                .where(CampaignMember.campaign_id == campaign_id, CampaignMember.outcome == "refused")
                .group_by(CampaignMember.reason)
                .order_by(count.desc(), CampaignMember.reason)
            )
        ]


def measure(ctx: Context, campaign_id: int) -> CampaignMeasure:
    """Who of the campaign's group paid, and how much, within 14 and 30 days (see the module docstring)."""
    info = campaign(ctx, campaign_id)
    day = info.run_date
    cents = type_coerce(LedgerEntry.amount, Integer)  # whole cents in the database; summed as such
    signed = case((LedgerEntry.kind == LedgerKind.PAYMENT.value, cents), else_=-cents)
    nets = []
    for days in WINDOWS:
        inside = LedgerEntry.booking_date <= day + timedelta(days=days)
        nets.append(func.coalesce(func.sum(case((inside, signed), else_=0)), 0).label(f"net_{days}"))
    per_member = (
        select(CampaignMember.case_id, CampaignMember.outcome, *nets)
        .select_from(CampaignMember)
        .outerjoin(Loan, Loan.client_id == CampaignMember.client_id)
        .outerjoin(
            LedgerEntry,
            and_(
                LedgerEntry.loan_id == Loan.id,
                LedgerEntry.kind.in_((LedgerKind.PAYMENT.value, LedgerKind.REVERSAL.value)),
                LedgerEntry.booking_date > day,
                LedgerEntry.booking_date <= day + timedelta(days=max(WINDOWS)),
            ),
        )
        .where(CampaignMember.campaign_id == campaign_id, CampaignMember.outcome.in_(("done", "refused")))
        .group_by(CampaignMember.case_id, CampaignMember.outcome)
        .subquery()
    )
    columns = []
    for days in WINDOWS:
        net = per_member.c[f"net_{days}"]
        columns += [
            func.coalesce(func.sum(case((net > 0, 1), else_=0)), 0),
            func.coalesce(func.sum(case((net > 0, net), else_=0)), 0),
        ]
    found = {
        "done": Uptake(0, 0, Decimal("0.00"), 0, Decimal("0.00")),
        "refused": Uptake(0, 0, Decimal("0.00"), 0, Decimal("0.00")),
    }
    with ctx.db.reader() as s:
        for outcome, count, paid_14, cents_14, paid_30, cents_30 in s.execute(
            select(per_member.c.outcome, func.count(), *columns).group_by(per_member.c.outcome)
        ):
            found[outcome] = Uptake(
                int(count), int(paid_14), from_cents(int(cents_14)), int(paid_30), from_cents(int(cents_30))
            )
        portal = _portal_uptake(s, campaign_id, day)
    return CampaignMeasure(campaign_id, day, ctx.clock.today(), found["done"], found["refused"], portal)


def _portal_uptake(s: Session, campaign_id: int, day: date) -> PortalUptake:
    """The portal figures of the campaign's reached clients (``PortalUptake``): one query per figure and window."""
    start = datetime.combine(day, datetime.min.time())
    members = (
        select(CampaignMember.client_id, CampaignMember.case_id)
        .where(CampaignMember.campaign_id == campaign_id, CampaignMember.outcome == "done")
        .subquery()
    )
    figures: list[int] = []
    for what in ("opened", "visited", "arranged"):
        for days in WINDOWS:
            end = datetime.combine(day + timedelta(days=days + 1), datetime.min.time())
            if what == "opened":
                hit = select(PortalLink.id).where(
                    PortalLink.client_id == members.c.client_id,
                    PortalLink.opened_at >= start,
                    PortalLink.opened_at < end,
                )
            elif what == "visited":
                hit = select(PortalSession.id).where(
                    PortalSession.client_id == members.c.client_id,
                    PortalSession.created_at >= start,
                    PortalSession.created_at < end,
                )
            else:
                hit = select(Arrangement.id).where(
                    Arrangement.case_id == members.c.case_id,
                    Arrangement.created_by.like("client:%"),
                    Arrangement.created_at >= start,
                    Arrangement.created_at < end,
                )
            figures.append(int(s.scalar(select(func.count()).select_from(members).where(hit.exists())) or 0))
    return PortalUptake(figures[0], figures[1], figures[2], figures[3], figures[4], figures[5])


def may_run(ctx: Context, action: str) -> bool:
    """Whether the actor's role may run ``action`` (for screens that offer only what is allowed)."""
    return ctx.actor.role in ACTION_ROLES.get(action, ())
