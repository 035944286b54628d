"""files.*: the two-step external upload, the upload URL itself, and file downloads."""

from __future__ import annotations

import email.parser
import email.policy
import mimetypes
import time
from urllib.parse import quote, unquote

from bot.standin.protocol import ApiError, JsonDict, int_param, invalid_arguments
from bot.standin.records import SimMessage, UploadedFile
from bot.standin.server import Reply, Request
from bot.standin.state import SlackState
from bot.standin.workspace import SimUser


def files_get_upload_url_external(state: SlackState, params: JsonDict) -> JsonDict:
    filename = params.get("filename")
    if not filename:
        raise invalid_arguments(["missing required field: filename"])
    if params.get("length") in (None, ""):
        raise invalid_arguments(["missing required field: length"])
    length = int_param(params, "length", 0)
    file_id = state.new_id("F")
    state.uploads[file_id] = UploadedFile(
        id=file_id, name=str(filename), title=str(filename), length=length
    )
    return {"ok": True, "upload_url": f"{state.root_url}/upload/{file_id}", "file_id": file_id}


def files_complete_upload_external(state: SlackState, params: JsonDict) -> JsonDict:
    entries = params.get("files")
    if not isinstance(entries, list) or not entries:
        raise invalid_arguments(["missing required field: files"])
    targets: list[tuple[str, SimUser | None]] = []
    channels = params.get("channels")
    refs = [params["channel_id"]] if params.get("channel_id") else []
    if not refs and isinstance(channels, str):
        refs = [c.strip() for c in channels.split(",") if c.strip()]
    for ref in refs:
        try:
            channel_id, user, _ = state.conversation(ref, allow_user=False)
        except ApiError:
            raise ApiError("invalid_channel") from None
        targets.append((channel_id, user))
    uploads: list[tuple[UploadedFile, JsonDict]] = []
    for entry in entries:
        if not isinstance(entry, dict) or not entry.get("id"):
            raise invalid_arguments(["each file needs an id [json-pointer:/files]"])
        upload = state.uploads.get(str(entry["id"]))
        if upload is None or not upload.uploaded:
            raise ApiError("file_not_found")
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
        state.messages.append(
            SimMessage(
                channel=channel_id,
                ts=state.next_ts(),
                text=str(comment or ""),
                thread_ts=thread_ts,
                recipient=user.id if user is not None else None,
                source="files.completeUploadExternal",
                files=[upload.id for upload, _ in uploads],
            )
        )
    return {"ok": True, "files": [_file_json(state, upload, targets) for upload, _ in uploads]}


def _file_json(
    state: SlackState, upload: UploadedFile, targets: list[tuple[str, SimUser | None]]
) -> JsonDict:
    ws = state.workspace
    extension = upload.name.rsplit(".", 1)[-1].lower() if "." in upload.name else "binary"
    file_url = f"{state.root_url}/files/{upload.id}/{quote(upload.name)}"
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


def upload_content(request: Request) -> bytes:
    """What was POSTed to an upload URL: the body, or its file part when multipart."""
    if request.content_type == "multipart/form-data":
        return _multipart_file(request.header("content-type"), request.body)
    return request.body


def receive_upload(state: SlackState, file_id: str, content: bytes) -> Reply:
    """Answer a POST to an upload URL as Slack does: plain text."""
    upload = state.uploads.get(file_id)
    if upload is None or upload.completed:
        return Reply.text("file_not_found", 404)
    upload.content = content
    upload.uploaded = True
    return Reply.text(f"OK - {len(content)}")


def download(state: SlackState, rest: str) -> Reply:
    """A GET of a file's url_private (`rest` is "<file id>/<name>")."""
    file_id, _, name = rest.partition("/")
    upload = state.uploads.get(file_id)
    if upload is None or not upload.uploaded:
        return Reply.text("file_not_found", 404)
    content_type = mimetypes.guess_type(unquote(name))[0] or "application/octet-stream"
    return Reply(200, upload.content, content_type)


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
