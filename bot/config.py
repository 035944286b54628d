"""Settings read from the environment and `.env`, validated once at start-up."""

from __future__ import annotations

from datetime import time
from itertools import pairwise
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.deals.stages import DEFAULT_STAGES, Pipeline
from bot.i18n import Language
from bot.parsing.money import is_currency_code
from bot.parsing.text import parse_clock_time
from bot.statistics import CONFIDENCE_LEVELS

DEFAULT_SLACK_API_URL = "https://slack.com/api/"

# APScheduler's cron day names; the weekly summary's day is one of them.
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_NAMES = {
    name: name[:3]
    for name in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
}

# What .env.example holds (and held before): a copy left as it is keys nothing.
PLACEHOLDER_SECRETS = frozenset(
    {"replace-me-with-the-output-of-pulsebot-secret", "change-me-to-a-long-random-string"}
)
# 128 bits as hex: too many keys to try one by one against the respondent hashes.
MIN_SECRET_LENGTH = 32
# A random 32-digit hex string has fewer distinct characters about once in ten million times.
MIN_SECRET_CHARACTERS = 8
MAKE_A_SECRET = "make one with `pulsebot secret`"


class ConfigError(Exception):
    """A setting is missing or invalid; the message names the variable and never its value."""


def _check_url(value: str) -> str:
    try:
        make_url(value)
    except ArgumentError as exc:
        raise ValueError("is not a database URL (e.g. sqlite:///pulsebot.db)") from exc
    return value


class DatabaseSettings(BaseSettings):
    """The part of the settings that database commands (`pulsebot db …`) need."""

    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", populate_by_name=True, frozen=True
    )

    database_url: str = Field(default="sqlite:///pulsebot.db", validation_alias="DATABASE_URL")

    @field_validator("database_url")
    @classmethod
    def _valid_database_url(cls, value: str) -> str:
        return _check_url(value)


