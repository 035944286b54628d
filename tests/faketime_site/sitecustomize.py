"""Loaded by every Python process of a test run under faketime (tests/faketime_compat.py puts
this folder on PYTHONPATH): makes `time.sleep` work with Debian's libfaketime 0.9.10.

That libfaketime is run with FAKETIME_DONT_FAKE_MONOTONIC=1, because faking the monotonic
clock hangs CPython's timed lock waits (`sem_clockwait` is not intercepted). But it still
shifts the absolute monotonic deadline CPython's `time.sleep` hands `clock_nanosleep`, which
then fails with EINVAL. A sleep made of relative `select` timeouts goes around both.
"""

from __future__ import annotations

import os
import select
import time
from typing import SupportsIndex

if "faketime" in os.environ.get("LD_PRELOAD", ""):

    def _sleep(seconds: float | SupportsIndex) -> None:
        length = float(seconds)
        if length < 0:
            raise ValueError("sleep length must be non-negative")
        deadline = time.monotonic() + length
        while (left := deadline - time.monotonic()) > 0:
            select.select([], [], [], left)

    time.sleep = _sleep
