"""The warm session starter of ``incasso serve ssh``: one pre-imported process that forks one child per login.

Starting a fresh interpreter per login costs about 0.6 s of imports (Textual, SQLAlchemy, the models, Babel's
locale data) before the app can paint, and every session holds its own copy of all of it. The zygote is started
once, as a fresh isolated interpreter (``python -I``) with the session's fixed variables already set (Textual
reads ``TEXTUAL_ANIMATIONS`` and ``ESCDELAY`` at import), imports and warms everything a session needs, freezes
the garbage collector's view of it (``gc.freeze()``, so the children's collections do not write to the shared
pages), and then waits for requests. It never opens a database connection and never starts a thread, so a fork
inherits nothing but imported code and read-only data.

Per login the server sends one request over a ``SOCK_SEQPACKET`` socket pair: the argument list, the whole
environment, and the pseudo-terminal's slave end as an attached descriptor (``SCM_RIGHTS``). The zygote forks;
the child starts its own session (``setsid``), makes the pty its controlling terminal and its standard streams,
replaces the environment, and runs the ordinary command line (``incasso_tui.cli.main``). So every session is
still its own process, with its own user, language, environment and database connection, and a crash in one
touches no other. The zygote answers with the child's pid and, when the child ends, its exit code.

The protocol, one JSON object per datagram:
- server → zygote: ``{"id": N, "argv": [...], "env": {...}}`` with one descriptor attached;
- zygote → server: ``{"ready": true}`` once warm; ``{"id": N, "pid": P}`` or ``{"id": N, "error": "..."}``;
  ``{"exit": P, "code": C}`` when child P has ended.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import random
import selectors
import signal
import socket
import subprocess
import sys
from collections.abc import Mapping

log = logging.getLogger("incasso.ssh")

MAX_MESSAGE = 256 * 1024
READY_TIMEOUT = 60.0  # seconds for the zygote to import and warm up
EXIT_CODE_WAIT = 1.0  # seconds to wait for the zygote's exit code after the child's pidfd said it ended

# Run in a fresh, isolated interpreter: nothing of the server's working directory or PYTHON* variables.
ZYGOTE_BOOTSTRAP = "import sys\nfrom incasso_tui.ssh.zygote import zygote_main\nzygote_main(int(sys.argv[1]))\n"


# ----- the zygote process

_PARSER = None  # the command line's parser, built once by the warm-up (set only in the zygote process)


# Imported by a session's start-up (found by comparing sys.modules in a child with the zygote's): the terminal
# driver, the layouts and the worker threads' modules, the SQLite driver.
SESSION_MODULES = (
    "concurrent.futures.thread",
    "queue",
    "sqlite3",
    "tty",
    "textual.drivers.linux_driver",
    "incasso_tui.ui.driver",  # the desk's driver (Escape on time), chosen by IncassoApp.get_driver_class
    "textual._xterm_parser",
    "textual._keyboard_protocol",
    "textual.scrollbar",
    "textual.layouts.factory",
    "textual.layouts.horizontal",
    "textual.layouts.vertical",
    "textual.layouts.grid",
    "textual.layouts.stream",
    "textual.pilot",  # App.run imports these two
    "textual.drivers.headless_driver",
    "pwd",
    "incasso_tui.services.users",
    "incasso_tui.services.identity",
    "incasso_tui.services.audit_seal",
)


def _warm_up() -> None:
    """Import and warm what a session's first paint needs, so that a forked child finds it done."""
    import importlib

    import incasso_tui.cli
    import incasso_tui.ui.app
    from incasso_tui.i18n import Translator
    from incasso_tui.ui import screens

    global _PARSER
    _PARSER = incasso_tui.cli.build_parser()  # imports every command module; reused by every child
    for name in (*SESSION_MODULES, *_submodules(screens)):
        importlib.import_module(name)
    for optional in ("sqlalchemy.dialects.postgresql.psycopg", "psycopg"):
        try:
            importlib.import_module(optional)
        except ImportError:  # pragma: no cover - a driver that is not installed is not needed
            pass
    _warm_orm()
    from rich.cells import cell_len

    cell_len("Ä€漢")  # loads rich's table of character widths
    from datetime import date, datetime
    from decimal import Decimal

    for lang in ("nl", "en"):  # the catalogs and Babel's locale data for both languages
        tr = Translator(lang)
        tr.value(Decimal("1234.56"))
        tr.value(date(2026, 1, 1))
        tr.value(datetime(2026, 1, 1, 12, 0))
        tr.value(1234)
    _warm_css()


def _warm_css() -> None:
    """Parse the CSS of every screen and widget for the themes the sessions will use (ui.css_cache): Textual
    would parse it again in every session, about 15 ms of its CPU before the first paint."""
    from incasso_tui.config import Settings, load_settings
    from incasso_tui.errors import ConfigError
    from incasso_tui.ui import css_cache

    themes = [Settings.model_fields["theme"].default]
    try:
        themes.append(load_settings().theme)  # the desk's configured theme (the sessions read the same file)
    except ConfigError:
        pass  # each session says what is wrong with the configuration itself
    css_cache.warm(themes)


