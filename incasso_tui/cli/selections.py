"""``incasso selections ...`` and ``incasso campaigns ...`` (issue 8; services.selections and services.campaigns).

- ``selections list [--json]``: every saved selection with its count of cases now and its criteria.
- ``selections show NAME [--json]``: one selection, its count and its campaigns.
- ``selections save NAME [criteria] [--replace]``: save a new selection (``--replace``: give an existing one these
  criteria); criteria: ``--stage S``, ``--bucket B``, ``--product P``, ``--language L`` (each repeatable),
  ``--min-arrears A``, ``--max-arrears A``, ``--debtor consumer|business``, ``--arrangement-ends-within N``,
  ``--deferral-ends-within N``, ``--no-contact-days N``, ``--assignee NAME`` or ``--unassigned``.
- ``selections rename OLD NEW``, ``selections delete NAME``.
- ``selections export NAME [--sort S] [--out FILE]``: the selection's cases as CSV (the worklist's columns), to
  standard output or to a new file.
- ``campaigns run SELECTION --action letter|email|call_task|assign [--kind K] [--due D --note TEXT]
  [--employee NAME] [--json]``: the bulk action on every case of the selection; a letter campaign then renders its
  letters (when the sender's details are set; otherwise they wait, and the command says so).
- ``campaigns list [--selection NAME] [--json]``, ``campaigns show ID [--members] [--json]`` (the counts, the
  payments within 14 and 30 days, the refusals and their reasons; ``--members`` every member),
  ``campaigns resume ID [--json]`` (an interrupted run's pending members).

Changes act as ``--user`` (default: the OS user), who must be registered: the services check the role. Reading
(list, show, export) without ``--user`` acts as the operator ``cli:<os user>`` with the auditor's role, as
``incasso report kpi`` does. Exit 0 when the command did its work (a campaign with refused cases included: the
refusals are its result), 1 when a letter of the campaign failed to render, 2 for bad input or a refusal.
"""

from __future__ import annotations

import argparse
import json
import string
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from incasso_tui.cli import common
from incasso_tui.domain.arrears import BUCKETS
from incasso_tui.domain.enums import Role, Stage
from incasso_tui.errors import N_, BadInput, ConfigError
from incasso_tui.i18n import Translator
from incasso_tui.safetext import safe, safe_json

if TYPE_CHECKING:
    from incasso_tui.services.campaigns import CampaignInfo, CampaignMeasure, MemberRow
    from incasso_tui.services.context import Context
    from incasso_tui.services.criteria import Criteria
    from incasso_tui.services.selections import SelectionInfo

__all__ = ["register"]

ACTIONS = ("letter", "email", "call_task", "assign")


# data printed to a terminal: control characters (an escape sequence in a client's name) made visible, as on screen
def _plain(value: object) -> str:
    return safe(value)  # the one safe-text function: controls and bidi controls made visible


def _days(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of days: {value!r}") from None


def _command(
    group: common.Subparsers, name: str, help_: str, func: Any, *, json_: bool = True
) -> argparse.ArgumentParser:
    p = group.add_parser(name, help=help_, description=help_)
    if json_:
        p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=func)
    return p


