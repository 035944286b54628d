"""Offline stand-in for the Slack Web API, used by the test-suite and by `pulsebot demo`."""

from __future__ import annotations

import base64
import binascii
import copy
import email.parser
import email.policy
import hashlib
import itertools
import json
import logging
import math
import mimetypes
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self, TypeVar, cast, overload
from urllib.parse import parse_qs, quote, unquote, urlsplit
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

__all__ = [
    "ANY_METHOD",
    "MAX_MESSAGE_BLOCKS",
    "MAX_MESSAGE_TEXT",
    "MAX_VIEW_BLOCKS",
    "RESPONSE_URL",
    "UPLOAD",
    "Fault",
    "RecordedCall",
    "ResponsePost",
    "SimChannel",
    "SimMessage",
    "SimUser",
    "SlackStandIn",
    "UploadedFile",
    "Workspace",
    "dm_channel_id",
    "validate_blocks",
    "validate_view",
]

logger = logging.getLogger(__name__)

JsonDict = dict[str, Any]
T = TypeVar("T")

ANY_METHOD = "*"
# Pseudo method names under which POSTs to an upload URL / a response_url are recorded
# and can be targeted by fault injection.
UPLOAD = "file_upload"
RESPONSE_URL = "response_url"

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_MESSAGE_TEXT = 40_000
MAX_ATTACHMENTS = 100
MAX_PAGE_SIZE = 1000

# A fixed "created"/"updated" stamp keeps answers deterministic.
_EPOCH = 1_700_000_000

# Fields slack_sdk sends as JSON strings inside form data; a broken one gets Slack's error.
_JSON_FIELD_ERRORS = {
    "blocks": "invalid_blocks_format",
    "attachments": "invalid_attachments",
    "view": "invalid_arguments",
    "files": "invalid_arguments",
    "metadata": "invalid_metadata_format",
}

# Slack labels zones with long names; zoneinfo only knows the abbreviations.
_TZ_LABELS = {
    "GMT": "Greenwich Mean Time",
    "BST": "British Summer Time",
    "CET": "Central European Time",
    "CEST": "Central European Summer Time",
    "EST": "Eastern Standard Time",
    "EDT": "Eastern Daylight Time",
    "CST": "Central Standard Time",
    "CDT": "Central Daylight Time",
    "PST": "Pacific Standard Time",
    "PDT": "Pacific Daylight Time",
    "JST": "Japan Standard Time",
    "UTC": "Coordinated Universal Time",
}


# --------------------------------------------------------------------------------------
# Simulated workspace
# --------------------------------------------------------------------------------------


@dataclass
class SimUser:
    """A member of the simulated workspace (a person, a guest or a bot)."""

    id: str
    name: str
    real_name: str = ""
    # None: a member Slack has no time zone for; users.info then leaves out tz, tz_label and
    # tz_offset, and the bot must fall back to the workspace's zone.
    tz: str | None = "UTC"
    locale: str = "en-US"
    email: str | None = None
    title: str = ""
    is_admin: bool = False
    is_owner: bool = False
    is_primary_owner: bool = False
    is_bot: bool = False
    deleted: bool = False
    is_restricted: bool = False
    is_ultra_restricted: bool = False
    bot_id: str | None = None

    def __post_init__(self) -> None:
        # Fail on a misspelt zone now rather than at the first users.info.
        if self.tz is not None:
            ZoneInfo(self.tz)

    @property
    def tz_offset(self) -> int:
        """Seconds east of UTC right now, as Slack reports it (DST included)."""
        if self.tz is None:
            return 0
        offset = datetime.now(ZoneInfo(self.tz)).utcoffset()
        return int(offset.total_seconds()) if offset is not None else 0

    @property
    def tz_label(self) -> str:
        if self.tz is None:
            return ""
        abbreviation = datetime.now(ZoneInfo(self.tz)).tzname() or self.tz
        return _TZ_LABELS.get(abbreviation, abbreviation)

    def to_api(self, team_id: str, *, include_locale: bool = False) -> JsonDict:
        """The user object as users.info / users.list return it."""
        profile: JsonDict = {
            "title": self.title,
            "real_name": self.real_name,
            "real_name_normalized": self.real_name,
            "display_name": self.name,
            "display_name_normalized": self.name,
            "team": team_id,
        }
        if self.email is not None:
            profile["email"] = self.email
        if self.bot_id is not None:
            profile["bot_id"] = self.bot_id
            profile["always_active"] = True
        user: JsonDict = {
            "id": self.id,
            "team_id": team_id,
            "name": self.name,
            "deleted": self.deleted,
            "color": "9f69e7",
            "real_name": self.real_name,
            "profile": profile,
            "is_admin": self.is_admin,
            "is_owner": self.is_owner,
            "is_primary_owner": self.is_primary_owner,
            "is_restricted": self.is_restricted,
            "is_ultra_restricted": self.is_ultra_restricted,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "updated": _EPOCH,
        }
        if self.tz is not None:
            user |= {"tz": self.tz, "tz_label": self.tz_label, "tz_offset": self.tz_offset}
        if include_locale:
            user["locale"] = self.locale
        return user


@dataclass
class SimChannel:
    """A public or private channel of the simulated workspace."""

    id: str
    name: str
    members: list[str] = field(default_factory=list)
    is_private: bool = False
    is_archived: bool = False
    topic: str = ""
    purpose: str = ""

    def to_api(self, bot_user_id: str) -> JsonDict:
        """The conversation object as conversations.info returns it."""
        return {
            "id": self.id,
            "name": self.name,
            "name_normalized": self.name,
            "is_channel": not self.is_private,
            "is_group": False,
            "is_im": False,
            "is_mpim": False,
            "is_private": self.is_private,
            "is_archived": self.is_archived,
            "is_general": self.name == "general",
            "is_member": bot_user_id in self.members,
            "num_members": len(self.members),
            "created": _EPOCH,
            "topic": {"value": self.topic, "creator": "", "last_set": 0},
            "purpose": {"value": self.purpose, "creator": "", "last_set": 0},
        }