def _warm_orm() -> None:
    """Configure the mappers and compile a query per mapped class without a connection: the first ORM query of
    a session otherwise spends about 0.2 s on this (measured: ``resolve_actor`` 0.27 s cold)."""
    from sqlalchemy import select
    from sqlalchemy.dialects import sqlite
    from sqlalchemy.orm import configure_mappers

    from incasso_tui.store.models import Base

    configure_mappers()
    dialect = sqlite.dialect()
    for mapper in Base.registry.mappers:
        select(mapper.class_).compile(dialect=dialect)


def _submodules(package: object) -> list[str]:
    import pkgutil

    path = getattr(package, "__path__", [])
    prefix = getattr(package, "__name__", "") + "."
    return [info.name for info in pkgutil.iter_modules(path, prefix)]


def zygote_main(fd: int) -> None:
    """Warm up, then serve fork requests on socket ``fd`` until the server closes it."""
    sock = socket.socket(fileno=fd)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server stops the zygote by closing the socket
    _warm_up()
    gc.collect()
    gc.freeze()
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    os.set_blocking(wake_r, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # a handler, so that the wakeup fd is written
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ, "request")
    sel.register(wake_r, selectors.EVENT_READ, "child")
    _send(sock, {"ready": True})
    while True:
        for key, _ in sel.select():
            if key.data == "child":
                try:
                    os.read(wake_r, 4096)
                except BlockingIOError:
                    pass
                _reap(sock)
                continue
            try:
                msg, fds, _flags, _addr = socket.recv_fds(sock, MAX_MESSAGE, 4)
            except InterruptedError:
                continue
            if not msg:  # the server is gone
                _reap(sock)
                os._exit(0)
            _serve_request(sock, msg, fds, (wake_r, wake_w))
        _reap(sock)


def _send(sock: socket.socket, message: Mapping[str, object]) -> None:
    try:
        sock.send(json.dumps(message).encode())
    except OSError:
        pass  # the server is gone; the next read ends the zygote


def _reap(sock: socket.socket) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _send(sock, {"exit": pid, "code": os.waitstatus_to_exitcode(status)})


def _serve_request(sock: socket.socket, msg: bytes, fds: list[int], own: tuple[int, int]) -> None:
    try:
        request = json.loads(msg)
        rid = int(request["id"])
        argv = [str(a) for a in request["argv"]]
        env = {str(k): str(v) for k, v in dict(request["env"]).items()}
        if len(fds) != 1:
            raise ValueError(f"expected one terminal descriptor, got {len(fds)}")
    except (ValueError, KeyError, TypeError) as exc:
        for extra in fds:
            os.close(extra)
        _send(sock, {"id": -1, "error": f"bad request: {exc}"})
        return
    slave = fds[0]
    try:
        pid = os.fork()
    except OSError as exc:
        os.close(slave)
        _send(sock, {"id": rid, "error": exc.strerror or str(exc)})
        return
    if pid == 0:
        _child(sock, slave, argv, env, own)  # never returns
    os.close(slave)
    _send(sock, {"id": rid, "pid": pid})


def _child(sock: socket.socket, slave: int, argv: list[str], env: dict[str, str], own: tuple[int, int]) -> None:
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        for sig in (signal.SIGCHLD, signal.SIGHUP, signal.SIGINT, signal.SIGTERM, signal.SIGPIPE):
            signal.signal(sig, signal.SIG_DFL)
        sock.close()
        for fd in own:
            os.close(fd)
        os.setsid()
        for std in (0, 1, 2):
            os.dup2(slave, std)
        if slave > 2:
            os.close(slave)
        import fcntl
        import termios

        fcntl.ioctl(0, termios.TIOCSCTTY, 0)
        os.environ.clear()
        os.environ.update(env)
        _reopen_standard_streams()
        random.seed()  # siblings must not share the zygote's random state
        # The zygote's objects stay frozen (a collection never writes to their shared pages), and the collector
        # stays off while the session starts, as the incasso command's (incasso_tui.entry): the TUI collects what
        # its start made after its first paint (ui.heap)
        gc.disable()
        from incasso_tui.cli import main

        code = main(argv, _PARSER)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001 - the session's own crash: print it on its own terminal, exit non-zero
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001
                pass
        os._exit(code if isinstance(code, int) and 0 <= code < 256 else 1)


def _reopen_standard_streams() -> None:
    """Python's standard streams were the zygote's (a pipe or /dev/null): make them the pty's, UTF-8 and
    line-buffered as an interactive interpreter's would be. Textual writes to ``sys.__stderr__``."""
    sys.stdin = sys.__stdin__ = open(0, encoding="utf-8", errors="surrogateescape", closefd=False)  # noqa: SIM115
    sys.stdout = sys.__stdout__ = open(1, "w", encoding="utf-8", errors="surrogateescape", buffering=1, closefd=False)  # noqa: SIM115
    sys.stderr = sys.__stderr__ = open(2, "w", encoding="utf-8", errors="backslashreplace", buffering=1, closefd=False)  # noqa: SIM115


# ----- the server's side


