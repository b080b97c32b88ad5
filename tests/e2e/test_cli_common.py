"""The common options (--db, --demo, --lang, --user, --date) on every command (issue 17), and --demo for the demo book."""

from __future__ import annotations

from pathlib import Path

from incasso_tui.cli import build_parser
from incasso_tui.cli.common import COMMON, leaf_parsers
from tests.e2e.test_cli import one_line_error, run


def test_every_command_takes_the_common_options() -> None:
    leaves = [leaf for leaf in leaf_parsers(build_parser()) if leaf.prog != "incasso"]
    assert len(leaves) > 60  # every command of the program, not a handful
    lacking = {leaf.prog: [o for o in COMMON if o not in leaf._option_string_actions] for leaf in leaves}
    assert not {prog: missing for prog, missing in lacking.items() if missing}


def test_calc_speaks_english_on_request_and_demo_names_the_demo_book(tmp_path: Path) -> None:
    english = run("calc", "incassokosten", "1000", "--lang", "en")
    assert english.returncode == 0 and "collection costs" in english.stdout
    dutch = run("calc", "incassokosten", "1000")
    assert dutch.returncode == 0 and "incassokosten" in dutch.stdout
    env = {"XDG_DATA_HOME": str(tmp_path / "data")}
    missing = run("users", "list", env=env)  # no incasso.db: the message names --demo
    assert "--demo" in one_line_error(missing)
    both = run("users", "list", "--demo", "--db", str(tmp_path / "x.db"), env=env)
    assert "--db of --demo" in one_line_error(both)
    demo = run("users", "list", "--demo", env=env)  # no demo book either: said for the demo book's own path
    assert str(tmp_path / "data" / "incasso-tui" / "demo.db") in one_line_error(demo)


def test_config_path_and_show_mask_the_secrets(tmp_path: Path) -> None:
    import json

    config = tmp_path / "config.toml"
    config.write_text('lang = "en"\n', encoding="utf-8")
    env = {
        "INCASSO_CONFIG": str(config),
        "INCASSO_SMTP_HOST": "mail.example.nl",
        "INCASSO_SMTP_FROM": "a@b.nl",
        "INCASSO_SMTP_USER": "u",
        "INCASSO_SMTP_PASSWORD": "geheim-wachtwoord",
        "INCASSO_DB_URL": "postgresql+psycopg://incasso:pg-geheim@db.example.nl/book",
    }
    assert json.loads(run("config", "path", "--json", env=env).stdout) == {"path": str(config), "exists": True}
    shown = run("config", "show", "--json", env=env)
    assert shown.returncode == 0
    values = json.loads(shown.stdout)
    assert values["lang"] == "en" and values["smtp_password"] == "********" and values["smtp_user"] == "u"
    assert values["db_url"] == "postgresql+psycopg://incasso:***@db.example.nl/book"
    text = run("config", "show", env=env).stdout
    assert "geheim" not in shown.stdout + text and "smtp_host = mail.example.nl" in text
