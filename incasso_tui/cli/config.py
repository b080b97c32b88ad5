"""``incasso config path`` and ``incasso config show``: where the settings file is, and every setting in force."""

from __future__ import annotations

import argparse

from incasso_tui.cli import common
from incasso_tui.safetext import safe

__all__ = ["register"]


def register(sub: common.Subparsers) -> None:
    config = sub.add_parser("config", help="the settings: where the file is, and what is in force")
    config_sub = config.add_subparsers(dest="config_cmd", required=True)
    c_path = config_sub.add_parser("path", help="print the path of the config file (INCASSO_CONFIG or the default)")
    c_path.add_argument("--json", action="store_true", help="print JSON")
    c_path.set_defaults(func=cmd_config_path)
    c_show = config_sub.add_parser(
        "show", help="print every setting in force (file, INCASSO_* environment, options); passwords masked"
    )
    c_show.add_argument("--json", action="store_true", help="print JSON")
    c_show.set_defaults(func=cmd_config_show)


def cmd_config_path(args: argparse.Namespace) -> int:
    from incasso_tui.config import config_path

    path = config_path()
    if args.json:
        common.print_json({"path": str(path), "exists": path.is_file()})
    else:
        print(path)
    return 0


def cmd_config_show(args: argparse.Namespace) -> int:
    """Every setting in force; a secret is shown as ``********`` (set) or null (not set), never its value."""
    from pydantic import SecretStr
    from sqlalchemy.engine import make_url

    settings = common.settings(args)
    shown: dict[str, object] = settings.model_dump(mode="json")  # paths, amounts and lists as JSON gives them
    for name in shown:
        if isinstance(getattr(settings, name), SecretStr):
            shown[name] = "********"
    shown["db_url"] = make_url(settings.db_url).render_as_string(hide_password=True)  # a PostgreSQL password: ***
    if args.json:
        common.print_json(shown)
    else:
        for name, value in shown.items():
            print(f"{name} = {safe(str(value)) if value is not None else '-'}")
    return 0
