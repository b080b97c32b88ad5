"""The built-in SSH server (``incasso serve ssh``): every login runs its own app process on its own terminal.

One asyncio process accepts SSH connections (asyncssh), authenticates them by public key only against the
``ssh_keys`` table, and for each interactive session starts ``incasso`` as a child process on a fresh
pseudo-terminal, as the logged-in user, in that user's language. Bytes are copied both ways between the SSH
channel and the pty master; window-size changes are set on the pty, so the kernel sends the child SIGWINCH.

A separate process per session keeps the sessions apart (a crash or a slow query in one does not touch the
others, and no state is shared). The processes are forked by a warm session starter (``ssh.zygote``): one
pre-imported interpreter, started with the server, so a login does not pay for the imports and the sessions
share the imported code's pages; see benchmarks/RESULTS.md for what that saves.

Teardown: when the client goes away, the idle timeout passes or the server stops, the child's process group
gets SIGHUP, then SIGKILL after a grace period, and the child is reaped. Nothing secret is logged: user
names, key fingerprints, peer addresses and durations only.
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import logging
import os
import signal
import struct
import termios
import time
from dataclasses import dataclass, replace
from pathlib import Path

import asyncssh

from incasso_tui.atomicfile import atomic_write
from incasso_tui.errors import N_, ConfigError
from incasso_tui.i18n import Translator
from incasso_tui.services.context import Actor
from incasso_tui.services.identity import VIA_ENV
from incasso_tui.services.sshkeys import authorized_user, fingerprint
from incasso_tui.ssh.session_env import DEFAULT_TERM, session_environment
from incasso_tui.ssh.zygote import ForkedChild, Zygote, ZygoteGone
from incasso_tui.store.db import Database

log = logging.getLogger("incasso.ssh")

KILL_GRACE = 2.0  # seconds between SIGHUP and SIGKILL
READ_CHUNK = 65536
INPUT_HIGH_WATER = 65536  # stop reading from the client while this much input waits for the app
# Leave the alternate screen, show the cursor, stop mouse reporting, bracketed paste, focus events and the
# kitty keyboard protocol: what the app would have undone had it ended normally.
RESTORE_TERMINAL = b"\x1b[?1049l\x1b[?25h\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?2004l\x1b[?1004l\x1b[<u\r\n"


@dataclass(frozen=True)
class ServerConfig:
    host: str
    port: int
    host_key: Path
    db_url: str
    idle_timeout: float
    max_sessions: int
    date: str | None = None


def load_or_create_host_key(path: Path) -> asyncssh.SSHKey:
    """The server's ed25519 host key, generated on first use and kept (0600) so clients can pin it."""
    if path.exists():
        if path.stat().st_mode & 0o077:
            raise ConfigError(N_("The host key {path} can be read by others: chmod 600 {path}"), path=str(path))
        try:
            return asyncssh.read_private_key(path)
        except (asyncssh.KeyImportError, OSError) as exc:
            raise ConfigError(N_("Cannot read the host key {path}: {error}"), path=str(path), error=str(exc)) from None
    key = asyncssh.generate_private_key("ssh-ed25519", comment="incasso-tui host key")
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # whole or not at all, never over another key (atomicfile); the public half may be read by anyone
        atomic_write(path, key.export_private_key(), mode=0o600, exclusive=True)
        atomic_write(path.with_name(path.name + ".pub"), key.export_public_key(), mode=0o644)
    except OSError as exc:
        raise ConfigError(
            N_("Cannot write the host key {path}: {error}"), path=str(path), error=exc.strerror or str(exc)
        ) from None
    log.info("generated host key %s in %s", fingerprint(key), path)
    return key


def child_environment(term_type: str, client_env: dict[str, str], db_url: str) -> dict[str, str]:
    """The child's environment, built from scratch: nothing of the server's own environment leaks into it
    except PATH, HOME and the app's own settings (INCASSO_*, XDG_* directories); the session variables
    (terminal type, colour, no animations, escape delay, UTF-8) are those of ``ssh.session_env``.

    No COLUMNS/LINES: the size is on the pty, and Textual asks ``shutil.get_terminal_size()``, which would
    prefer those variables and so never see a resize.
    """
    env = {"PATH": os.environ.get("PATH", os.defpath), "HOME": os.environ.get("HOME", "/")}
    for name, value in os.environ.items():
        if name.startswith("INCASSO_") or name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME"):
            env[name] = value
    env.update(session_environment(term_type, client_env.get("COLORTERM")))
    env["INCASSO_DB_URL"] = db_url  # not on the command line, where `ps` would show a password in the URL
    return env


