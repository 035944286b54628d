"""Work that must not delay Slack's answer (Web API calls), run on a small thread pool."""

from __future__ import annotations

import functools
import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import ParamSpec

log = logging.getLogger(__name__)

P = ParamSpec("P")
WORKERS = 8


class Background:
    """Listeners answer Slack first, then hand their Web API calls to this pool.

    Unlike Bolt's lazy listeners it copies nothing: callers pass exactly the plain values the
    work needs, and requests with nothing to do after the ack cost nothing.
    """

    def __init__(self, workers: int = WORKERS) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="after-ack")
        self._pending = 0
        self._idle = threading.Condition()
        # Work queued per lane, behind the lane's running task; a lane with no entry is idle.
        self._lanes: dict[str, deque[Callable[[], object]]] = {}
        self._lanes_lock = threading.Lock()

    def submit(self, work: Callable[P, object], *args: P.args, **kwargs: P.kwargs) -> None:
        with self._idle:
            self._pending += 1
        future = self._pool.submit(work, *args, **kwargs)
        future.add_done_callback(self._finished)

    def submit_in_order(
        self, lane: str, work: Callable[P, object], *args: P.args, **kwargs: P.kwargs
    ) -> None:
        """Like submit, but after everything submitted earlier in the same `lane`.

        The pool runs work side by side, so two quick clicks' message updates, or a deal's
        "new" and "won" announcements, could reach Slack in the wrong order and leave the
        older one showing. Lanes (one message, one channel, one person's Home) keep order
        among themselves and still run beside each other.
        """
        task = functools.partial(work, *args, **kwargs)
        with self._idle:
            self._pending += 1
        with self._lanes_lock:
            queued = self._lanes.get(lane)
            if queued is not None:
                queued.append(task)  # the lane's runner takes it after the ones before
                return
            self._lanes[lane] = deque([task])
        self._pool.submit(self._run_lane, lane)

    def _run_lane(self, lane: str) -> None:
        while True:
            with self._lanes_lock:
                queued = self._lanes[lane]
                if not queued:
                    del self._lanes[lane]
                    return
                task = queued.popleft()
            try:
                task()
            except Exception:
                log.exception("work after the ack failed")
            finally:
                self._one_done()

    def _finished(self, future: Future[object]) -> None:
        error = future.exception()
        if error is not None:
            log.error("work after the ack failed", exc_info=error)
        self._one_done()

    def _one_done(self) -> None:
        with self._idle:
            self._pending -= 1
            self._idle.notify_all()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until nothing is queued or running (tests, shutdown); False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout=timeout)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)
