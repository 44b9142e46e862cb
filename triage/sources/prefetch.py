"""Run a producer (reading, decompressing, cutting chunks) one step ahead of its consumer.

Reading and decompression release the GIL, and so does polars' parser, so a
background thread overlaps them on a second core. The queue is bounded: at
most ``depth`` chunks wait, which keeps memory bounded.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")
_DONE = object()


def prefetch(items: Iterator[T], depth: int = 2) -> Iterator[T]:
    """``items``, produced up to ``depth`` ahead on a thread; ``depth=0``: in step,
    on the consumer's thread."""
    if depth == 0:
        yield from items
        return
    slots: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        slots.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            slots.put(_DONE)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, re-raised there
            slots.put(exc)

    # The producer sees the caller's context (reading options live in a ContextVar);
    # a new thread would otherwise start with none.
    context = contextvars.copy_context()
    worker = threading.Thread(target=context.run, args=(produce,), name="triage-prefetch",
                              daemon=True)
    worker.start()
    try:
        while True:
            item = slots.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join(timeout=5)
