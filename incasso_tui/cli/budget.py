"""``incasso budget ...`` and ``incasso calc draagkracht`` (issue 15; services.budget, domain.budget).

- ``budget show CLIENT [--json]``: the client's current budget, its capacity as of today with every step, the
  regular installments it must carry, and the history of budgets (each with its capacity as of its own date).
- ``budget set CLIENT --checked bank_statements|payslip|self_declared [household figures] [business
  figures] [--budget-date D] [--cause C] [--source desk|client] [--note TEXT] [--json]``: a new budget (the older ones stay).
  Household: ``--household single|single_parent|couple|couple_children [--children N] --salary A --benefits A
  --partner A --drawings A --housing A --housing-allowance A --health A --health-allowance A --fixed A
  --debt CREDITOR=AMOUNT`` (repeatable). Business: ``--revenue A --costs A --business-drawings A --tax A
  --trend A`` (repeatable, oldest month first).
- ``budget causes [--json]``: the desk's open cases per cause of the arrears (the dashboard's figures).
- ``calc draagkracht --household H [--children N] --income A --housing A --fixed A [--debts A]
  [--housing-allowance A] [--health-allowance A] [--norm beslagvrije_voet|desk] [--json]``: the capacity from given
  figures, without a database (a quick check on the phone); the JSON holds ``capacity`` and every step.

Reading without ``--user`` acts as the operator ``cli:<os user>`` with the auditor's role (as ``incasso report
kpi``); ``set`` acts as ``--user`` (default: the OS user), who must be an employee or a supervisor. Bad input is one
line naming the field, exit 2.
"""

from __future__ import annotations

import argparse
import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from incasso_tui.cli import common
from incasso_tui.domain.budget import (
    BusinessBudget,
    Capacity,
    Checked,
    Debt,
    Household,
    HouseholdBudget,
    Limits,
    NormKind,
    capacity,
    load_norms,
    trend,
)
from incasso_tui.domain.enums import ArrearsCause, Role
from incasso_tui.domain.money import ZERO, parse_amount
from incasso_tui.errors import N_, BadInput
from incasso_tui.i18n import Translator

if TYPE_CHECKING:
    from incasso_tui.services.budget import BudgetStatus, BudgetView

__all__ = ["register", "register_calc"]

_CONTROLS = {c: chr(0x2400 + c) for c in range(0x20)} | {0x7F: "\u2421"} | {c: "\ufffd" for c in range(0x80, 0xA0)}

HOUSEHOLD = {
    "single": N_("single"),
    "single_parent": N_("single parent"),
    "couple": N_("couple"),
    "couple_children": N_("couple with children"),
}
CHECKED = {
    "bank_statements": N_("bank statements seen"),
    "payslip": N_("payslip seen"),
    "self_declared": N_("self-declared"),
}
SOURCE = {"desk": N_("entered by the desk"), "client": N_("declared by the client")}
NORM = {"beslagvrije_voet": N_("beslagvrije voet"), "desk": N_("desk norm")}
TREND = {"falling": N_("falling"), "rising": N_("rising"), "stable": N_("stable")}


def _plain(value: object) -> str:
    return str(value).translate(_CONTROLS)


def _amount(text: str | None, field: str) -> Decimal:
    if text is None:
        return ZERO
    try:
        return parse_amount(text)
    except BadInput as err:
        raise BadInput(err.msgid, field=field, **err.params) from None


def _tr(args: argparse.Namespace) -> Translator:
    return Translator(getattr(args, "lang", None) or "nl")


def steps_text(tr: Translator, result: Capacity) -> list[str]:
    """The computation as lines: label, amount right-aligned; the norm's source and the warnings after it."""
    labels = [tr(step.label) for step in result.steps]
    amounts = [tr.money(step.amount) for step in result.steps]
    width = max(len(label) for label in labels) + 2
    awidth = max(len(a) for a in amounts)
    lines = [f"  {label.ljust(width)}{amount.rjust(awidth)}" for label, amount in zip(labels, amounts, strict=True)]
    if result.norm_start is not None:
        lines.append(
            "  "
            + tr(
                N_("Norm: {norm} from {start}{unverified}"),
                norm=tr(NORM[result.norm_kind.value]),
                start=result.norm_start,
                unverified="" if result.norm_verified else tr(N_(" (UNVERIFIED)")),
            )
        )
        lines.append("  " + tr(N_("Source: {source}"), source=_plain(result.norm_source)))
    for msgid, params in result.warnings:
        lines.append("  " + tr(N_("WARNING: {text}"), text=tr(msgid, **params)))
    return lines


