"""The audit key and the signed checkpoints: the evidence that lives outside the database (issue 16).

The key
  32 random bytes, hexadecimal, in ``audit_key_file`` (default: ``audit.key`` in the data directory), made by
  ``incasso audit init-key`` with mode 0600 and never replaced (events keyed with it could no longer be verified).
  A key file that others can read or write is refused. Whoever runs the desk holds it; the database does not.

Checkpoints
  A line of JSON appended to ``audit_checkpoint_file`` (default: ``audit-checkpoints.jsonl`` in the data
  directory; opened O_APPEND, mode 0600): the database it is about, the sequence number and hash of the newest
  event, the number of events, the time, the sequence number from which every event must be keyed, the key's id,
  and an HMAC over all of that with the key. The daily run writes one after its transaction, and so does
  ``incasso audit checkpoint``; with ``audit_checkpoint_email`` set, each is also mailed to the auditor (SMTP,
  ``mail.smtp``), so a copy exists that nobody on this host can change. ``incasso audit verify`` checks every
  checkpoint of the database and holds the chain against them: a trail cut short, emptied or rewritten no longer
  matches the newest one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import stat
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from incasso_tui.atomicfile import atomic_write
from incasso_tui.config import Settings
from incasso_tui.errors import N_, ConfigError
from incasso_tui.services.audit import Checkpoint, chain_head
from incasso_tui.store.db import Database

__all__ = [
    "SignedCheckpoint",
    "init_key",
    "key_id",
    "load_key",
    "mail_checkpoint",
    "read_checkpoints",
    "write_checkpoint",
]

KEY_BYTES = 32


def key_id(key: bytes) -> str:
    """A short public name of the key (it reveals nothing of it): which key signed a checkpoint."""
    return hashlib.sha256(b"incasso-audit-key-id\0" + key).hexdigest()[:16]


def load_key(settings: Settings) -> bytes | None:
    """The audit key, or None when no key file exists (an unkeyed trail). A key file that is not the owner's alone,
    is not a regular file or does not hold a key is refused in one line."""
    path = Path(settings.audit_key_file).expanduser()
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(
            N_("Cannot read the audit key {path}: {error}"), path=str(path), error=exc.strerror or str(exc)
        ) from None
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(N_("The audit key {path} is not a regular file"), path=str(path))
    if info.st_mode & 0o077:
        raise ConfigError(
            N_(
                "The audit key {path} can be read or written by others (mode {mode}): make it the "
                "owner's alone with 'chmod 600 {path}'"
            ),
            path=str(path),
            mode=f"{stat.S_IMODE(info.st_mode):o}",
        )
    try:
        text = path.read_text(encoding="ascii").strip()
        key = bytes.fromhex(text)
    except (OSError, UnicodeDecodeError, ValueError):
        raise ConfigError(
            N_("The audit key {path} does not hold a key (64 hexadecimal digits)"), path=str(path)
        ) from None
    if len(key) != KEY_BYTES:
        raise ConfigError(N_("The audit key {path} does not hold a key (64 hexadecimal digits)"), path=str(path))
    return key


def init_key(settings: Settings) -> tuple[bytes, Path]:
    """Make a new key file (mode 0600, never over an existing one)."""
    path = Path(settings.audit_key_file).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(KEY_BYTES)
    try:  # whole or not at all, mode 0600, never over an existing key (atomicfile)
        atomic_write(path, key.hex() + "\n", mode=0o600, exclusive=True, encoding="ascii")
    except FileExistsError:
        raise ConfigError(
            N_(
                "An audit key exists already at {path}; it is never replaced (the events keyed with it "
                "could no longer be verified)"
            ),
            path=str(path),
        ) from None
    except OSError as exc:
        raise ConfigError(
            N_("Cannot write the audit key {path}: {error}"), path=str(path), error=exc.strerror or str(exc)
        ) from None
    return key, path


@dataclass(frozen=True)
class SignedCheckpoint:
    book: str
    seq: int
    head: str
    count: int
    at: str
    keyed_from: int | None
    key_id: str
    mac: str

    def body(self) -> dict[str, Any]:
        return {
            "book": self.book,
            "seq": self.seq,
            "head": self.head,
            "count": self.count,
            "at": self.at,
            "keyed_from": self.keyed_from,
            "key_id": self.key_id,
        }

    def line(self) -> str:
        return json.dumps({**self.body(), "mac": self.mac}, sort_keys=True)

    def checkpoint(self) -> Checkpoint:
        return Checkpoint(self.seq, self.head, self.count, self.at, self.keyed_from)


def _mac(key: bytes, body: dict[str, Any]) -> str:
    return hmac.new(key, json.dumps(body, sort_keys=True).encode(), hashlib.sha256).hexdigest()


def write_checkpoint(db: Database, settings: Settings, key: bytes, now: datetime) -> SignedCheckpoint:
    """Append a signed checkpoint of the chain as it stands to the checkpoint file (flushed to disk)."""
    seq, head, first_keyed = chain_head(db)
    body = {
        "book": db.display_url,
        "seq": seq,
        "head": head,
        "count": seq,
        "at": now.isoformat(timespec="seconds"),
        "keyed_from": first_keyed if first_keyed is not None else seq + 1,
        "key_id": key_id(key),
    }
    signed = SignedCheckpoint(**body, mac=_mac(key, body))
    path = Path(settings.audit_checkpoint_file).expanduser()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as f:
            f.write(signed.line() + "\n")
            f.flush()
            os.fsync(f.fileno())
    except OSError as exc:
        raise ConfigError(
            N_("Cannot write the audit checkpoint to {path}: {error}"), path=str(path), error=exc.strerror or str(exc)
        ) from None
    return signed


def read_checkpoints(db: Database, settings: Settings, key: bytes) -> list[Checkpoint]:
    """This database's checkpoints from the checkpoint file, each checked against the key. A line that does not
    verify (altered, or signed with another key) is refused, naming the line."""
    path = Path(settings.audit_checkpoint_file).expanduser()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            N_("Cannot read the audit checkpoints {path}: {error}"), path=str(path), error=str(exc)
        ) from None
    found: list[Checkpoint] = []
    mine = key_id(key)
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            raw = json.loads(text)
            signed = SignedCheckpoint(**raw)
        except (ValueError, TypeError):
            raise ConfigError(
                N_("Line {line} of the audit checkpoints {path} is damaged"), line=number, path=str(path)
            ) from None
        if signed.book != db.display_url:
            continue
        if signed.key_id != mine or not hmac.compare_digest(signed.mac, _mac(key, signed.body())):
            raise ConfigError(
                N_(
                    "Line {line} of the audit checkpoints {path} does not verify with the audit key: the "
                    "file was altered"
                ),
                line=number,
                path=str(path),
            )
        found.append(signed.checkpoint())
    return found


def mail_checkpoint(settings: Settings, signed: SignedCheckpoint) -> str | None:
    """Mail the checkpoint to ``audit_checkpoint_email`` (None when not set); returns the message id. Raises the mail
    layer's errors (``ConfigError``, ``MailFailure``) for the caller to report: the checkpoint is in the file anyway."""
    to = settings.audit_checkpoint_email
    if not to:
        return None
    from incasso_tui.mail.channels import Outgoing
    from incasso_tui.mail.smtp import SmtpSender

    body = (
        "Audit checkpoint of the collections desk (incasso-tui). Keep this message: 'incasso audit verify' holds\n"
        "the trail against these figures, and an auditor can compare them with the checkpoint file.\n\n"
        f"{signed.line()}\n"
    )
    return SmtpSender.from_settings(settings).send(
        Outgoing(to=to, subject=f"incasso audit checkpoint {signed.seq} {signed.at}", body=body)
    )
