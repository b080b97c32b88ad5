"""The one way the program writes a file: whole or not at all.

Every file the program writes (exports, the BKR file, letters and PDFs, key files) goes through :func:`atomic_file`
or :func:`atomic_write`: the content is written to a temporary file in the target's own folder (so the rename
cannot cross a file system), flushed and ``fsync``-ed, and then moved into place in one step (``os.replace``; the
folder is ``fsync``-ed too, so the new name survives a power cut). A reader sees the old file or the new one, never
half a file; a failure leaves the target as it was and no temporary file behind.

- ``mode``: the permissions of the new file, ``0o600`` unless said otherwise (an export holds client data; a key
  file is a secret).
- ``exclusive=True``: never over an existing file. The file is moved into place with ``os.link``, which fails when
  the name exists, however close two writers come (``FileExistsError``). On a file system without hard links the
  name is checked just before ``os.replace`` instead: then two writers in the same instant could still race.

Appending to a log (the audit seal's checkpoints) is not a whole-file write and stays an ``O_APPEND`` write.
Nothing here imports Textual or SQLAlchemy.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Literal, cast, overload

# link(2) refused because the file system has no hard links (not because the name exists)
_NO_LINKS = frozenset({errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK, errno.ENOSYS})


@overload
def atomic_file(
    path: str | os.PathLike[str],
    *,
    binary: Literal[False] = ...,
    encoding: str = ...,
    newline: str | None = ...,
    mode: int = ...,
    exclusive: bool = ...,
) -> contextlib.AbstractContextManager[IO[str]]: ...
@overload
def atomic_file(
    path: str | os.PathLike[str],
    *,
    binary: Literal[True],
    encoding: str = ...,
    newline: str | None = ...,
    mode: int = ...,
    exclusive: bool = ...,
) -> contextlib.AbstractContextManager[IO[bytes]]: ...
def atomic_file(
    path: str | os.PathLike[str],
    *,
    binary: bool = False,
    encoding: str = "utf-8",
    newline: str | None = None,
    mode: int = 0o600,
    exclusive: bool = False,
) -> contextlib.AbstractContextManager[IO[str]] | contextlib.AbstractContextManager[IO[bytes]]:
    """A file object to write ``path`` with; the file appears when the ``with`` block ends without an error."""
    manager = _atomic(Path(path), binary=binary, encoding=encoding, newline=newline, mode=mode, exclusive=exclusive)
    return cast("contextlib.AbstractContextManager[IO[str]]", manager)  # or of IO[bytes]: the overloads say which


@contextlib.contextmanager
def _atomic(
    target: Path, *, binary: bool, encoding: str, newline: str | None, mode: int, exclusive: bool
) -> Iterator[IO[str] | IO[bytes]]:
    if exclusive and target.exists():
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(target))
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    tmp = Path(name)
    try:
        os.fchmod(fd, mode)
        fh: IO[str] | IO[bytes] = (
            os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding=encoding, newline=newline)
        )
        with fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        _move(tmp, target, exclusive)
    finally:
        tmp.unlink(missing_ok=True)
    _sync_folder(target.parent)


def atomic_write(
    path: str | os.PathLike[str],
    data: bytes | str,
    *,
    mode: int = 0o600,
    exclusive: bool = False,
    encoding: str = "utf-8",
    make_folder: bool = False,
) -> Path:
    """Write ``data`` (bytes, or text in ``encoding``) to ``path`` whole or not at all; returns the path.
    ``make_folder``: the folder (and its parents) is made first when it is missing."""
    target = Path(path)
    if make_folder:
        target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(target, binary=True, mode=mode, exclusive=exclusive) as fh:
        fh.write(data.encode(encoding) if isinstance(data, str) else data)
    return target


def _move(tmp: Path, target: Path, exclusive: bool) -> None:
    if not exclusive:
        os.replace(tmp, target)
        return
    try:
        os.link(tmp, target)  # fails when the name exists: no writer replaces another's file
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in _NO_LINKS:
            raise
        if target.exists():
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(target)) from None
        os.replace(tmp, target)


def _sync_folder(folder: Path) -> None:
    """``fsync`` the folder, so that the new name is on disk too (not every system can open a folder: skipped)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # a folder that cannot be synced (some network file systems): the file itself is synced
    finally:
        os.close(fd)
