"""The environment a remote session of the TUI runs with, the same for both SSH routes.

The built-in server (``incasso serve ssh``) builds its child's environment from scratch with it; the OpenSSH
route (``incasso serve openssh``, the forced command) applies it on top of what sshd passes. No asyncssh here.

- ``TERM`` as the client's pseudo-terminal request gave it (``xterm-256color`` if none);
- ``COLORTERM=truecolor`` when the client says so (``COLORTERM`` sent along) or its terminal type is one that
  shows 24-bit colour without saying so; otherwise no ``COLORTERM`` at all, and Textual uses 256 colours;
- ``TEXTUAL_ANIMATIONS=none``: every animation frame is bytes on the wire;
- ``ESCDELAY=25`` (milliseconds): Textual waits this long after a lone ESC before it counts as the Escape key
  rather than the start of a sequence; its default of 100 ms makes Escape feel slow, 25 ms is ample on a
  network because an escape sequence arrives in one packet;
- ``LANG`` and ``LC_ALL`` = ``C.UTF-8``: the screen is drawn in UTF-8 whatever locale the client sent. The app's
  language is the user's (the users table), not the locale's.
"""

from __future__ import annotations

from collections.abc import Mapping

DEFAULT_TERM = "xterm-256color"
ESCDELAY_MS = 25
UTF8_LOCALE = "C.UTF-8"
# Terminal types that are known to show 24-bit colour although they do not say so in COLORTERM.
TRUECOLOR_TERMS = ("xterm-kitty", "xterm-ghostty", "alacritty", "wezterm", "foot", "contour", "iterm2")


def _truecolor(term: str, colorterm: str | None) -> bool:
    return colorterm in ("truecolor", "24bit") or term.startswith(TRUECOLOR_TERMS) or term.endswith("-direct")


def session_environment(term: str | None, colorterm: str | None) -> dict[str, str]:
    """The variables to set for a session whose client has terminal type ``term`` and sent ``colorterm``.

    ``COLORTERM`` is in the result only when true colour is on; a caller that starts from an inherited
    environment removes a ``COLORTERM`` the result does not have.
    """
    term = term or DEFAULT_TERM
    env = {
        "TERM": term,
        "TEXTUAL_ANIMATIONS": "none",
        "ESCDELAY": str(ESCDELAY_MS),
        "LANG": UTF8_LOCALE,
        "LC_ALL": UTF8_LOCALE,
    }
    if _truecolor(term, colorterm):
        env["COLORTERM"] = "truecolor"
    return env


def apply_session_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` (what sshd passed) with the session variables set; other ``LC_*`` the client sent are dropped."""
    env = {k: v for k, v in environ.items() if not k.startswith("LC_") and k != "COLORTERM"}
    env.update(session_environment(environ.get("TERM"), environ.get("COLORTERM")))
    return env
