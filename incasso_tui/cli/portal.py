"""``incasso portal code`` and ``incasso serve portal`` (issue 21: services.portal, incasso_tui.portal).

- ``portal code --client NUMBER | --loan NUMBER [--json]``: a new personal link with its one-time code for the
  client (the older links stop working). Acts as ``--user`` (the desk). The code is shown once: only its hash is
  kept.
- ``portal birth-date --client NUMBER YYYY-MM-DD``: record a natural person's date of birth (it confirms the login;
  a business confirms with its KvK number).
- ``serve portal [--host H] [--port P] [--insecure-cookies] [--trusted-proxy ADDR]``: the web page for clients,
  behind a TLS reverse proxy (README "The client's portal"). ``--insecure-cookies`` (cookies without ``Secure``,
  for plain http) is refused unless the server listens on the loopback address only.
"""

from __future__ import annotations

import argparse
import ipaddress
import json

from incasso_tui.cli import common
from incasso_tui.errors import N_, BadInput
from incasso_tui.i18n import Translator

__all__ = ["register"]


def register(sub: common.Subparsers) -> None:
    portal = sub.add_parser("portal", help="the client's portal: personal links", description="the client's portal")
    portal.set_defaults(func=lambda _a: common.usage(portal))
    p = portal.add_subparsers(title="portal commands", metavar="COMMAND")
    code = p.add_parser(
        "code",
        help="a new personal link with a one-time code for a client",
        description="a new personal link with a one-time code for a client (older links stop working)",
    )
    who = code.add_mutually_exclusive_group(required=True)
    who.add_argument("--client", metavar="NUMBER")
    who.add_argument("--loan", metavar="NUMBER")
    code.add_argument("--json", action="store_true")
    code.set_defaults(func=cmd_code)
    born = p.add_parser(
        "birth-date",
        help="record a client's date of birth (it confirms the portal login)",
        description="record a natural person's date of birth: it confirms their portal login",
    )
    born.add_argument("--client", metavar="NUMBER", required=True)
    born.add_argument("day", metavar="YYYY-MM-DD")
    born.set_defaults(func=cmd_birth_date)

    serve_sub = common.commands_of(sub, "serve")  # `serve portal` joins `serve ssh` and `serve openssh`
    web = serve_sub.add_parser(
        "portal",
        help="the client's self-service web page (behind a TLS reverse proxy)",
        description="The client's self-service web page. Run it behind a reverse proxy "
        "that terminates TLS (README: The client's portal).",
    )
    web.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    web.add_argument("--port", type=int, default=8021, help="port (default 8021)")
    web.add_argument(
        "--insecure-cookies",
        action="store_true",
        help="cookies without Secure, for plain-http tests: only with --host 127.0.0.1",
    )
    web.add_argument(
        "--trusted-proxy",
        metavar="ADDR",
        default="127.0.0.1",
        help="the proxy whose X-Forwarded-For is believed (default 127.0.0.1)",
    )
    web.set_defaults(func=cmd_serve)


def cmd_code(args: argparse.Namespace) -> int:
    from incasso_tui.services.portal import issue_link

    settings = common.settings(args)
    with common.database(settings) as db:
        ctx = common.context(args, db)
        link = issue_link(ctx, client_number=args.client, loan_number=args.loan)
    if args.json:
        print(
            json.dumps(
                {
                    "link_id": link.link_id,
                    "client": link.client_number,
                    "url": link.url,
                    "code": link.code,
                    "expires_at": link.expires_at.isoformat(timespec="minutes"),
                    "confirm_with": link.confirm_with,
                }
            )
        )
        return 0
    tr = Translator(settings.lang)
    print(tr(N_("Personal link for {client}: {url}"), client=link.client_number, url=link.url))
    print(tr(N_("One-time code: {code} (valid until {until}; shown only now)"), code=link.code, until=link.expires_at))
    return 0


def cmd_birth_date(args: argparse.Namespace) -> int:
    from incasso_tui.services.portal import set_birth_date

    day = common.parse_date(args.day, "birth_date")
    settings = common.settings(args)
    with common.database(settings) as db:
        set_birth_date(common.context(args, db), args.client, day)
    return 0


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from incasso_tui.portal.app import create_app

    if not 0 < args.port <= 65535:
        raise BadInput(N_("Not a port number: {port}"), port=str(args.port))
    overrides = {"portal_secure_cookies": False} if args.insecure_cookies else {}
    settings = common.settings(args).model_copy(update=overrides)
    if not settings.portal_secure_cookies and not _loopback(args.host):  # the flag or the setting
        raise BadInput(N_("Cookies without Secure only on the loopback address (--host 127.0.0.1)"), field="host")
    with common.database(settings) as db:
        from incasso_tui.domain.enums import Role
        from incasso_tui.services.context import Actor, Context

        # the portal's own context: the client acts per request (services.portal.client_actor)
        ctx = Context(
            db=db,
            actor=Actor(0, "portal", "portal", Role.AUDITOR, settings.lang, identified_by="portal"),
            clock=common.clock(args),
            settings=settings,
        )
        uvicorn.run(
            create_app(ctx),
            host=args.host,
            port=args.port,
            proxy_headers=True,
            forwarded_allow_ips=args.trusted_proxy,
            server_header=False,
            log_level="info",
            access_log=False,
        )  # an access log would keep the links' tokens (the URL path)
    return 0
