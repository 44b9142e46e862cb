"""Run a later stage one batch behind an earlier one, on a second core.

The scan's identity stage (canonical forms, HMAC, reduction) costs more than the
profile, and both spend most of their time inside polars or the HMAC kernel, which
release the GIL. Feeding identity from a background thread lets it work on batch
*n* while the main thread profiles batch *n + 1*. Calls run one at a time, in the
order submitted, so an accumulator sees its batches exactly as it would inline.
The queue is bounded (``depth`` batches wait at most), which keeps memory bounded.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any

_DONE = object()


class SerialWorker:
    """Calls submitted from one thread, run in order on one background thread."""

    def __init__(self, depth: int = 2, name: str = "triage-worker") -> None:
        self._calls: queue.Queue[object] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._cancelled = threading.Event()
        # The worker sees the submitting thread's context (reading options live in one).
        context = contextvars.copy_context()
        self._thread = threading.Thread(target=context.run, args=(self._loop,), name=name,
                                        daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            item = self._calls.get()
            if item is _DONE:
                return
            if self._error is not None or self._cancelled.is_set():
                continue  # after a failure, drain without running anything
            function, args = item  # type: ignore[misc]
            try:
                function(*args)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the submitting thread
                self._error = exc

    def _raise_pending(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            self._cancelled.set()
            raise error

    def submit(self, function: Callable[..., Any], *args: Any) -> None:
        """Queue ``function(*args)``; re-raises an earlier call's error first."""
        self._raise_pending()
        self._calls.put((function, args))

    def join(self) -> None:
        """Wait until every submitted call has run; re-raises the first error."""
        if self._thread.is_alive():
            self._calls.put(_DONE)
            self._thread.join()
        self._raise_pending()

    def __enter__(self) -> SerialWorker:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if kind is not None:
            # The submitting side failed: stop without running what is still queued.
            self._cancelled.set()
            self._calls.put(_DONE)
            self._thread.join()
        else:
            self.join()