# ----- calc draagkracht


def run_draagkracht(args: argparse.Namespace) -> int:
    from incasso_tui.config import load_settings

    settings = load_settings(lang=getattr(args, "lang", None))
    household = HouseholdBudget(
        _household(args.household),
        int(args.children),
        salary=_amount(args.income, "income"),
        housing=_amount(args.housing, "housing"),
        housing_allowance=_amount(args.housing_allowance, "housing_allowance"),
        health=_amount(args.health, "health"),
        health_allowance=_amount(args.health_allowance, "health_allowance"),
        fixed=_amount(args.fixed, "fixed"),
        debts=(Debt("--debts", _amount(args.debts, "debts")),) if args.debts else (),
    )
    day = common.clock(args).today()
    result = capacity(
        household=household,
        business=None,
        norms=load_norms(settings.budget_norms_file),
        kind=NormKind(args.norm or settings.budget_norm),
        day=day,
        limits=Limits(settings.budget_household_max, settings.budget_business_max),
    )
    if args.json:
        print(
            json.dumps(
                {
                    "date": day.isoformat(),
                    "household": household.household.value,
                    "children": household.children,
                    **result.to_json(),
                }
            )
        )
        return 0
    tr = _tr(args)
    print(
        tr(
            N_("Capacity on {day}: {household}, {children} children"),
            day=day,
            household=tr(HOUSEHOLD[household.household.value]),
            children=household.children,
        )
    )
    for line in steps_text(tr, result):
        print(line)
    return 0


def _household(value: str) -> Household:
    try:
        return Household(value)
    except ValueError:
        raise BadInput(N_("Unknown household type: {value}"), field="household", value=value) from None


def register_calc(sub: common.Subparsers) -> None:
    """``calc draagkracht``: the repayment capacity from given figures, one more calculation of ``calc``."""
    commands = common.commands_of(sub, "calc")
    p = commands.add_parser(
        "draagkracht",
        help="repayment capacity from given figures (beslagvrije voet, art. 475da-475db Rv, or the desk norm)",
    )
    p.add_argument("--household", required=True, choices=[h.value for h in Household])
    p.add_argument("--children", default="0", type=_count, help="number of children (single_parent, couple_children)")
    p.add_argument("--income", required=True, help="net income of the household a month")
    p.add_argument("--housing", required=True, help="rent or mortgage costs a month")
    p.add_argument("--housing-allowance", default=None, help="huurtoeslag a month (default 0)")
    p.add_argument("--health", default=None, help="health-insurance premiums a month (the desk norm counts them)")
    p.add_argument(
        "--health-allowance",
        default=None,
        help="zorgtoeslag a month (default 0: none received, the protected part is raised for it)",
    )
    p.add_argument("--fixed", required=True, help="fixed obligations the norm does not cover, a month")
    p.add_argument("--debts", default=None, help="payments on other debts a month")
    p.add_argument("--norm", choices=[k.value for k in NormKind], default=None, help="default: the budget_norm setting")
    p.add_argument("--json", action="store_true", help="print JSON with decimal strings")
    p.set_defaults(func=run_draagkracht)


