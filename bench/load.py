"""Load: a real `pulsebot serve` on PostgreSQL under signed slash commands and clicks.

Run: .venv/bin/python -m bench.load [--requests 2000] [--clients 50] [--postgres URL]

Loopback only: the server, the Slack stand-in and the clients all run on 127.0.0.1, the
database is a throwaway schema (storage/scratch.py). Each client is one person who creates
deals, advances each once and clicks the eNPS DM of a running survey several times, one
request after the other; the clients run at once. Printed: every answer's status, p50, p99
and the slowest answer, the throughput, the server's idle and peak memory, and whether the
database holds every command's effect exactly once.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text

from bot.standin import SimUser, SlackStandIn, Workspace
from bot.standin.requests import SignedRequest, SlackRequests
from storage.db import normalise_url
from storage.scratch import scratch_schema

SIGNING_SECRET = "load-signing-secret-0123456789"
BOT_TOKEN = "xoxb-load-0000-pulsebot"
MANAGER = "U0LOADMGR"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
ACK_LIMIT_SECONDS = 3.0
CLIENT_TIMEOUT_SECONDS = 10.0
IDLE_TARGET_MB = 100
ROOT = Path(__file__).resolve().parent.parent
CLICKS_PER_CLIENT = 10


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    refused: list[str] = field(default_factory=list)  # answers that were not the effect
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, seconds: float, status: int, problem: str | None) -> None:
        with self.lock:
            self.latencies.append(seconds)
            self.statuses[status] += 1
            if problem:
                self.refused.append(problem)


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def memory_mb(pid: int) -> tuple[float, float]:
    """(resident now, peak resident) of a process, in MB (Linux /proc)."""
    values: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in {"VmRSS", "VmHWM"}:
            values[name] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


def post(url: str, request: SignedRequest) -> tuple[int, str]:
    http_request = urllib.request.Request(
        url, data=request.body.encode(), headers=request.headers, method="POST"
    )
    try:
        with urllib.request.urlopen(http_request, timeout=CLIENT_TIMEOUT_SECONDS) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError as error:  # no answer at all: counted, not fatal
        return 0, f"{type(error).__name__}: {error}"


def healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


server_output: list[str] = []  # what the last server printed, for --show-server-log


@contextmanager
def serve(
    database_url: str, api_url: str, log_level: str = "WARNING"
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PULSEBOT_"))},
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "PULSEBOT_SECRET": "0ba295e475981026f208e2627a4b08288fdf19cdf37c8ee103629c49ed3b7c67",
        "SLACK_API_URL": api_url,
        "DATABASE_URL": database_url,
        "PULSEBOT_MANAGERS": MANAGER,
        "PULSEBOT_LOG_LEVEL": log_level,
    }
    command = [sys.executable, "-X", "faulthandler", "-m", "bot", "serve"]
    command += ["--port", str(port), "--host", "127.0.0.1"]
    # To a file, not a pipe: a pipe nobody reads fills up, and the server blocks on logging.
    # (-X faulthandler: a stuck server dumps its threads there on SIGABRT.)
    with tempfile.TemporaryFile(mode="w+") as log_file:
        process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT, text=True
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while not healthy(base):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("pulsebot serve did not start")
                time.sleep(0.2)
            yield process, base
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log_file.seek(0)
            output = log_file.read()
            server_output.append(output)
            if BOT_TOKEN in output or SIGNING_SECRET in output:
                raise AssertionError("a secret reached the server's output")


def enps_dm(standin: SlackStandIn, user_id: str) -> tuple[str, str, str]:
    """(run id, channel, ts) of the eNPS DM a person got."""

    def found() -> tuple[str, str, str] | None:
        for message in standin.messages_for(user_id):
            for block in message.blocks:
                for element in block.get("elements", []):
                    if str(element.get("action_id", "")).startswith("pulse.enps."):
                        run_id = str(element["value"]).split(":")[0]
                        return run_id, message.channel, message.ts
        return None

    return standin.wait_for(found, timeout=60, describe=f"the eNPS DM of {user_id}")


@dataclass(frozen=True)
class Client:
    """One simulated person: who, how many requests, and their eNPS DM (run, channel, ts)."""

    user_id: str
    count: int
    dm: tuple[str, str, str]


def client_work(
    client: Client, requests: SlackRequests, events_url: str, results: Results
) -> tuple[int, int, int | None]:
    """One person's requests, one after the other; (deals, advances, last eNPS score)."""
    user_id, count, dm = client.user_id, client.count, client.dm
    clicks = min(CLICKS_PER_CLIENT, count // 3)
    deals = (count - clicks) // 2
    extra = count - clicks - 2 * deals  # an odd remainder: one more click
    clicks += extra
    plan: list[tuple[str, int]] = []
    for n in range(deals):
        plan += [("new", n), ("advance", n)]
    plan += [("click", n) for n in range(clicks)]
    last_score: int | None = None
    for kind, n in plan:
        name = f"Load {user_id} {n}"
        if kind == "new":
            request = requests.slash_command("/deal", f'new "{name}" 1k', user_id=user_id)
            expected = name
        elif kind == "advance":
            request = requests.slash_command("/deal", f'advance "{name}"', user_id=user_id)
            expected = "qualified"
        else:
            score = n % 11
            run_id, channel, ts = dm
            request = requests.block_action(
                user_id=user_id,
                action_id=f"pulse.enps.{score}",
                value=f"{run_id}:{score}",
                channel_id=channel,
                message_ts=ts,
            )
            expected = ""
            last_score = score
        started = time.perf_counter()
        status, body = post(events_url, request)
        seconds = time.perf_counter() - started
        problem = None
        if status != 200:
            problem = f"{kind} {name}: HTTP {status} {body[:80]}"
        elif expected and expected not in body:
            problem = f"{kind} {name}: {body[:120]}"
        results.add(seconds, status, problem)
    return deals, deals, last_score


def check_database(
    database_url: str, people: list[str], deals_each: int, scores: dict[str, int | None]
) -> list[str]:
    """Every command's effect present once; returns what is wrong (empty when consistent)."""
    engine = create_engine(normalise_url(database_url))
    problems: list[str] = []
    try:
        with engine.connect() as connection:
            deals = connection.execute(
                text("SELECT name, stage FROM deals WHERE name LIKE 'Load %'")
            ).all()
            moves = connection.execute(
                text(
                    "SELECT d.name, e.from_stage, e.to_stage FROM deal_events e "
                    "JOIN deals d ON d.id = e.deal_id WHERE e.kind = 'stage'"
                )
            ).all()
            answers = connection.execute(
                text("SELECT respondent, number FROM survey_answers WHERE question = 0")
            ).all()
            respondents = connection.execute(
                text("SELECT count(*) FROM survey_respondents")
            ).scalar()
    finally:
        engine.dispose()
    expected = {f"Load {p} {n}" for p in people for n in range(deals_each)}
    names = Counter(name for name, _ in deals)
    if set(names) != expected or set(names.values()) != {1}:
        problems.append(f"deals: {len(names)} stored for {len(expected)} created")
    if any(stage != "qualified" for _, stage in deals):
        problems.append("a deal is not in qualified after one advance")
    chain = Counter(name for name, *_ in moves)
    if set(chain) != expected or set(chain.values()) != {1}:
        problems.append(f"stage events: {len(moves)} for {len(expected)} advances")
    if any((frm, to) != ("lead", "qualified") for _, frm, to in moves):
        problems.append("a stage event is not lead -> qualified")
    clicked = [s for s in scores.values() if s is not None]
    if len(answers) != len(clicked) or respondents != len(clicked):
        problems.append(
            f"eNPS: {len(answers)} answers, {respondents} people, {len(clicked)} clicked"
        )
    if Counter(n for _, n in answers) != Counter(clicked):
        problems.append("eNPS: the stored scores are not each person's last click")
    return problems


@dataclass
class Report:
    requests: int
    clients: int
    statuses: Counter[int]
    p50: float
    p99: float
    slowest: float
    throughput: float
    idle_mb: float
    idle_after_mb: float
    peak_mb: float
    refused: list[str]
    database_problems: list[str]

    @property
    def ok(self) -> bool:
        return (
            set(self.statuses) == {200}
            and self.slowest <= ACK_LIMIT_SECONDS
            and not self.refused
            and not self.database_problems
        )

    def lines(self) -> list[str]:
        return [
            f"pulsebot serve on PostgreSQL: {self.requests} signed requests "
            f"(slash commands and clicks) from {self.clients} concurrent clients",
            f"  statuses: {dict(self.statuses)}",
            f"  p50 {self.p50 * 1000:.1f} ms · p99 {self.p99 * 1000:.1f} ms · "
            f"slowest {self.slowest * 1000:.1f} ms (limit {ACK_LIMIT_SECONDS:.0f} s)",
            f"  throughput {self.throughput:.0f} requests/s",
            f"  server memory: idle {self.idle_mb:.1f} MB before, {self.idle_after_mb:.1f} MB "
            f"after (target ≤ {IDLE_TARGET_MB} MB) · peak {self.peak_mb:.1f} MB",
            f"  wrong answers: {len(self.refused)} {self.refused[:3]}",
            "  database: "
            + (
                "every command's effect present once"
                if not self.database_problems
                else "; ".join(self.database_problems)
            ),
            "  RESULT: " + ("ok" if self.ok else "FAILED"),
        ]


def run(
    postgres_url: str, *, requests: int = 2000, clients: int = 50, log_level: str = "WARNING"
) -> Report:
    people = [f"U0LOAD{n:04d}" for n in range(clients)]
    users = [SimUser(id=p, name=f"load{n}", tz="Europe/Rome") for n, p in enumerate(people)]
    users.append(SimUser(id=MANAGER, name="manager", tz="Europe/Rome"))
    signer = SlackRequests(SIGNING_SECRET)
    with (
        scratch_schema(postgres_url, prefix="pulsebot_load") as database_url,
        SlackStandIn(Workspace(users=users)) as standin,
        serve(database_url, standin.url, log_level) as (process, base),
    ):
        events = base + "/slack/events"
        status, body = post(events, signer.slash_command("/pulse", "start enps", user_id=MANAGER))
        assert status == 200, body
        dms = {p: enps_dm(standin, p) for p in people}
        time.sleep(1.0)  # the fan-out's last marks, then quiet
        idle_mb, _ = memory_mb(process.pid)

        results = Results()
        per_client = [
            requests // clients + (1 if n < requests % clients else 0) for n in range(clients)
        ]
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=clients) as pool:
            outcomes = list(
                pool.map(
                    # One signer: its trigger ids are unique, as Slack's are.
                    lambda client: client_work(client, signer, events, results),
                    [Client(p, n, dms[p]) for p, n in zip(people, per_client, strict=True)],
                )
            )
        elapsed = time.perf_counter() - started
        time.sleep(2.0)  # after-ack work (DM edits) finishes; the server goes idle again
        idle_after_mb, peak_mb = memory_mb(process.pid)
        deals_each = {o[0] for o in outcomes}
        assert len(deals_each) == 1, "clients with different plans"
        scores = {p: o[2] for p, o in zip(people, outcomes, strict=True)}
        problems = check_database(database_url, people, deals_each.pop(), scores)
    return Report(
        requests=len(results.latencies),
        clients=clients,
        statuses=results.statuses,
        p50=statistics.median(results.latencies),
        p99=percentile(results.latencies, 0.99),
        slowest=max(results.latencies),
        throughput=len(results.latencies) / elapsed,
        idle_mb=idle_mb,
        idle_after_mb=idle_after_mb,
        peak_mb=peak_mb,
        refused=results.refused,
        database_problems=problems,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument(
        "--postgres",
        default=os.environ.get("PULSEBOT_TEST_DATABASE_URL", DEFAULT_PG),
        help="a PostgreSQL database to make a throwaway schema in",
    )
    parser.add_argument("--server-log", choices=["DEBUG", "INFO", "WARNING"], default=None)
    args = parser.parse_args()
    if not 1 <= args.clients <= 200 or not args.clients * 3 <= args.requests <= 20_000:
        parser.error("between 1 and 200 clients, at least 3 requests each, at most 20,000")
    try:
        report = run(
            args.postgres,
            requests=args.requests,
            clients=args.clients,
            log_level=args.server_log or "WARNING",
        )
    finally:
        if args.server_log and server_output:
            print(server_output[-1])
    print("\n".join(report.lines()))
    print(json.dumps({"p50_ms": round(report.p50 * 1000, 1), "p99_ms": round(report.p99 * 1000, 1),
                      "throughput": round(report.throughput), "idle_mb": round(report.idle_mb, 1),
                      "peak_mb": round(report.peak_mb, 1), "ok": report.ok}))  # fmt: skip
    sys.exit(0 if report.ok else 1)


if __name__ == "__main__":
    main()
