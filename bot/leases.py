"""This instance's leases on the work it claims: a heartbeat, and the takeover of lapsed work.

Claims on work (a survey DM, a deal digest, a 1:1 DM, the weekly summary) carry this instance's
id; they hold while the instance renews its row in `instances` (storage.leases). The renewal
runs on a thread of its own, so a Slack call however slow never lets a live instance's claim
lapse. An instance killed stops renewing, and after the lease period any other instance (or the
restarted one) takes its claims over and settles them from Slack's DM history; an instance
stopped (SIGTERM) removes its row as it goes, and its claims lapse at once.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.clock import Clock, system_clock
from storage import leases as store
from storage.db import Database

log = logging.getLogger(__name__)

# The bound: work its instance stopped renewing is taken over within about 30 s.
DEFAULT_LEASE_PERIOD = timedelta(seconds=20)
# Renewals and takeover looks per lease period: a renewal or two may fail without a lapse.
BEATS_PER_PERIOD = 4
# Rows of instances unseen this long are removed (their claims lapsed long before).
FORGET_AFTER = timedelta(days=1)


class Leases:
    """Who this instance is to the claims it makes, and its heartbeat while it lives.

    Not started (tests driving job bodies, `pulsebot summary`), a claim is still covered for
    one lease period from its own renewal, made in the claim's transaction.
    """

    def __init__(
        self,
        db: Database,
        *,
        clock: Clock = system_clock,
        period: timedelta = DEFAULT_LEASE_PERIOD,
        instance: str | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.period = period
        self.instance = instance or secrets.token_hex(8)
        # Set when the instance stops: loops stop claiming and sending, nothing is taken over.
        self.stopping = threading.Event()
        self._halt = threading.Event()  # the heartbeat's own stop, the very last thing
        self._renewed: float | None = None  # time.monotonic() of the last renewal, once started
        self._threads: list[threading.Thread] = []

    @property
    def interval(self) -> float:
        """Seconds between two renewals, and between two looks for lapsed work."""
        return self.period.total_seconds() / BEATS_PER_PERIOD

    def cutoff(self, now: datetime) -> datetime:
        """Claims whose instance was not seen since this moment have lapsed."""
        return now - self.period

    def claiming(self, session: Session, now: datetime) -> None:
        """Inside a claim's transaction: the claim is covered from its first moment."""
        store.renew_instance(session, self.instance, now)

    def renew(self) -> bool:
        """One heartbeat; False (and logged) when the database could not be reached."""
        try:
            with self.db.transaction() as session:
                store.renew_instance(session, self.instance, self.clock())
        except SQLAlchemyError as exc:
            log.warning("lease not renewed: database unavailable (%s)", type(exc).__name__)
            return False
        self._renewed = time.monotonic()
        return True

    def holds(self) -> bool:
        """Whether this instance may still act on its claims (make a Slack call for one).

        Not while stopping; nor when its last renewal is half a lease period old (the
        database out of reach): by the time the lease lapses for others, this instance has
        stopped posting, so a DM taken over is never sent by both.
        """
        if self.stopping.is_set():
            return False
        renewed = self._renewed
        if renewed is None:
            return True  # not started: covered by the renewal made with each claim
        return time.monotonic() - renewed < self.period.total_seconds() / 2

    def start(self, takeover: Callable[[], object] | None = None) -> None:
        """Renew from now on, on a thread of its own; with `takeover`, also look for lapsed
        work (every instance does: whoever lives finishes what a dead one claimed)."""
        if not self.renew():
            self._renewed = time.monotonic()  # the claims' own renewals cover us meanwhile
        self._spawn("lease-heartbeat", self._beat)
        if takeover is not None:
            self._spawn("lease-takeover", lambda: self._take_over(takeover))

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _beat(self) -> None:
        while not self._halt.wait(self.interval):
            self.renew()

    def _take_over(self, takeover: Callable[[], object]) -> None:
        while not self.stopping.wait(self.interval):
            try:
                takeover()
            except Exception:
                log.exception("taking over lapsed work failed; trying again shortly")

    def begin_stop(self) -> None:
        """Stop taking work: loops stop after the Slack call they are in."""
        self.stopping.set()

    def stop(self) -> None:
        """After the work has stopped: stop renewing and hand every claim back at once."""
        self.begin_stop()
        self._halt.set()
        for thread in self._threads:
            thread.join(timeout=30)
        self._threads.clear()
        try:
            with self.db.transaction() as session:
                store.forget_instance(session, self.instance)
        except SQLAlchemyError as exc:
            # The claims lapse one lease period after the last renewal instead.
            log.warning("claims not handed back: database unavailable (%s)", type(exc).__name__)
            return
        log.info("claims handed back: other instances take them over at once")

    def forget_the_long_gone(self, now: datetime) -> int:
        with self.db.transaction() as session:
            return store.forget_instances_unseen_since(session, now - FORGET_AFTER)
