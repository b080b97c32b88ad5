"""The real ``incasso documents`` commands (issues 12 and 19): a rendered letter listed, shown, copied to print."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from sqlalchemy import select

from incasso_tui.services.letters import render_pending
from incasso_tui.store.db import Database
from incasso_tui.store.models import Case, Client
from tests.conftest import AS_OF, NOW
from tests.e2e.test_cli import one_line_error, run
from tests.letter_samples import LENDER, add_pending_letter

LENDER_ENV = {f"INCASSO_LENDER_{k.upper()}": str(v) for k, v in LENDER.model_dump(exclude={"display_name"}).items()}


def test_a_rendered_letter_is_listed_shown_and_copied(sqlite_template: str, tmp_path: Path) -> None:
    path = tmp_path / "book.db"
    shutil.copy(sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    from incasso_tui.clock import FixedClock
    from incasso_tui.config import Settings
    from incasso_tui.services.context import Context
    from incasso_tui.services.users import resolve_actor

    settings = Settings(
        letters_dir=tmp_path / "outbox",  # type: ignore[arg-type]
        **{f"lender_{k}": v for k, v in LENDER.model_dump(exclude={"display_name"}).items()},
    )
    ctx = Context(db=db, actor=resolve_actor(db, "demo"), clock=FixedClock(NOW), settings=settings)
    with db.reader() as s:
        case = s.scalars(select(Case).where(Case.status == "active", Case.pos_arrears > 0).order_by(Case.id)).first()
        assert case is not None
        number = s.scalar(select(Client.number).where(Client.id == case.client_id))
    add_pending_letter(db, case.id, case.client_id)
    render_pending(ctx)
    db.dispose()
    book = ["--db", f"sqlite:///{path}", "--date", AS_OF.isoformat()]
    env = {"INCASSO_EXPORT_DIR": str(tmp_path / "exports"), **LENDER_ENV}
    listed = json.loads(run("documents", "list", str(number), *book, "--json", env=env).stdout)
    letters = [d for d in listed if d["letter"] is not None]
    assert letters and letters[-1]["letter"]["kind"] == "reminder" and letters[-1]["on_disk"] is True
    assert letters[-1]["letter"]["status"] == "rendered" and letters[-1]["letter"]["dispatched_on"] is None
    doc_id = str(letters[-1]["id"])
    shown = run("documents", "show", doc_id, *book, "--lang", "nl", env=env)
    assert shown.returncode == 0 and "Wacht op een printbatch" in shown.stdout
    copied = json.loads(
        run("documents", "copy", doc_id, "--out", "brief.pdf", *book, "--user", "demo", "--json", env=env).stdout
    )
    assert Path(copied["file"]) == tmp_path / "exports" / "brief.pdf"
    assert (tmp_path / "exports" / "brief.pdf").read_bytes()[:5] == b"%PDF-"
    again = run("documents", "copy", doc_id, "--out", "brief.pdf", *book, "--user", "demo", env=env)
    assert again.returncode == 2 and "bestaat al" in one_line_error(again)
    missing = run("documents", "show", "999999", *book, env=env)
    assert missing.returncode == 2 and "999999" in one_line_error(missing)
