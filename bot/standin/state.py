"""The simulated Slack's state, shared by the Web API methods, and how arguments name things."""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass

from bot.standin.protocol import ApiError, JsonDict
from bot.standin.records import RecordedCall, ResponsePost, SimMessage, UploadedFile
from bot.standin.socket_mode import SocketModeServer
from bot.standin.workspace import SimChannel, SimUser, Workspace, dm_channel_id


@dataclass
class ResponseTarget:
    """Who is shown what the bot POSTs to one response_url."""

    user_id: str | None
    channel_id: str | None


class SlackState:
    """Everything the simulated Slack holds. Helpers are called with the lock held."""

    def __init__(self, workspace: Workspace, *, host: str = "127.0.0.1") -> None:
        self.workspace = workspace
        # Listens only once the bot asks apps.connections.open for a link.
        self.socket_mode_server = SocketModeServer(workspace.app_id, host=host)
        # One re-entrant lock guards all state: handler threads and the test thread share it.
        self.lock = threading.RLock()
        self.root: str | None = None  # set while serving
        self._ids = itertools.count(1)
        self._last_ts_us = 0
        self.calls: list[RecordedCall] = []
        self.messages: list[SimMessage] = []
        self.views: dict[str, JsonDict] = {}
        self.home_views: dict[str, str] = {}
        self.uploads: dict[str, UploadedFile] = {}
        self.response_targets: dict[str, ResponseTarget] = {}
        self.response_posts: list[ResponsePost] = []
        self.open_dms: set[str] = set()

    @property
    def root_url(self) -> str:
        """e.g. http://127.0.0.1:54321 (no trailing slash)."""
        root = self.root
        if root is None:
            raise RuntimeError("the Slack stand-in is not running; call start() first")
        return root

    def reset(self) -> None:
        """Forget calls, messages, views, files and response URLs (not the workspace)."""
        with self.lock:
            self.calls.clear()
            self.messages.clear()
            self.views.clear()
            self.home_views.clear()
            self.uploads.clear()
            self.response_targets.clear()
            self.response_posts.clear()
            self.open_dms.clear()

    def socket_mode(self) -> SocketModeServer:
        return self.socket_mode_server

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):09d}"

    def next_ts(self) -> str:
        """A Slack ts ("seconds.micros"), unique and strictly increasing."""
        now_us = time.time_ns() // 1000
        self._last_ts_us = max(now_us, self._last_ts_us + 1)
        return f"{self._last_ts_us // 1_000_000}.{self._last_ts_us % 1_000_000:06d}"

    def dm_owner(self, channel_id: str) -> SimUser | None:
        if not channel_id.startswith("D"):
            return None
        return next((u for u in self.workspace.users if dm_channel_id(u.id) == channel_id), None)

    def conversation(
        self, ref: object, *, allow_user: bool = True
    ) -> tuple[str, SimUser | None, SimChannel | None]:
        """Resolve a `channel` argument: channel id or name, DM id, or (allow_user) user id."""
        if not isinstance(ref, str) or not ref:
            raise ApiError("channel_not_found")
        user = self.workspace.user(ref) if allow_user else None
        if user is not None:
            return dm_channel_id(user.id), user, None
        dm_user = self.dm_owner(ref)
        if dm_user is not None:
            return ref, dm_user, None
        channel = self.workspace.channel(ref)
        if channel is not None:
            return channel.id, None, channel
        raise ApiError("channel_not_found")

    def user(self, user_id: object) -> SimUser:
        user = self.workspace.user(user_id) if isinstance(user_id, str) else None
        if user is None:
            raise ApiError("user_not_found")
        return user