@dataclass
class Workspace:
    """The team the stand-in pretends to be; the bot's own user is added when missing."""

    team_id: str = "T0PULSE01"
    team_name: str = "Pulse Demo"
    domain: str = "pulse-demo"
    bot_user_id: str = "UBOT"
    bot_id: str = "B0PULSEBOT"
    app_id: str = "A0PULSEBOT"
    bot_name: str = "pulsebot"
    # When set, only this xoxb- token is accepted (others answer invalid_auth).
    bot_token: str | None = None
    users: list[SimUser] = field(default_factory=list)
    channels: list[SimChannel] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.user(self.bot_user_id) is None:
            self.users.append(
                SimUser(
                    id=self.bot_user_id,
                    name=self.bot_name,
                    real_name="Pulse",
                    tz="America/Los_Angeles",  # Slack gives bots this default zone
                    is_bot=True,
                    bot_id=self.bot_id,
                )
            )

    def user(self, user_id: str) -> SimUser | None:
        return next((user for user in self.users if user.id == user_id), None)

    def user_by_email(self, email_address: str) -> SimUser | None:
        wanted = email_address.casefold()
        return next(
            (user for user in self.users if user.email and user.email.casefold() == wanted), None
        )

    def channel(self, ref: str) -> SimChannel | None:
        """Find a channel by id, or by name with or without the leading '#'."""
        name = ref.removeprefix("#")
        return next((ch for ch in self.channels if ref == ch.id or ch.name == name), None)

    @classmethod
    def demo(cls) -> Workspace:
        """A sales team of thirteen over five time zones, for tests and `pulsebot demo`."""
        people = [
            # id, handle, real name, zone, locale, title
            ("U01GROSSI", "giulia.rossi", "Giulia Rossi", "Europe/Rome", "it-IT", "Head of Sales"),
            ("U02MBIANC", "marco.bianchi", "Marco Bianchi", "Europe/Rome", "it-IT", "Account Exec"),
            ("U03FESPOS", "francesca.esposito", "Francesca Esposito", "Europe/Rome", "it-IT",
             "Account Exec"),
            ("U04LROMAN", "luca.romano", "Luca Romano", "Europe/Rome", "en-US", "Engineer"),
            ("U05OSMITH", "oliver.smith", "Oliver Smith", "Europe/London", "en-GB", "Account Exec"),
            ("U06AJONES", "amelia.jones", "Amelia Jones", "Europe/London", "en-GB",
             "Customer Success Manager"),
            ("U07JMILLE", "james.miller", "James Miller", "America/New_York", "en-US", "SDR"),
            ("U08EDAVIS", "emily.davis", "Emily Davis", "America/Los_Angeles", "en-US", "Support"),
            ("U09HSATO", "haruto.sato", "Haruto Sato", "Asia/Tokyo", "en-US", "Partner Manager"),
            ("U10CRICCI", "chiara.ricci", "Chiara Ricci", "Europe/Rome", "it-IT", "Account Exec"),
            ("U11PGREEN", "paul.green", "Paul Green", "America/New_York", "en-US", "Consultant"),
            ("U13ACOLOM", "alessandro.colombo", "Alessandro Colombo", "Europe/Rome", "it-IT",
             "Engineer"),
            ("U14SBROWN", "sophie.brown", "Sophie Brown", "Europe/London", "en-GB", "Marketing"),
            ("U15DGARCI", "daniel.garcia", "Daniel Garcia", "America/New_York", "en-US",
             "Account Exec"),
            ("U16YTANAK", "yuki.tanaka", "Yuki Tanaka", "Asia/Tokyo", "en-US", "Solutions Engineer"),
        ]  # fmt: skip
        users = {
            uid: SimUser(
                id=uid,
                name=handle,
                real_name=real_name,
                tz=tz,
                locale=locale,
                email=f"{handle}@pulse-demo.example",
                title=title,
            )
            for uid, handle, real_name, tz, locale, title in people
        }
        manager = users["U01GROSSI"]
        manager.is_admin = manager.is_owner = manager.is_primary_owner = True
        users["U10CRICCI"].deleted = True  # left the company; still listed in channels
        users["U11PGREEN"].is_restricted = True  # multi-channel guest
        crm_bot = SimUser(
            id="U12CRMBOT",
            name="crm-sync",
            real_name="CRM Sync",
            tz="America/Los_Angeles",
            is_bot=True,
            bot_id="B0CRMSYNC",
        )
        workspace = cls(users=[*users.values(), crm_bot])
        bot = workspace.bot_user_id
        # Guests cannot join #general; Slack keeps deactivated people in member lists.
        everyone = [u.id for u in workspace.users if not u.is_bot and not u.is_restricted]
        reps = ["U01GROSSI", "U02MBIANC", "U03FESPOS", "U05OSMITH", "U07JMILLE", "U09HSATO",
                "U15DGARCI"]  # fmt: skip
        workspace.channels = [
            SimChannel("C01GENERAL", "general", [*everyone, bot], purpose="Announcements"),
            SimChannel(
                "C02SALES",
                "sales",
                [*reps, "U10CRICCI", "U11PGREEN", crm_bot.id, bot],
                purpose="Pipeline and deals",
            ),
            SimChannel("C03MANAGERS", "managers", ["U01GROSSI", "U06AJONES", bot], is_private=True),
        ]
        return workspace


def dm_channel_id(user_id: str) -> str:
    """The id of the bot's DM with a user: stable per user, as on Slack."""
    return "D" + hashlib.sha1(user_id.encode()).hexdigest()[:10].upper()


# --------------------------------------------------------------------------------------
# What the stand-in records
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedCall:
    """One request the stand-in answered.

    `method` is the Web API method, or UPLOAD / RESPONSE_URL for POSTs to an upload URL
    (params: file_id, size) or to a response_url (params: the JSON payload).
    """

    method: str
    params: JsonDict
    time: float  # time.monotonic() when the request arrived
    status: int
    response: JsonDict | None = None  # None for plain-text answers

    @property
    def ok(self) -> bool:
        return self.status == 200 and (self.response is None or self.response.get("ok") is True)

    @property
    def error(self) -> str | None:
        if self.response is None:
            return None
        error = self.response.get("error")
        return error if isinstance(error, str) else None


@dataclass
class SimMessage:
    """A message as users would see it: in a channel, in a DM, or ephemeral."""

    channel: str
    ts: str
    text: str
    blocks: list[JsonDict] = field(default_factory=list)
    attachments: list[JsonDict] = field(default_factory=list)
    thread_ts: str | None = None
    # The DM counterpart, or the only user who sees an ephemeral message.
    recipient: str | None = None
    ephemeral: bool = False
    source: str = "chat.postMessage"
    files: list[str] = field(default_factory=list)
    edit_count: int = 0
    # Message metadata ({event_type, event_payload}) as chat.postMessage was given it.
    metadata: JsonDict | None = None


@dataclass
class UploadedFile:
    """A file uploaded through files.getUploadURLExternal and its upload URL."""

    id: str
    name: str
    title: str
    content: bytes = b""
    length: int = 0
    channel: str | None = None
    thread_ts: str | None = None
    initial_comment: str | None = None
    uploaded: bool = False
    completed: bool = False


@dataclass(frozen=True)
class ResponsePost:
    """A JSON payload the bot POSTed to a response_url."""

    url: str
    payload: JsonDict

    @property
    def response_type(self) -> str:
        return str(self.payload.get("response_type") or "ephemeral")

    @property
    def replace_original(self) -> bool:
        return _flag(self.payload.get("replace_original"))

    @property
    def delete_original(self) -> bool:
        return _flag(self.payload.get("delete_original"))

    @property
    def text(self) -> str | None:
        text = self.payload.get("text")
        return text if isinstance(text, str) else None

    @property
    def blocks(self) -> list[JsonDict]:
        blocks = self.payload.get("blocks")
        return blocks if isinstance(blocks, list) else []


# --------------------------------------------------------------------------------------
# Block Kit validation
# --------------------------------------------------------------------------------------


def _known_block_types() -> frozenset[str]:
    found: set[str] = set()
    pending = list(Block.__subclasses__())
    while pending:
        cls = pending.pop()
        block_type = getattr(cls, "type", None)
        if isinstance(block_type, str):
            found.add(block_type)
        pending.extend(cls.__subclasses__())
    return frozenset(found)


_BLOCK_TYPES = _known_block_types()
# Blocks whose schema is settled: for them a bare string where Slack wants an object is an
# error even though the SDK would quietly wrap it. Newer block types are only SDK-checked.
_STRICT_BLOCK_TYPES = frozenset(
    {"actions", "context", "divider", "file", "header", "image", "input", "rich_text", "section"}
)
_TEXT_OBJECT_KEYS = frozenset({"text", "label", "hint", "placeholder", "title", "description"})
_PLAIN_TEXT_ONLY = {"header": ("text",), "button": ("text",), "input": ("label", "hint")}
_VIEW_TYPES = ("modal", "home")
_VIEW_KEYS = frozenset(View(type="modal").attributes)


def _pointer_error(message: str, pointer: str) -> str:
    return f"{message} [json-pointer:{pointer}]"


def validate_blocks(
    blocks: object, *, pointer: str = "/blocks", limit: int = MAX_MESSAGE_BLOCKS
) -> list[str]:
    """Check blocks the way Slack does; answer its error strings (empty when valid)."""
    if not isinstance(blocks, list):
        return [_pointer_error("must provide an array", pointer)]
    errors: list[str] = []
    if len(blocks) > limit:
        errors.append(_pointer_error(f"no more than {limit} items allowed", pointer))
    for index, block in enumerate(blocks):
        errors.extend(_validate_block(block, f"{pointer}/{index}"))
    return errors


