"""One HTTP request answered: routed, put through fault injection, then recorded."""

from __future__ import annotations

import copy
import logging
import time

from bot.standin.api import APP_TOKEN_METHODS, METHODS, files, response_url
from bot.standin.faults import Faults
from bot.standin.protocol import ApiError, JsonDict
from bot.standin.records import RESPONSE_URL, UPLOAD, RecordedCall
from bot.standin.server import Reply, Request, bearer_token, decode_params
from bot.standin.state import SlackState

logger = logging.getLogger("bot.standin")  # one logger for the whole stand-in


class Dispatcher:
    """Answers the Web API under /api/, upload URLs, response URLs and file downloads."""

    def __init__(self, state: SlackState, faults: Faults) -> None:
        self._state = state
        self._faults = faults

    def dispatch(self, request: Request) -> Reply:
        path = request.path
        if path.startswith("/api/") and request.verb in ("GET", "POST"):
            return self._web_api(path.removeprefix("/api/"), request)
        if path.startswith("/upload/") and request.verb == "POST":
            return self._upload(path.removeprefix("/upload/"), request)
        if path.startswith("/response/") and request.verb == "POST":
            return self._response_post(path.removeprefix("/response/"), request)
        if path.startswith("/files/") and request.verb == "GET":
            with self._state.lock:
                return files.download(self._state, path.removeprefix("/files/"))
        return Reply.text("not_found", 404)

    def _web_api(self, method: str, request: Request) -> Reply:
        arrived = time.monotonic()
        params, decode_error = decode_params(request)
        token = bearer_token(request) or str(params.get("token") or "")
        params.pop("token", None)  # never keep secrets in the recording
        self._faults.sleep_for(method, wildcard=True)
        reply = self._faults.reply(method, arrived, wildcard=True, as_json=True)
        if reply is None:
            reply = self._answer(method, params, token, decode_error)
        self._record(method, params, arrived, reply)
        return reply

    def _answer(
        self, method: str, params: JsonDict, token: str, decode_error: ApiError | None
    ) -> Reply:
        handler = METHODS.get(method)
        if handler is None:
            return Reply.json({"ok": False, "error": "unknown_method", "req_method": method})
        try:
            if decode_error is not None:
                raise decode_error
            self._check_token(token)
            if method in APP_TOKEN_METHODS and not token.startswith("xapp-"):
                raise ApiError("not_allowed_token_type")
            with self._state.lock:
                return Reply.json(handler(self._state, params))
        except ApiError as exc:
            return Reply.json(exc.payload())
        except Exception:
            logger.exception("Slack stand-in: %s failed", method)
            return Reply.json({"ok": False, "error": "fatal_error"}, status=500)

    def _check_token(self, token: str) -> None:
        if not token.startswith(("xoxb-", "xapp-")):
            raise ApiError("not_authed")
        expected = self._state.workspace.bot_token
        if expected is not None and token.startswith("xoxb-") and token != expected:
            raise ApiError("invalid_auth")

    def _upload(self, file_id: str, request: Request) -> Reply:
        arrived = time.monotonic()
        self._faults.sleep_for(UPLOAD, wildcard=False)
        reply = self._faults.reply(UPLOAD, arrived, wildcard=False, as_json=False)
        content = files.upload_content(request)
        if reply is None:
            with self._state.lock:
                reply = files.receive_upload(self._state, file_id, content)
        self._record(UPLOAD, {"file_id": file_id, "size": len(content)}, arrived, reply)
        return reply

    def _response_post(self, token: str, request: Request) -> Reply:
        arrived = time.monotonic()
        url = f"{self._state.root_url}/response/{token}"
        payload = response_url.webhook_payload(request)
        self._faults.sleep_for(RESPONSE_URL, wildcard=False)
        reply = self._faults.reply(RESPONSE_URL, arrived, wildcard=False, as_json=False)
        if reply is None:
            with self._state.lock:
                reply = response_url.accept_response(self._state, token, url, payload)
        self._record(RESPONSE_URL, payload or {}, arrived, reply)
        return reply

    def _record(self, method: str, params: JsonDict, arrived: float, reply: Reply) -> None:
        call = RecordedCall(
            method=method,
            params=copy.deepcopy(params),
            time=arrived,
            status=reply.status,
            response=copy.deepcopy(reply.payload),
        )
        with self._state.lock:
            self._state.calls.append(call)
        logger.debug("Slack stand-in: %s -> %s %s", method, reply.status, call.error or "")
