"""Work that must not delay Slack's answer (Web API calls), run on a small thread pool."""

from __future__ import annotations

import logging
import threading
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

    def submit(self, work: Callable[P, object], *args: P.args, **kwargs: P.kwargs) -> None:
        with self._idle:
            self._pending += 1
        future = self._pool.submit(work, *args, **kwargs)
        future.add_done_callback(self._finished)

    def _finished(self, future: Future[object]) -> None:
        error = future.exception()
        if error is not None:
            log.error("work after the ack failed", exc_info=error)
        with self._idle:
            self._pending -= 1
            self._idle.notify_all()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until nothing is queued or running (tests, shutdown); False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout=timeout)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)
