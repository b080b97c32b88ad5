"""Public keys that let a user log in to the built-in SSH server (``incasso serve ssh``).

A key belongs to one user. The ``incasso users add-key / keys / remove-key`` commands are operator commands
(audited as ``cli:<os user>``, like ``incasso users add``). The server asks ``authorized_user`` whether a
login name and an offered key go together; the answer is the user as an ``Actor``, or ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncssh
from sqlalchemy import select
from sqlalchemy.orm import Session

from incasso_tui.clock import Clock
from incasso_tui.domain.enums import Role
from incasso_tui.errors import N_, BadInput, NotFound, RuleViolation
from incasso_tui.services import audit
from incasso_tui.services.context import Actor
from incasso_tui.store.db import Database
from incasso_tui.store.models import SshKey, User

MAX_KEY_TEXT = 16_384  # an RSA-16384 public key line is about 2,800 characters


@dataclass(frozen=True)
class KeyInfo:
    user: str
    algorithm: str
    fingerprint: str
    comment: str
    added_at: datetime


@dataclass(frozen=True)
class PublicKey:
    """A checked public key: what is stored of it."""

    algorithm: str
    fingerprint: str
    line: str  # "ALGORITHM BASE64 COMMENT", as in authorized_keys
    comment: str


def fingerprint(key: asyncssh.SSHKey) -> str:
    """``SHA256:...`` exactly as ``ssh-keygen -l`` prints it."""
    return key.get_fingerprint("sha256")


def parse_public_key(text: str) -> PublicKey:
    """One public key in OpenSSH (``.pub``), RFC 4716 or PEM format; anything else is refused."""
    if len(text) > MAX_KEY_TEXT:
        raise BadInput(N_("This is not a public key: the file is too large"))
    if "PRIVATE KEY" in text:
        raise BadInput(N_("This is a private key: give the public key (the .pub file) and keep the private key secret"))
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if len(lines) > 1 and not text.lstrip().startswith("----"):
        raise BadInput(N_("Give one public key per file, not {count}"), count=len(lines))
    try:
        key = asyncssh.import_public_key(text)
    except (asyncssh.KeyImportError, ValueError):
        raise BadInput(
            N_("This is not a public key that SSH can use (expected a line like 'ssh-ed25519 AAAA... name')")
        ) from None
    comment = key.get_comment() or ""
    line = key.export_public_key("openssh").decode("ascii").strip()
    return PublicKey(key.get_algorithm(), fingerprint(key), line, comment[:200])


def _info(user_name: str, k: SshKey) -> KeyInfo:
    return KeyInfo(user_name, k.algorithm, k.fingerprint, k.comment, k.added_at)


def _user(s: Session, name: str) -> User:
    user = s.scalar(select(User).where(User.name == name))
    if user is None:
        raise NotFound(N_("Unknown user {name}"), name=name)
    return user


def add_key(db: Database, clock: Clock, operator: str, user_name: str, public_key_text: str) -> KeyInfo:
    key = parse_public_key(public_key_text)
    with db.transaction() as s:
        user = _user(s, user_name)
        if not user.active:
            raise RuleViolation(N_("User {name} is disabled"), name=user_name)
        owner = s.scalar(
            select(User.name).join(SshKey, SshKey.user_id == User.id).where(SshKey.fingerprint == key.fingerprint)
        )
        if owner is not None:
            raise RuleViolation(
                N_("Key {fingerprint} is registered already, for {name}"), fingerprint=key.fingerprint, name=owner
            )
        row = SshKey(
            user_id=user.id,
            algorithm=key.algorithm,
            fingerprint=key.fingerprint,
            public_key=key.line,
            comment=key.comment,
            added_at=clock.now(),
        )
        s.add(row)
        s.flush()
        audit.record(
            s,
            at=clock.now(),
            actor=operator,
            action="sshkey.add",
            entity="ssh_key",
            entity_id=row.id,
            after={"user": user.name, "algorithm": key.algorithm, "fingerprint": key.fingerprint},
        )
        return _info(user.name, row)


def list_keys(db: Database, user_name: str | None = None) -> list[KeyInfo]:
    with db.reader() as s:
        query = (
            select(User.name, SshKey)
            .join(User, User.id == SshKey.user_id)
            .order_by(User.name, SshKey.added_at, SshKey.id)
        )
        if user_name is not None:
            _user(s, user_name)
            query = query.where(User.name == user_name)
        return [_info(name, k) for name, k in s.execute(query)]


def remove_key(db: Database, clock: Clock, operator: str, fingerprint_: str) -> KeyInfo:
    """Remove a key by its fingerprint (``SHA256:...``; the ``SHA256:`` prefix may be left out)."""
    wanted = fingerprint_.strip()
    if not wanted.startswith("SHA256:"):
        wanted = f"SHA256:{wanted}"
    with db.transaction() as s:
        found = s.execute(
            select(User.name, SshKey).join(User, User.id == SshKey.user_id).where(SshKey.fingerprint == wanted)
        ).first()
        if found is None:
            raise NotFound(N_("No key with fingerprint {fingerprint}: see 'incasso users keys'"), fingerprint=wanted)
        name, row = found
        info = _info(name, row)
        s.delete(row)
        audit.record(
            s,
            at=clock.now(),
            actor=operator,
            action="sshkey.remove",
            entity="ssh_key",
            entity_id=row.id,
            before={"user": name, "algorithm": row.algorithm, "fingerprint": row.fingerprint},
        )
        return info


def authorized_user(db: Database, login_name: str, key: asyncssh.SSHKey) -> Actor | None:
    """The active user called ``login_name`` if ``key`` is one of that user's keys; otherwise ``None``."""
    blob = key.export_public_key("openssh").decode("ascii").split()[:2]
    with db.reader() as s:
        found = s.execute(
            select(User, SshKey.public_key)
            .join(SshKey, SshKey.user_id == User.id)
            .where(SshKey.fingerprint == fingerprint(key), User.name == login_name)
        ).first()
    if found is None:
        return None
    user, stored = found
    if not user.active or stored.split()[:2] != blob:
        return None
    return Actor(id=user.id, name=user.name, full_name=user.full_name, role=Role(user.role), language=user.language)