def zygote_environment() -> dict[str, str]:
    """The session starter's own environment: a session's, without a terminal of its own or a database URL.
    Textual reads TEXTUAL_ANIMATIONS and ESCDELAY when it is imported, so they must be the sessions' already."""
    env = child_environment(DEFAULT_TERM, {}, "")
    del env["INCASSO_DB_URL"]
    return env


def _set_winsize(fd: int, cols: int, rows: int, xpixels: int = 0, ypixels: int = 0) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, xpixels, ypixels))


def _killpg(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


class SshServer:
    """The sessions of one ``incasso serve ssh``: the session limit, authentication, shutdown."""

    def __init__(self, config: ServerConfig, db: Database) -> None:
        self.config = config
        self.db = db
        self.sessions: set[AppSession] = set()
        self.zygote = Zygote(zygote_environment())

    async def authorize(self, login: str, key: asyncssh.SSHKey) -> Actor | None:
        return await asyncio.to_thread(authorized_user, self.db, login, key)

    async def close_all(self) -> None:
        """End every session, and wait for the endings already under way (a client that just left): the server
        must not exit between an app's SIGHUP and its SIGKILL, or an app that ignores the hang-up outlives it."""
        sessions = list(self.sessions)
        await asyncio.gather(*(s.end(N_("The server is stopping."), "server stopping") for s in sessions))
        await asyncio.gather(*(task for s in sessions for task in list(s.tasks)), return_exceptions=True)


class _Connection(asyncssh.SSHServer):
    """One TCP connection: public-key authentication against the users table; sessions on request."""

    def __init__(self, server: SshServer) -> None:
        self.server = server
        self.peer = "?"
        self.started = time.monotonic()
        self.accepted: dict[str, tuple[Actor, str]] = {}  # login name -> (user, key fingerprint)
        self.actor: Actor | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        host, port = conn.get_extra_info("peername")[:2]
        self.peer = f"{host}:{port}"

    def connection_lost(self, exc: Exception | None) -> None:
        who = self.actor.name if self.actor else "(not logged in)"
        reason = f": {exc}" if exc else ""
        log.info("disconnect %s from %s after %.1f s%s", who, self.peer, time.monotonic() - self.started, reason)

    def begin_auth(self, username: str) -> bool:
        return True  # every login needs a key

    def password_auth_supported(self) -> bool:
        return False

    def kbdint_auth_supported(self) -> bool:
        return False

    def public_key_auth_supported(self) -> bool:
        return True

    async def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        actor = await self.server.authorize(username, key)
        if actor is None:
            log.warning("refused key %s for user %r from %s", fingerprint(key), username, self.peer)
            return False
        self.accepted[username] = (actor, fingerprint(key))
        return True

    def auth_completed(self) -> None:
        # asyncssh calls this only after a signed, validated request for the final login name
        actor, fp = self.accepted[str(self.conn.get_extra_info("username"))]
        self.actor = replace(actor, identified_by=f"ssh-key:{fp}")  # how the session's user was identified
        log.info("login %s (%s) from %s with key %s", actor.name, actor.role.value, self.peer, fp)

    def session_requested(self) -> AppSession | bool:
        if self.actor is None:
            return False
        return AppSession(self.server, self.actor, self.peer)


class AppSession(asyncssh.SSHServerSession[bytes]):
    """One interactive login: the app as a child process on its own pseudo-terminal."""

    def __init__(self, server: SshServer, actor: Actor, peer: str) -> None:
        self.server = server
        self.actor = actor
        self.peer = peer
        self.tr = Translator(actor.language if actor.language in ("nl", "en") else "nl")
        self.loop = asyncio.get_running_loop()
        self.chan: asyncssh.SSHServerChannel[bytes] | None = None
        self.term_type = DEFAULT_TERM
        self.size = (80, 24, 0, 0)
        self.has_pty = False
        self.proc: ForkedChild | None = None
        self.master: int | None = None
        self.pending = bytearray()  # input from the client that the app has not read yet
        self.output_done = asyncio.Event()
        self.started = time.monotonic()
        self.last_input = self.loop.time()
        self.idle_timer: asyncio.TimerHandle | None = None
        self.ending = False
        self.tasks: set[asyncio.Task[None]] = set()

    # ----- asyncssh callbacks

    def connection_made(self, chan: asyncssh.SSHServerChannel[bytes]) -> None:  # type: ignore[override]
        self.chan = chan

    def pty_requested(self, term_type: str, term_size: tuple[int, int, int, int], term_modes: object) -> bool:  # type: ignore[override]
        self.has_pty = True
        self.term_type = term_type or DEFAULT_TERM
        self.terminal_size_changed(*term_size)
        return True

    def terminal_size_changed(self, width: int, height: int, pixwidth: int, pixheight: int) -> None:
        self.size = (width or 80, height or 24, pixwidth, pixheight)
        if self.master is not None:
            _set_winsize(self.master, *self.size)  # the kernel sends SIGWINCH to the app

    def shell_requested(self) -> bool:
        return True

    def exec_requested(self, command: str) -> bool:
        log.warning("refused a command for %s from %s: only interactive sessions", self.actor.name, self.peer)
        return False

    def subsystem_requested(self, subsystem: str) -> bool:
        log.warning("refused subsystem %r for %s from %s", subsystem, self.actor.name, self.peer)
        return False

    def session_started(self) -> None:
        limit = self.server.config.max_sessions
        if not self.has_pty:
            self._close(1, N_("This service needs a terminal: connect with 'ssh -t'."))
        elif len(self.server.sessions) >= limit:
            log.warning("refused %s from %s: %d sessions open, the limit", self.actor.name, self.peer, limit)
            self._close(1, N_("All {limit} sessions are in use; try again later."), limit=limit)
        else:
            self.server.sessions.add(self)
            self._spawn_task(self._run())

    def data_received(self, data: bytes, datatype: asyncssh.DataType) -> None:
        self.last_input = self.loop.time()
        self.pending += data
        self._flush_input()

    def pause_writing(self) -> None:
        if self.master is not None and not self.output_done.is_set():
            self.loop.remove_reader(self.master)

    def resume_writing(self) -> None:
        if self.master is not None and not self.output_done.is_set():
            self.loop.add_reader(self.master, self._on_output)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ending and self in self.server.sessions:
            self._spawn_task(self.end(None, "client disconnected"))

    # ----- the child

    async def _run(self) -> None:
        try:
            await self._spawn()
        except OSError as exc:  # ZygoteGone included
            log.error("cannot start the app for %s: %s", self.actor.name, exc.strerror or exc)
            self.ending = True
            self._finish("app did not start")
            self._close(1, N_("The app could not be started."))
            return
        assert self.proc is not None
        self._check_idle()
        code = await self.proc.wait()
        if self.ending:
            return  # end() is stopping it
        self.ending = True
        try:
            await asyncio.wait_for(self.output_done.wait(), 1.0)  # the last screen bytes
        except TimeoutError:
            pass
        self._close_master()
        self._finish(f"app exited ({code})")
        self._close(code)

    async def _spawn(self) -> None:
        config = self.server.config
        args = ["--user", self.actor.name, "--lang", self.tr.lang]
        if config.date:
            args += ["--date", config.date]
        assert self.chan is not None
        env = child_environment(self.term_type, dict(self.chan.get_environment()), config.db_url)
        env[VIA_ENV] = self.actor.identified_by  # the child (this server's operator account) records it
        master, slave = os.openpty()  # both close-on-exec
        try:
            _set_winsize(slave, *self.size)
            self.proc = await self.server.zygote.spawn(args, env, slave)
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)
        os.set_blocking(master, False)
        self.master = master
        self.loop.add_reader(master, self._on_output)
        self._flush_input()
        log.info(
            "session %s: app pid %d, %dx%d %s, %d of %d sessions",
            self.actor.name,
            self.proc.pid,
            self.size[0],
            self.size[1],
            self.term_type,
            len(self.server.sessions),
            config.max_sessions,
        )

    def _on_output(self) -> None:
        assert self.master is not None and self.chan is not None
        try:
            data = os.read(self.master, READ_CHUNK)
        except BlockingIOError:
            return
        except OSError as exc:
            if exc.errno != errno.EIO:  # EIO: every slave end is closed, the app has exited
                log.warning("pty of %s: %s", self.actor.name, exc.strerror)
            data = b""
        if data:
            if not self.chan.is_closing():
                self.chan.write(data)
            return
        self.loop.remove_reader(self.master)
        self.output_done.set()

    def _flush_input(self) -> None:
        if self.master is None or self.chan is None:
            return  # kept until the app runs
        while self.pending:
            try:
                written = os.write(self.master, self.pending)
            except BlockingIOError:
                break
            except OSError:
                self.pending.clear()  # the app is gone; its end is handled by _run
                break
            del self.pending[:written]
        if self.pending:
            self.loop.add_writer(self.master, self._flush_input)
            if len(self.pending) > INPUT_HIGH_WATER:
                self.chan.pause_reading()
        else:
            self.loop.remove_writer(self.master)
            self.chan.resume_reading()

    def _check_idle(self) -> None:
        timeout = self.server.config.idle_timeout
        remaining = self.last_input + timeout - self.loop.time()
        if remaining > 0:
            self.idle_timer = self.loop.call_later(remaining, self._check_idle)
            return
        if timeout >= 120 and timeout % 60 == 0:
            self._spawn_task(
                self.end(
                    N_("Session closed: no input for {minutes} minutes."), "idle timeout", minutes=int(timeout // 60)
                )
            )
        else:
            self._spawn_task(
                self.end(N_("Session closed: no input for {seconds} seconds."), "idle timeout", seconds=int(timeout))
            )

    async def end(self, message: str | None, reason: str, **params: object) -> None:
        """Stop the app (SIGHUP to its process group, SIGKILL after a grace period), tell the client why."""
        if self.ending:
            return
        self.ending = True
        proc = self.proc
        if proc is not None and proc.returncode is None:
            _killpg(proc.pid, signal.SIGHUP)
            try:
                await asyncio.wait_for(proc.wait(), KILL_GRACE)
            except TimeoutError:
                log.warning("app pid %d of %s ignored SIGHUP: killed", proc.pid, self.actor.name)
                _killpg(proc.pid, signal.SIGKILL)
                await proc.wait()
        self._close_master()
        self._finish(reason)
        if message is not None:
            self._close(1, message, **params)

    def _close_master(self) -> None:
        if self.master is not None:
            self.loop.remove_reader(self.master)
            self.loop.remove_writer(self.master)
            os.close(self.master)
            self.master = None

    def _finish(self, reason: str) -> None:
        if self.idle_timer is not None:
            self.idle_timer.cancel()
        if self in self.server.sessions:
            self.server.sessions.discard(self)
            log.info(
                "session end %s from %s after %.1f s: %s",
                self.actor.name,
                self.peer,
                time.monotonic() - self.started,
                reason,
            )

    def _close(self, code: int, message: str | None = None, **params: object) -> None:
        if self.chan is None or self.chan.is_closing():
            return
        if message is not None:
            self.chan.write(RESTORE_TERMINAL + self.tr(message, **params).encode() + b"\r\n")
        self.chan.exit(code if 0 <= code < 256 else 1)

    def _spawn_task(self, coro: object) -> None:
        task = asyncio.ensure_future(coro)  # type: ignore[arg-type]
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)


