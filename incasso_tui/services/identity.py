"""Who is at the keyboard: a desk user is bound to an identity, so four eyes cannot rest on a ``--user`` anyone types.

- **Locally** a desk user is the OS account recorded for them (``incasso users add NAME --os-user LOGIN``, or
  ``incasso users bind NAME LOGIN``); a user without a recorded account is the OS account of the same name.
  The OS account is the real one of the process (``getpwuid(getuid())``), not ``$USER`` or ``$LOGNAME``,
  which anyone can set. Without ``--user`` the app acts as the desk user of the OS account.
- ``--user`` for **another** desk user is for an operator only: the superuser, or an OS account bound to an
  enabled admin. An operator can read and write the database anyway; what the app records is that the operator
  acted (``operator:LOGIN``), not that the desk user did.
- **Over SSH** the key decides, as before: the built-in server runs as an operator account (it refuses to start
  otherwise) and starts each session as the key's owner, labelled ``ssh-key:SHA256:...``; a forced command of
  OpenSSH (``incasso serve openssh``) runs as the login's OS account: the user's own, or a shared operator account
  whose ``authorized_keys`` line names the user.

Every approval records the actor's identification (``Actor.identified_by``) in its audit event.
"""

from __future__ import annotations

import os
import pwd
from dataclasses import replace

from sqlalchemy import select

from incasso_tui.domain.enums import Role
from incasso_tui.errors import N_, NotAllowed, NotFound
from incasso_tui.services.context import Actor
from incasso_tui.services.users import resolve_actor
from incasso_tui.store.db import Database
from incasso_tui.store.models import User

# set by the SSH front ends for the session they start (honoured only for an operator account)
VIA_ENV = "INCASSO_IDENTIFIED_BY"
_VIA_PREFIXES = ("ssh-key:", "sshd:")


def os_login() -> str:
    """The OS account this process runs as (its real uid: environment variables can be set by anyone)."""
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:  # a uid without a passwd entry (a container): its number
        return str(os.getuid())


def is_operator(db: Database, login: str) -> bool:
    """The superuser, or an OS account bound to an enabled admin."""
    if login == "root":
        return True
    with db.reader() as s:
        role = s.scalar(select(User.role).where(User.os_user == login, User.active.is_(True)))
    return role == Role.ADMIN.value


def _bound_user(db: Database, login: str) -> str | None:
    """The desk user of the OS account ``login``: the one bound to it, else the unbound one of that name."""
    with db.reader() as s:
        bound = s.scalar(select(User.name).where(User.os_user == login))
        if bound is not None:
            return bound
        return s.scalar(select(User.name).where(User.name == login, User.os_user.is_(None)))


def identify(db: Database, requested: str | None, login: str, via: str | None = None) -> Actor:
    """The actor for a session or a command of the OS account ``login`` asking to act as ``requested`` (``--user``;
    None: the account's own desk user). Refused, in one line, when the account may not act as that user."""
    operator = is_operator(db, login)
    if requested is None:
        own = _bound_user(db, login)
        if own is None:
            raise NotFound(
                N_(
                    "No desk user for the OS account {login}: add one with "
                    "'incasso users add NAME --role employee --os-user {login}'"
                ),
                login=login,
            )
        requested = own
    actor = resolve_actor(db, requested)  # unknown or disabled: its own line
    with db.reader() as s:
        bound_to = s.scalar(select(User.os_user).where(User.id == actor.id))
    if bound_to == login or (bound_to is None and actor.name == login):
        how = f"os:{login}"
    elif operator:
        how = f"operator:{login}"
    else:
        raise NotAllowed(
            N_(
                "The OS account {login} may not act as {name}: --user for another desk user is for an "
                "operator (see 'incasso users bind')"
            ),
            login=login,
            name=actor.name,
        )
    if via and operator and via.startswith(_VIA_PREFIXES):  # the SSH front end says how the login was checked
        how = via
    return replace(actor, identified_by=how)