def _count(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None


# ----- budget show / set / causes


def _budget_json(view: BudgetView) -> dict[str, Any]:
    from incasso_tui.services.budget import business_dict, household_dict

    return {
        "id": view.id,
        "date": view.budget_date.isoformat(),
        "source": view.source,
        "checked": view.checked,
        "created_by": view.created_by,
        "note": view.note,
        "household": household_dict(view.household) if view.household else None,
        "business": business_dict(view.business) if view.business else None,
        "capacity_then": view.capacity.to_json() if view.capacity else None,
        "error": str(view.error) if view.error else None,
    }


def _status_json(st: BudgetStatus, history: list[BudgetView], number: str) -> dict[str, Any]:
    return {
        "client": number,
        "household_needed": st.household_needed,
        "business_needed": st.business_needed,
        "current": _budget_json(st.budget) if st.budget else None,
        "capacity": st.capacity.to_json() if st.capacity else None,
        "error": str(st.error) if st.error else None,
        "age_months": st.age_months,
        "stale": st.stale,
        "regular_installments": str(st.regular),
        "arrangement_installment": str(st.arrangement),
        "history": [_budget_json(v) for v in history],
    }


def run_show(args: argparse.Namespace) -> int:
    from incasso_tui.services.budget import budgets, stale_warning, status
    from incasso_tui.services.cases import client_by_number

    settings = common.settings(args)
    with common.database(settings) as db:
        ctx = common.context(args, db, operator_role=Role.AUDITOR)
        client_id = client_by_number(ctx, args.client)
        st = status(ctx, client_id)
        history = budgets(ctx, client_id)
    if args.json:
        print(json.dumps(_status_json(st, history, args.client.strip().upper())))
        return 0
    tr = _tr(args)
    if st.budget is None:
        print(tr(N_("No budget for {client} yet: incasso budget set {client} ..."), client=_plain(args.client)))
        return 0
    print(_describe(tr, st.budget))
    if st.capacity is not None:
        print(tr(N_("Capacity as of {day}:"), day=ctx.clock.today()))
        for line in steps_text(tr, st.capacity):
            print(line)
    else:
        assert st.error is not None
        print(tr(N_("No capacity: {error}"), error=tr.error(st.error)))
    print(
        tr(
            N_("Regular installments {regular} a month · running arrangement {arrangement} a month"),
            regular=st.regular,
            arrangement=st.arrangement,
        )
    )
    stale = stale_warning(ctx, st)
    if stale is not None:
        print(tr(N_("WARNING: {text}"), text=tr(stale[0], **stale[1])))
    if len(history) > 1:
        print(tr.plural("History ({count} budget):", "History ({count} budgets):", len(history), count=len(history)))
        for view in history:
            then = tr.money(view.capacity.capacity) if view.capacity else tr.error(view.error) if view.error else ""
            print(f"  {tr.date(view.budget_date)}  {tr(CHECKED[view.checked])}  {_plain(view.created_by)}  {then}")
    return 0


def _describe(tr: Translator, view: BudgetView) -> str:
    parts = [
        tr(N_("Budget of {day}"), day=view.budget_date),
        tr(CHECKED[view.checked]),
        tr(SOURCE[view.source]),
        tr(N_("by {name}"), name=_plain(view.created_by)),
    ]
    lines = [" · ".join(parts)]
    if view.household is not None:
        h = view.household
        lines.append(
            "  "
            + tr(
                N_("Household: {household}, {children} children"),
                household=tr(HOUSEHOLD[h.household.value]),
                children=h.children,
            )
        )
        for d in h.debts:
            lines.append(
                "  " + tr(N_("Other debt: {creditor} {amount} a month"), creditor=_plain(d.creditor), amount=d.monthly)
            )
    if view.business is not None:
        b = view.business
        lines.append(
            "  "
            + tr(
                N_("Business: revenue {revenue}, costs {costs}, tax {tax}, drawings {drawings}"),
                revenue=b.revenue,
                costs=b.costs,
                tax=b.tax_reservation,
                drawings=b.drawings,
            )
        )
        if b.trend:
            direction = trend(b.trend)
            lines.append(
                "  "
                + tr(N_("Revenue of the last months: {values}"), values=" · ".join(tr.money(v) for v in b.trend))
                + (f" ({tr(TREND[direction])})" if direction else "")
            )
    if view.note:
        lines.append("  " + _plain(view.note))
    return "\n".join(lines)


def run_set(args: argparse.Namespace) -> int:
    from incasso_tui.services.budget import BudgetInput, set_budget, status
    from incasso_tui.services.cases import client_by_number

    household = None
    if args.household is not None:
        debts = []
        for text in args.debt or []:
            creditor, sep, amount = text.rpartition("=")
            if not sep:
                raise BadInput(N_("A debt is CREDITOR=AMOUNT, not {text}"), field="debts", text=text)
            debts.append(Debt(creditor.strip(), _amount(amount, "debts")))
        household = HouseholdBudget(
            _household(args.household),
            int(args.children),
            salary=_amount(args.salary, "salary"),
            benefits=_amount(args.benefits, "benefits"),
            partner=_amount(args.partner, "partner"),
            drawings=_amount(args.drawings, "drawings"),
            housing=_amount(args.housing, "housing"),
            housing_allowance=_amount(args.housing_allowance, "housing_allowance"),
            health=_amount(args.health, "health"),
            health_allowance=_amount(args.health_allowance, "health_allowance"),
            fixed=_amount(args.fixed, "fixed"),
            debts=tuple(debts),
        )
    business = None
    if args.revenue is not None:
        business = BusinessBudget(
            _amount(args.revenue, "revenue"),
            _amount(args.costs, "costs"),
            _amount(args.business_drawings, "business_drawings"),
            _amount(args.tax, "tax_reservation"),
            tuple(_amount(v, "trend") for v in args.trend or []),
        )
    try:
        checked = Checked(args.checked)
    except ValueError:
        raise BadInput(
            N_("Say what was checked: bank statements, a payslip, or the client's own statement"), field="checked"
        ) from None
    cause = None
    if args.cause is not None:
        try:
            cause = ArrearsCause(args.cause)
        except ValueError:
            raise BadInput(N_("Unknown cause: {value}"), field="cause", value=args.cause) from None
    settings = common.settings(args)
    with common.database(settings) as db:
        ctx = common.context(args, db)
        day = common.parse_date(args.budget_date) if args.budget_date else ctx.clock.today()
        client_id = client_by_number(ctx, args.client)
        budget_id = set_budget(
            ctx, client_id, BudgetInput(day, checked, household, business, args.source, args.note or "", cause)
        )
        st = status(ctx, client_id)
    if args.json:
        print(
            json.dumps(
                {
                    "budget_id": budget_id,
                    "capacity": st.capacity.to_json() if st.capacity else None,
                    "error": str(st.error) if st.error else None,
                }
            )
        )
        return 0
    tr = _tr(args)
    print(tr(N_("Budget {id} saved for {client}"), id=str(budget_id), client=_plain(args.client)))
    if st.capacity is not None:
        for line in steps_text(tr, st.capacity):
            print(line)
    return 0


def run_causes(args: argparse.Namespace) -> int:
    from incasso_tui.services.causes import cause_counts

    settings = common.settings(args)
    with common.database(settings) as db:
        counts = cause_counts(common.context(args, db, operator_role=Role.AUDITOR))
    if args.json:
        print(json.dumps(counts))
        return 0
    from incasso_tui.ui.labels import CAUSE

    tr = _tr(args)
    labels = {**CAUSE, "unknown": N_("Not known")}
    for cause, count in counts.items():
        print(f"{tr(labels.get(cause, cause)):<24} {tr.integer(count):>8}")
    return 0


def register(sub: common.Subparsers) -> None:
    parent = sub.add_parser(
        "budget",
        help="a client's budget and repayment capacity",
        description="a client's budget (income and expenditure) and repayment capacity",
    )
    parent.set_defaults(func=lambda _a: common.usage(parent))
    group = parent.add_subparsers(title="budget commands", metavar="COMMAND")

    show = group.add_parser("show", help="the current budget, its capacity with every step, and the history")
    show.add_argument("client", metavar="CLIENT", help="client number, e.g. C1234567")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=run_show)

    st = group.add_parser("set", help="enter a new budget (the older ones stay as history)")
    st.add_argument("client", metavar="CLIENT")
    st.add_argument("--checked", required=True, choices=[c.value for c in Checked])
    st.add_argument(
        "--budget-date",
        dest="budget_date",
        metavar="YYYY-MM-DD",
        default=None,
        help="the day the figures are of (default: today)",
    )
    st.add_argument("--source", choices=("desk", "client"), default="desk")
    st.add_argument("--cause", default=None, help="cause of the arrears: " + ", ".join(c.value for c in ArrearsCause))
    st.add_argument("--note", default=None)
    st.add_argument("--household", default=None, choices=[h.value for h in Household])
    st.add_argument("--children", default="0", type=_count)
    for name in (
        "salary",
        "benefits",
        "partner",
        "drawings",
        "housing",
        "housing-allowance",
        "health",
        "health-allowance",
        "fixed",
    ):
        st.add_argument(f"--{name}", default=None, metavar="A")
    st.add_argument("--debt", action="append", metavar="CREDITOR=AMOUNT", help="payments on another debt (repeatable)")
    st.add_argument(
        "--revenue", default=None, metavar="A", help="business: monthly revenue (gives the business figures)"
    )
    st.add_argument("--costs", default=None, metavar="A")
    st.add_argument("--business-drawings", default=None, metavar="A")
    st.add_argument("--tax", default=None, metavar="A", help="tax reservations a month")
    st.add_argument("--trend", action="append", metavar="A", help="revenue of a past month, oldest first (repeatable)")
    st.add_argument("--json", action="store_true")
    st.set_defaults(func=run_set)

    causes = group.add_parser("causes", help="the desk's open cases per cause of the arrears")
    causes.add_argument("--json", action="store_true")
    causes.set_defaults(func=run_causes)