def validate_view(view: object, *, pointer: str = "/view") -> list[str]:
    """Check a modal or home view the way Slack does; answer its error strings."""
    if not isinstance(view, dict):
        return [_pointer_error("must provide an object", pointer)]
    view_type = view.get("type")
    if view_type not in _VIEW_TYPES:
        return [_pointer_error(f"unsupported type: {view_type}", f"{pointer}/type")]
    errors = [
        _pointer_error(f"invalid additional property: {key}", pointer)
        for key in view
        if key not in _VIEW_KEYS
    ]
    blocks = view.get("blocks")
    if blocks is None:
        errors.append(_pointer_error("missing required field: blocks", pointer))
    else:
        errors.extend(validate_blocks(blocks, pointer=f"{pointer}/blocks", limit=MAX_VIEW_BLOCKS))
    if view_type == "modal":
        if not view.get("title"):
            errors.append(_pointer_error("missing required field: title", pointer))
        has_input = isinstance(blocks, list) and any(
            isinstance(block, dict) and block.get("type") == "input" for block in blocks
        )
        if has_input and not view.get("submit"):
            errors.append(_pointer_error("submit is required when input blocks are used", pointer))
    for key in ("title", "submit", "close"):
        value = view.get(key)
        if value is None:
            continue
        if not isinstance(value, dict):
            errors.append(_pointer_error("must provide an object", f"{pointer}/{key}"))
        elif value.get("type") != "plain_text":
            errors.append(_pointer_error("must be plain_text", f"{pointer}/{key}/type"))
    if errors:
        return errors
    try:
        View(**copy.deepcopy(view)).validate_json()
    # SlackObjectFormationError for broken rules; anything else means the SDK choked on it.
    except Exception as exc:
        return [_pointer_error(str(exc), pointer)]
    return []


def _validate_block(raw: object, pointer: str) -> list[str]:
    if not isinstance(raw, dict):
        return [_pointer_error("must provide an object", pointer)]
    block_type = raw.get("type")
    if not isinstance(block_type, str) or block_type not in _BLOCK_TYPES:
        return [_pointer_error(f"unsupported type: {block_type}", f"{pointer}/type")]
    try:
        block = Block.parse(copy.deepcopy(raw))
        if block is None:
            return [_pointer_error(f"unsupported type: {block_type}", f"{pointer}/type")]
        block.validate_json()
        rebuilt: object = block.to_dict()  # to_dict() also validates every nested element
    # SlackObjectFormationError for broken rules; a malformed payload can make the SDK raise
    # TypeError, AttributeError and the like: all of them mean "invalid".
    except Exception as exc:
        return [_pointer_error(str(exc) or type(exc).__name__, pointer)]
    strict = block_type in _STRICT_BLOCK_TYPES
    return _round_trip_errors(raw, rebuilt, pointer, strict=strict) + _text_object_errors(
        raw, pointer
    )


def _round_trip_errors(sent: object, parsed: object, pointer: str, *, strict: bool) -> list[str]:
    """Compare what was sent with the SDK's re-serialisation of it.

    The SDK drops what it does not understand (unknown keys, unknown elements) and wraps
    bare strings into text objects; Slack rejects all of those, so must we.
    """
    if isinstance(sent, dict):
        if not isinstance(parsed, dict):
            return [_pointer_error("failed to match all allowed schemas", pointer)]
        errors: list[str] = []
        for key, value in sent.items():
            child = f"{pointer}/{key}"
            if key in parsed:
                errors.extend(_round_trip_errors(value, parsed[key], child, strict=strict))
            elif value is None:
                continue  # null reads as "absent", for the SDK and for us
            elif isinstance(value, (str, list, dict)) and not value:
                errors.append(_pointer_error("must not be empty", child))
            else:
                errors.append(_pointer_error(f"invalid additional property: {key}", pointer))
        return errors
    if isinstance(sent, list):
        if not isinstance(parsed, list) or len(parsed) != len(sent):
            return [_pointer_error("failed to match all allowed schemas", pointer)]
        errors = []
        for index, (item, parsed_item) in enumerate(zip(sent, parsed, strict=True)):
            child = f"{pointer}/{index}"
            if parsed_item is None and item is not None:
                errors.append(_pointer_error("failed to match all allowed schemas", child))
            else:
                errors.extend(_round_trip_errors(item, parsed_item, child, strict=strict))
        return errors
    if strict and isinstance(parsed, dict):
        return [_pointer_error("must provide an object", pointer)]
    return []


def _text_object_errors(node: object, pointer: str) -> list[str]:
    """Text objects must be plain_text or mrkdwn, and plain_text where Slack insists."""
    if isinstance(node, list):
        errors: list[str] = []
        for index, item in enumerate(node):
            errors.extend(_text_object_errors(item, f"{pointer}/{index}"))
        return errors
    if not isinstance(node, dict):
        return []
    errors = []
    plain_only = set(_PLAIN_TEXT_ONLY.get(str(node.get("type")), ())) | {"placeholder"}
    for key, value in node.items():
        child = f"{pointer}/{key}"
        if key in _TEXT_OBJECT_KEYS and isinstance(value, dict) and "text" in value:
            text_type = value.get("type")
            if text_type not in ("plain_text", "mrkdwn"):
                errors.append(_pointer_error(f"unsupported type: {text_type}", f"{child}/type"))
            elif key in plain_only and text_type != "plain_text":
                errors.append(_pointer_error("must be plain_text", f"{child}/type"))
        errors.extend(_text_object_errors(value, child))
    return errors


# --------------------------------------------------------------------------------------
# HTTP plumbing
# --------------------------------------------------------------------------------------


class _ApiError(Exception):
    """A Web API error answer: HTTP 200 with ok=false, as Slack does."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra

    def payload(self) -> JsonDict:
        return {"ok": False, "error": self.error, **self.extra}


def _invalid_arguments(messages: list[str]) -> _ApiError:
    return _ApiError(
        "invalid_arguments", response_metadata={"messages": [f"[ERROR] {m}" for m in messages]}
    )


@dataclass(frozen=True)
class _Request:
    verb: str
    path: str
    query: str
    headers: Mapping[str, str]  # lower-cased names
    body: bytes

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    @property
    def content_type(self) -> str:
        return self.header("content-type").split(";")[0].strip().lower()


@dataclass(frozen=True)
class _Reply:
    status: int
    body: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...] = ()
    payload: JsonDict | None = None  # kept for recording

    @classmethod
    def json(
        cls, payload: JsonDict, status: int = 200, headers: tuple[tuple[str, str], ...] = ()
    ) -> _Reply:
        body = json.dumps(payload).encode()
        return cls(status, body, "application/json; charset=utf-8", headers, payload)

    @classmethod
    def text(cls, text: str, status: int = 200) -> _Reply:
        return cls(status, text.encode(), "text/plain; charset=utf-8")


@dataclass
class _RateLimit:
    """At most `per_minute` calls per method in any sliding `window` seconds."""

    per_minute: int
    window: float
    hits: dict[str, deque[float]] = field(default_factory=dict)

    def retry_after(self, method: str, now: float) -> int | None:
        hits = self.hits.setdefault(method, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) < self.per_minute:
            return None
        return max(1, math.ceil(hits[0] + self.window - now))

    def hit(self, method: str, now: float) -> None:
        self.hits.setdefault(method, deque()).append(now)


@dataclass
class _Failure:
    remaining: int
    status: int
    error: str


@dataclass(frozen=True)
class Fault:
    """One scripted bad answer: an HTTP `status` (429 with `retry_after`), or, with
    `timeout`, no answer for that many seconds (the request is not processed)."""

    status: int = 500
    retry_after: int = 1
    timeout: float = 0.0


@dataclass
class _ResponseTarget:
    user_id: str | None
    channel_id: str | None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # The default backlog of 5 drops connections when a bot fans out DMs in parallel.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], standin: SlackStandIn) -> None:
        self.standin = standin
        super().__init__(address, _Handler)

    def handle_error(self, request: object, client_address: object) -> None:
        # The default prints a traceback to stderr; keep the stand-in quiet.
        logger.debug("Slack stand-in: error serving %s", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    server_version = "SlackStandIn/1.0"

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("Slack stand-in: %s " + format, self.address_string(), *args)

    def _serve(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.send_error(400, "bad Content-Length")
            return
        split = urlsplit(self.path)
        request = _Request(
            verb=self.command,
            path=split.path,
            query=split.query,
            headers={name.lower(): value for name, value in self.headers.items()},
            body=self.rfile.read(length) if length > 0 else b"",
        )
        reply = cast(_Server, self.server).standin._dispatch(request)
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            # Expected when a delay() outlasts the client's timeout.
            logger.debug("Slack stand-in: client went away before the answer")


def _flag(value: object) -> bool:
    """Slack booleans arrive as true/false, 1/0 or "true"/"1" depending on the body kind."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


