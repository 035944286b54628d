"""Work after the ack: side by side, except within a lane, where it keeps its order."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from bot.background import Background


@pytest.fixture
def background() -> Iterator[Background]:
    pool = Background(workers=4)
    yield pool
    pool.shutdown()


def test_a_lane_keeps_its_order_however_slow_its_first_task(background: Background) -> None:
    release = threading.Event()
    done: list[str] = []

    def slow(name: str) -> None:
        release.wait(5)
        done.append(name)

    background.submit_in_order("dm:1:U1", slow, "click 9")
    for name in ("change", "click 7"):
        background.submit_in_order("dm:1:U1", done.append, name)
    # Another lane is not held up behind it…
    other = threading.Event()
    background.submit_in_order("dm:1:U2", other.set)
    assert other.wait(5)
    assert done == []  # …while this one waits for its first task
    release.set()
    assert background.wait_idle(5)
    assert done == ["click 9", "change", "click 7"]


def test_a_failing_task_does_not_stop_its_lane(
    background: Background, caplog: pytest.LogCaptureFixture
) -> None:
    done: list[int] = []

    def fail() -> None:
        raise RuntimeError("Slack said no")

    background.submit_in_order("channel:C1", fail)
    background.submit_in_order("channel:C1", done.append, 2)
    assert background.wait_idle(5)
    assert done == [2]
    assert "work after the ack failed" in caplog.text


def test_many_submitters_lose_nothing_and_keep_each_lanes_order(background: Background) -> None:
    seen: dict[str, list[int]] = {f"lane{n}": [] for n in range(5)}
    start = threading.Barrier(5)

    def submitter(lane: str) -> None:
        start.wait()
        for i in range(200):
            background.submit_in_order(lane, seen[lane].append, i)

    threads = [threading.Thread(target=submitter, args=(lane,)) for lane in seen]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert background.wait_idle(10)
    assert all(order == list(range(200)) for order in seen.values())