def register(sub: common.Subparsers) -> None:
    sel = common.add_group(sub, "selections", "saved client groups: list, show, save, rename, delete, export as CSV")
    _command(sel, "list", "every selection with its count of cases now", cmd_list)
    show = _command(sel, "show", "one selection: its criteria, count and campaigns", cmd_show)
    show.add_argument("name")
    save = _command(
        sel, "save", "save a selection (criteria are combined with AND; repeat an option for OR)", cmd_save, json_=False
    )
    save.add_argument("name")
    save.add_argument("--replace", action="store_true", help="give an existing selection of this name these criteria")
    save.add_argument("--stage", action="append", default=[], choices=[s.value for s in Stage])
    save.add_argument("--bucket", action="append", default=[], choices=BUCKETS, help="ageing bucket (days past due)")
    save.add_argument("--min-arrears", metavar="AMOUNT", help="arrears at least")
    save.add_argument("--max-arrears", metavar="AMOUNT", help="arrears at most")
    save.add_argument("--product", action="append", default=[], help="the client has a loan of this product")
    save.add_argument("--debtor", choices=("consumer", "business"))
    save.add_argument("--language", action="append", default=[], choices=("nl", "en"))
    save.add_argument("--arrangement-ends-within", type=_days, metavar="DAYS")
    save.add_argument("--deferral-ends-within", type=_days, metavar="DAYS")
    save.add_argument("--no-contact-days", type=_days, metavar="DAYS", help="no contact logged for this many days")
    who = save.add_mutually_exclusive_group()
    who.add_argument("--assignee", metavar="USER", help="cases assigned to this user")
    who.add_argument("--unassigned", action="store_true", help="cases assigned to nobody")
    rename = _command(sel, "rename", "give a selection another name", cmd_rename, json_=False)
    rename.add_argument("name")
    rename.add_argument("new_name")
    delete = _command(sel, "delete", "delete a selection (its campaigns are kept)", cmd_delete, json_=False)
    delete.add_argument("name")
    export = _command(sel, "export", "the selection's cases as CSV (UTF-8, header row)", cmd_export, json_=False)
    export.add_argument("name")
    export.add_argument("--sort", choices=("priority", "dpd", "amount", "next_action"), default="priority")
    export.add_argument(
        "--out",
        metavar="NAME",
        help="a new file to write, a plain file name in the export_dir setting's folder (default: standard output)",
    )
    export.add_argument(
        "--format",
        choices=("csv", "csv-nl", "xlsx"),
        default=None,
        help="csv (standard), csv-nl (; and decimal comma, labels in --lang), xlsx (typed cells, needs "
        "--out NAME.xlsx); default: by the file's extension, else csv",
    )

    camp = common.add_group(sub, "campaigns", "bulk actions on a selection, and their results")
    run = _command(camp, "run", "run a bulk action on every case of a selection", cmd_run)
    run.add_argument("selection")
    run.add_argument("--action", required=True, choices=ACTIONS)
    run.add_argument("--kind", choices=("reminder", "contact_request"), help="the letter or e-mail to send")
    run.add_argument("--due", metavar="YYYY-MM-DD", help="call tasks: the due date")
    run.add_argument("--note", help="call tasks: what the call is about")
    run.add_argument("--employee", metavar="USER", help="assign: the employee who gets the cases")
    lst = _command(camp, "list", "the campaigns, newest first", cmd_campaigns)
    lst.add_argument("--selection", metavar="NAME")
    shw = _command(camp, "show", "a campaign: its counts, the payments since, the refusals", cmd_campaign)
    shw.add_argument("id", type=common.parse_id)
    shw.add_argument("--members", action="store_true", help="every member with what was done or why not")
    res = _command(camp, "resume", "go on with an interrupted campaign's pending cases", cmd_resume)
    res.add_argument("id", type=common.parse_id)


# ----- helpers


def _reader(args: argparse.Namespace, db: Any) -> Context:
    return common.context(args, db, operator_role=Role.AUDITOR)


def _criteria(args: argparse.Namespace) -> Criteria:
    from incasso_tui.domain.money import parse_amount
    from incasso_tui.services.criteria import Criteria

    return Criteria.parse(
        {
            "stages": tuple(args.stage),
            "buckets": tuple(args.bucket),
            "products": tuple(args.product),
            "languages": tuple(args.language),
            "debtor": args.debtor,
            "min_arrears": parse_amount(args.min_arrears) if args.min_arrears else None,
            "max_arrears": parse_amount(args.max_arrears) if args.max_arrears else None,
            "arrangement_ends_within": args.arrangement_ends_within,
            "deferral_ends_within": args.deferral_ends_within,
            "no_contact_days": args.no_contact_days,
            "assignee": args.assignee,
            "unassigned": args.unassigned,
        }
    )


def _described(tr: Translator, criteria: Criteria) -> list[str]:
    from incasso_tui.services.criteria import describe

    return [tr(msgid, **params) for msgid, params in describe(criteria)]


def _selection_json(info: SelectionInfo) -> dict[str, object]:
    return {
        "id": info.id,
        "name": info.name,
        "count": info.count,
        "criteria": json.loads(info.criteria.to_json()),
        "created_by": info.created_by,
        "created_at": info.created_at.isoformat(timespec="seconds"),
        "updated_by": info.updated_by,
        "updated_at": info.updated_at.isoformat(timespec="seconds") if info.updated_at else None,
    }