def _form_fields(text: str) -> JsonDict:
    fields = parse_qs(text, keep_blank_values=True)
    return {key: values[0] if len(values) == 1 else values for key, values in fields.items()}


def _decode_params(request: _Request) -> tuple[JsonDict, _ApiError | None]:
    """Merge query string and body (form or JSON) and decode JSON-string fields."""
    params = _form_fields(request.query)
    if request.body:
        if request.content_type == "application/json":
            try:
                body = json.loads(request.body)
            except (UnicodeDecodeError, json.JSONDecodeError):
                return params, _ApiError("invalid_json")
            if not isinstance(body, dict):
                return params, _ApiError("invalid_json")
            params.update(body)
        elif request.content_type in ("application/x-www-form-urlencoded", "text/plain", ""):
            try:
                params.update(_form_fields(request.body.decode("utf-8")))
            except UnicodeDecodeError:
                return params, _ApiError("invalid_form_data")
        else:
            return params, _ApiError("invalid_post_type")
    for key, error in _JSON_FIELD_ERRORS.items():
        value = params.get(key)
        if isinstance(value, str):
            try:
                params[key] = json.loads(value)
            except json.JSONDecodeError:
                return params, _ApiError(error)
    return params, None


def _bearer_token(request: _Request) -> str:
    scheme, _, token = request.header("authorization").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _multipart_file(content_type: str, body: bytes) -> bytes:
    """The file part of a multipart upload (as `curl -F file=@x` sends it)."""
    head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    for part in message.walk():
        field_name = part.get_param("name", header="content-disposition")
        if part.is_multipart() or (part.get_filename() is None and field_name != "file"):
            continue
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            return payload
    return body


def _int_param(params: JsonDict, name: str, default: int) -> int:
    value = params.get(name)
    if value in (None, ""):
        return default
    try:
        return int(str(value))
    except ValueError:
        raise _invalid_arguments([f"must be an integer [json-pointer:/{name}]"]) from None


