"""The Slack stand-in itself: start and stop it, read what happened, wait, script faults."""

from __future__ import annotations

import copy
import logging
import secrets
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Self, TypeVar, cast, overload

from bot.standin.dispatch import Dispatcher
from bot.standin.faults import Fault, Faults
from bot.standin.protocol import JsonDict
from bot.standin.records import RecordedCall, ResponsePost, SimMessage, UploadedFile
from bot.standin.server import StandInServer
from bot.standin.socket_mode import SocketModeServer
from bot.standin.state import ResponseTarget, SlackState
from bot.standin.workspace import Workspace, dm_channel_id

logger = logging.getLogger("bot.standin")  # one logger for the whole stand-in

T = TypeVar("T")


class SlackStandIn:
    """A local HTTP server answering the Slack Web API methods pulsebot uses.

    Point `slack_sdk.WebClient(base_url=standin.url)` at it. Everything it receives is
    recorded (`calls`), what users would see is kept (`messages_for`, `channel_messages`,
    `files`, `home_view`), and faults can be injected (`rate_limit`, `fail_next`, `delay`).
    """

    def __init__(
        self, workspace: Workspace | None = None, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self._state = SlackState(
            workspace if workspace is not None else Workspace.demo(), host=host
        )
        self._lock = self._state.lock
        self._host = host
        self._port = port
        self._stopping = threading.Event()
        self._faults = Faults(self._lock, self._stopping)
        self._dispatcher = Dispatcher(self._state, self._faults)
        self._server: StandInServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def workspace(self) -> Workspace:
        return self._state.workspace

    # ---- lifecycle ---------------------------------------------------------------------

    def start(self) -> Self:
        """Bind and serve in a daemon thread; returns self so `SlackStandIn().start()` reads."""
        with self._lock:
            if self._server is not None:
                raise RuntimeError("the Slack stand-in is already running")
            self._stopping.clear()
            server = StandInServer((self._host, self._port), self._dispatcher.dispatch)
            self._server = server
            self._state.root = f"http://{self._host}:{server.server_port}"
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
            self._server = self._thread = self._state.root = None
        self._state.socket_mode_server.stop()
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
    def socket_mode(self) -> SocketModeServer:
        """Socket Mode: what `apps.connections.open` links to; send envelopes through it."""
        return self._state.socket_mode_server

    @property
    def root_url(self) -> str:
        """e.g. http://127.0.0.1:54321 (no trailing slash)."""
        return self._state.root_url

    @property
    def url(self) -> str:
        """The base_url for slack_sdk.WebClient, e.g. http://127.0.0.1:54321/api/."""
        return f"{self.root_url}/api/"

    # ---- reading what happened ------------------------------------------------------------

    @property
    def calls(self) -> list[RecordedCall]:
        with self._lock:
            return list(self._state.calls)

    def calls_to(self, method: str) -> list[RecordedCall]:
        with self._lock:
            return [call for call in self._state.calls if call.method == method]

    def reset_calls(self) -> None:
        with self._lock:
            self._state.calls.clear()

    def reset(self) -> None:
        """Forget calls, messages, views, files, response URLs and faults (not the workspace)."""
        self._state.reset()
        self.clear_faults()

    @property
    def messages(self) -> list[SimMessage]:
        """Every message still visible, in the order they were posted."""
        with self._lock:
            return copy.deepcopy(self._state.messages)

    def messages_for(self, user_id: str) -> list[SimMessage]:
        """What one user was shown privately: DMs from the bot and ephemeral messages."""
        with self._lock:
            return copy.deepcopy([m for m in self._state.messages if m.recipient == user_id])

    def channel_messages(self, channel: str) -> list[SimMessage]:
        """Non-ephemeral messages of a channel (id or name) or DM (D… id)."""
        with self._lock:
            found = self.workspace.channel(channel)
            channel_id = found.id if found is not None else channel
            return copy.deepcopy(
                [m for m in self._state.messages if m.channel == channel_id and not m.ephemeral]
            )

    def dm_channel_id(self, user_id: str) -> str:
        return dm_channel_id(user_id)

    @property
    def files(self) -> list[UploadedFile]:
        """Files whose upload was completed with files.completeUploadExternal."""
        with self._lock:
            return copy.deepcopy([f for f in self._state.uploads.values() if f.completed])

    @property
    def views(self) -> list[JsonDict]:
        """Every open view (modals and home tabs) as the API last returned it."""
        with self._lock:
            return copy.deepcopy(list(self._state.views.values()))

    def view(self, view_id: str) -> JsonDict | None:
        with self._lock:
            found = self._state.views.get(view_id)
            return copy.deepcopy(found) if found is not None else None

    def home_view(self, user_id: str) -> JsonDict | None:
        with self._lock:
            view_id = self._state.home_views.get(user_id)
            return copy.deepcopy(self._state.views[view_id]) if view_id is not None else None

    def response_url(self, *, user_id: str | None = None, channel_id: str | None = None) -> str:
        """A fresh response_url; ephemeral posts to it are shown to `user_id`."""
        token = secrets.token_hex(12)
        with self._lock:
            self._state.response_targets[token] = ResponseTarget(user_id, channel_id)
        return f"{self.root_url}/response/{token}"

    def response_posts(self, url: str | None = None) -> list[ResponsePost]:
        """Accepted POSTs to response URLs (all of them, or those to one URL), in order."""
        with self._lock:
            return [post for post in self._state.response_posts if url is None or post.url == url]

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
        self._faults.rate_limit(method, per_minute, window=window)

    def fail_next(
        self, method: str, count: int = 1, status: int = 500, *, error: str = "internal_error"
    ) -> None:
        """Answer the next `count` calls to `method` ("*": any Web API method) with `status`."""
        self._faults.fail_next(method, count, status, error=error)

    def delay(self, method: str, seconds: float) -> None:
        """Sleep `seconds` before answering `method` ("*": any Web API method); 0 removes."""
        self._faults.delay(method, seconds)

    def outage(self, method: str, faults: list[Fault]) -> None:
        """Answer the next calls to `method` with `faults`, in order, then normally again.

        `method` "*" gives every Web API method its own copy of `faults`, from its first call
        on; `RESPONSE_URL` and `UPLOAD` script the response_url and file upload POSTs.
        """
        self._faults.outage(method, faults)

    def clear_faults(self) -> None:
        self._faults.clear()