def _campaign_json(info: CampaignInfo) -> dict[str, object]:
    return {
        "id": info.id,
        "selection": info.selection_name,
        "selection_id": info.selection_id,
        "action": info.action.action,
        "parameters": json.loads(info.action.to_json()),
        "actor": info.actor,
        "date": info.run_date.isoformat(),
        "started_at": info.started_at.isoformat(timespec="seconds"),
        "finished_at": info.finished_at.isoformat(timespec="seconds") if info.finished_at else None,
        "finished": info.finished,
        "selected": info.selected,
        "done": info.done,
        "refused": info.refused,
        "pending": info.pending,
    }


def _measure_json(m: CampaignMeasure) -> dict[str, object]:
    out: dict[str, object] = {"as_of": m.as_of.isoformat()}
    for days in (14, 30):
        out[f"within_{days}_days"] = {
            "until": m.window_end(days).isoformat(),
            "complete": m.complete(days),
            **{
                group: {
                    "members": u.members,
                    "paid": getattr(u, f"paid_{days}"),
                    "amount": str(getattr(u, f"amount_{days}")),
                }
                for group, u in (("done", m.done), ("refused", m.refused))
            },
            "portal": {what: getattr(m.portal, f"{what}_{days}") for what in ("opened", "visited", "arranged")},
        }
    return out


def _status(tr: Translator, info: CampaignInfo) -> str:
    if info.finished:
        return tr(N_("finished"))
    return tr(N_("not finished: {pending} cases pending (interrupted or still running)"), pending=info.pending)


# ----- selections


def cmd_list(args: argparse.Namespace) -> int:
    from incasso_tui.services.selections import list_selections

    settings = common.settings(args)
    tr = Translator(settings.lang)
    with common.database(settings) as db:
        infos = list_selections(_reader(args, db))
    if args.json:
        common.print_json([_selection_json(i) for i in infos])
        return 0
    for info in infos:
        print(
            _plain(f"{info.name}\t{info.count}\t{info.created_by}")
            + "\t"
            + _plain("; ".join(_described(tr, info.criteria)))
        )
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from incasso_tui.services.campaigns import campaigns
    from incasso_tui.services.selections import get_selection

    settings = common.settings(args)
    tr = Translator(settings.lang)
    with common.database(settings) as db:
        ctx = _reader(args, db)
        info = get_selection(ctx, args.name, count=True)
        runs = campaigns(ctx, selection_id=info.id)
    if args.json:
        common.print_json({**_selection_json(info), "campaigns": [_campaign_json(c) for c in runs]})
        return 0
    print(
        _plain(
            tr.plural(
                "Selection {name}: {count} case",
                "Selection {name}: {count} cases",
                info.count or 0,
                name=info.name,
                count=info.count or 0,
            )
        )
    )
    for line in _described(tr, info.criteria):
        print(f"  {_plain(line)}")
    for c in runs:
        print(
            tr(
                N_("campaign {id} on {date} by {actor}: {action}, {done} done, {refused} refused ({status})"),
                id=str(c.id),
                date=c.run_date,
                actor=c.actor,
                action=c.action.action,
                done=c.done,
                refused=c.refused,
                status=_status(tr, c),
            )
        )
    return 0


def cmd_save(args: argparse.Namespace) -> int:
    from incasso_tui.services.selections import get_selection, save_selection, update_selection

    settings = common.settings(args)
    criteria = _criteria(args)
    with common.database(settings) as db:
        ctx = common.context(args, db)
        if args.replace:
            old = get_selection(ctx, args.name)
            info = update_selection(ctx, old.id, old.version, old.name, criteria)
        else:
            info = save_selection(ctx, args.name, criteria)
        count = get_selection(ctx, info.name, count=True).count
    print(f"{info.name}\t{count}")
    return 0