def _paginate(
    items: list[T], params: JsonDict, *, default_limit: int, key: Callable[[T], str]
) -> tuple[list[T], str]:
    """Slack-style cursor pagination: the cursor is base64("user:<id of next item>")."""
    limit = min(_int_param(params, "limit", default_limit), MAX_PAGE_SIZE)
    ids = [key(item) for item in items]
    start = 0
    cursor = params.get("cursor")
    if cursor:
        try:
            decoded = base64.b64decode(str(cursor), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise _ApiError("invalid_cursor") from None
        kind, _, item_id = decoded.partition(":")
        if kind != "user" or item_id not in ids:
            raise _ApiError("invalid_cursor")
        start = ids.index(item_id)
    end = len(items) if limit <= 0 else min(start + limit, len(items))
    next_cursor = base64.b64encode(f"user:{ids[end]}".encode()).decode() if end < len(items) else ""
    return items[start:end], next_cursor


def _view_hash() -> str:
    return f"{int(time.time())}.{secrets.token_hex(4)}"


# --------------------------------------------------------------------------------------
# The stand-in
# --------------------------------------------------------------------------------------


class SlackStandIn:
    """A local HTTP server answering the Slack Web API methods pulsebot uses.

    Point `slack_sdk.WebClient(base_url=standin.url)` at it. Everything it receives is
    recorded (`calls`), what users would see is kept (`messages_for`, `channel_messages`,
    `files`, `home_view`), and faults can be injected (`rate_limit`, `fail_next`, `delay`).
    """

    def __init__(
        self, workspace: Workspace | None = None, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.workspace = workspace if workspace is not None else Workspace.demo()
        self._host = host
        self._port = port
        # One re-entrant lock guards all state: handler threads and the test thread share it.
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._root: str | None = None
        self._ids = itertools.count(1)
        self._last_ts_us = 0
        self._calls: list[RecordedCall] = []
        self._messages: list[SimMessage] = []
        self._views: dict[str, JsonDict] = {}
        self._home_views: dict[str, str] = {}
        self._uploads: dict[str, UploadedFile] = {}
        self._response_targets: dict[str, _ResponseTarget] = {}
        self._response_posts: list[ResponsePost] = []
        self._open_dms: set[str] = set()
        self._rate_limits: dict[str, _RateLimit] = {}
        self._failures: dict[str, _Failure] = {}
        self._delays: dict[str, float] = {}
        self._outages: dict[str, tuple[Fault, ...]] = {}
        self._outage_left: dict[str, deque[Fault]] = {}
        self._methods: dict[str, Callable[[JsonDict], JsonDict]] = {
            "auth.test": self._auth_test,
            "chat.delete": self._chat_delete,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "conversations.info": self._conversations_info,
            "conversations.history": self._conversations_history,
            "conversations.members": self._conversations_members,
            "conversations.open": self._conversations_open,
            "files.completeUploadExternal": self._files_complete_upload_external,
            "files.getUploadURLExternal": self._files_get_upload_url_external,
            "users.info": self._users_info,
            "users.list": self._users_list,
            "users.lookupByEmail": self._users_lookup_by_email,
            "views.open": self._views_open,
            "views.publish": self._views_publish,
            "views.push": self._views_push,
            "views.update": self._views_update,
        }

    # ---- lifecycle ---------------------------------------------------------------------

    def start(self) -> Self:
        """Bind and serve in a daemon thread; returns self so `SlackStandIn().start()` reads."""
        with self._lock:
            if self._server is not None:
                raise RuntimeError("the Slack stand-in is already running")
            self._stopping.clear()
            server = _Server((self._host, self._port), self)
            self._server = server
            self._root = f"http://{self._host}:{server.server_port}"
            self._thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"slack-standin-{server.server_port}",
                daemon=True,
            )
            self._thread.start()
        logger.info("Slack stand-in listening on %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving; recorded calls and messages stay readable."""
        with self._lock:
            server, thread = self._server, self._thread
            self._server = self._thread = self._root = None
        if server is None:
            return
        self._stopping.set()  # wakes handlers sleeping in delay()
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        logger.info("Slack stand-in stopped")

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def root_url(self) -> str:
        """e.g. http://127.0.0.1:54321 (no trailing slash)."""
        root = self._root
        if root is None:
            raise RuntimeError("the Slack stand-in is not running; call start() first")
        return root

    @property
    def url(self) -> str:
        """The base_url for slack_sdk.WebClient, e.g. http://127.0.0.1:54321/api/."""
        return f"{self.root_url}/api/"

    # ---- reading what happened ------------------------------------------------------------

    @property
    def calls(self) -> list[RecordedCall]:
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str) -> list[RecordedCall]:
        with self._lock:
            return [call for call in self._calls if call.method == method]

    def reset_calls(self) -> None:
        with self._lock:
            self._calls.clear()

    def reset(self) -> None:
        """Forget calls, messages, views, files, response URLs and faults (not the workspace)."""
        with self._lock:
            self._calls.clear()
            self._messages.clear()
            self._views.clear()
            self._home_views.clear()
            self._uploads.clear()
            self._response_targets.clear()
            self._response_posts.clear()
            self._open_dms.clear()
        self.clear_faults()

    @property
    def messages(self) -> list[SimMessage]:
        """Every message still visible, in the order they were posted."""
        with self._lock:
            return copy.deepcopy(self._messages)

    def messages_for(self, user_id: str) -> list[SimMessage]:
        """What one user was shown privately: DMs from the bot and ephemeral messages."""
        with self._lock:
            return copy.deepcopy([m for m in self._messages if m.recipient == user_id])

    def channel_messages(self, channel: str) -> list[SimMessage]:
        """Non-ephemeral messages of a channel (id or name) or DM (D… id)."""
        with self._lock:
            found = self.workspace.channel(channel)
            channel_id = found.id if found is not None else channel
            return copy.deepcopy(
                [m for m in self._messages if m.channel == channel_id and not m.ephemeral]
            )

    def dm_channel_id(self, user_id: str) -> str:
        return dm_channel_id(user_id)

    @property
    def files(self) -> list[UploadedFile]:
        """Files whose upload was completed with files.completeUploadExternal."""
        with self._lock:
            return copy.deepcopy([f for f in self._uploads.values() if f.completed])

    @property
    def views(self) -> list[JsonDict]:
        """Every open view (modals and home tabs) as the API last returned it."""
        with self._lock:
            return copy.deepcopy(list(self._views.values()))

    def view(self, view_id: str) -> JsonDict | None:
        with self._lock:
            found = self._views.get(view_id)
            return copy.deepcopy(found) if found is not None else None

    def home_view(self, user_id: str) -> JsonDict | None:
        with self._lock:
            view_id = self._home_views.get(user_id)
            return copy.deepcopy(self._views[view_id]) if view_id is not None else None

    def response_url(self, *, user_id: str | None = None, channel_id: str | None = None) -> str:
        """A fresh response_url; ephemeral posts to it are shown to `user_id`."""
        token = secrets.token_hex(12)
        with self._lock:
            self._response_targets[token] = _ResponseTarget(user_id, channel_id)
        return f"{self.root_url}/response/{token}"

    def response_posts(self, url: str | None = None) -> list[ResponsePost]:
        """Accepted POSTs to response URLs (all of them, or those to one URL), in order."""
        with self._lock:
            return [post for post in self._response_posts if url is None or post.url == url]

    # ---- polling -----------------------------------------------------------------------

    @overload
    def wait_for(
        self,
        predicate: Callable[[], bool],
        timeout: float = ...,
        interval: float = ...,
        *,
        describe: str | None = ...,
    ) -> bool: ...

    @overload
    def wait_for(
        self,
        predicate: Callable[[], T | None],
        timeout: float = ...,
        interval: float = ...,
        *,
        describe: str | None = ...,
    ) -> T: ...

    def wait_for(
        self,
        predicate: Callable[[], T | bool | None],
        timeout: float = 5.0,
        interval: float = 0.01,
        *,
        describe: str | None = None,
    ) -> T:
        """Poll `predicate` until it returns something truthy, and return that."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return cast(T, value)
            if time.monotonic() >= deadline:
                break
            time.sleep(interval)
        what = describe or getattr(predicate, "__qualname__", repr(predicate))
        recent = ", ".join(
            f"{call.method}->{call.status}" + ("" if call.ok else f" {call.error or 'error'}")
            for call in self.calls[-10:]
        )
        raise AssertionError(
            f"timed out after {timeout:.2f}s waiting for {what} (last value: {value!r}); "
            f"last calls: {recent or 'none'}"
        )

    def wait_for_calls(
        self, method: str, count: int = 1, timeout: float = 5.0
    ) -> list[RecordedCall]:
        """Wait until `method` was called at least `count` times; return those calls."""

        def enough() -> list[RecordedCall] | None:
            calls = self.calls_to(method)
            return calls if len(calls) >= count else None

        return self.wait_for(enough, timeout, describe=f"{count} call(s) to {method}")

    # ---- fault injection -----------------------------------------------------------------

    def rate_limit(self, method: str, per_minute: int, *, window: float = 60.0) -> None:
        """Answer 429 + Retry-After past `per_minute` calls in a sliding `window` seconds.

        `method` "*" limits every Web API method, each with its own window as on Slack.
        Shorten `window` in tests that must wait the limit out.
        """
        if per_minute < 1 or window <= 0:
            raise ValueError("per_minute must be >= 1 and window > 0")
        with self._lock:
            self._rate_limits[method] = _RateLimit(per_minute, window)

    def fail_next(
        self, method: str, count: int = 1, status: int = 500, *, error: str = "internal_error"
    ) -> None:
        """Answer the next `count` calls to `method` ("*": any Web API method) with `status`."""
        if count < 1:
            raise ValueError("count must be >= 1")
        with self._lock:
            self._failures[method] = _Failure(count, status, error)

    def delay(self, method: str, seconds: float) -> None:
        """Sleep `seconds` before answering `method` ("*": any Web API method); 0 removes."""
        with self._lock:
            if seconds > 0:
                self._delays[method] = seconds
            else:
                self._delays.pop(method, None)

    def outage(self, method: str, faults: list[Fault]) -> None:
        """Answer the next calls to `method` with `faults`, in order, then normally again.

        `method` "*" gives every Web API method its own copy of `faults`, from its first call
        on; `RESPONSE_URL` and `UPLOAD` script the response_url and file upload POSTs.
        """
        with self._lock:
            self._outages[method] = tuple(faults)
            self._outage_left = {
                key: left for key, left in self._outage_left.items() if key != method
            }

    def clear_faults(self) -> None:
        with self._lock:
            self._outages.clear()
            self._outage_left.clear()
            self._rate_limits.clear()
            self._failures.clear()
            self._delays.clear()

    # ---- request handling ------------------------------------------------------------------

    def _dispatch(self, request: _Request) -> _Reply:
        path = request.path
        if path.startswith("/api/") and request.verb in ("GET", "POST"):
            return self._web_api(path.removeprefix("/api/"), request)
        if path.startswith("/upload/") and request.verb == "POST":
            return self._upload(path.removeprefix("/upload/"), request)
        if path.startswith("/response/") and request.verb == "POST":
            return self._response_post(path.removeprefix("/response/"), request)
        if path.startswith("/files/") and request.verb == "GET":
            return self._download(path.removeprefix("/files/"))
        return _Reply.text("not_found", 404)

    def _web_api(self, method: str, request: _Request) -> _Reply:
        arrived = time.monotonic()
        params, decode_error = _decode_params(request)
        token = _bearer_token(request) or str(params.get("token") or "")
        params.pop("token", None)  # never keep secrets in the recording
        self._sleep_for(method, wildcard=True)
        reply = self._fault_reply(method, arrived, wildcard=True, as_json=True)
        if reply is None:
            reply = self._answer(method, params, token, decode_error)
        self._record(method, params, arrived, reply)
        return reply

    def _answer(
        self, method: str, params: JsonDict, token: str, decode_error: _ApiError | None
    ) -> _Reply:
        handler = self._methods.get(method)
        if handler is None:
            return _Reply.json({"ok": False, "error": "unknown_method", "req_method": method})
        try:
            if decode_error is not None:
                raise decode_error
            self._check_token(token)
            with self._lock:
                return _Reply.json(handler(params))
        except _ApiError as exc:
            return _Reply.json(exc.payload())
        except Exception:
            logger.exception("Slack stand-in: %s failed", method)
            return _Reply.json({"ok": False, "error": "fatal_error"}, status=500)

    def _check_token(self, token: str) -> None:
        if not token.startswith(("xoxb-", "xapp-")):
            raise _ApiError("not_authed")
        expected = self.workspace.bot_token
        if expected is not None and token.startswith("xoxb-") and token != expected:
            raise _ApiError("invalid_auth")

    def _sleep_for(self, method: str, *, wildcard: bool) -> None:
        with self._lock:
            seconds = self._delays.get(method)
            if seconds is None and wildcard:
                seconds = self._delays.get(ANY_METHOD)
        if seconds:
            self._stopping.wait(seconds)  # returns early when the stand-in stops

    def _fault_reply(
        self, method: str, now: float, *, wildcard: bool, as_json: bool
    ) -> _Reply | None:
        keys = [method, ANY_METHOD] if wildcard else [method]
        scripted = self._next_scripted_fault(method, wildcard=wildcard)
        if scripted is not None:
            if scripted.timeout:
                self._stopping.wait(scripted.timeout)  # the client gives up before this
                return self._error_reply("timeout", 504, as_json=as_json)
            if scripted.status == 429:
                headers = (("Retry-After", str(scripted.retry_after)),)
                if as_json:
                    return _Reply.json({"ok": False, "error": "ratelimited"}, 429, headers)
                return _Reply(429, b"rate_limited", "text/plain; charset=utf-8", headers)
            return self._error_reply("internal_error", scripted.status, as_json=as_json)
        with self._lock:
            for key in keys:
                failure = self._failures.get(key)
                if failure is not None:
                    failure.remaining -= 1
                    if failure.remaining <= 0:
                        del self._failures[key]
                    return self._error_reply(failure.error, failure.status, as_json=as_json)
            limits = [limit for key in keys if (limit := self._rate_limits.get(key)) is not None]
            waits = [wait for limit in limits if (wait := limit.retry_after(method, now))]
            if waits:
                headers = (("Retry-After", str(max(waits))),)
                if as_json:
                    return _Reply.json({"ok": False, "error": "ratelimited"}, 429, headers)
                return _Reply(429, b"rate_limited", "text/plain; charset=utf-8", headers)
            for limit in limits:
                limit.hit(method, now)
        return None

    def _next_scripted_fault(self, method: str, *, wildcard: bool) -> Fault | None:
        with self._lock:
            left = self._outage_left.get(method)
            if left is None:
                script = self._outages.get(method)
                if script is None and wildcard:
                    script = self._outages.get(ANY_METHOD)
                if script is None:
                    return None
                left = self._outage_left[method] = deque(script)
            return left.popleft() if left else None

    @staticmethod
    def _error_reply(error: str, status: int, *, as_json: bool) -> _Reply:
        if as_json:
            return _Reply.json({"ok": False, "error": error}, status)
        return _Reply.text(error, status)

    def _record(self, method: str, params: JsonDict, arrived: float, reply: _Reply) -> None:
        call = RecordedCall(
            method=method,
            params=copy.deepcopy(params),
            time=arrived,
            status=reply.status,
            response=copy.deepcopy(reply.payload),
        )
        with self._lock:
            self._calls.append(call)
        logger.debug("Slack stand-in: %s -> %s %s", method, reply.status, call.error or "")

    # ---- shared helpers (called with the lock held) ------------------------------------------

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):09d}"

    def _next_ts(self) -> str:
        """A Slack ts ("seconds.micros"), unique and strictly increasing."""
        now_us = time.time_ns() // 1000
        self._last_ts_us = max(now_us, self._last_ts_us + 1)
        return f"{self._last_ts_us // 1_000_000}.{self._last_ts_us % 1_000_000:06d}"

    def _dm_owner(self, channel_id: str) -> SimUser | None:
        if not channel_id.startswith("D"):
            return None
        return next((u for u in self.workspace.users if dm_channel_id(u.id) == channel_id), None)

    def _conversation(
        self, ref: object, *, allow_user: bool = True
    ) -> tuple[str, SimUser | None, SimChannel | None]:
        """Resolve a `channel` argument: channel id or name, DM id, or (allow_user) user id."""
        if not isinstance(ref, str) or not ref:
            raise _ApiError("channel_not_found")
        user = self.workspace.user(ref) if allow_user else None
        if user is not None:
            return dm_channel_id(user.id), user, None
        dm_user = self._dm_owner(ref)
        if dm_user is not None:
            return ref, dm_user, None
        channel = self.workspace.channel(ref)
        if channel is not None:
            return channel.id, None, channel
        raise _ApiError("channel_not_found")

    def _postable(self, ref: object) -> tuple[str, SimUser | None, SimChannel | None]:
        """Resolve where the bot may post, with Slack's refusals."""
        channel_id, user, channel = self._conversation(ref)
        if user is not None:
            if user.deleted:
                raise _ApiError("is_archived")  # a DM with a deactivated user is archived
            if user.is_bot:
                raise _ApiError("cannot_dm_bot")
            self._open_dms.add(channel_id)
        elif channel is not None:
            if channel.is_archived:
                raise _ApiError("is_archived")
            if self.workspace.bot_user_id not in channel.members:
                raise _ApiError("not_in_channel")
        return channel_id, user, channel

    def _message_content(
        self, params: JsonDict, *, require_content: bool = True
    ) -> tuple[str, list[JsonDict], list[JsonDict]]:
        """Validate text/blocks/attachments of a message and return them."""
        raw_text = params.get("text")
        text = "" if raw_text is None else str(raw_text)
        if len(text) > MAX_MESSAGE_TEXT:
            raise _ApiError("msg_too_long")
        blocks = params.get("blocks")
        if blocks is None:
            blocks = []
        errors = validate_blocks(blocks, pointer="/blocks", limit=MAX_MESSAGE_BLOCKS)
        if errors:
            raise _ApiError(
                "invalid_blocks",
                errors=errors,
                response_metadata={"messages": [f"[ERROR] {e}" for e in errors]},
            )
        attachments = params.get("attachments")
        if attachments is None:
            attachments = []
        if not isinstance(attachments, list) or not all(isinstance(a, dict) for a in attachments):
            raise _ApiError("invalid_attachments")
        if len(attachments) > MAX_ATTACHMENTS:
            raise _ApiError("too_many_attachments")
        for index, attachment in enumerate(attachments):
            if "blocks" in attachment:
                errors = validate_blocks(
                    attachment["blocks"], pointer=f"/attachments/{index}/blocks"
                )
                if errors:
                    raise _ApiError("invalid_attachments", errors=errors)
        if require_content and not text and not blocks and not attachments:
            raise _ApiError("no_text")
        return text, blocks, attachments

    def _message_json(self, message: SimMessage) -> JsonDict:
        body: JsonDict = {
            "type": "message",
            "text": message.text,
            "user": self.workspace.bot_user_id,
            "bot_id": self.workspace.bot_id,
            "app_id": self.workspace.app_id,
            "team": self.workspace.team_id,
            "ts": message.ts,
        }
        if message.blocks:
            body["blocks"] = copy.deepcopy(message.blocks)
        if message.attachments:
            body["attachments"] = copy.deepcopy(message.attachments)
        if message.thread_ts:
            body["thread_ts"] = message.thread_ts
        if message.metadata is not None:
            body["metadata"] = copy.deepcopy(message.metadata)
        return body

    def _find_message(self, channel_id: str, ts: object) -> SimMessage:
        for message in self._messages:
            if message.channel == channel_id and message.ts == ts and not message.ephemeral:
                return message
        raise _ApiError("message_not_found")

    def _user(self, user_id: object) -> SimUser:
        user = self.workspace.user(user_id) if isinstance(user_id, str) else None
        if user is None:
            raise _ApiError("user_not_found")
        return user

    # ---- Web API methods (called with the lock held) ------------------------------------------

    def _auth_test(self, params: JsonDict) -> JsonDict:
        ws = self.workspace
        return {
            "ok": True,
            "url": f"https://{ws.domain}.slack.com/",
            "team": ws.team_name,
            "user": ws.bot_name,
            "team_id": ws.team_id,
            "user_id": ws.bot_user_id,
            "bot_id": ws.bot_id,
            "is_enterprise_install": False,
        }

    def _chat_post_message(self, params: JsonDict) -> JsonDict:
        channel_id, user, _ = self._postable(params.get("channel"))
        text, blocks, attachments = self._message_content(params)
        thread_ts = params.get("thread_ts")
        message = SimMessage(
            channel=channel_id,
            ts=self._next_ts(),
            text=text,
            blocks=blocks,
            attachments=attachments,
            thread_ts=str(thread_ts) if thread_ts else None,
            recipient=user.id if user is not None else None,
            metadata=params["metadata"] if isinstance(params.get("metadata"), dict) else None,
        )
        self._messages.append(message)
        return {
            "ok": True,
            "channel": channel_id,
            "ts": message.ts,
            "message": self._message_json(message),
        }

    def _chat_post_ephemeral(self, params: JsonDict) -> JsonDict:
        recipient = self._user(params.get("user"))
        channel_id, dm_user, channel = self._postable(params.get("channel"))
        if channel is not None and recipient.id not in channel.members:
            raise _ApiError("user_not_in_channel")
        if dm_user is not None and dm_user.id != recipient.id:
            raise _ApiError("user_not_in_channel")
        text, blocks, attachments = self._message_content(params)
        thread_ts = params.get("thread_ts")
        message = SimMessage(
            channel=channel_id,
            ts=self._next_ts(),
            text=text,
            blocks=blocks,
            attachments=attachments,
            thread_ts=str(thread_ts) if thread_ts else None,
            recipient=recipient.id,
            ephemeral=True,
            source="chat.postEphemeral",
        )
        self._messages.append(message)
        return {"ok": True, "message_ts": message.ts}

    def _chat_update(self, params: JsonDict) -> JsonDict:
        channel_id, _, _ = self._conversation(params.get("channel"))
        message = self._find_message(channel_id, params.get("ts"))
        text, blocks, attachments = self._message_content(params, require_content=False)
        # As on Slack, fields left out keep their previous value; [] clears blocks.
        if "text" in params:
            message.text = text
        if "blocks" in params:
            message.blocks = blocks
        if "attachments" in params:
            message.attachments = attachments
        message.edit_count += 1
        return {
            "ok": True,
            "channel": channel_id,
            "ts": message.ts,
            "text": message.text,
            "message": self._message_json(message),
        }

    def _chat_delete(self, params: JsonDict) -> JsonDict:
        channel_id, _, _ = self._conversation(params.get("channel"))
        message = self._find_message(channel_id, params.get("ts"))
        self._messages.remove(message)
        return {"ok": True, "channel": channel_id, "ts": message.ts}

    def _conversations_info(self, params: JsonDict) -> JsonDict:
        channel_id, user, channel = self._conversation(params.get("channel"), allow_user=False)
        if channel is not None:
            return {"ok": True, "channel": channel.to_api(self.workspace.bot_user_id)}
        assert user is not None
        return {"ok": True, "channel": self._im_json(channel_id, user)}

    def _conversations_history(self, params: JsonDict) -> JsonDict:
        """Newest first, top-level messages only; metadata only with include_all_metadata."""
        channel_id, _, _ = self._conversation(params.get("channel"), allow_user=False)
        oldest = float(params.get("oldest") or 0)
        limit = min(_int_param(params, "limit", 100), MAX_PAGE_SIZE)
        found = [
            m
            for m in reversed(self._messages)
            if m.channel == channel_id and not m.ephemeral and float(m.ts) >= oldest
        ][: limit or None]
        with_metadata = _flag(params.get("include_all_metadata"))
        messages = []
        for message in found:
            body = self._message_json(message)
            if not with_metadata:
                body.pop("metadata", None)
            messages.append(body)
        return {"ok": True, "messages": messages, "has_more": False}

    def _conversations_members(self, params: JsonDict) -> JsonDict:
        _, user, channel = self._conversation(params.get("channel"), allow_user=False)
        if channel is not None:
            members = list(channel.members)
        else:
            assert user is not None
            members = [self.workspace.bot_user_id, user.id]
        page, next_cursor = _paginate(members, params, default_limit=100, key=str)
        return {"ok": True, "members": page, "response_metadata": {"next_cursor": next_cursor}}

    def _conversations_open(self, params: JsonDict) -> JsonDict:
        users = params.get("users")
        if isinstance(users, str):
            users = [u.strip() for u in users.split(",") if u.strip()]
        if users:
            if not isinstance(users, list) or len(users) != 1:
                raise _invalid_arguments(
                    ["the Slack stand-in only opens 1:1 DMs [json-pointer:/users]"]
                )
            user = self._user(users[0])
            if user.deleted:
                raise _ApiError("user_disabled")
            channel_id = dm_channel_id(user.id)
        elif params.get("channel"):
            found = self._dm_owner(str(params["channel"]))
            if found is None:
                raise _ApiError("channel_not_found")
            user, channel_id = found, str(params["channel"])
        else:
            raise _ApiError("users_list_not_supplied")
        already_open = channel_id in self._open_dms
        self._open_dms.add(channel_id)
        channel_json = (
            self._im_json(channel_id, user)
            if _flag(params.get("return_im"))
            else {"id": channel_id}
        )
        answer: JsonDict = {"ok": True, "channel": channel_json}
        if already_open:
            answer.update(no_op=True, already_open=True)
        return answer

    def _im_json(self, channel_id: str, user: SimUser) -> JsonDict:
        return {
            "id": channel_id,
            "created": _EPOCH,
            "is_im": True,
            "is_org_shared": False,
            "user": user.id,
            "last_read": "0000000000.000000",
            "latest": None,
            "unread_count": 0,
            "unread_count_display": 0,
            "is_open": channel_id in self._open_dms,
            "priority": 0,
        }

    def _users_info(self, params: JsonDict) -> JsonDict:
        user = self._user(params.get("user"))
        include_locale = _flag(params.get("include_locale"))
        return {
            "ok": True,
            "user": user.to_api(self.workspace.team_id, include_locale=include_locale),
        }

    def _users_list(self, params: JsonDict) -> JsonDict:
        include_locale = _flag(params.get("include_locale"))
        page, next_cursor = _paginate(
            self.workspace.users, params, default_limit=0, key=lambda user: user.id
        )
        return {
            "ok": True,
            "members": [
                user.to_api(self.workspace.team_id, include_locale=include_locale) for user in page
            ],
            "cache_ts": int(time.time()),
            "response_metadata": {"next_cursor": next_cursor},
        }

    def _users_lookup_by_email(self, params: JsonDict) -> JsonDict:
        user = self.workspace.user_by_email(str(params.get("email") or ""))
        if user is None:
            raise _ApiError("users_not_found")
        return {"ok": True, "user": user.to_api(self.workspace.team_id)}

    def _view_argument(self, params: JsonDict, view_type: str) -> JsonDict:
        view = params.get("view")
        if view is None:
            raise _invalid_arguments(["missing required field: view"])
        errors = validate_view(view)
        if errors:
            raise _invalid_arguments(errors)
        checked = cast(JsonDict, view)
        if checked["type"] != view_type:
            raise _invalid_arguments([f"must be {view_type} [json-pointer:/view/type]"])
        return checked

    def _store_view(
        self,
        view: JsonDict,
        *,
        view_id: str | None = None,
        root_view_id: str | None = None,
        previous_view_id: str | None = None,
        external_id: str = "",
    ) -> JsonDict:
        external_id = str(view.get("external_id") or external_id)
        if external_id and any(
            v["external_id"] == external_id and v["id"] != view_id for v in self._views.values()
        ):
            raise _ApiError("duplicate_external_id")
        view_id = view_id or self._new_id("V")
        ws = self.workspace
        stored: JsonDict = {
            "id": view_id,
            "team_id": ws.team_id,
            "type": view["type"],
            "blocks": copy.deepcopy(view["blocks"]),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": _view_hash(),
            "title": copy.deepcopy(view.get("title")),
            "clear_on_close": _flag(view.get("clear_on_close")),
            "notify_on_close": _flag(view.get("notify_on_close")),
            "close": copy.deepcopy(view.get("close")),
            "submit": copy.deepcopy(view.get("submit")),
            "previous_view_id": previous_view_id,
            "root_view_id": root_view_id or view_id,
            "app_id": ws.app_id,
            "external_id": external_id,
            "app_installed_team_id": ws.team_id,
            "bot_id": ws.bot_id,
        }
        self._views[view_id] = stored
        return copy.deepcopy(stored)

    def _views_open(self, params: JsonDict) -> JsonDict:
        if not params.get("trigger_id"):
            raise _invalid_arguments(["missing required field: trigger_id"])
        view = self._view_argument(params, "modal")
        return {"ok": True, "view": self._store_view(view)}

    def _views_push(self, params: JsonDict) -> JsonDict:
        if not params.get("trigger_id"):
            raise _invalid_arguments(["missing required field: trigger_id"])
        view = self._view_argument(params, "modal")
        return {"ok": True, "view": self._store_view(view)}

    def _views_update(self, params: JsonDict) -> JsonDict:
        view_id, external_id = params.get("view_id"), params.get("external_id")
        if view_id:
            current = self._views.get(str(view_id))
        elif external_id:
            current = next(
                (v for v in self._views.values() if v["external_id"] == external_id), None
            )
        else:
            raise _invalid_arguments(["must provide view_id or external_id"])
        if current is None:
            raise _ApiError("not_found")
        expected_hash = params.get("hash")
        if expected_hash and expected_hash != current["hash"]:
            raise _ApiError("hash_conflict")
        view = self._view_argument(params, current["type"])
        stored = self._store_view(
            view,
            view_id=current["id"],
            root_view_id=current["root_view_id"],
            previous_view_id=current["previous_view_id"],
            external_id=current["external_id"],
        )
        return {"ok": True, "view": stored}

    def _views_publish(self, params: JsonDict) -> JsonDict:
        user = self._user(params.get("user_id"))
        view = self._view_argument(params, "home")
        current_id = self._home_views.get(user.id)
        expected_hash = params.get("hash")
        if expected_hash and current_id and expected_hash != self._views[current_id]["hash"]:
            raise _ApiError("hash_conflict")
        stored = self._store_view(view, view_id=current_id)
        self._home_views[user.id] = stored["id"]
        return {"ok": True, "view": stored}

    def _files_get_upload_url_external(self, params: JsonDict) -> JsonDict:
        filename = params.get("filename")
        if not filename:
            raise _invalid_arguments(["missing required field: filename"])
        if params.get("length") in (None, ""):
            raise _invalid_arguments(["missing required field: length"])
        length = _int_param(params, "length", 0)
        file_id = self._new_id("F")
        self._uploads[file_id] = UploadedFile(
            id=file_id, name=str(filename), title=str(filename), length=length
        )
        return {"ok": True, "upload_url": f"{self.root_url}/upload/{file_id}", "file_id": file_id}

    def _files_complete_upload_external(self, params: JsonDict) -> JsonDict:
        entries = params.get("files")
        if not isinstance(entries, list) or not entries:
            raise _invalid_arguments(["missing required field: files"])
        targets: list[tuple[str, SimUser | None]] = []
        channels = params.get("channels")
        refs = [params["channel_id"]] if params.get("channel_id") else []
        if not refs and isinstance(channels, str):
            refs = [c.strip() for c in channels.split(",") if c.strip()]
        for ref in refs:
            try:
                channel_id, user, _ = self._conversation(ref, allow_user=False)
            except _ApiError:
                raise _ApiError("invalid_channel") from None
            targets.append((channel_id, user))
        uploads: list[tuple[UploadedFile, JsonDict]] = []
        for entry in entries:
            if not isinstance(entry, dict) or not entry.get("id"):
                raise _invalid_arguments(["each file needs an id [json-pointer:/files]"])
            upload = self._uploads.get(str(entry["id"]))
            if upload is None or not upload.uploaded:
                raise _ApiError("file_not_found")
            uploads.append((upload, entry))
        thread_ts = str(params["thread_ts"]) if params.get("thread_ts") else None
        comment = params.get("initial_comment")
        for upload, entry in uploads:
            upload.title = str(entry.get("title") or upload.name)
            upload.completed = True
            upload.channel = targets[0][0] if targets else None
            upload.thread_ts = thread_ts
            upload.initial_comment = str(comment) if comment else None
        for channel_id, user in targets:
            self._messages.append(
                SimMessage(
                    channel=channel_id,
                    ts=self._next_ts(),
                    text=str(comment or ""),
                    thread_ts=thread_ts,
                    recipient=user.id if user is not None else None,
                    source="files.completeUploadExternal",
                    files=[upload.id for upload, _ in uploads],
                )
            )
        return {"ok": True, "files": [self._file_json(upload, targets) for upload, _ in uploads]}

    def _file_json(
        self, upload: UploadedFile, targets: list[tuple[str, SimUser | None]]
    ) -> JsonDict:
        ws = self.workspace
        extension = upload.name.rsplit(".", 1)[-1].lower() if "." in upload.name else "binary"
        file_url = f"{self.root_url}/files/{upload.id}/{quote(upload.name)}"
        return {
            "id": upload.id,
            "created": int(time.time()),
            "timestamp": int(time.time()),
            "name": upload.name,
            "title": upload.title,
            "mimetype": mimetypes.guess_type(upload.name)[0] or "application/octet-stream",
            "filetype": extension,
            "user": ws.bot_user_id,
            "user_team": ws.team_id,
            "size": len(upload.content),
            "mode": "hosted",
            "is_external": False,
            "is_public": any(c.startswith("C") for c, _ in targets),
            "url_private": file_url,
            "url_private_download": file_url,
            "permalink": f"https://{ws.domain}.slack.com/files/{ws.bot_user_id}/{upload.id}",
            "channels": [c for c, user in targets if user is None],
            "groups": [],
            "ims": [c for c, user in targets if user is not None],
        }

    # ---- non-API endpoints -------------------------------------------------------------------

    def _upload(self, file_id: str, request: _Request) -> _Reply:
        arrived = time.monotonic()
        self._sleep_for(UPLOAD, wildcard=False)
        reply = self._fault_reply(UPLOAD, arrived, wildcard=False, as_json=False)
        content = request.body
        if request.content_type == "multipart/form-data":
            content = _multipart_file(request.header("content-type"), request.body)
        if reply is None:
            with self._lock:
                upload = self._uploads.get(file_id)
                if upload is None or upload.completed:
                    reply = _Reply.text("file_not_found", 404)
                else:
                    upload.content = content
                    upload.uploaded = True
                    reply = _Reply.text(f"OK - {len(content)}")
        self._record(UPLOAD, {"file_id": file_id, "size": len(content)}, arrived, reply)
        return reply

    def _download(self, rest: str) -> _Reply:
        file_id, _, name = rest.partition("/")
        with self._lock:
            upload = self._uploads.get(file_id)
            if upload is None or not upload.uploaded:
                return _Reply.text("file_not_found", 404)
            content_type = mimetypes.guess_type(unquote(name))[0] or "application/octet-stream"
            return _Reply(200, upload.content, content_type)

    def _response_post(self, token: str, request: _Request) -> _Reply:
        arrived = time.monotonic()
        url = f"{self.root_url}/response/{token}"
        payload = self._webhook_payload(request)
        self._sleep_for(RESPONSE_URL, wildcard=False)
        reply = self._fault_reply(RESPONSE_URL, arrived, wildcard=False, as_json=False)
        if reply is None:
            with self._lock:
                reply = self._accept_response(token, url, payload)
        self._record(RESPONSE_URL, payload or {}, arrived, reply)
        return reply

    @staticmethod
    def _webhook_payload(request: _Request) -> JsonDict | None:
        """The JSON body of a response_url POST (or its form `payload` field)."""
        try:
            if request.content_type == "application/json":
                body = json.loads(request.body)
            else:
                body = json.loads(_form_fields(request.body.decode()).get("payload", ""))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return None
        return body if isinstance(body, dict) else None

    def _accept_response(self, token: str, url: str, payload: JsonDict | None) -> _Reply:
        """Answer like Slack's webhooks: 200 "ok", or 4xx with the error as plain text."""
        target = self._response_targets.get(token)
        if target is None:
            return _Reply.text("no_service", 404)
        if payload is None:
            return _Reply.text("invalid_payload", 400)
        post = ResponsePost(url, copy.deepcopy(payload))
        if post.blocks or "blocks" in payload:
            errors = validate_blocks(payload.get("blocks"), pointer="/blocks")
            if errors:
                logger.debug("Slack stand-in: response_url rejected blocks: %s", errors)
                return _Reply.text("invalid_blocks", 400)
        if not post.delete_original and not post.text and not post.blocks:
            return _Reply.text("no_text", 400)
        if len(post.text or "") > MAX_MESSAGE_TEXT:
            return _Reply.text("msg_too_long", 400)
        self._response_posts.append(post)
        if not post.delete_original:
            self._show_response(post, target)
        return _Reply.text("ok")

    def _show_response(self, post: ResponsePost, target: _ResponseTarget) -> None:
        """Make a response_url post visible the way Slack would show it."""
        in_channel = post.response_type == "in_channel" and target.channel_id is not None
        if not in_channel and target.user_id is None:
            return
        channel_id = target.channel_id
        if channel_id is None and target.user_id is not None:
            channel_id = dm_channel_id(target.user_id)
        assert channel_id is not None
        dm_user = self._dm_owner(channel_id)
        self._messages.append(
            SimMessage(
                channel=channel_id,
                ts=self._next_ts(),
                text=post.text or "",
                blocks=copy.deepcopy(post.blocks),
                recipient=target.user_id if not in_channel else (dm_user.id if dm_user else None),
                ephemeral=not in_channel,
                source=RESPONSE_URL,
            )
        )
