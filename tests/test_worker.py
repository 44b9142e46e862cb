"""BackgroundWorker: calls run in order, one at a time; errors come back to the submitter."""

import threading

import pytest

from triage.worker import BackgroundWorker


def test_calls_run_in_submission_order_on_one_other_thread():
    seen: list[tuple[int, str]] = []
    with BackgroundWorker(depth=1) as worker:
        for i in range(200):
            worker.submit(lambda i=i: seen.append((i, threading.current_thread().name)))
    assert [i for i, _ in seen] == list(range(200))
    assert {name for _, name in seen} == {"triage-worker"}


def test_an_error_is_raised_in_the_submitting_thread_and_stops_later_calls():
    ran: list[int] = []

    def call(i: int) -> None:
        if i == 3:
            raise ValueError("boom")
        ran.append(i)

    with pytest.raises(ValueError, match="boom"), BackgroundWorker() as worker:
        for i in range(100):
            worker.submit(call, i)
    assert ran == [0, 1, 2]


def test_a_failure_of_the_submitter_cancels_what_is_queued():
    release = threading.Event()
    ran: list[int] = []

    def call(i: int) -> None:
        release.wait(5)
        ran.append(i)

    with pytest.raises(KeyError), BackgroundWorker(depth=4) as worker:
        for i in range(3):
            worker.submit(call, i)
        release.set()
        raise KeyError("submitter failed")
    assert len(ran) <= 1  # at most the call already running when the submitter failed


def test_several_threads_run_every_call_once_and_overlap():
    seen: list[int] = []
    lock = threading.Lock()
    inside = threading.Barrier(3, timeout=5)

    def call(i: int) -> None:
        if i < 3:
            inside.wait()  # three calls at once, or this times out
        with lock:
            seen.append(i)

    with BackgroundWorker(threads=3) as worker:
        for i in range(50):
            worker.submit(call, i)
    assert sorted(seen) == list(range(50))


def test_an_error_on_one_of_several_threads_reaches_the_submitter():
    def call(i: int) -> None:
        if i == 7:
            raise RuntimeError("seven")

    with pytest.raises(RuntimeError, match="seven"), BackgroundWorker(threads=2) as worker:
        for i in range(20):
            worker.submit(call, i)


def test_a_failing_stage_stops_the_reading_thread_at_once(tmp_path):
    """A stage's error must not leave the prefetch thread reading until interpreter exit
    (a daemon thread inside a read at shutdown aborts Python with a fatal error)."""
    from triage.pipeline import run

    path = tmp_path / "big.csv"
    path.write_text("a;b\n" + "x;y\n" * 25_000_000)  # 100 MB: several chunks still to read

    def failing(source, batch, profile, first):  # noqa: ANN001
        raise KeyError("stage failed")

    with pytest.raises(KeyError):
        run([path], on_batch=failing)
    assert not [t for t in threading.enumerate() if t.name == "triage-prefetch"]
