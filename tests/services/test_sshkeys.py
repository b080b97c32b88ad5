"""SSH keys per user: registered, listed, removed, audited; the server's question "is this key that user's"."""

from __future__ import annotations

import json

import asyncssh
import pytest
from sqlalchemy import select

from incasso_tui.errors import BadInput, NotFound, RuleViolation
from incasso_tui.services.sshkeys import add_key, authorized_user, list_keys, parse_public_key, remove_key
from incasso_tui.services.users import disable_user
from incasso_tui.store.models import AuditEvent


def _key(comment: str = "laptop") -> asyncssh.SSHKey:
    return asyncssh.generate_private_key("ssh-ed25519", comment=comment)


def _pub(key: asyncssh.SSHKey) -> str:
    return key.export_public_key("openssh").decode()


def test_a_registered_key_logs_in_as_its_owner_only(db, clock) -> None:  # type: ignore[no-untyped-def]
    key = _key()
    info = add_key(db, clock, "cli:root", "demo", _pub(key))
    assert info.user == "demo" and info.algorithm == "ssh-ed25519" and info.comment == "laptop"
    assert info.fingerprint == key.get_fingerprint("sha256")
    actor = authorized_user(db, "demo", key)
    assert actor is not None and actor.name == "demo" and actor.role.value == "employee"
    assert authorized_user(db, "jansen", key) is None  # the key is demo's, not jansen's
    assert authorized_user(db, "demo", _key()) is None  # a key nobody registered
    with db.reader() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "sshkey.add")).one()
    assert event.actor == "cli:root" and json.loads(event.after)["fingerprint"] == info.fingerprint


def test_one_key_belongs_to_one_user(db, clock) -> None:  # type: ignore[no-untyped-def]
    text = _pub(_key())
    add_key(db, clock, "cli:root", "demo", text)
    with pytest.raises(RuleViolation):
        add_key(db, clock, "cli:root", "jansen", text)
    assert [k.user for k in list_keys(db)] == ["demo"]


def test_a_removed_key_or_a_disabled_user_no_longer_logs_in(db, clock) -> None:  # type: ignore[no-untyped-def]
    first, second = _key("one"), _key("two")
    add_key(db, clock, "cli:root", "demo", _pub(first))
    add_key(db, clock, "cli:root", "demo", _pub(second))
    assert [k.comment for k in list_keys(db, "demo")] == ["one", "two"]
    remove_key(db, clock, "cli:root", first.get_fingerprint("sha256"))
    assert authorized_user(db, "demo", first) is None
    assert authorized_user(db, "demo", second) is not None
    disable_user(db, clock, "cli:root", "demo")
    assert authorized_user(db, "demo", second) is None
    with pytest.raises(RuleViolation):
        add_key(db, clock, "cli:root", "demo", _pub(_key()))
    with pytest.raises(NotFound):
        remove_key(db, clock, "cli:root", first.get_fingerprint("sha256"))
    with pytest.raises(NotFound):
        add_key(db, clock, "cli:root", "nobody", _pub(_key()))


@pytest.mark.parametrize(
    "text",
    ["", "hello world", "ssh-ed25519 AAAAnotbase64!!! x", "x" * 20_000],
)
def test_what_is_not_a_public_key_is_refused(text: str) -> None:
    with pytest.raises(BadInput):
        parse_public_key(text)


def test_a_private_key_is_refused_without_echoing_it() -> None:
    private = _key().export_private_key().decode()
    with pytest.raises(BadInput) as caught:
        parse_public_key(private)
    assert "private key" in str(caught.value) and private.splitlines()[1] not in str(caught.value)


def test_two_keys_in_one_file_are_refused() -> None:
    with pytest.raises(BadInput):
        parse_public_key(_pub(_key()) + "\n" + _pub(_key()))
