"""``incasso tasks ...``, ``incasso consult ...`` and ``incasso discuss ...`` (issue 13: services.inbox,
services.consultations, services.discussion).

- ``tasks list [--mine | --of NAME] [--due today|overdue|week] [--json]``: the open tasks of ``--user`` (a supervisor:
  the team's, or one user's with ``--of``), by due date. ``--due today`` is what is to be done today: today's and
  the overdue ones.
- ``tasks done ID --outcome TEXT``, ``tasks move ID --to DATE --reason TEXT``, ``tasks assign ID USER``.
- ``consult ask CASE --to USER --question TEXT``, ``consult answer ID --answer TEXT``,
  ``consult list [--case N] [--json]`` (the consultations asked of ``--user``, or a case's).
- ``discuss add CASE --question TEXT``, ``discuss list [--json]``,
  ``discuss decide ID --decision TEXT [--action USER:YYYY-MM-DD:WHAT]...`` (each action becomes a task).

Everything acts as ``--user`` (default: the OS user), who must be registered: the services check the role.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from incasso_tui.cli import common
from incasso_tui.errors import N_, BadInput
from incasso_tui.i18n import Translator
from incasso_tui.ui.labels import TASK_BUCKET, TASK_KIND, task_title

__all__ = ["register"]

_CONTROLS = {c: chr(0x2400 + c) for c in range(0x20)} | {0x7F: "\u2421"}


def _plain(value: object) -> str:
    return str(value).translate(_CONTROLS)


def _sub(parent: common.Subparsers, name: str, help_: str, func: Any) -> argparse.ArgumentParser:
    p = parent.add_parser(name, help=help_, description=help_)
    p.set_defaults(func=func)
    return p


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value}") from None


def register(sub: common.Subparsers) -> None:
    tasks = sub.add_parser("tasks", help="the task inbox (agenda)", description="the task inbox (agenda)")
    tasks.set_defaults(func=lambda _a: common.usage(tasks))
    t = tasks.add_subparsers(title="tasks commands", metavar="COMMAND")
    ls = _sub(t, "list", "open tasks by due date", cmd_list)
    who = ls.add_mutually_exclusive_group()
    who.add_argument("--mine", action="store_true", help="only the acting user's own tasks")
    who.add_argument("--of", metavar="NAME", help="one user's tasks (supervisors)")
    ls.add_argument("--due", choices=("today", "overdue", "week"), help="today (with the overdue), overdue, week")
    ls.add_argument("--json", action="store_true")
    done = _sub(t, "done", "complete a task with its outcome", cmd_done)
    done.add_argument("id", type=_int)
    done.add_argument("--outcome", required=True)
    move = _sub(t, "move", "move a task's due date, with the reason", cmd_move)
    move.add_argument("id", type=_int)
    move.add_argument("--to", required=True, metavar="YYYY-MM-DD")
    move.add_argument("--reason", required=True)
    assign = _sub(t, "assign", "give a task to a user (supervisors; anyone to themselves)", cmd_assign)
    assign.add_argument("id", type=_int)
    assign.add_argument("to_user", metavar="USER")

    consult = sub.add_parser(
        "consult",
        help="consultations with advisers and special management",
        description="consultations with advisers and special management",
    )
    consult.set_defaults(func=lambda _a: common.usage(consult))
    c = consult.add_subparsers(title="consult commands", metavar="COMMAND")
    ask = _sub(c, "ask", "ask the client's adviser or special management about a case", cmd_ask)
    ask.add_argument("case", type=_int)
    ask.add_argument("--to", required=True, metavar="USER")
    ask.add_argument("--question", required=True)
    ans = _sub(c, "answer", "answer a consultation asked of you", cmd_answer)
    ans.add_argument("id", type=_int)
    ans.add_argument("--answer", required=True)
    cl = _sub(c, "list", "the consultations asked of you, or a case's", cmd_consult_list)
    cl.add_argument("--case", type=_int)
    cl.add_argument("--json", action="store_true")

    discuss = sub.add_parser(
        "discuss", help="the team meeting's discussion list", description="the team meeting's discussion list"
    )
    discuss.set_defaults(func=lambda _a: common.usage(discuss))
    d = discuss.add_subparsers(title="discuss commands", metavar="COMMAND")
    da = _sub(d, "add", "put a case on the discussion list with a question", cmd_discuss_add)
    da.add_argument("case", type=_int)
    da.add_argument("--question", required=True)
    dl = _sub(d, "list", "the open items", cmd_discuss_list)
    dl.add_argument("--json", action="store_true")
    dd = _sub(d, "decide", "record the meeting's decision (supervisors); each --action becomes a task", cmd_decide)
    dd.add_argument("id", type=_int)
    dd.add_argument("--decision", required=True)
    dd.add_argument("--action", action="append", default=[], metavar="USER:YYYY-MM-DD:WHAT")


def _run(args: argparse.Namespace, work: Any) -> Any:
    settings = common.settings(args)
    with common.database(settings) as db:
        return work(common.context(args, db), Translator(settings.lang))


def cmd_list(args: argparse.Namespace) -> int:
    from incasso_tui.services.inbox import list_tasks

    def work(ctx: Any, tr: Translator) -> int:
        user = ctx.actor.name if args.mine else args.of
        rows = list_tasks(ctx, user=user, due=args.due)
        today = ctx.clock.today()
        if args.json:
            print(
                json.dumps(
                    [
                        {
                            "id": r.id,
                            "case_id": r.case_id,
                            "client": r.client_name,
                            "kind": r.kind,
                            "title": task_title(tr, r.subject, r.subject_params, r.title),
                            "subject": r.subject,
                            "subject_params": r.subject_params,
                            "due_date": r.due_date.isoformat(),
                            "bucket": r.bucket(today),
                            "assignee": r.assignee,
                            "created_by": r.created_by,
                            "ref": r.ref,
                        }
                        for r in rows
                    ],
                    ensure_ascii=False,
                )
            )
            return 0
        if not rows:
            print(tr(N_("No open tasks")))
        for r in rows:
            print(
                f"{r.id:>7}  {tr.date(r.due_date)}  {tr(TASK_BUCKET[r.bucket(today)]):<12} "
                f"{tr(TASK_KIND.get(r.kind, r.kind)):<22} {_plain(r.assignee or '-'):<10} "
                f"{_plain(r.client_name)[:28]:<28}  {_plain(task_title(tr, r.subject, r.subject_params, r.title))[:60]}"
            )
        return 0

    return int(_run(args, work))


def cmd_done(args: argparse.Namespace) -> int:
    from incasso_tui.services.inbox import complete_task

    def work(ctx: Any, tr: Translator) -> int:
        complete_task(ctx, args.id, args.outcome)
        print(tr(N_("Task {id} done"), id=str(args.id)))
        return 0

    return int(_run(args, work))


def cmd_move(args: argparse.Namespace) -> int:
    from incasso_tui.services.inbox import move_task

    def work(ctx: Any, tr: Translator) -> int:
        to = common.parse_date(args.to)
        move_task(ctx, args.id, to, args.reason)
        print(tr(N_("Task {id} moved to {day}"), id=str(args.id), day=to))
        return 0

    return int(_run(args, work))


def cmd_assign(args: argparse.Namespace) -> int:
    from incasso_tui.services.inbox import assign_task

    def work(ctx: Any, tr: Translator) -> int:
        assign_task(ctx, args.id, args.to_user)
        print(tr(N_("Task {id} given to {name}"), id=str(args.id), name=args.to_user))
        return 0

    return int(_run(args, work))


def cmd_ask(args: argparse.Namespace) -> int:
    from incasso_tui.services.consultations import ask

    def work(ctx: Any, tr: Translator) -> int:
        cid = ask(ctx, args.case, args.to, args.question)
        print(tr(N_("Consultation {id} asked of {name}"), id=str(cid), name=args.to))
        return 0

    return int(_run(args, work))


def cmd_answer(args: argparse.Namespace) -> int:
    from incasso_tui.services.consultations import answer

    def work(ctx: Any, tr: Translator) -> int:
        answer(ctx, args.id, args.answer)
        print(tr(N_("Consultation {id} answered"), id=str(args.id)))
        return 0

    return int(_run(args, work))


def cmd_consult_list(args: argparse.Namespace) -> int:
    from incasso_tui.services.consultations import consultations

    def work(ctx: Any, tr: Translator) -> int:
        rows = consultations(ctx, case_id=args.case, mine=args.case is None)
        if args.json:
            print(
                json.dumps(
                    [
                        {
                            "id": r.id,
                            "case_id": r.case_id,
                            "client": r.client_name,
                            "asked_by": r.asked_by,
                            "asked_of": r.asked_of,
                            "question": r.question,
                            "asked_at": r.asked_at.isoformat(),
                            "status": r.status,
                            "answer": r.answer,
                        }
                        for r in rows
                    ],
                    ensure_ascii=False,
                )
            )
            return 0
        if not rows:
            print(tr(N_("No consultations")))
        for r in rows:
            print(
                f"{r.id:>5}  {tr.datetime(r.asked_at)}  {_plain(r.asked_by)} -> {_plain(r.asked_of)}  "
                f"{_plain(r.client_name)[:28]}: {_plain(r.question)}"
            )
            if r.answer:
                print(f"       {tr(N_('Answer'))}: {_plain(r.answer)}")
        return 0

    return int(_run(args, work))


def cmd_discuss_add(args: argparse.Namespace) -> int:
    from incasso_tui.services.discussion import raise_item

    def work(ctx: Any, tr: Translator) -> int:
        item = raise_item(ctx, args.case, args.question)
        print(tr(N_("Case {case} is on the discussion list (item {id})"), case=str(args.case), id=str(item)))
        return 0

    return int(_run(args, work))


def cmd_discuss_list(args: argparse.Namespace) -> int:
    from incasso_tui.services.discussion import items

    def work(ctx: Any, tr: Translator) -> int:
        rows = items(ctx)
        if args.json:
            print(
                json.dumps(
                    [
                        {
                            "id": r.id,
                            "case_id": r.case_id,
                            "client": r.client_name,
                            "question": r.question,
                            "raised_by": r.raised_by,
                            "raised_at": r.raised_at.isoformat(),
                        }
                        for r in rows
                    ],
                    ensure_ascii=False,
                )
            )
            return 0
        if not rows:
            print(tr(N_("Nothing on the discussion list")))
        for r in rows:
            print(
                f"{r.id:>5}  {tr.datetime(r.raised_at)}  {_plain(r.raised_by):<10} {_plain(r.client_name)[:28]:<28}  "
                f"{_plain(r.question)}"
            )
        return 0

    return int(_run(args, work))


def parse_action(text: str) -> Any:
    """``USER:YYYY-MM-DD:WHAT`` -> services.discussion.Action."""
    from incasso_tui.services.discussion import Action

    parts = text.split(":", 2)
    if len(parts) != 3 or not parts[0].strip() or not parts[2].strip():
        raise BadInput(N_("An action is USER:YYYY-MM-DD:WHAT, not {text}"), field="action", text=text)
    return Action(parts[0].strip(), parts[2].strip(), common.parse_date(parts[1].strip()))


def cmd_decide(args: argparse.Namespace) -> int:
    from incasso_tui.services.discussion import decide

    def work(ctx: Any, tr: Translator) -> int:
        tasks = decide(ctx, args.id, args.decision, [parse_action(a) for a in args.action])
        print(tr(N_("Decision recorded; tasks: {ids}"), ids=", ".join(str(t) for t in tasks) or "-"))
        return 0

    return int(_run(args, work))
