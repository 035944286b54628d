"""Offline stand-in for the Slack Web API, used by the test-suite and by `pulsebot demo`."""

from bot.standin.api.chat import MAX_MESSAGE_TEXT
from bot.standin.blockkit import MAX_MESSAGE_BLOCKS, MAX_VIEW_BLOCKS, validate_blocks, validate_view
from bot.standin.core import SlackStandIn
from bot.standin.faults import ANY_METHOD, Fault
from bot.standin.records import (
    RESPONSE_URL,
    UPLOAD,
    RecordedCall,
    ResponsePost,
    SimMessage,
    UploadedFile,
)
from bot.standin.workspace import SimChannel, SimUser, Workspace, dm_channel_id

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
