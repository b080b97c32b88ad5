"""What every service call needs: the database, who is acting, the clock and the settings."""

from __future__ import annotations

from dataclasses import dataclass

from incasso_tui.clock import Clock
from incasso_tui.config import Settings
from incasso_tui.domain.enums import Role
from incasso_tui.errors import N_, NotAllowed
from incasso_tui.store.db import Database


@dataclass(frozen=True)
class Actor:
    id: int
    name: str
    full_name: str
    role: Role
    language: str


@dataclass(frozen=True)
class Context:
    db: Database
    actor: Actor
    clock: Clock
    settings: Settings

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
