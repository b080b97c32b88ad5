"""What every service call needs: the database, who is acting, the clock and the settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from incasso_tui.clock import Clock
from incasso_tui.config import Settings
from incasso_tui.domain.enums import Role
from incasso_tui.errors import N_, NotAllowed
from incasso_tui.store.db import Database
from incasso_tui.store.models import User


@dataclass(frozen=True)
class Actor:
    id: int  # 0: the operator ``cli:<os user>`` of a batch command, who has no row in the users table
    name: str
    full_name: str
    role: Role
    language: str
    # how the person was identified (services.identity): "os:LOGIN" (the OS account recorded for the user),
    # "operator:LOGIN" (an operator acting as this user), "ssh-key:SHA256:..." (the built-in SSH server), or
    # "direct" (built in code: tests, tools)
    identified_by: str = "direct"


def _still_enabled(actor: Actor) -> Callable[[Session], None]:
    def check(s: Session) -> None:
        # one primary-key lookup at the start of every writing transaction, in that transaction
        active = s.execute(select(User.active).where(User.id == actor.id)).scalar_one_or_none()
        if not active:
            raise NotAllowed(
                N_("Your user {name} is disabled: nothing was saved. Ask an administrator."), name=actor.name
            )

    return check


@dataclass(frozen=True)
class Context:
    """What a use case needs. Every writing transaction of the services (``ctx.db.transaction()``) first checks
    that the acting user is still enabled: a session that logged in before the user was disabled cannot write."""

    db: Database
    actor: Actor
    clock: Clock
    settings: Settings

    def __post_init__(self) -> None:
        if self.actor.id > 0:  # a registered user; the operator of a batch command has no row
            object.__setattr__(self, "db", self.db.acting_as(_still_enabled(self.actor)))

    def require(self, *roles: Role) -> None:
        """Refuse the call unless the actor has one of ``roles``."""
        if self.actor.role not in roles:
            raise NotAllowed(
                N_("Your role ({role}) may not do this; it needs: {roles}"),
                role=self.actor.role.value,
                roles=", ".join(r.value for r in roles),
            )


# who may change cases on the desk
DESK_WRITERS = (Role.EMPLOYEE, Role.SUPERVISOR)