class ZygoteGone(OSError):
    """The zygote ended or could not be started."""


class ForkedChild:
    """A session's app process, forked by the zygote: its pid, and its exit code once it has ended."""

    def __init__(self, pid: int, zygote: Zygote) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._zygote = zygote
        self._exited = asyncio.Event()
        self._code: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        # A pidfd tells the server that the process ended even when the zygote that forked it is gone.
        self._pidfd: int | None = None
        try:
            self._pidfd = os.pidfd_open(pid)
        except (OSError, AttributeError):
            pass
        else:
            asyncio.get_running_loop().add_reader(self._pidfd, self._on_pidfd)

    def _on_pidfd(self) -> None:
        self._close_pidfd()
        self._exited.set()

    def _close_pidfd(self) -> None:
        if self._pidfd is not None:
            asyncio.get_running_loop().remove_reader(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = None

    def set_exit_code(self, code: int) -> None:
        if not self._code.done():
            self._code.set_result(code)
        self._close_pidfd()
        self._exited.set()

    async def wait(self) -> int:
        if self.returncode is not None:
            return self.returncode
        await self._exited.wait()
        try:
            code = await asyncio.wait_for(asyncio.shield(self._code), EXIT_CODE_WAIT)
        except TimeoutError:
            log.warning("app pid %d ended without an exit code from the session starter", self.pid)
            code = 1
        self.returncode = code
        self._zygote.children.pop(self.pid, None)
        return code


class Zygote:
    """The server's handle on the zygote: start it, ask it for a child, learn when children end."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = dict(env)
        self.proc: subprocess.Popen[bytes] | None = None
        self.sock: socket.socket | None = None
        self.children: dict[int, ForkedChild] = {}
        self._next_id = 0
        self._pending: dict[int, asyncio.Future[int]] = {}
        self._ready: asyncio.Future[None] | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", "-c", ZYGOTE_BOOTSTRAP, str(child.fileno())],
                pass_fds=(child.fileno(),),
                env=self.env,
                stdin=subprocess.DEVNULL,
                close_fds=True,
            )
        finally:
            child.close()
        parent.setblocking(False)
        self.sock = parent
        self._ready = loop.create_future()
        loop.add_reader(parent, self._on_message)
        try:
            await asyncio.wait_for(asyncio.shield(self._ready), READY_TIMEOUT)
        except TimeoutError:
            self.stop()
            raise ZygoteGone("the session starter did not become ready") from None
        log.info("session starter ready: pid %d", self.proc.pid)

    async def spawn(self, argv: list[str], env: Mapping[str, str], slave: int) -> ForkedChild:
        """Fork a child running ``incasso argv`` with ``env`` on the pty whose slave end is ``slave``."""
        async with self._lock:  # one start (or restart) at a time
            if self.sock is None or self.proc is None or self.proc.poll() is not None:
                if self.proc is not None:
                    log.error("the session starter ended (%s): starting a new one", self.proc.poll())
                self.stop()
                await self.start()
        assert self.sock is not None
        self._next_id += 1
        rid = self._next_id
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._pending[rid] = future
        try:
            socket.send_fds(self.sock, [json.dumps({"id": rid, "argv": argv, "env": dict(env)}).encode()], [slave])
            pid = await asyncio.wait_for(future, READY_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            raise ZygoteGone(str(exc) or "the session starter did not answer") from None
        finally:
            self._pending.pop(rid, None)
        child = ForkedChild(pid, self)
        self.children[pid] = child
        return child

    def _on_message(self) -> None:
        assert self.sock is not None
        while True:
            try:
                data = self.sock.recv(MAX_MESSAGE)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                self._gone()
                return
            msg = json.loads(data)
            if msg.get("ready") and self._ready is not None and not self._ready.done():
                self._ready.set_result(None)
            elif "exit" in msg:
                child = self.children.get(int(msg["exit"]))
                if child is not None:
                    child.set_exit_code(int(msg["code"]))
            elif "id" in msg:
                future = self._pending.get(int(msg["id"]))
                if future is not None and not future.done():
                    if "pid" in msg:
                        future.set_result(int(msg["pid"]))
                    else:
                        future.set_exception(ZygoteGone(str(msg.get("error", "refused"))))

    def _gone(self) -> None:
        """The zygote closed its end: fail what waits for it. Running children go on; their pidfds still
        report when they end (with an unknown exit code)."""
        if self.sock is not None:
            asyncio.get_running_loop().remove_reader(self.sock)
            self.sock.close()
            self.sock = None
        for future in self._pending.values():
            if not future.done():
                future.set_exception(ZygoteGone("the session starter ended"))
        if self._ready is not None and not self._ready.done():
            self._ready.set_exception(ZygoteGone("the session starter ended while starting"))

    def stop(self) -> None:
        if self.sock is not None:
            try:
                asyncio.get_running_loop().remove_reader(self.sock)
            except RuntimeError:
                pass
            self.sock.close()
            self.sock = None
        if self.proc is not None:
            if self.proc.poll() is None:
                try:
                    self.proc.wait(timeout=5)  # it exits when its socket closes
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            self.proc = None
