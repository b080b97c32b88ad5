"""Where exports may be written: only into the export directory (the ``export_dir`` setting), by a plain file name.

An export is written by the account incasso runs as, which over SSH is the server's: a path given by an employee
(``/etc/cron.d/x``, ``../../.ssh/authorized_keys``) would write wherever that account can. So an export takes a
plain file name (no folder, no ``..``, no leading dot, no control character) and lands in ``export_dir``, which is
made (mode 0700) when missing; a symbolic link there is never followed.
"""

from __future__ import annotations

import os
from pathlib import Path

from incasso_tui.config import Settings
from incasso_tui.errors import N_, BadInput
from incasso_tui.safetext import has_controls, safe

MAX_NAME = 120


def export_path(settings: Settings, name: str | os.PathLike[str]) -> Path:
    """The file ``name`` in the export directory; anything but a plain file name is refused at the field ``path``."""
    text = os.fspath(name).strip()
    if (not text or "/" in text or "\\" in text or text.startswith(".") or has_controls(text)
            or len(text) > MAX_NAME or text in ("..", ".")):
        raise BadInput(N_("An export takes a plain file name (no folder), written into {folder}: not {name}"),
                       field="path", folder=str(settings.export_dir), name=safe(text))
    folder = settings.export_dir.expanduser()
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise BadInput(N_("Cannot make the export folder {folder}: {error}"), field="path", folder=str(folder),
                       error=exc.strerror or str(exc)) from None
    target = folder / text
    if target.is_symlink() or (target.exists() and not target.is_file()):
        raise BadInput(N_("{path} is not a plain file: choose another name"), field="path", path=str(target))
    return target
