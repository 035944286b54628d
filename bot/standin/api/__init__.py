"""The Web API methods the stand-in answers, by name; each is called with the state's lock held."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from bot.standin.api import apps, chat, conversations, files, users, views
from bot.standin.protocol import JsonDict
from bot.standin.state import SlackState

Method = Callable[[SlackState, JsonDict], JsonDict]

METHODS: Mapping[str, Method] = {
    "apps.connections.open": apps.apps_connections_open,
    "auth.test": users.auth_test,
    "chat.delete": chat.chat_delete,
    "chat.postEphemeral": chat.chat_post_ephemeral,
    "chat.postMessage": chat.chat_post_message,
    "chat.update": chat.chat_update,
    "conversations.info": conversations.conversations_info,
    "conversations.history": conversations.conversations_history,
    "conversations.members": conversations.conversations_members,
    "conversations.open": conversations.conversations_open,
    "files.completeUploadExternal": files.files_complete_upload_external,
    "files.getUploadURLExternal": files.files_get_upload_url_external,
    "users.info": users.users_info,
    "users.list": users.users_list,
    "users.lookupByEmail": users.users_lookup_by_email,
    "views.open": views.views_open,
    "views.publish": views.views_publish,
    "views.push": views.views_push,
    "views.update": views.views_update,
}

# Methods Slack answers only for an app-level token (xapp-…).
APP_TOKEN_METHODS = frozenset({"apps.connections.open"})
