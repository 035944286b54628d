"""Survey speed through the stand-in: fan-out vs a bare slack_sdk loop, 429s, click dispatch.

.venv/bin/python -m bench.survey            # all three parts (b takes ~100 s by design)
.venv/bin/python -m bench.survey --part a   # or b, or c; --people N to change sizes
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.actor import Actor
from bot.app import build_app, build_services
from bot.config import load_settings
from bot.delivery import survey_dms as jobs
from bot.i18n import Texts
from bot.services import Services
from bot.standin import SimUser, SlackStandIn, Workspace
from bot.standin.requests import SlackRequests
from bot.surveys.schedule import Audience
from bot.surveys.templates import TEMPLATES
from bot.views.surveys import survey_dm, survey_title
from storage.db import Database
from storage.migrate import upgrade
from storage.scratch import scratch_schema

SIGNING_SECRET = "bench-signing-secret-0123456789"
TOKEN = "xoxb-bench-0000"
PG_URL = os.environ.get("PULSEBOT_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def team(size: int) -> Workspace:
    return Workspace(
        users=[SimUser(id=f"U{n:07d}", name=f"p{n}", tz="Europe/Rome") for n in range(size)]
    )


@contextmanager
def database(kind: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{tmp}/bench.db"
        return
    with scratch_schema(PG_URL, prefix="pulsebot_bench") as url:
        yield url


def boot(slack: SlackStandIn, url: str) -> Services:
    settings = load_settings(
        _env_file=None,
        SLACK_BOT_TOKEN=TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        PULSEBOT_SECRET="88221243047fe6940ac2be6199f0882b38e703d9a99120e8cd7f5676ab8455ca",
        SLACK_API_URL=slack.url,
        DATABASE_URL=url,
        PULSEBOT_TIMEZONE="Europe/Rome",
    )
    services = build_services(settings, db=Database(url))
    upgrade(services.db.engine)
    return services


def open_run(services: Services, survey: str = "enps") -> int:
    run = services.surveys.start_run(
        Actor("UBENCH", is_manager=True), survey, audience=Audience(), open_days=None
    )
    jobs.resolve_audiences(services, services.clock())
    return run.id


def part_a(people: int) -> None:
    print(f"(a) fan-out of one run to {people} people, SQLite, through the stand-in")
    with SlackStandIn(team(people)) as slack, database("sqlite") as url:
        services = boot(slack, url)
        run_id = open_run(services)
        texts = Texts("en")
        definition = TEMPLATES["enps"]
        blocks = [b.to_dict() for b in survey_dm(texts, run_id, definition, datetime.now(UTC))]
        fallback = texts("pulse.dm.fallback", title=survey_title(texts, definition))
        bare = WebClient(token=TOKEN, base_url=slack.url)
        ids = [f"U{n:07d}" for n in range(people)]
        started = time.perf_counter()
        for user_id in ids:
            bare.chat_postMessage(channel=user_id, text=fallback, blocks=blocks)
        baseline = (time.perf_counter() - started) / people
        slack.reset()
        started = time.perf_counter()
        sent = jobs.dispatch_due_deliveries(services, datetime.now(UTC))
        ours = (time.perf_counter() - started) / people
        assert sent == people, sent
        print(f"    bare slack_sdk loop : {baseline * 1000:7.3f} ms per DM")
        print(f"    pulsebot dispatch   : {ours * 1000:7.3f} ms per DM (claim, post, mark sent)")
        print(f"    ratio               : {ours / baseline:7.2f}  (target ≤ 1.3)")
        services.db.dispose()


def part_b(people: int, per_minute: int) -> None:
    allowed = people / per_minute * 60
    print(f"(b) fan-out to {people} people, chat.postMessage limited to {per_minute}/min with 429s")
    print(f"    the limit allows {allowed:.0f} s at a steady {per_minute}/min")
    # Slack counts a minute as a window (a burst may go out at once); the steady variant
    # allows no burst at all, so the bot has to wait out 429s the whole way.
    variants = (
        ("per sliding minute", per_minute, 60.0),
        ("steady, per second", max(1, per_minute // 60), 1.0),
    )
    for label, calls, window in variants:
        with SlackStandIn(team(people)) as slack, database("sqlite") as url:
            services = boot(slack, url)
            open_run(services)
            slack.rate_limit("chat.postMessage", calls, window=window)
            started = time.perf_counter()
            sent = jobs.dispatch_due_deliveries(services, datetime.now(UTC))
            elapsed = time.perf_counter() - started
            per_person = Counter(m.recipient for m in slack.messages)
            limited = sum(1 for c in slack.calls_to("chat.postMessage") if c.status == 429)
            once = sum(1 for c in per_person.values() if c == 1)
            print(f"    {label} ({calls} per {window:g} s): sent {sent}, 429 answers {limited}, "
                  f"people with exactly one DM {once} of {people}; elapsed {elapsed:6.1f} s, "
                  f"ratio to {allowed:.0f} s {elapsed / allowed:4.2f} (target ≤ 1.1)")  # fmt: skip
            services.db.dispose()


def _summary(times: list[float]) -> str:
    cuts = statistics.quantiles(times, n=100)
    return (
        f"median {statistics.median(times) * 1000:6.3f} ms, p95 {cuts[94] * 1000:6.3f} ms, "
        f"p99 {cuts[98] * 1000:6.3f} ms"
    )


def bare_bolt(clicks: int) -> list[float]:
    """The floor: a Bolt app like ours (same settings) whose one listener only acks."""
    with SlackStandIn(team(1)) as slack:
        app = App(
            client=WebClient(token=TOKEN, base_url=slack.url),
            signing_secret=SIGNING_SECRET,
            process_before_response=True,
        )
        return _time_bare(app, clicks)


def _time_bare(app: App, clicks: int) -> list[float]:
    @app.action(re.compile(r"^pulse\.enps\.([0-9]|10)$"))
    def click(ack: Ack) -> None:
        ack()

    requests = SlackRequests(SIGNING_SECRET)
    signed = [
        requests.block_action(
            user_id=f"U{n:07d}",
            action_id=f"pulse.enps.{n % 11}",
            value=f"1:{n % 11}",
            channel_id=f"D{n:07d}",
            message_ts=f"{1700000000 + n}.000100",
        ).bolt()
        for n in range(clicks + 1)
    ]
    app.dispatch(signed.pop())  # warm: Bolt's one auth.test
    times = []
    for request in signed:
        time.sleep(0.002)
        started = time.perf_counter()
        response = app.dispatch(request)
        times.append(time.perf_counter() - started)
        assert response.status == 200
    return times


def part_c(clicks: int) -> None:
    print(f"(c) dispatch of a signed eNPS click, in-process ({clicks} clicks)")
    print(f"    {'bare Bolt':10}: {_summary(bare_bolt(clicks))} (one listener that only acks)")
    for kind in ("sqlite", "postgresql"):
        try:
            with SlackStandIn(team(clicks)) as slack, database(kind) as url:
                services = boot(slack, url)
                app = build_app(services)
                run_id = open_run(services)
                jobs.dispatch_due_deliveries(services, datetime.now(UTC))
                requests = SlackRequests(SIGNING_SECRET)
                for user in services.directory.all_users():
                    services.directory.get(user.user_id)  # warm: people click their own DM
                signed = []
                for message in slack.messages:
                    assert message.recipient is not None
                    score = hash(message.recipient) % 11
                    signed.append(
                        requests.block_action(
                            user_id=message.recipient,
                            action_id=f"pulse.enps.{score}",
                            value=f"{run_id}:{score}",
                            channel_id=message.channel,
                            message_ts=message.ts,
                        ).bolt()
                    )
                times = []
                for request in signed:
                    # Clicks arrive apart. The previous click's chat.update (after the ack)
                    # is finished first: here it runs in this process, against the stand-in
                    # in this process too, and would otherwise be timed as part of the next
                    # click — with Slack it runs while nobody is waiting.
                    services.background.wait_idle()
                    time.sleep(0.002)
                    started = time.perf_counter()
                    response = app.dispatch(request)
                    times.append(time.perf_counter() - started)
                    assert response.status == 200
                services.background.wait_idle()
                edited = sum(1 for m in slack.messages if m.edit_count == 1)
                assert edited == len(signed), (edited, len(signed))
                target = 1 if kind == "sqlite" else 3
                print(f"    {kind:10}: {_summary(times)} (target: median ≤ {target} ms)")
                services.db.dispose()
        except Exception as exc:  # PostgreSQL may be absent
            print(f"    {kind:10}: skipped ({type(exc).__name__}: {exc})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--part", choices=["a", "b", "c"], action="append")
    parser.add_argument("--people", type=int, default=5000, help="part a")
    parser.add_argument("--limited-people", type=int, default=1000, help="part b")
    parser.add_argument("--per-minute", type=int, default=600, help="part b")
    parser.add_argument("--clicks", type=int, default=300, help="part c")
    args = parser.parse_args()
    parts = args.part or ["a", "b", "c"]
    if "a" in parts:
        part_a(args.people)
    if "b" in parts:
        part_b(args.limited_people, args.per_minute)
    if "c" in parts:
        part_c(args.clicks)


if __name__ == "__main__":
    main()
