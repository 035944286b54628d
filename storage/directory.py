"""The workspace directory: Slack users as last seen, cached so requests need no Web API call."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Boolean, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.base import Base, UTCDateTime, upsert_statement


class DirectoryUser(Base):
    __tablename__ = "directory_users"

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    real_name: Mapped[str] = mapped_column(String(200), default="")
    # Slack's profile first_name (else its display_name): what a greeting calls a person.
    first_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    tz: Mapped[str | None] = mapped_column(String(64))
    locale: Mapped[str | None] = mapped_column(String(16))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_owner: Mapped[bool] = mapped_column(Boolean, default=False)
    is_bot: Mapped[bool] = mapped_column(Boolean, default=False)
    is_restricted: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime())


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A plain copy of one directory row, safe to cache and pass around."""

    user_id: str
    name: str = ""
    real_name: str = ""
    tz: str | None = None
    locale: str | None = None
    is_admin: bool = False
    is_owner: bool = False
    is_bot: bool = False
    is_restricted: bool = False
    deleted: bool = False
    first_name: str = ""

    @property
    def display_name(self) -> str:
        return self.real_name or self.name or self.user_id

    @property
    def greeting_name(self) -> str:
        """What a greeting calls the person: "Oliver", not "Oliver Smith"."""
        return self.first_name or self.display_name

    def zone(self, fallback: ZoneInfo) -> ZoneInfo:
        """The person's own time zone from Slack, else the workspace's."""
        try:
            return ZoneInfo(self.tz) if self.tz else fallback
        except (ZoneInfoNotFoundError, ValueError):
            return fallback

    @property
    def is_person(self) -> bool:
        """A member who can be surveyed: not a bot, not deactivated, not a guest."""
        return not (self.is_bot or self.deleted or self.is_restricted)


def _record(row: DirectoryUser) -> UserRecord:
    return UserRecord(
        user_id=row.user_id,
        name=row.name,
        real_name=row.real_name,
        tz=row.tz,
        locale=row.locale,
        is_admin=row.is_admin,
        is_owner=row.is_owner,
        is_bot=row.is_bot,
        is_restricted=row.is_restricted,
        deleted=row.deleted,
        first_name=row.first_name,
    )


def list_users(session: Session) -> list[UserRecord]:
    rows = session.scalars(select(DirectoryUser).order_by(DirectoryUser.user_id))
    return [_record(row) for row in rows]


def upsert_users(session: Session, users: Iterable[UserRecord], now: datetime) -> int:
    """Insert or refresh users, as fetched at `now`; returns how many rows were written."""
    rows = [
        {
            "user_id": u.user_id,
            "name": u.name,
            "real_name": u.real_name,
            "first_name": u.first_name,
            "tz": u.tz,
            "locale": u.locale,
            "is_admin": u.is_admin,
            "is_owner": u.is_owner,
            "is_bot": u.is_bot,
            "is_restricted": u.is_restricted,
            "deleted": u.deleted,
            "fetched_at": now,
        }
        for u in users
    ]
    if not rows:
        return 0
    statement = upsert_statement(session, DirectoryUser).values(rows)
    updated = {key: statement.excluded[key] for key in rows[0] if key != "user_id"}
    session.execute(statement.on_conflict_do_update(index_elements=["user_id"], set_=updated))
    return len(rows)