def cmd_rename(args: argparse.Namespace) -> int:
    from incasso_tui.services.selections import get_selection, update_selection

    settings = common.settings(args)
    with common.database(settings) as db:
        ctx = common.context(args, db)
        old = get_selection(ctx, args.name)
        info = update_selection(ctx, old.id, old.version, args.new_name, old.criteria)
    print(info.name)
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    from incasso_tui.services.selections import delete_selection, get_selection

    settings = common.settings(args)
    with common.database(settings) as db:
        ctx = common.context(args, db)
        old = get_selection(ctx, args.name)
        delete_selection(ctx, old.id, old.version)
    print(f"{old.name}\tdeleted")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from incasso_tui.services.exports import export_path
    from incasso_tui.services.selections import export_csv, export_to_file, get_selection, selection_filter
    from incasso_tui.services.worklist import WorklistFilter

    settings = common.settings(args)
    with common.database(settings) as db:
        ctx = _reader(args, db)
        flt = selection_filter(get_selection(ctx, args.name), WorklistFilter(sort=args.sort))
        form = getattr(args, "format", None)
        if args.out and (form or Path(args.out).suffix.lower() == ".xlsx"):
            from incasso_tui.services.exports import export_worklist
            from incasso_tui.ui.export_labels import export_labels

            rows = export_worklist(ctx, flt, args.out, form, export_labels(Translator(settings.lang)))
            print(f"{rows}\t{safe(export_path(settings, args.out))}")
        elif args.out:
            rows = export_to_file(ctx, flt, args.out)
            print(f"{rows}\t{safe(export_path(settings, args.out))}")
        elif form == "xlsx":
            raise BadInput(N_("An .xlsx file is written as xlsx, and xlsx only to an .xlsx file"), field="path")
        elif form == "csv-nl":
            from incasso_tui.services.exports import nl_csv_lines
            from incasso_tui.ui.export_labels import export_labels

            sys.stdout.reconfigure(encoding="utf-8", newline="")  # type: ignore[union-attr]
            for line in nl_csv_lines(ctx, flt, export_labels(Translator(settings.lang))):
                sys.stdout.write(line)
        else:
            sys.stdout.reconfigure(encoding="utf-8", newline="")  # type: ignore[union-attr]
            export_csv(ctx, flt, sys.stdout)
    return 0


# ----- campaigns


def _render(ctx: Context, campaign_id: int, tr: Translator) -> dict[str, object]:
    """Render the campaign's letters; when the sender's details are missing, they wait and the reason is told."""
    from incasso_tui.services.campaigns import render_campaign_letters

    try:
        report = render_campaign_letters(ctx, campaign_id)
    except ConfigError as err:
        return {"rendered": 0, "emails_queued": 0, "failed": [], "why_waiting": tr.error(err)}
    return {
        "rendered": report.rendered,
        "emails_queued": report.emails_queued,
        "failed": [{"letter": f.letter_id, "case": f.case_id, "error": f.error} for f in report.failures],
        "why_waiting": None,
    }


def _members_done(update: common.Update | None) -> Callable[[int, int], None] | None:
    """The campaign's progress (members handled, members in all) on the command line's one progress bar."""
    if update is None:
        return None
    bar = update
    return lambda done, total: bar("", done, total)


def _reason_summary(tr: Translator, msgid: str) -> str:
    """A refusal's reason without its particulars (a name, a date): "…" in their place."""
    return tr(msgid, **{name: "…" for _lit, name, _spec, _conv in string.Formatter().parse(msgid) if name})


def _all_members(ctx: Context, campaign_id: int, outcome: str | None) -> Iterator[MemberRow]:
    """The campaign's members in case order, read a page at a time."""
    from incasso_tui.services.campaigns import members

    after = 0
    while True:
        page = members(ctx, campaign_id, outcome=outcome, after_case=after, limit=1000)
        yield from page
        if len(page) < 1000:
            return
        after = page[-1].case_id


def _report(args: argparse.Namespace, ctx: Context, info: CampaignInfo, tr: Translator) -> int:
    from incasso_tui.services.campaigns import refusals

    letters = _render(ctx, info.id, tr) if info.action.action in ("letter", "email") and info.done else None
    reasons = refusals(ctx, info.id)
    failed = bool(letters and letters["failed"])
    if args.json:
        print(
            safe_json(
                {**_campaign_json(info), "refused_by_reason": {msgid: n for msgid, n in reasons}, "letters": letters}
            )
        )
        return 1 if failed else 0
    print(
        tr(
            N_("campaign {id} on {selection}: {selected} cases, {done} done, {refused} refused ({status})"),
            id=str(info.id),
            selection=info.selection_name,
            selected=info.selected,
            done=info.done,
            refused=info.refused,
            status=_status(tr, info),
        )
    )
    for msgid, n in reasons:
        print(f"  {n:>6}  {_reason_summary(tr, msgid)}")
    if letters is not None:
        failures: list[dict[str, Any]] = letters["failed"]  # type: ignore[assignment]
        print(
            tr(
                N_("letters: {rendered} rendered, {queued} e-mails queued, {failed} failed"),
                rendered=letters["rendered"],
                queued=letters["emails_queued"],
                failed=len(failures),
            )
        )
        for f in failures:
            print(f"  letter {f['letter']} (case {f['case']}): {safe(f['error'])}", file=sys.stderr)
        if letters["why_waiting"]:
            print(f"incasso: {letters['why_waiting']}", file=sys.stderr)
    return 1 if failed else 0


