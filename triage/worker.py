"""Run a later stage behind an earlier one, on other cores.

The scan's identity stage (canonical forms, HMAC, tuples) costs more than the
profile, and both spend most of their time inside polars or the HMAC kernel, which
release the GIL. Feeding identity from background threads lets it work on earlier
batches while the main thread profiles the next one. With one thread, calls run one
at a time in the order submitted; with more, they overlap and may finish in any
order, which suits accumulators whose merge does not depend on order. The queue is
bounded (``depth`` calls wait at most), which keeps memory bounded.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

_DONE = object()


class BackgroundWorker:
    """Calls submitted from one thread, run on ``threads`` background threads."""

    def __init__(self, threads: int = 1, depth: int = 2, name: str = "triage-worker") -> None:
        self._calls: queue.Queue[object] = queue.Queue(maxsize=depth)
        self._errors: list[BaseException] = []
        self._cancelled = threading.Event()
        self._threads = []
        for number in range(threads):
            # Each thread sees the submitting thread's context (reading options live in one).
            context = contextvars.copy_context()
            thread = threading.Thread(target=context.run, args=(self._loop,), daemon=True,
                                      name=name if threads == 1 else f"{name}-{number}")
            thread.start()
            self._threads.append(thread)

    def _loop(self) -> None:
        while True:
            item = self._calls.get()
            if item is _DONE:
                return
            if self._errors or self._cancelled.is_set():
                continue  # after a failure, drain without running anything
            function, args = item  # type: ignore[misc]
            try:
                function(*args)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the submitting thread
                self._errors.append(exc)

    def _raise_pending(self) -> None:
        if self._errors:
            self._cancelled.set()
            raise self._errors[0]

    def submit(self, function: Callable[..., Any], *args: Any) -> None:
        """Queue ``function(*args)``; re-raises an earlier call's error first."""
        self._raise_pending()
        self._calls.put((function, args))

    def _stop(self) -> None:
        for _ in self._threads:
            self._calls.put(_DONE)
        for thread in self._threads:
            thread.join()
        self._threads = []

    def join(self) -> None:
        """Wait until every submitted call has run; re-raises the first error."""
        self._stop()
        self._raise_pending()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if kind is not None:
            # The submitting side failed: stop without running what is still queued.
            self._cancelled.set()
            self._stop()
        else:
            self.join()
