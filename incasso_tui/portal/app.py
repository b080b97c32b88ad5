"""The client's portal as a Starlette application (issue 21): server-rendered Jinja2 pages, no JavaScript, Dutch and
English from the project's catalogs. Every decision is ``services.portal``'s; this module reads forms, keeps the
per-address limit, sets cookies and headers and renders.

Security, in one place:
- cookies ``HttpOnly``, ``SameSite=Strict`` and ``Secure`` (``portal_secure_cookies``; off only for plain-http
  tests on 127.0.0.1, which ``incasso serve portal`` enforces);
- every POST carries a CSRF token: the session's, or before login a double-submit token (a cookie and the same
  value in the form);
- every response has a strict Content-Security-Policy (nothing inline, no scripts at all), ``no-referrer`` (the
  link's token is in the URL), ``nosniff``, no framing and ``no-store``;
- a POST body above :data:`MAX_BODY` bytes is refused (413) before it is parsed;
- per client address at most :data:`ADDRESS_FAILURES` failed logins in :data:`ADDRESS_WINDOW` (then every login
  from it is refused, with the same message, until the window passes); per link the service locks after three.
  The address count lives in this process (run one worker, or put the limit in the proxy as well).
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from incasso_tui.domain.budget import BusinessBudget, Checked, Household, HouseholdBudget
from incasso_tui.domain.enums import ArrearsCause
from incasso_tui.domain.money import parse_amount
from incasso_tui.errors import N_, BadInput, DatabaseUnavailable, IncassoError, NotFound
from incasso_tui.i18n import Translator
from incasso_tui.services import portal as svc
from incasso_tui.services.arrangements import ArrangementInput
from incasso_tui.services.context import Context
from incasso_tui.ui import labels

__all__ = ["MAX_BODY", "create_app"]

HERE = Path(__file__).parent
MAX_BODY = 16 * 1024
ADDRESS_FAILURES = 10
ADDRESS_WINDOW = 15 * 60.0
SESSION_COOKIE = "portal_session"
PRE_CSRF_COOKIE = "portal_pre"
LANG_COOKIE = "portal_lang"
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


NOTICES = {
    "budget": N_("Thank you: we have received your income and expenses."),
    "contact": N_("Your contact details are saved."),
    "callback": N_("We will call you back on the day you chose."),
}
CONTACT_TEXT = {
    "special_management": N_("Your claim is handled by our special management department: please contact them."),
    "external": N_("Your claim is handled by the party below: please contact them about payment or an arrangement."),
    "insolvency": N_(
        "You are in a debt-relief or insolvency track: arrangements go through your administrator. "
        "For questions, contact us."
    ),
    "closed": N_("This claim is closed. For questions, contact us."),
}
HOUSEHOLD = {
    "single": N_("single"),
    "single_parent": N_("single parent"),
    "couple": N_("couple"),
    "couple_children": N_("couple with children"),
}


@dataclass
class _AddressLimit:
    """Failed logins per client address in a sliding window (this process)."""

    limit: int = ADDRESS_FAILURES
    window: float = ADDRESS_WINDOW
    clock: Callable[[], float] = time.monotonic
    failures: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))

    def blocked(self, address: str) -> bool:
        q = self.failures.get(address)
        if not q:
            return False
        horizon = self.clock() - self.window
        while q and q[0] < horizon:
            q.popleft()
        return len(q) >= self.limit

    def fail(self, address: str) -> None:
        if len(self.failures) > 50_000:  # many addresses: forget those whose window has passed (bounded memory)
            horizon = self.clock() - self.window
            for key in [k for k, q in self.failures.items() if not q or q[-1] < horizon]:
                del self.failures[key]
        self.failures[address].append(self.clock())


def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(labels=labels, notices=NOTICES, contact_text=CONTACT_TEXT, household_labels=HOUSEHOLD)
    return env


class _TooLarge(Exception):
    pass


async def _form(request: Request) -> dict[str, str]:
    """The urlencoded form, at most MAX_BODY bytes; a field given twice keeps its first value."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
        raise _TooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise _TooLarge
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=60)
    except (UnicodeDecodeError, ValueError):
        raise _TooLarge from None
    return {k: v[0] for k, v in parsed.items()}


