"""The environment of a remote session (both SSH routes): colour only when the terminal has it, UTF-8 always."""

from __future__ import annotations

from incasso_tui.ssh.session_env import apply_session_environment, session_environment


def test_the_fixed_settings_and_the_terminal_type() -> None:
    env = session_environment("screen-256color", None)
    assert env == {
        "TERM": "screen-256color",
        "TEXTUAL_ANIMATIONS": "none",
        "ESCDELAY": "25",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
    }
    assert session_environment("", None)["TERM"] == "xterm-256color"


def test_true_colour_when_the_client_says_so_or_its_terminal_is_known_to_have_it() -> None:
    assert session_environment("xterm-256color", "truecolor")["COLORTERM"] == "truecolor"
    assert session_environment("xterm-256color", "24bit")["COLORTERM"] == "truecolor"
    assert session_environment("xterm-kitty", None)["COLORTERM"] == "truecolor"
    assert session_environment("xterm-direct", None)["COLORTERM"] == "truecolor"
    assert "COLORTERM" not in session_environment("xterm-256color", "yes")


def test_what_sshd_passed_is_kept_except_the_locale_and_a_wrong_colour_claim() -> None:
    passed = {
        "TERM": "xterm",
        "USER": "incasso",
        "SSH_TTY": "/dev/pts/3",
        "LANG": "nl_NL.ISO-8859-1",
        "LC_CTYPE": "POSIX",
        "LC_MESSAGES": "nl_NL",
        "COLORTERM": "rxvt",
    }
    env = apply_session_environment(passed)
    assert env["USER"] == "incasso" and env["SSH_TTY"] == "/dev/pts/3" and env["TERM"] == "xterm"
    assert env["LANG"] == env["LC_ALL"] == "C.UTF-8"
    assert "LC_CTYPE" not in env and "LC_MESSAGES" not in env and "COLORTERM" not in env
