"""Running the suite under Debian's `faketime` (the any-day runs, or by hand) without hangs.

libfaketime 0.9.10 and CPython 3.11 disagree in two places:
- with the monotonic clock faked (its default), every timed lock wait (`Event.wait(1)`,
  `Thread.join(1)`, `queue.get(timeout=1)`) hangs: CPython waits with `sem_clockwait`, which
  that libfaketime does not intercept, on a deadline years ahead of the real monotonic clock;
- with FAKETIME_DONT_FAKE_MONOTONIC=1, `time.sleep` fails with EINVAL (it shifts the absolute
  monotonic deadline of `clock_nanosleep` anyway).
So a run under faketime fakes the wall clock only, and loads faketime_site/sitecustomize.py in
every Python process (pytest and the bots it starts) for a `time.sleep` that works. Dates are
what the any-day runs move; the monotonic clock only measures durations, and stays real.

A third: a process under libfaketime crashed (SIGSEGV, in two of the first five any-day runs) while its main thread
imported NumPy (for the summary chart) and other threads worked: so NumPy's OpenBLAS starts no
threads of its own there, and the chart's libraries are imported before any thread starts.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

SITE = str(Path(__file__).resolve().parent / "faketime_site")
UNDER_FAKETIME = "faketime" in os.environ.get("LD_PRELOAD", "")


def faketime_environment(environ: dict[str, str]) -> dict[str, str]:
    """`environ` with what a Python process needs to run well under libfaketime."""
    paths = [p for p in environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != SITE]
    return {
        **environ,
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "PYTHONPATH": os.pathsep.join([SITE, *paths]),
    }


def child_python_path(*paths: str) -> str:
    """PYTHONPATH for a Python process a test starts: `paths`, and under faketime the site that
    keeps its `time.sleep` working (overwriting PYTHONPATH lost it: EINVAL in the child)."""
    inherited = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    keep = [SITE] if SITE in inherited else []
    return os.pathsep.join([*keep, *paths])


def ready_for_faketime() -> bool:
    return not UNDER_FAKETIME or (
        os.environ.get("FAKETIME_DONT_FAKE_MONOTONIC") == "1"
        and os.environ.get("OPENBLAS_NUM_THREADS") == "1"
        and SITE in os.environ.get("PYTHONPATH", "").split(os.pathsep)
    )


def rerun_ready_for_faketime(config: pytest.Config) -> None:
    """Under a plain `faketime pytest`, start pytest again set up as above (libfaketime reads
    its settings once, when the process starts). The fake time starts where it did."""
    if ready_for_faketime():
        if UNDER_FAKETIME:
            import matplotlib  # see the module's docstring

            matplotlib.use("Agg")  # as bot.chart does
            import matplotlib.pyplot
        return
    capture = config.pluginmanager.getplugin("capturemanager")
    if capture is not None:
        capture.stop_global_capturing()
    sys.stderr.write(
        "faketime: re-running with the monotonic clock left real, which libfaketime 0.9.10 "
        "needs for CPython's timed waits (tests/faketime_compat.py)\n"
    )
    sys.stderr.flush()
    os.execve(
        sys.executable, [sys.executable, *sys.orig_argv[1:]], faketime_environment(dict(os.environ))
    )


def faked_start() -> datetime:
    """Where faketime put the machine's clock when the run began, to the minute."""
    return datetime.now(UTC).replace(second=0, microsecond=0)