class Settings(DatabaseSettings):
    """Everything the bot needs to run. Field aliases are the environment variable names."""

    slack_bot_token: SecretStr = Field(validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr = Field(validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(default=DEFAULT_SLACK_API_URL, validation_alias="SLACK_API_URL")
    secret: SecretStr = Field(validation_alias="PULSEBOT_SECRET")
    timezone: str = Field(default="UTC", validation_alias="PULSEBOT_TIMEZONE")
    language: Language = Field(default="en", validation_alias="PULSEBOT_LANGUAGE")
    managers: Annotated[frozenset[str], NoDecode] = Field(
        default=frozenset(), validation_alias="PULSEBOT_MANAGERS"
    )
    managers_channel: str | None = Field(default=None, validation_alias="PULSEBOT_MANAGERS_CHANNEL")
    deals_channel: str | None = Field(default=None, validation_alias="PULSEBOT_DEALS_CHANNEL")
    # Teams whose survey results are shown apart, in the order a person in several is counted.
    segment_channels: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(), validation_alias="PULSEBOT_SEGMENT_CHANNELS"
    )
    # Never below 3: with fewer answers a result could point at a person.
    min_responses: int = Field(default=3, ge=3, le=1000, validation_alias="PULSEBOT_MIN_RESPONSES")
    # The confidence level of every interval shown beside a figure, in %: 90 or 95.
    confidence: int = Field(default=95, validation_alias="PULSEBOT_CONFIDENCE")
    stages: str = Field(default=DEFAULT_STAGES, validation_alias="PULSEBOT_STAGES")
    currency: str = Field(default="EUR", validation_alias="PULSEBOT_CURRENCY")
    # `team`: members see every deal, as most sales teams do; `own`: members see their own
    # deals (managers see all). Exporting every deal is for managers either way.
    pipeline_visibility: Literal["team", "own"] = Field(
        default="team", validation_alias="PULSEBOT_PIPELINE_VISIBILITY"
    )
    summary_day: str = Field(default="mon", validation_alias="PULSEBOT_SUMMARY_DAY")
    summary_time: str = Field(default="09:00", validation_alias="PULSEBOT_SUMMARY_TIME")
    reminder_hours: int = Field(
        default=24, ge=1, le=720, validation_alias="PULSEBOT_REMINDER_HOURS"
    )
    # How long an instance may go unseen before another takes over the work it claimed.
    lease_seconds: int = Field(default=20, ge=2, le=600, validation_alias="PULSEBOT_LEASE_SECONDS")
    port: int = Field(default=3000, ge=1, le=65535, validation_alias="PULSEBOT_PORT")
    # This machine only: Slack calls https://, so a TLS proxy in front is what the world sees.
    host: str = Field(default="127.0.0.1", min_length=1, validation_alias="PULSEBOT_HOST")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", validation_alias="PULSEBOT_LOG_LEVEL"
    )
    # `text` for people reading a terminal or journalctl; `json` (one object a line) for Loki,
    # Elasticsearch and the like.
    log_format: Literal["text", "json"] = Field(
        default="text", validation_alias="PULSEBOT_LOG_FORMAT"
    )
    # Prometheus metrics, off unless one of these is set: a path on the HTTP server of
    # `pulsebot serve` (e.g. /metrics), or a port of their own (for Socket Mode, or to keep them
    # off the address the TLS proxy publishes), on PULSEBOT_METRICS_HOST.
    metrics_path: str | None = Field(default=None, validation_alias="PULSEBOT_METRICS_PATH")
    metrics_port: int | None = Field(
        default=None, ge=1, le=65535, validation_alias="PULSEBOT_METRICS_PORT"
    )
    metrics_host: str = Field(
        default="127.0.0.1", min_length=1, validation_alias="PULSEBOT_METRICS_HOST"
    )
    # Survey answers, comments, 1:1 notes and the history of closed deals older than this many
    # months are deleted every night; unset (the default) keeps everything.
    retention_months: int | None = Field(
        default=None, ge=1, le=1200, validation_alias="PULSEBOT_RETENTION_MONTHS"
    )

    @field_validator("metrics_path", mode="before")
    @classmethod
    def _metrics_path(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return None  # an empty line in .env means "not set"
            if not value.startswith("/") or value in {"/", "/slack/events", "/healthz"}:
                raise ValueError("must be a path of its own such as /metrics")
        return value

    @field_validator("metrics_port", "retention_months", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def metrics_enabled(self) -> bool:
        return self.metrics_path is not None or self.metrics_port is not None

    @field_validator("confidence")
    @classmethod
    def _confidence(cls, value: int) -> int:
        if value not in CONFIDENCE_LEVELS:
            raise ValueError("must be 90 or 95 (per cent)")
        return value

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb-")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value():
            return None  # an empty line in .env means "not set"
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError("must be an app-level token starting with xapp-")
        return value

    @field_validator("slack_signing_secret")
    @classmethod
    def _signing_secret(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("must not be empty")
        return value

    @field_validator("secret")
    @classmethod
    def _secret(cls, value: SecretStr) -> SecretStr:
        # It keys the anonymous respondent hash: with a guessable key, whoever holds the
        # database could compute everyone's key and read their answers.
        weakness = secret_weakness(value.get_secret_value())
        if weakness:
            raise ValueError(f"{weakness}; {MAKE_A_SECRET}")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL such as https://slack.com/api/")
        # slack_sdk joins method names onto the base URL, so it must end with a slash.
        return value if value.endswith("/") else value + "/"

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("is not an IANA time zone (e.g. Europe/Rome)") from exc
        return value

    @field_validator("summary_day")
    @classmethod
    def _summary_day(cls, value: str) -> str:
        day = value.strip().lower()
        day = WEEKDAY_NAMES.get(day, day)
        if day not in WEEKDAYS:
            raise ValueError(f"must be a day of the week: {', '.join(WEEKDAYS)}")
        return day

    @field_validator("summary_time")
    @classmethod
    def _summary_time(cls, value: str) -> str:
        value = value.strip()
        # Exactly HH:MM, as documented: the commands' 9:30 and 9.30 are not taken here.
        if parse_clock_time(value) != value:
            raise ValueError("must be a 24-hour time HH:MM, e.g. 09:00")
        return value

    @field_validator("managers", mode="before")
    @classmethod
    def _managers(cls, value: object) -> object:
        if isinstance(value, str):
            ids = {part.strip() for part in value.split(",") if part.strip()}
            bad = sorted(i for i in ids if i[:1] not in {"U", "W"} or not i.isalnum())
            if bad:
                raise ValueError(f"must be Slack user ids like U012ABC, not {', '.join(bad)}")
            return frozenset(ids)
        return value

    @field_validator("managers_channel", "deals_channel")
    @classmethod
    def _channel(cls, value: str | None) -> str | None:
        if not value:
            return None
        if value[:1] not in {"C", "G"} or not value.isalnum():
            raise ValueError("must be a Slack channel id like C012ABC")
        return value

    @field_validator("segment_channels", mode="before")
    @classmethod
    def _segment_channels(cls, value: object) -> object:
        if isinstance(value, str):
            ids = [part.strip() for part in value.split(",") if part.strip()]
            bad = [i for i in ids if i[:1] not in {"C", "G"} or not i.isalnum()]
            if bad:
                raise ValueError(f"must be Slack channel ids like C012ABC, not {', '.join(bad)}")
            return tuple(dict.fromkeys(ids))
        return value

    @field_validator("stages")
    @classmethod
    def _stages(cls, value: str) -> str:
        Pipeline.parse(value)  # raises ValueError naming the bad part
        return value

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if not is_currency_code(value.upper()):
            raise ValueError("must be an ISO 4217 currency code such as EUR or USD")
        return value.upper()

    @property
    def pipeline(self) -> Pipeline:
        return Pipeline.parse(self.stages)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def summary_at(self) -> time:
        """The weekly summary's local time of day, in `zone`."""
        return time.fromisoformat(self.summary_time)


def secret_weakness(secret: str) -> str | None:
    """Why `secret` would be easy to guess, or None. Only the plain cases: a long secret made
    by hand can still be weak, which is why `pulsebot secret` makes one."""
    if secret in PLACEHOLDER_SECRETS:
        return "is the placeholder from .env.example"
    if len(secret) < MIN_SECRET_LENGTH:
        return f"must be at least {MIN_SECRET_LENGTH} characters"
    if len(set(secret)) < MIN_SECRET_CHARACTERS:
        return "has too few different characters to be random"
    if any(secret[n:] == secret[:-n] for n in range(1, len(secret) // 2 + 1)):
        return "repeats a short pattern"
    neighbours = sum(abs(ord(a) - ord(b)) <= 1 for a, b in pairwise(secret))
    if 2 * neighbours > len(secret) - 1:
        return "is mostly runs of neighbouring characters (aaaa, abcd, 1234)"
    return None


def describe_validation_error(exc: ValidationError) -> str:
    """One line naming every bad variable and what is wrong, without echoing values."""
    problems = []
    for error in exc.errors():
        name = ".".join(str(part) for part in error["loc"]) or "settings"
        if error["type"] == "missing":
            problems.append(f"{name}: is not set")
        else:
            message = error["msg"].removeprefix("Value error, ")
            problems.append(f"{name}: {message[:1].lower()}{message[1:]}")
    return "; ".join(problems)


def load_settings(**overrides: object) -> Settings:
    """Read the settings; raise ConfigError with a one-line explanation when they are wrong."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc)) from None


def load_database_settings() -> DatabaseSettings:
    try:
        return DatabaseSettings()
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc)) from None
