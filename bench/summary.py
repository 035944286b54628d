"""Weekly summary speed: two years of history (1M answers, 100k deals, 1M events), then twice that.

.venv/bin/python -m bench.summary              # SQLite and PostgreSQL, full size (a few minutes)
.venv/bin/python -m bench.summary --scale 0.1  # a tenth of the rows, for a quick look
PostgreSQL comes from --postgres or PULSEBOT_TEST_DATABASE_URL (skipped when unreachable).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from sqlalchemy import insert, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import OperationalError

from bot.clock import FrozenClock
from bot.deals.stages import DEFAULT_STAGES, Pipeline
from bot.directory import Directory
from bot.oneonones.service import OneOnOneService
from bot.summary import weekly_summary_data
from bot.surveys.anonymity import respondent_key
from bot.surveys.service import SurveyPolicy, SurveyService
from bot.surveys.templates import TEMPLATES
from bot.weeks import reported_week
from storage.db import Database
from storage.deals import Deal, DealEvent
from storage.migrate import upgrade
from storage.scratch import scratch_schema
from storage.surveys import Survey, SurveyAnswer, SurveyDelivery, SurveyRespondent, SurveyRun

ZONE = ZoneInfo("Europe/Rome")
NOW = datetime(2026, 11, 30, 9, tzinfo=ZONE).astimezone(UTC)  # a Monday summary
YEARS = timedelta(days=730)
PIPELINE = Pipeline.parse(DEFAULT_STAGES)
POLICY = SurveyPolicy(
    secret="bench-secret-0123456789", min_responses=3, reminder_hours=24, timezone=ZONE.key
)
CHUNK = 20_000
ANSWERS, DEALS, EVENTS = 1_000_000, 100_000, 1_000_000
REPEATS = 5


def naive(moment: datetime) -> datetime:
    """Aware UTC: the models' UTCDateTime type insists (COPY gets the naive UTC it stores)."""
    return moment.astimezone(UTC)


