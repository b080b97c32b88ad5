"""A tmux session running one command, read and typed into as a person would (the end-to-end tests)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import time
from collections.abc import Callable
from pathlib import Path


def children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (zombies included: a zombie is a child nobody reaped)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def wait_for(check: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def keygen(path: Path) -> Path:
    """A new ed25519 key pair without a passphrase at ``path`` (and ``path``.pub)."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", path.name, "-f", str(path)], check=True)
    return path


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children, their children, ...)."""
    found, todo = [], [pid]
    while todo:
        below = children(todo.pop())
        found += below
        todo += below
    return found


def app_processes(server: int) -> list[int]:
    """The session apps of an ``incasso serve ssh`` process: the children of its session starter (the zygote,
    the server's one child that stays), zombies included."""
    found = []
    for child in children(server):
        try:
            starter = any("incasso_tui.ssh.zygote" in part for part in command_line(child))
        except OSError:
            continue
        found += children(child) if starter else [child]
    return found


def environment(pid: int) -> dict[str, str]:
    """The environment process ``pid`` was started with."""
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    return dict(item.split("=", 1) for item in raw.decode(errors="replace").split("\0") if "=" in item)


def command_line(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")[:-1]


class Terminal:
    """``command`` in a detached tmux session; when it ends, ``exit=N`` is printed and the pane is kept a while."""

    def __init__(self, name: str, command: list[str], size: tuple[int, int] = (80, 24)) -> None:
        # the pid: test runs of other worktrees on the same machine share the tmux server and the tmp_path names
        self.name = f"{name}-{os.getpid()}"
        name = self.name
        shell = f"{shlex.join(command)}; echo exit=$?; sleep 60"
        subprocess.run(
            ["tmux", "new-session", "-d", "-s", name, "-x", str(size[0]), "-y", str(size[1]), shell], check=True
        )

    def screen(self) -> str:
        return subprocess.run(["tmux", "capture-pane", "-p", "-t", self.name], capture_output=True, text=True).stdout

    def wait(self, pattern: str, timeout: float = 30) -> str:
        """The screen once ``pattern`` shows on it; fails with the screen after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.screen()
            if re.search(pattern, text):
                return text
            time.sleep(0.1)
        raise AssertionError(f"screen never showed /{pattern}/:\n{self.screen()}")

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, *keys], check=True)

    def type(self, text: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, "-l", text], check=True)

    def resize(self, width: int, height: int) -> None:
        subprocess.run(["tmux", "resize-window", "-t", self.name, "-x", str(width), "-y", str(height)], check=True)

    def pid_of(self, command_name: str) -> int:
        """The pid of the pane shell's child called ``command_name`` (e.g. the ssh client)."""
        shell = int(
            subprocess.run(
                ["tmux", "display", "-p", "-t", self.name, "#{pane_pid}"], capture_output=True, text=True, check=True
            ).stdout
        )
        (pid,) = [p for p in children(shell) if Path(f"/proc/{p}/comm").read_text().strip() == command_name]
        return pid

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)