async def serve(config: ServerConfig, db: Database, host_key: asyncssh.SSHKey) -> None:
    """Accept logins until SIGTERM or SIGINT, then end every session and return."""
    server = SshServer(config, db)
    try:
        await server.zygote.start()
    except ZygoteGone as exc:
        raise ConfigError(N_("Cannot start the session starter: {error}"), error=str(exc)) from None
    try:
        acceptor = await asyncssh.create_server(
            lambda: _Connection(server),
            config.host,
            config.port,
            server_host_keys=[host_key],
            encoding=None,
            line_editor=False,
            agent_forwarding=False,
            x11_forwarding=False,
            allow_scp=False,
            keepalive_interval=30,
            keepalive_count_max=3,
            login_timeout=60,
        )
    except OSError as exc:
        server.zygote.stop()
        raise ConfigError(
            N_("Cannot listen on {host}:{port}: {error}"),
            host=config.host,
            port=str(config.port),
            error=exc.strerror or str(exc),
        ) from None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.info(
        "listening on %s:%d, host key %s, database %s, idle timeout %d s, at most %d sessions",
        config.host,
        acceptor.get_port(),
        fingerprint(host_key),
        db.display_url,
        config.idle_timeout,
        config.max_sessions,
    )
    try:
        await stop.wait()
    finally:
        log.info("stopping: %d sessions open", len(server.sessions))
        acceptor.close()
        await server.close_all()
        await acceptor.wait_closed()
        server.zygote.stop()
