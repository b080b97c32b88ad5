"""The portal on a real socket for the browser tests, the screenshots and the load test: uvicorn in a thread on
127.0.0.1 with a free port, stopped when the block ends."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from incasso_tui.services.context import Context


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running(ctx: Context, *, timeout: float = 30.0) -> Iterator[str]:
    """The portal of ``ctx`` served on 127.0.0.1; yields its base URL."""
    import uvicorn

    from incasso_tui.portal.app import create_app

    port = free_port()
    config = uvicorn.Config(create_app(ctx), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the portal did not start")
        time.sleep(0.02)  # polling for the condition, not a fixed wait
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout)
