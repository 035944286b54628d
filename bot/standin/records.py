"""What the stand-in keeps: calls it answered, messages people see, files, response_url posts."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.standin.protocol import JsonDict, flag

# Pseudo method names under which POSTs to an upload URL / a response_url are recorded
# and can be targeted by fault injection.
UPLOAD = "file_upload"
RESPONSE_URL = "response_url"


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
        return flag(self.payload.get("replace_original"))

    @property
    def delete_original(self) -> bool:
        return flag(self.payload.get("delete_original"))

    @property
    def text(self) -> str | None:
        text = self.payload.get("text")
        return text if isinstance(text, str) else None

    @property
    def blocks(self) -> list[JsonDict]:
        blocks = self.payload.get("blocks")
        return blocks if isinstance(blocks, list) else []