def copy_value(value: object) -> object:
    if isinstance(value, dict):
        return json.dumps(value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return value


class Loader:
    """Bulk inserts: COPY on PostgreSQL, Core insert() executemany on SQLite."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.postgres = connection.dialect.name == "postgresql"

    def rows(self, table: Any, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        if not self.postgres:
            self.connection.execute(insert(table), rows)
            return
        columns = list(rows[0])
        raw = self.connection.connection.driver_connection
        assert raw is not None
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row([copy_value(row[c]) for c in columns])


def fill_surveys(loader: Loader, start: datetime, end: datetime, answers: int, seed: int) -> None:
    """A weekly pulse (6 questions) and a monthly eNPS (2), answered by the same team size."""
    rng = random.Random(seed)
    surveys: Any = Survey.__table__
    runs: Any = SurveyRun.__table__
    conn = loader.connection
    ids = {}
    for name in ("pulse", "enps"):
        found = conn.execute(
            text("SELECT id FROM surveys WHERE name_key = :n"), {"n": name}
        ).scalar()
        if found is None:
            conn.execute(insert(surveys).values(name=name, name_key=name, template_id=name,
                         definition=TEMPLATES[name].to_json(), created_by="UBENCH",
                         created_at=naive(start), at_time="10:00", audience='{"everyone": true}',
                         open_days=3, paused=False))  # fmt: skip
            found = conn.execute(
                text("SELECT id FROM surveys WHERE name_key = :n"), {"n": name}
            ).scalar()
        ids[name] = int(found or 0)
    weeks = int((end - start).days / 7)
    months = int((end - start).days / 30)
    per_person = weeks * 5.3 + months * 1.3  # 30% of people leave a comment
    people = max(3, round(answers / per_person))
    plan = [("pulse", start + timedelta(days=7 * w), 6) for w in range(weeks)]
    plan += [("enps", start + timedelta(days=30 * m + 2), 2) for m in range(months)]
    for name, opens, questions in plan:
        number = conn.execute(text("SELECT coalesce(max(number), 0) + 1 FROM survey_runs WHERE survey_id = :s"),
                              {"s": ids[name]}).scalar()  # fmt: skip
        closes = opens + timedelta(days=3)
        run_id = conn.execute(insert(runs).values(survey_id=ids[name], number=number,
                              occurrence_key=f"{name}@{uuid.uuid4().hex}", definition=TEMPLATES[name].to_json(),
                              audience='{"everyone": true}', local_date=opens.date(), at_time="10:00",
                              opens_at=naive(opens), closes_at=naive(closes), remind_at=naive(closes),
                              status="closed", audience_resolved=True, reminders_done=True,
                              closed_notices_done=True).returning(runs.c.id)).scalar_one()  # fmt: skip
        invited = [f"U{n:07d}" for n in range(int(people * 1.2))]
        loader.rows(SurveyDelivery.__table__, [
            {"run_id": run_id, "user_id": u, "language": "en", "send_at": naive(opens),
             "state": "sent", "reminded": False, "closed_notice": True} for u in invited])  # fmt: skip
        keys = [respondent_key(POLICY.secret, run_id, u) for u in invited[:people]]
        loader.rows(SurveyRespondent.__table__, [{"run_id": run_id, "respondent": k} for k in keys])
        rows: list[dict[str, Any]] = []
        for key in keys:
            for q in range(questions):
                is_text = q == questions - 1
                if is_text and rng.random() < 0.7:
                    continue
                number = (
                    None
                    if is_text
                    else (rng.randint(0, 10) if name == "enps" else rng.randint(1, 5))
                )
                rows.append({"run_id": run_id, "respondent": key, "question": q, "number": number,
                             "text": "a comment" if is_text else None, "answered_on": opens.date()})  # fmt: skip
        loader.rows(SurveyAnswer.__table__, rows)


def deal_histories(
    first_id: int, count: int, start: datetime, end: datetime, seed: int
) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    """Deals created evenly over [start, end), ~10 events each; most old ones are closed."""
    rng = random.Random(seed)
    order = PIPELINE.funnel_order
    span = (end - start).total_seconds()
    deals: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for offset in range(count):
        deal_id = first_id + offset
        at = start + timedelta(seconds=span * offset / count + rng.random() * 3600)
        amount = rng.randint(1, 200) * 500
        stage = rng.choice(order[:2])
        owner = f"UREP{rng.randint(0, 49):03d}"
        evs = [{"deal_id": deal_id, "at": naive(at), "actor_id": owner, "kind": "created",
                "from_stage": None, "to_stage": stage, "note": None,
                "changes": {"amount": [None, str(amount)]}}]  # fmt: skip
        closed_at: datetime | None = None
        reason: str | None = None
        note: str | None
        while len(evs) < 10:
            at += timedelta(hours=rng.uniform(12, 24 * 8))
            if at >= end:
                break
            roll = rng.random()
            if stage in ("won", "lost"):
                kind, changes, note = "note", None, "follow-up"
            elif roll < 0.35:
                target = "lost" if rng.random() < 0.2 else order[order.index(stage) + 1]
                kind, changes, note = "stage", None, ("no budget" if target == "lost" else None)
                evs.append({"deal_id": deal_id, "at": naive(at), "actor_id": owner, "kind": kind,
                            "from_stage": stage, "to_stage": target, "note": note, "changes": None})  # fmt: skip
                stage = target
                if stage in ("won", "lost"):
                    closed_at, reason = naive(at), note
                continue
            elif roll < 0.45:
                new = rng.randint(1, 200) * 500
                kind, note = "amount", None
                changes = {"amount": [str(amount), str(new)], "currency": ["EUR", "EUR"]}
                amount = new
            else:
                kind, changes, note = "note", None, "called the client"
            evs.append({"deal_id": deal_id, "at": naive(at), "actor_id": owner, "kind": kind,
                        "from_stage": None, "to_stage": None, "note": note, "changes": changes})  # fmt: skip
        quiet = at + timedelta(days=rng.uniform(1, 30))
        if stage not in ("won", "lost") and quiet < NOW - timedelta(days=60):
            # Deals do not idle for years: an old deal still open was lost when it went quiet.
            target = "won" if rng.random() < 0.3 else "lost"
            reason = None if target == "won" else "went quiet"
            evs.append({"deal_id": deal_id, "at": naive(quiet), "actor_id": owner, "kind": "stage",
                        "from_stage": stage, "to_stage": target, "note": reason, "changes": None})  # fmt: skip
            stage, closed_at = target, naive(quiet)
        events.extend(evs)
        deals.append({"id": deal_id, "name": f"Deal {deal_id}", "name_key": f"deal {deal_id}",
                      "owner_id": owner, "amount": amount, "currency": "EUR", "stage": stage,
                      "source": "web", "created_by": owner, "created_at": evs[0]["at"],
                      "last_activity_at": evs[-1]["at"], "closed_at": closed_at,
                      "lost_reason": reason if stage == "lost" else None})  # fmt: skip
        if len(deals) >= CHUNK // 10:
            yield deals, events
            deals, events = [], []
    if deals:
        yield deals, events


def fill(
    db: Database, start: datetime, end: datetime, scale: float, *, first_deal: int, seed: int
) -> tuple[int, float]:
    began = time.perf_counter()
    deals = int(DEALS * scale)
    with db.engine.begin() as connection:
        loader = Loader(connection)
        fill_surveys(loader, start, end, int(ANSWERS * scale), seed)
        for deal_rows, event_rows in deal_histories(first_deal, deals, start, end, seed):
            loader.rows(Deal.__table__, deal_rows)
            loader.rows(DealEvent.__table__, event_rows)
    with db.engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    return deals, time.perf_counter() - began


def counts(db: Database) -> str:
    with db.engine.connect() as connection:
        values = [connection.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in
                  ("survey_answers", "deals", "deal_events")]  # fmt: skip
    return " / ".join(f"{v:,}" for v in values)


def time_summary(db: Database) -> tuple[float, float, str]:
    """(first run, median of the next REPEATS) in seconds, and a line of the figures."""
    week = reported_week(NOW, ZONE)
    clock = FrozenClock(NOW)
    directory = Directory(db, WebClient(token="xoxb-unused"), managers=frozenset(),
                          default_language="en")  # fmt: skip
    surveys = SurveyService(db, POLICY, clock=clock)
    oneonones = OneOnOneService(db, directory, clock=clock)
    timings = []
    summary = None
    for _ in range(REPEATS + 1):
        began = time.perf_counter()
        summary = weekly_summary_data(
            week, surveys=surveys, oneonones=oneonones, pipeline=PIPELINE, currency="EUR", now=NOW
        )
        timings.append(time.perf_counter() - began)
    assert summary is not None
    p = summary.pipeline
    figures = (f"{week.label}: {len(summary.runs)} runs closed, created {p.created}, advanced {p.advanced}, "
               f"won {len(p.won)}, lost {len(p.lost)}, weighted {p.weighted.get('EUR', 0):,.0f}, "
               f"stale {p.stale_count}")  # fmt: skip
    return timings[0], statistics.median(timings[1:]), figures


def bench(name: str, db: Database, scale: float) -> dict[str, Any]:
    upgrade(db.engine)
    result: dict[str, Any] = {"name": name}
    deals, seconds = fill(db, NOW - YEARS, NOW, scale, first_deal=1, seed=1)
    result["fill1"] = seconds
    result["rows1"] = counts(db)
    result["cold1"], result["time1"], result["figures1"] = time_summary(db)
    _, seconds = fill(db, NOW - 2 * YEARS, NOW - YEARS, scale, first_deal=deals + 1, seed=2)
    result["fill2"] = seconds
    result["rows2"] = counts(db)
    result["cold2"], result["time2"], result["figures2"] = time_summary(db)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full row counts")
    parser.add_argument("--postgres", default=os.environ.get("PULSEBOT_TEST_DATABASE_URL",
                        "postgresql://postgres@127.0.0.1:5432/test"))  # fmt: skip
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as directory:
        sqlite = Database(f"sqlite:///{directory}/bench.db")
        results.append(bench("SQLite", sqlite, args.scale))
        sqlite.dispose()
    if not args.skip_postgres:
        try:
            with scratch_schema(args.postgres, prefix="bench_summary") as url:
                database = Database(url)
                try:
                    name = f"PostgreSQL ({make_url(args.postgres).host})"
                    results.append(bench(name, database, args.scale))
                finally:
                    database.dispose()
        except OperationalError as exc:
            print(f"PostgreSQL skipped: {type(exc).__name__}: {exc}".splitlines()[0])
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"\nweekly summary data for the latest week (scale {args.scale}); median of {REPEATS} warm runs"
    )
    print(f"{'':34}" + "".join(f"{r['name']:>26}" for r in results))
    rows = [
        ("rows, 1× (answers/deals/events)", "rows1", "{}"),
        ("fill 1× (s)", "fill1", "{:.1f}"),
        ("summary 1×, first run (s)", "cold1", "{:.3f}"),
        ("summary 1× (s)   target ≤ 1", "time1", "{:.3f}"),
        ("rows, 2×", "rows2", "{}"),
        ("fill 2× (s)", "fill2", "{:.1f}"),
        ("summary 2×, first run (s)", "cold2", "{:.3f}"),
        ("summary 2× (s)", "time2", "{:.3f}"),
    ]
    for label, key, form in rows:
        print(f"{label:34}" + "".join(f"{form.format(r[key]):>26}" for r in results))
    print(
        f"{'2× ÷ 1×   target ≤ 1.1':34}"
        + "".join(f"{r['time2'] / r['time1']:>26.2f}" for r in results)
    )
    print(f"peak RSS of the process: {peak_mb:.0f} MB (target ≤ 300)")
    for r in results:
        print(f"{r['name']}: {r['figures1']}")
        print(f"{'':{len(r['name'])}}  2×: {r['figures2']}")


if __name__ == "__main__":
    main()
