"""Load: `pulsebot serve` on PostgreSQL takes 2,000 signed slash commands and clicks from 50
concurrent clients — all answered 200 within 3 s, every effect stored once (bench/load.py)."""

from __future__ import annotations

import pytest

from bench.load import IDLE_TARGET_MB, run
from tests.conftest import _postgres_url_or_skip
from tests.reliability.conftest import FIGURES

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def test_two_thousand_requests_from_fifty_clients() -> None:
    report = run(_postgres_url_or_skip(), requests=2000, clients=50)
    FIGURES.extend(report.lines())  # printed at the end of the run, passed or not
    assert set(report.statuses) == {200}
    assert report.slowest <= 3.0
    assert report.refused == []
    assert report.database_problems == []
    assert report.idle_mb <= IDLE_TARGET_MB