def create_app(ctx: Context, *, address_limit: _AddressLimit | None = None) -> Starlette:
    """The portal on the database, clock and settings of ``ctx`` (its actor is not used: the client acts)."""
    env = _env()
    limit = address_limit or _AddressLimit()
    secure = ctx.settings.portal_secure_cookies

    def tr_for(request: Request, fallback: str = "nl") -> Translator:
        lang = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE) or fallback
        return Translator(lang if lang in ("nl", "en") else "nl")

    def render(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        tr = values.pop("tr", None) or tr_for(request)
        html = env.get_template(template).render(_=tr, tr=tr, lang=tr.lang, path=request.url.path, **values)
        response = HTMLResponse(html, status_code=status)
        if request.query_params.get("lang") in ("nl", "en"):
            _cookie(response, LANG_COOKIE, tr.lang, max_age=365 * 86400)
        return response

    def _cookie(response: Response, name: str, value: str, *, max_age: int | None = None, path: str = "/") -> None:
        response.set_cookie(name, value, max_age=max_age, path=path, secure=secure, httponly=True, samesite="strict")

    def address(request: Request) -> str:
        return request.client.host if request.client else "?"

    async def current(request: Request) -> svc.PortalSessionInfo | None:
        cookie = request.cookies.get(SESSION_COOKIE, "")
        return await run_in_threadpool(svc.session, ctx, cookie) if cookie else None

    def gone(request: Request) -> HTMLResponse:
        response = render(request, "ended.html", status=401)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    # ----- login

    async def link_page(request: Request) -> Response:
        token = request.path_params["token"]
        if len(token) <= 64:  # a token is 22 characters; anything longer is no link of ours
            await run_in_threadpool(svc.link_opened, ctx, token)
        pre = request.cookies.get(PRE_CSRF_COOKIE) or secrets.token_urlsafe(24)
        response = render(request, "login.html", token=token, csrf=pre, errors={}, values={})
        _cookie(response, PRE_CSRF_COOKIE, pre, max_age=3600)
        return response

    async def login(request: Request) -> Response:
        token = request.path_params["token"]
        form = await _form(request)
        pre = request.cookies.get(PRE_CSRF_COOKIE, "")
        if not pre or not hmac.compare_digest(pre.encode(), form.get("csrf", "").encode()):
            return render(request, "refused.html", status=403)
        tr = tr_for(request)
        errors: dict[str, str] = {}
        if not form.get("code", "").strip():
            errors["code"] = tr("Please fill in the code from the letter")
        if not form.get("secret", "").strip():
            errors["secret"] = tr("Please fill in your date of birth or KvK number")
        if errors:
            return render(
                request,
                "login.html",
                status=400,
                token=token,
                csrf=pre,
                errors=errors,
                values={"code": form.get("code", "")[:40]},
            )
        who = address(request)
        if limit.blocked(who):
            await run_in_threadpool(svc.refuse_blind, form.get("code", ""))  # the same work and answer
            return render(
                request,
                "login.html",
                status=400,
                token=token,
                csrf=pre,
                values={},
                errors={"form": tr(svc.LoginRefused().msgid)},
            )
        try:
            cookie, info = await run_in_threadpool(svc.login, ctx, token, form.get("code", ""), form.get("secret", ""))
        except svc.LoginRefused as refused:
            limit.fail(who)
            return render(
                request, "login.html", status=400, token=token, csrf=pre, values={}, errors={"form": tr(refused.msgid)}
            )
        response = RedirectResponse("/claim", status_code=303)
        _cookie(response, SESSION_COOKIE, cookie)
        response.delete_cookie(PRE_CSRF_COOKIE, path="/")
        return response

    async def logout(request: Request) -> Response:
        info = await current(request)
        form = await _form(request)
        if info is None:
            return gone(request)
        if not hmac.compare_digest(info.csrf.encode(), form.get("csrf", "").encode()):
            return render(request, "refused.html", status=403)
        await run_in_threadpool(svc.end_session, ctx, request.cookies.get(SESSION_COOKIE, ""))
        response = render(request, "ended.html", logged_out=True)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    # ----- pages behind the session

    def page(handler: Callable[..., Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        async def wrapped(request: Request) -> Response:
            info = await current(request)
            if info is None:
                if request.method == "POST":
                    await _form(request)  # an oversized body is refused all the same
                return gone(request)
            form: dict[str, str] = {}
            if request.method == "POST":
                form = await _form(request)
                if not hmac.compare_digest(info.csrf.encode(), form.get("csrf", "").encode()):
                    return render(request, "refused.html", status=403)
            return await handler(request, info, form)

        return wrapped

    async def load_claim(info: svc.PortalSessionInfo) -> svc.Claim:
        return await run_in_threadpool(svc.claim, ctx, info.client_id)

    def tr_client(request: Request, c: svc.Claim) -> Translator:
        return tr_for(request, c.detail.client.language)

    async def claim_page(request: Request, info: svc.PortalSessionInfo, _form_: dict[str, str]) -> Response:
        c = await load_claim(info)
        tr = tr_client(request, c)
        qr_loans = [loan.number for loan in c.detail.loans if loan.arrears.total > 0]
        qr_error = None
        if qr_loans:
            try:
                from incasso_tui.services.payment_qr import loan_payment

                loan_payment(ctx.settings, loan_number=qr_loans[0], amount=Decimal("1.00"))
            except IncassoError as err:
                qr_error = tr.error(err)
        return render(
            request,
            "claim.html",
            tr=tr,
            c=c,
            csrf=info.csrf,
            qr_loans=qr_loans,
            qr_error=qr_error,
            notice=request.query_params.get("done"),
            settings=ctx.settings,
        )

    async def qr(request: Request, info: svc.PortalSessionInfo, _f: dict[str, str]) -> Response:
        from incasso_tui.services.payment_qr import loan_payment_qr

        c = await load_claim(info)
        loan = next((loan for loan in c.detail.loans if loan.number == request.path_params["loan"]), None)
        if loan is None or loan.arrears.total <= 0:
            return PlainTextResponse("not found", status_code=404)
        try:
            code = loan_payment_qr(ctx.settings, loan_number=loan.number, amount=loan.arrears.total)
        except IncassoError:
            return PlainTextResponse("not configured", status_code=404)
        return Response(code.png, media_type="image/png")

    async def letter(request: Request, info: svc.PortalSessionInfo, _f: dict[str, str]) -> Response:
        try:
            name, pdf = await run_in_threadpool(svc.letter_pdf, ctx, info.client_id, request.path_params["id"])
        except NotFound:
            return render(request, "notfound.html", status=404)
        return Response(
            pdf, media_type="application/pdf", headers={"Content-Disposition": f'attachment; filename="{name}"'}
        )

    async def arrangement(request: Request, info: svc.PortalSessionInfo, form: dict[str, str]) -> Response:
        c = await load_claim(info)
        tr = tr_client(request, c)
        if not c.may_arrange:
            return render(
                request,
                "claim.html",
                tr=tr,
                c=c,
                csrf=info.csrf,
                qr_loans=[],
                qr_error=None,
                notice=None,
                settings=ctx.settings,
                status=409 if request.method == "POST" else 200,
            )
        errors: dict[str, str] = {}
        if request.method == "GET":
            return render(
                request,
                "arrangement.html",
                tr=tr,
                c=c,
                csrf=info.csrf,
                errors=errors,
                values={"down_payment": "0", "frequency": "monthly", "count": "6"},
            )
        given = _arrangement_input(form, tr, ctx.clock.today(), errors)
        if given is not None:
            try:
                outcome = await run_in_threadpool(svc.propose_arrangement, ctx, info.client_id, given)
            except IncassoError as err:
                _place(errors, err, tr, {"down_payment", "count", "frequency", "first_date"})
            else:
                c = await load_claim(info)
                return render(request, "arranged.html", tr=tr, c=c, outcome=outcome, csrf=info.csrf)
        return render(request, "arrangement.html", status=400, tr=tr, c=c, csrf=info.csrf, errors=errors, values=form)

    async def budget(request: Request, info: svc.PortalSessionInfo, form: dict[str, str]) -> Response:
        from incasso_tui.services.budget import BudgetInput, parts, set_budget

        c = await load_claim(info)
        tr = tr_client(request, c)
        household, business = parts(c.detail.client.kind, c.detail.client.consumer)
        shown = {"household": household, "business": business}
        errors: dict[str, str] = {}
        if request.method == "GET":
            return render(
                request,
                "budget.html",
                tr=tr,
                c=c,
                csrf=info.csrf,
                errors=errors,
                values={},
                **shown,
                households=list(Household),
                causes=list(ArrearsCause),
            )
        h = _household(form, errors, tr) if household else None
        b = _business(form, errors, tr) if business else None
        cause = None
        if form.get("cause"):
            try:
                cause = ArrearsCause(form["cause"])
            except ValueError:
                errors["cause"] = tr("Choose one of the causes")
        note = form.get("note", "").strip()
        if len(note) > 1000:
            errors["note"] = tr("At most {maximum} characters, this is {length}", maximum=1000, length=len(note))
        if not errors:
            given = BudgetInput(
                budget_date=ctx.clock.today(),
                checked=Checked.SELF_DECLARED,
                household=h,
                business=b,
                source="client",
                note=note,
                cause=cause,
            )
            try:
                cctx = await run_in_threadpool(svc.context_for, ctx, info.client_id)
                await run_in_threadpool(set_budget, cctx, info.client_id, given)
            except IncassoError as err:
                _place(errors, err, tr, {"household", "children", "note", "cause", *HOUSEHOLD_FIELDS, *BUSINESS_FIELDS})
            else:
                return RedirectResponse("/claim?done=budget", status_code=303)
        return render(
            request,
            "budget.html",
            status=400,
            tr=tr,
            c=c,
            csrf=info.csrf,
            errors=errors,
            values=form,
            households=list(Household),
            causes=list(ArrearsCause),
            **shown,
        )

    async def contact(request: Request, info: svc.PortalSessionInfo, form: dict[str, str]) -> Response:
        c = await load_claim(info)
        tr = tr_client(request, c)
        errors: dict[str, str] = {}
        if request.method == "GET":
            cl = c.detail.client
            values = {"phone": cl.phone or "", "email": cl.email or "", "consent": "1" if cl.email_consent_on else ""}
            return render(request, "contact.html", tr=tr, c=c, csrf=info.csrf, errors=errors, values=values)
        try:
            await run_in_threadpool(
                lambda: svc.set_contact(
                    ctx,
                    info.client_id,
                    phone=form.get("phone", ""),
                    email=form.get("email", ""),
                    consent=form.get("consent") == "1",
                )
            )
        except IncassoError as err:
            _place(errors, err, tr, {"phone", "email", "consent"})
            return render(request, "contact.html", status=400, tr=tr, c=c, csrf=info.csrf, errors=errors, values=form)
        return RedirectResponse("/claim?done=contact", status_code=303)

    async def callback(request: Request, info: svc.PortalSessionInfo, form: dict[str, str]) -> Response:
        c = await load_claim(info)
        tr = tr_client(request, c)
        errors: dict[str, str] = {}
        if request.method == "GET":
            return render(
                request,
                "callback.html",
                tr=tr,
                c=c,
                csrf=info.csrf,
                errors=errors,
                values={"day": (ctx.clock.today() + timedelta(days=1)).isoformat()},
            )
        day = _day(form.get("day", ""), errors, "day", tr)
        if "day" not in errors:
            try:
                await run_in_threadpool(
                    lambda: svc.request_callback(ctx, info.client_id, day=day, note=form.get("note", ""))
                )
            except IncassoError as err:
                _place(errors, err, tr, {"day", "note"})
            else:
                return RedirectResponse("/claim?done=callback", status_code=303)
        return render(request, "callback.html", status=400, tr=tr, c=c, csrf=info.csrf, errors=errors, values=form)

    async def home(request: Request) -> Response:
        return render(request, "home.html")

    routes = [
        Route("/", home),
        Route("/favicon.ico", lambda _r: Response(status_code=204)),
        Route("/l/{token}", link_page, methods=["GET"]),
        Route("/l/{token}", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/claim", page(claim_page), methods=["GET"]),
        Route("/qr/{loan}.png", page(qr), methods=["GET"]),
        Route("/letters/{id:int}.pdf", page(letter), methods=["GET"]),
        Route("/arrangement", page(arrangement), methods=["GET", "POST"]),
        Route("/budget", page(budget), methods=["GET", "POST"]),
        Route("/contact", page(contact), methods=["GET", "POST"]),
        Route("/callback", page(callback), methods=["GET", "POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]

    async def too_large(_request: Request, _exc: Exception) -> Response:
        return PlainTextResponse("Request too large", status_code=413)

    async def unavailable(request: Request, _exc: Exception) -> Response:
        # the database did not answer in time (busy, down): a page that says so, never a traceback
        return render(request, "busy.html", status=503)

    extra = {b"strict-transport-security": b"max-age=31536000"} if secure else {}
    return Starlette(
        routes=routes,
        exception_handlers={_TooLarge: too_large, SQLAlchemyError: unavailable, DatabaseUnavailable: unavailable},
        middleware=[Middleware(_SecurityHeaders, extra=extra)],
    )


class _SecurityHeaders:
    """The security headers on every response (pure ASGI: it sees the response's start)."""

    def __init__(self, app: ASGIApp, extra: dict[bytes, bytes]) -> None:
        self.app = app
        self.extra = extra

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in (*_HEADERS.items(), *self.extra.items()):
                    headers[name.decode()] = value.decode()
                if not static:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, sending)


_HEADERS = {
    b"content-security-policy": CSP.encode(),
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"no-referrer",
    b"x-frame-options": b"DENY",
    b"cross-origin-opener-policy": b"same-origin",
    b"permissions-policy": b"camera=(), microphone=(), geolocation=()",
}


# ----- reading the forms: every refusal at its field


def _place(errors: dict[str, str], err: IncassoError, tr: Translator, fields: set[str]) -> None:
    """The service's refusal at the form's field it names; one the form has no field for goes on top."""
    errors[err.field if err.field in fields else "form"] = tr.error(err)


def _amount(form: dict[str, str], name: str, errors: dict[str, str], tr: Translator) -> Decimal:
    text = form.get(name, "").strip()
    if not text:  # an empty amount is none
        return Decimal("0.00")
    try:
        return parse_amount(text)
    except BadInput as err:
        errors[name] = tr.error(err)
        return Decimal("0.00")


def _int(form: dict[str, str], name: str, errors: dict[str, str], tr: Translator, low: int, high: int) -> int:
    text = form.get(name, "").strip()
    if not text.isdigit() or not low <= int(text) <= high:
        errors[name] = tr("A whole number from {low} to {high}", low=low, high=high)
        return low
    return int(text)


def _day(text: str, errors: dict[str, str], name: str, tr: Translator) -> date | None:
    text = text.strip()
    for sep_order in ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y"):
        try:
            from datetime import datetime

            return datetime.strptime(text, sep_order).date()
        except ValueError:
            continue
    errors[name] = tr("Not a date: write it as DD-MM-YYYY")
    return None


def _arrangement_input(
    form: dict[str, str], tr: Translator, today: date, errors: dict[str, str]
) -> ArrangementInput | None:
    down = _amount(form, "down_payment", errors, tr)
    first = _day(form.get("first_date", ""), errors, "first_date", tr)
    count = _int(form, "count", errors, tr, 1, 120)
    try:
        freq = svc.frequency(form.get("frequency", ""))
    except BadInput as err:
        errors["frequency"] = tr.error(err)
        return None
    if first is not None and first < today:
        errors["first_date"] = tr("The date may not be in the past")
    if errors or first is None:
        return None
    return ArrangementInput(down_payment=down, first_date=first, frequency=freq, count=count)


HOUSEHOLD_FIELDS = (
    "salary",
    "benefits",
    "partner",
    "drawings",
    "housing",
    "housing_allowance",
    "health",
    "health_allowance",
    "fixed",
)
BUSINESS_FIELDS = ("revenue", "costs", "business_drawings", "tax_reservation")


def _household(form: dict[str, str], errors: dict[str, str], tr: Translator) -> HouseholdBudget | None:
    try:
        kind = Household(form.get("household", ""))
    except ValueError:
        errors["household"] = tr("Choose your household")
        kind = Household.SINGLE
    children = _int(form, "children", errors, tr, 0, 20)
    amounts: dict[str, Any] = {name: _amount(form, name, errors, tr) for name in HOUSEHOLD_FIELDS}
    if not any(amounts[n] for n in ("salary", "benefits", "partner", "drawings")) and "salary" not in errors:
        errors["salary"] = tr("Fill in at least one income")
    return HouseholdBudget(household=kind, children=children, **amounts)


def _business(form: dict[str, str], errors: dict[str, str], tr: Translator) -> BusinessBudget | None:
    revenue = _amount(form, "revenue", errors, tr)
    costs = _amount(form, "costs", errors, tr)
    drawings = _amount(form, "business_drawings", errors, tr)
    tax = _amount(form, "tax_reservation", errors, tr)
    return BusinessBudget(revenue=revenue, costs=costs, drawings=drawings, tax_reservation=tax)
