"""Users and roles.

The TUI acts as a registered user (``--user``, default the OS user name). The ``incasso users`` commands are
operator commands: whoever can reach the database URL can already change anything in it, so they run as
``cli:<os user>`` (recorded in the audit trail) instead of pretending to check a role.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from incasso_tui.clock import Clock
from incasso_tui.domain.enums import Role
from incasso_tui.errors import N_, BadInput, NotFound, RuleViolation
from incasso_tui.services import audit
from incasso_tui.services.context import Actor
from incasso_tui.store.db import Database
from incasso_tui.store.models import User


@dataclass(frozen=True)
class UserInfo:
    name: str
    full_name: str
    role: str
    language: str
    active: bool
    os_user: str | None = None  # the OS account the user is bound to (services.identity)


def _info(u: User) -> UserInfo:
    return UserInfo(u.name, u.full_name, u.role, u.language, u.active, u.os_user)


def _check_login(s: Session, os_user: str | None, name: str) -> str | None:
    if os_user is None:
        return None
    login = os_user.strip()
    if not login or not login.replace("-", "").replace("_", "").replace(".", "").isalnum() or len(login) > 64:
        raise BadInput(N_("An OS account name is letters, digits, '-', '_' or '.': {login}"), login=login)
    other = s.scalar(select(User.name).where(User.os_user == login, User.name != name))
    if other is not None:
        raise RuleViolation(N_("The OS account {login} is bound to {name} already"), login=login, name=other)
    return login


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise BadInput(
            N_("Unknown role {role}: use one of {roles}"), role=value, roles=", ".join(r.value for r in Role)
        ) from None


def resolve_actor(db: Database, name: str) -> Actor:
    """The registered, active user ``name``; an unknown user gets a line telling how to add one."""
    with db.reader() as s:
        user = s.scalar(select(User).where(User.name == name))
    if user is None:
        raise NotFound(N_("Unknown user {name}: add one with 'incasso users add {name} --role employee'"), name=name)
    if not user.active:
        raise RuleViolation(N_("User {name} is disabled"), name=name)
    return Actor(id=user.id, name=user.name, full_name=user.full_name, role=Role(user.role), language=user.language)


def list_users(db: Database) -> list[UserInfo]:
    with db.reader() as s:
        return [_info(u) for u in s.scalars(select(User).order_by(User.name))]


def _get(s: Session, name: str) -> User:
    user = s.scalar(select(User).where(User.name == name))
    if user is None:
        raise NotFound(N_("Unknown user {name}"), name=name)
    return user


def add_user(
    db: Database,
    clock: Clock,
    operator: str,
    name: str,
    role: str,
    full_name: str | None = None,
    language: str = "nl",
    os_user: str | None = None,
) -> UserInfo:
    role_ = parse_role(role)
    if not name or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise BadInput(N_("A user name is letters, digits, '-', '_' or '.': {name}"), name=name)
    if language not in ("nl", "en"):
        raise BadInput(N_("Language must be nl or en, not {language}"), language=language)
    with db.transaction() as s:
        if s.scalar(select(User.id).where(User.name == name)) is not None:
            raise RuleViolation(N_("User {name} exists already"), name=name)
        login = _check_login(s, os_user, name)
        user = User(
            name=name,
            full_name=full_name or name,
            role=role_.value,
            language=language,
            active=True,
            created_at=clock.now(),
            os_user=login,
        )
        s.add(user)
        s.flush()
        audit.record(
            s,
            at=clock.now(),
            actor=operator,
            action="user.add",
            entity="user",
            entity_id=user.id,
            after={"name": name, "role": role_.value, "language": language, "os_user": login},
        )
        return _info(user)


def disable_user(db: Database, clock: Clock, operator: str, name: str) -> UserInfo:
    with db.transaction() as s:
        user = _get(s, name)
        if not user.active:
            raise RuleViolation(N_("User {name} is disabled already"), name=name)
        user.active = False
        audit.record(
            s,
            at=clock.now(),
            actor=operator,
            action="user.disable",
            entity="user",
            entity_id=user.id,
            before={"active": True},
            after={"active": False},
        )
        return _info(user)


def bind_user(db: Database, clock: Clock, operator: str, name: str, os_user: str | None) -> UserInfo:
    """Bind the desk user ``name`` to the OS account ``os_user`` (None: unbind; then the account of the same name)."""
    with db.transaction() as s:
        user = _get(s, name)
        login = _check_login(s, os_user, name)
        before = user.os_user
        user.os_user = login
        audit.record(
            s,
            at=clock.now(),
            actor=operator,
            action="user.bind",
            entity="user",
            entity_id=user.id,
            before={"os_user": before},
            after={"os_user": login},
        )
        return _info(user)
