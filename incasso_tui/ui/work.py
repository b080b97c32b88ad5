"""Service calls from screens: one worker helper that posts a result or a typed error, never a traceback.

As harlequin's workers do, a service call runs in a thread worker and what comes back is a message to the UI
thread: ``done(result)`` or ``failed(err)``. A database that does not answer is a typed error by then
(``store.db`` maps it at the store boundary: busy, connection lost, damaged), so the screen shows it on its
status line, keeps what was typed, and the next try works again once the database does. A driver error that
the store boundary did not recognise is shown the same way. Anything else is a defect: it ends the app with
its traceback and a non-zero exit status (``cli._run_tui`` returns the app's return code), not silently.

A call whose answer closes the screen that asked (a form saved, a booking made) runs in :func:`closing_worker`: a
worker of the app, not of the screen. A screen's workers are cancelled when it is dismissed, and a save worker of
the form itself was cancelled by its own ``dismiss`` while its thread was still handing back the answer
(``WorkerCancelled`` for whoever waited on it, e.g. ``app.workers.wait_for_complete()``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from textual.dom import DOMNode
from textual.worker import Worker, get_current_worker

from incasso_tui.errors import IncassoError
from incasso_tui.services.driver_errors import DRIVER_ERROR, as_incasso_error

T = TypeVar("T")


def service_worker(
    node: DOMNode,
    call: Callable[[], T],
    done: Callable[[T], Any],
    failed: Callable[[IncassoError], Any],
    *,
    group: str,
    exclusive: bool = True,
) -> Worker[None]:
    """Run ``call()`` in a thread worker; then ``done(result)`` or ``failed(err)`` on the UI thread.

    Nothing is posted when the worker was cancelled meanwhile (the screen was left, or a newer call of the same
    exclusive group replaced it), nor when ``node`` is no longer attached by the time the answer is handed over
    (it was removed, or the app is closing, after the answer was queued: its children may be gone already).
    """
    app = node.app

    def job() -> None:
        worker = get_current_worker()
        try:
            post: Callable[[], Any] = partial(done, call())
        except IncassoError as err:
            post = partial(failed, err)
        except DRIVER_ERROR as exc:
            post = partial(failed, as_incasso_error(exc))
        if not worker.is_cancelled:
            app.call_from_thread(lambda: post() if node.is_attached and not worker.is_cancelled else None)

    return node.run_worker(job, thread=True, exclusive=exclusive, group=group)


def closing_worker(
    screen: DOMNode,
    call: Callable[[], T],
    done: Callable[[T], Any],
    failed: Callable[[IncassoError], Any],
    *,
    group: str,
) -> Worker[None]:
    """:func:`service_worker` for a call whose ``done`` dismisses ``screen``: the worker belongs to the app.

    So dismissing the screen cannot cancel the worker that dismisses it. The answer is handed to the screen only
    while it is still mounted (the same rule as a cancelled worker's: nothing posted to a screen that was left).
    One call at a time per screen: the group is the screen's own.
    """
    app = screen.app

    def job() -> None:
        try:
            post: Callable[[], Any] = partial(done, call())
        except IncassoError as err:
            post = partial(failed, err)
        except DRIVER_ERROR as exc:
            post = partial(failed, as_incasso_error(exc))
        if not get_current_worker().is_cancelled:
            app.call_from_thread(lambda: post() if screen.is_attached else None)

    return app.run_worker(job, thread=True, exclusive=True, group=f"{group}-{id(screen)}")
