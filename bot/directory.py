"""Who a Slack user is to the bot (manager or not, language, time zone), cached."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.clock import Clock, system_clock
from bot.i18n import Language, language_for
from storage import directory as store
from storage.db import Database
from storage.directory import UserRecord

# UserRecord is who a person is to every layer above storage: handed on from here.
__all__ = ["Directory", "UserRecord", "user_record_from_slack"]

log = logging.getLogger(__name__)

CACHE_SECONDS = 15 * 60
# A lookup while Slack waits for our answer gets one try, this long: Slack wants the answer
# within 3 s, and a person the directory does not know yet is answered with defaults.
QUICK_LOOKUP_SECONDS = 2
USERS_LIST_PAGE = 200


def user_record_from_slack(user: Mapping[str, Any]) -> UserRecord:
    """Map a Slack `user` object (users.info / users.list) to our record."""
    profile = user.get("profile") or {}
    return UserRecord(
        user_id=str(user["id"]),
        name=str(user.get("name") or ""),
        real_name=str(user.get("real_name") or profile.get("real_name") or ""),
        tz=user.get("tz"),
        locale=user.get("locale"),
        is_admin=bool(user.get("is_admin")),
        is_owner=bool(user.get("is_owner") or user.get("is_primary_owner")),
        is_bot=bool(user.get("is_bot") or user.get("id") == "USLACKBOT"),
        is_restricted=bool(user.get("is_restricted") or user.get("is_ultra_restricted")),
        deleted=bool(user.get("deleted")),
        first_name=str(profile.get("first_name") or profile.get("display_name") or "").strip(),
    )


class Directory:
    """Looks users up in memory, then the database, then (once) in Slack.

    The database is read whole, never by one person's id: a request's lookup of its own
    sender would otherwise sit in the statement log beside what they did (a survey answer).
    """

    def __init__(
        self,
        db: Database,
        client: WebClient,
        *,
        managers: frozenset[str],
        default_language: Language,
        clock: Clock = system_clock,
    ) -> None:
        self._db = db
        self._clock = clock
        self._client = client
        self._quick_client = WebClient(
            token=client.token,
            base_url=client.base_url,
            timeout=QUICK_LOOKUP_SECONDS,
            retry_handlers=[],
        )
        self._managers = managers
        self._default_language = default_language
        self._cache: dict[str, UserRecord] = {}
        self._loaded_at = float("-inf")
        self._lock = threading.Lock()

    def get(self, user_id: str, *, quick: bool = False) -> UserRecord:
        """`quick` on the ack path: a failed Slack lookup answers defaults, not remembered."""
        # Slack did not answer: defaults now, ask again next time.
        return self.find(user_id, quick=quick) or UserRecord(user_id=user_id)

    def find(self, user_id: str, *, quick: bool = False) -> UserRecord | None:
        """As `get`, but None when Slack could not be asked right now (down, rate limited,
        too slow), so that "no such user" and "could not check" can be told apart."""
        with self._lock:
            fresh = time.monotonic() - self._loaded_at < CACHE_SECONDS
            record = self._cache.get(user_id)
        if record is None or not fresh:
            self._load_all()
            with self._lock:
                record = self._cache.get(user_id)
        if record is None:
            record = self.fetch(user_id, quick=quick)
            if record is None:
                return None
            with self._lock:
                self._cache[user_id] = record
        return record

    def _load_all(self) -> None:
        """Every known user into memory, in one statement that names nobody."""
        with self._db.transaction() as session:
            users = store.list_users(session)
        with self._lock:
            self._cache = {user.user_id: user for user in users}
            self._loaded_at = time.monotonic()

    def fetch(self, user_id: str, *, quick: bool = False) -> UserRecord | None:
        """Ask Slack for one user and remember the answer; None when Slack did not answer."""
        client = self._quick_client if quick else self._client
        try:
            response = client.users_info(user=user_id, include_locale=True)
        except SlackApiError as exc:
            log.warning("users.info failed for %s: %s", user_id, exc.response.get("error"))
            if exc.response.status_code == 429 or exc.response.status_code >= 500:
                return None  # Slack's trouble, not an answer about this user
            return UserRecord(user_id=user_id)
        except OSError as exc:  # URLError, timeouts, refused connections
            log.warning("users.info gave up for %s: %s", user_id, type(exc).__name__)
            return None
        record = user_record_from_slack(response["user"])
        with self._db.transaction() as session:
            store.upsert_users(session, [record], self._clock())
        return record

    def sync(self) -> int:
        """Refresh the whole directory from users.list; returns how many users were stored."""
        records = [
            user_record_from_slack(user)
            for page in self._user_pages()
            for user in page.get("members", [])
        ]
        with self._db.transaction() as session:
            count = store.upsert_users(session, records, self._clock())
        with self._lock:
            self._loaded_at = float("-inf")  # read again, whole, at the next lookup
        log.info("directory synchronised: %d users", count)
        return count

    def _user_pages(self) -> Iterator[Mapping[str, Any]]:
        cursor: str | None = None
        while True:
            page = self._client.users_list(
                cursor=cursor, limit=USERS_LIST_PAGE, include_locale=True
            )
            yield page.data if isinstance(page.data, dict) else {}
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return

    def all_users(self) -> list[UserRecord]:
        with self._db.transaction() as session:
            return store.list_users(session)

    def is_manager(self, user: UserRecord) -> bool:
        return user.user_id in self._managers or user.is_admin or user.is_owner

    def language(self, user: UserRecord) -> Language:
        return language_for(user.locale, self._default_language)