def cmd_run(args: argparse.Namespace) -> int:
    from incasso_tui.services.campaigns import CampaignAction, run_campaign

    settings = common.settings(args)
    tr = Translator(settings.lang)
    given = CampaignAction(
        args.action,
        kind=args.kind,
        due_date=common.parse_date(args.due) if args.due else None,
        note=args.note,
        employee=args.employee,
    )
    with common.database(settings) as db:
        ctx = common.context(args, db)
        with common.progress(steps=True) as update:
            report = run_campaign(ctx, args.selection, given, progress=_members_done(update))
        return _report(args, ctx, report.campaign, tr)


def cmd_resume(args: argparse.Namespace) -> int:
    from incasso_tui.services.campaigns import resume_campaign

    settings = common.settings(args)
    tr = Translator(settings.lang)
    with common.database(settings) as db:
        ctx = common.context(args, db)
        with common.progress(steps=True) as update:
            report = resume_campaign(ctx, args.id, progress=_members_done(update))
        return _report(args, ctx, report.campaign, tr)


def cmd_campaigns(args: argparse.Namespace) -> int:
    from incasso_tui.services.campaigns import campaigns
    from incasso_tui.services.selections import get_selection

    settings = common.settings(args)
    tr = Translator(settings.lang)
    with common.database(settings) as db:
        ctx = _reader(args, db)
        selection_id = get_selection(ctx, args.selection).id if args.selection else None
        runs = campaigns(ctx, selection_id=selection_id)
    if args.json:
        common.print_json([_campaign_json(c) for c in runs])
        return 0
    for c in runs:
        print(
            _plain(
                f"{c.id}\t{c.run_date.isoformat()}\t{c.selection_name}\t{c.action.action}\t{c.actor}\t"
                f"{c.selected}\t{c.done}\t{c.refused}\t{_status(tr, c)}"
            )
        )
    return 0


def cmd_campaign(args: argparse.Namespace) -> int:
    from incasso_tui.services.campaigns import campaign, measure

    settings = common.settings(args)
    tr = Translator(settings.lang)
    with common.database(settings) as db:
        ctx = _reader(args, db)
        info = campaign(ctx, args.id)
        m = measure(ctx, args.id)
        rows = [
            {
                "case_id": r.case_id,
                "client_number": r.client_number,
                "client_name": r.client_name,
                "outcome": r.outcome,
                "reason": tr(r.reason, **r.params) if r.reason else None,
                "entity_id": r.entity_id,
            }
            for r in _all_members(ctx, args.id, None if args.members else "refused")
        ]
    if args.json:
        common.print_json({**_campaign_json(info), "payments": _measure_json(m), "members": rows})
        return 0
    print(
        tr(
            N_("campaign {id} on {selection}: {selected} cases, {done} done, {refused} refused ({status})"),
            id=str(info.id),
            selection=info.selection_name,
            selected=info.selected,
            done=info.done,
            refused=info.refused,
            status=_status(tr, info),
        )
    )
    for days in (14, 30):
        u = m.done
        line = tr(
            N_("paid within {days} days (to {until}): {paid} of {members} clients, {amount}"),
            days=days,
            until=m.window_end(days),
            paid=getattr(u, f"paid_{days}"),
            members=u.members,
            amount=getattr(u, f"amount_{days}"),
        )
        print(line + ("" if m.complete(days) else " " + tr(N_("(so far)"))))
        print(
            "  "
            + tr(
                N_(
                    "portal within {days} days: {opened} opened their link, {visited} logged in, {arranged} "
                    "made an arrangement"
                ),
                days=days,
                opened=getattr(m.portal, f"opened_{days}"),
                visited=getattr(m.portal, f"visited_{days}"),
                arranged=getattr(m.portal, f"arranged_{days}"),
            )
        )
    for r in rows:
        print("\t".join(_plain(r[k] or "") for k in ("case_id", "client_number", "client_name", "outcome", "reason")))
    return 0
