"""How fast Slack gets its answer to `/deal advance`, beside a bare default Bolt app.

Run: .venv/bin/python -m bench.deal_ack [--requests N] [--postgres URL]
Dispatches pre-signed slash commands in-process (signature check included) and prints the
median and p99 per request on SQLite and PostgreSQL, with the ratio to the bare app; each
database with Prometheus metrics off (the default) and on, to show what counting costs.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from slack_bolt import App, BoltRequest
from slack_sdk import WebClient

from bot.actor import Actor
from bot.app import build_app, build_services, freeze_startup_objects
from bot.config import load_settings
from bot.deals.arguments import NewDealArgs
from bot.standin import SlackStandIn
from bot.standin.requests import SlackRequests
from storage.db import Database
from storage.migrate import upgrade
from storage.scratch import scratch_schema

SIGNING_SECRET = "bench-signing-secret"
USER = "U05OSMITH"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def time_dispatch(app: App, requests: list[tuple[str, dict[str, str]]]) -> list[float]:
    """Seconds per `app.dispatch`, the request parsed and its signature checked inside."""
    samples = []
    for body, headers in requests:
        started = time.perf_counter()
        response = app.dispatch(BoltRequest(body=body, headers=dict(headers)))
        samples.append(time.perf_counter() - started)
        assert response.status == 200, response.body
    return samples


def bare_bolt_app(standin: SlackStandIn) -> App:
    """Bolt with default settings: the listener acks, and dispatch polls for that ack."""
    app = App(
        signing_secret=SIGNING_SECRET,
        client=WebClient(token="xoxb-bench", base_url=standin.url),
    )

    @app.command("/deal")
    def deal(ack: Callable[..., None]) -> None:
        ack()

    return app


def bench_pulsebot(database_url: str, standin: SlackStandIn, count: int) -> dict[bool, list[float]]:
    """Seconds per request with metrics off (False) and on (True): two apps on one database,
    taking turns request by request, so that both see the same machine at the same moments."""
    settings = {
        metrics: load_settings(
            _env_file=None,
            SLACK_BOT_TOKEN="xoxb-bench",
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            PULSEBOT_SECRET="8dd126a407a4bbb873d007669c4413247f5420d4fe2bfc15a1a58d4232c4ae11",
            SLACK_API_URL=standin.url,
            DATABASE_URL=database_url,
            PULSEBOT_METRICS_PATH="/metrics" if metrics else "",
        )
        for metrics in (False, True)
    }
    db = Database(database_url)
    upgrade(db.engine)
    services = {metrics: build_services(s, db=db) for metrics, s in settings.items()}
    apps = {metrics: build_app(services[metrics]) for metrics in settings}
    owner = Actor(USER)
    for n in range(2 * count):
        services[False].deals.create(owner, NewDealArgs(name=f"Deal {n:05d}"))
    signer = SlackRequests(SIGNING_SECRET)
    freeze_startup_objects()  # as `pulsebot serve` does once it has started
    # Warm up: the user lookup (once per user, then cached) and connection pools.
    for app in apps.values():
        app.dispatch(signer.slash_command("/deal", "help", user_id=USER).bolt())
    samples: dict[bool, list[float]] = {False: [], True: []}
    for n in range(2 * count):
        metrics = n % 2 == 1
        signed = signer.slash_command("/deal", f'advance "Deal {n:05d}"', user_id=USER)
        samples[metrics] += time_dispatch(apps[metrics], [(signed.body, signed.headers)])
    for service in services.values():
        service.background.shutdown()
    db.dispose()
    return samples


def bench_bare(standin: SlackStandIn, count: int) -> list[float]:
    app = bare_bolt_app(standin)
    signer = SlackRequests(SIGNING_SECRET)
    requests = []
    for n in range(count):
        signed = signer.slash_command("/deal", f"advance Deal{n}", user_id=USER)
        requests.append((signed.body, signed.headers))
    time_dispatch(app, requests[:20])
    return time_dispatch(app, requests)


def row(name: str, samples: list[float], baseline: float | None, target: str) -> str:
    median = statistics.median(samples) * 1000
    p99 = percentile(samples, 0.99) * 1000
    ratio = "" if baseline is None else f"{baseline * 1000 / median:7.1f}×"
    return f"{name:<46} {median:9.3f} {p99:9.3f} {ratio:>9}   {target}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument(
        "--postgres", default=os.environ.get("PULSEBOT_TEST_DATABASE_URL", DEFAULT_PG)
    )
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    with SlackStandIn() as standin, tempfile.TemporaryDirectory() as tmp:
        bare = bench_bare(standin, min(args.requests, 300))
        results: list[tuple[str, list[float], float | None, str]] = [
            ("bare Bolt app, default settings", bare, None, "baseline")
        ]
        sqlite = bench_pulsebot(f"sqlite:///{Path(tmp) / 'bench.db'}", standin, args.requests)
        for metrics, samples in sqlite.items():
            results.append(
                (
                    f"pulsebot /deal advance, SQLite, metrics {'on' if metrics else 'off'}",
                    samples,
                    statistics.median(bare),
                    "median ≤ 1 ms, p99 ≤ 5 ms",
                )
            )
        if not args.no_postgres:
            with scratch_schema(args.postgres, prefix="bench") as url:
                pg = bench_pulsebot(url, standin, args.requests)
            for metrics, samples in pg.items():
                results.append(
                    (
                        f"pulsebot /deal advance, PostgreSQL, metrics {'on' if metrics else 'off'}",
                        samples,
                        statistics.median(bare),
                        "median ≤ 3 ms, p99 ≤ 5 ms",
                    )
                )
    print(f"{'in-process dispatch of a signed slash command':<46}")
    print(f"{'':<46} {'median ms':>9} {'p99 ms':>9} {'vs bare':>9}   target")
    for name, samples, baseline, target in results:
        print(row(name, samples, baseline, target))


if __name__ == "__main__":
    main()
