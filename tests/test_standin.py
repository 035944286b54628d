"""Tests for the offline Slack Web API stand-in, driven through a real slack_sdk WebClient."""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from http.client import HTTPConnection
from typing import Any
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View
from slack_sdk.webhook import WebhookClient

from bot.standin import (
    RESPONSE_URL,
    UPLOAD,
    SimChannel,
    SimUser,
    SlackStandIn,
    Workspace,
    dm_channel_id,
    validate_blocks,
    validate_view,
)

GIULIA = "U01GROSSI"  # admin, Europe/Rome, it-IT
MARCO = "U02MBIANC"
OLIVER = "U05OSMITH"  # Europe/London, en-GB
AMELIA = "U06AJONES"  # not in #sales
HARUTO = "U09HSATO"  # Asia/Tokyo
CHIARA = "U10CRICCI"  # deactivated
PAUL = "U11PGREEN"  # guest
CRM_BOT = "U12CRMBOT"
GENERAL, SALES, MANAGERS = "C01GENERAL", "C02SALES", "C03MANAGERS"
# slack_sdk warns when a message has no top-level text; some tests leave it out on purpose.
no_text_warning = pytest.mark.filterwarnings("ignore::UserWarning:slack_sdk")


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    with SlackStandIn(Workspace.demo()) as running:
        yield running


@pytest.fixture
def client(standin: SlackStandIn) -> WebClient:
    return WebClient(base_url=standin.url, token="xoxb-test")


def bare_client(standin: SlackStandIn, **kwargs: Any) -> WebClient:
    """A client without retry handlers, so faults surface as errors."""
    return WebClient(base_url=standin.url, token="xoxb-test", retry_handlers=[], **kwargs)


def raw_post(
    url: str, body: bytes, headers: dict[str, str], timeout: float = 5.0
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers.items()), error.read()


def api_error(excinfo: pytest.ExceptionInfo[SlackApiError]) -> str:
    return str(excinfo.value.response["error"])


def section(text: str) -> dict[str, Any]:
    return SectionBlock(text=MarkdownTextObject(text=text)).to_dict()


def modal(title: str = "Pulse", blocks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return View(type="modal", title=title, blocks=blocks or [DividerBlock().to_dict()]).to_dict()


# ---- lifecycle, auth and dispatch ------------------------------------------------------


def test_url_points_at_the_api_and_ends_with_a_slash(standin: SlackStandIn) -> None:
    parts = urlsplit(standin.url)
    assert parts.scheme == "http"
    assert parts.hostname == "127.0.0.1"
    assert parts.port and parts.port > 0
    assert parts.path == "/api/"


def test_url_before_start_and_after_stop_raises() -> None:
    standin = SlackStandIn()
    with pytest.raises(RuntimeError, match="not running"):
        _ = standin.url
    standin.start()
    WebClient(base_url=standin.url, token="xoxb-x").auth_test()
    standin.stop()
    with pytest.raises(RuntimeError):
        _ = standin.url
    assert standin.calls_to("auth.test")  # the recording survives stop()
    standin.stop()  # stopping twice is harmless


def test_starting_twice_is_refused(standin: SlackStandIn) -> None:
    with pytest.raises(RuntimeError, match="already running"):
        standin.start()


def test_auth_test_answers_the_bot_identity(client: WebClient, standin: SlackStandIn) -> None:
    answer = client.auth_test()
    ws = standin.workspace
    assert answer["ok"] is True
    assert answer["user_id"] == "UBOT"
    assert answer["bot_id"] == ws.bot_id
    assert answer["team_id"] == ws.team_id
    assert answer["team"] == ws.team_name
    assert answer["user"] == "pulsebot"
    assert answer["url"] == "https://pulse-demo.slack.com/"


def test_missing_token_is_not_authed(standin: SlackStandIn) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        WebClient(base_url=standin.url).auth_test()
    assert api_error(excinfo) == "not_authed"
    status, _, body = raw_post(standin.url + "auth.test", b"", {})
    assert status == 200
    assert json.loads(body) == {"ok": False, "error": "not_authed"}


def test_user_tokens_are_not_authed(standin: SlackStandIn) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        WebClient(base_url=standin.url, token="xoxp-user").auth_test()
    assert api_error(excinfo) == "not_authed"


def test_app_level_token_is_accepted(standin: SlackStandIn) -> None:
    assert WebClient(base_url=standin.url, token="xapp-1-abc").auth_test()["ok"]


def test_configured_bot_token_must_match() -> None:
    workspace = Workspace.demo()
    workspace.bot_token = "xoxb-right"
    with SlackStandIn(workspace) as standin:
        with pytest.raises(SlackApiError) as excinfo:
            WebClient(base_url=standin.url, token="xoxb-wrong").auth_test()
        assert api_error(excinfo) == "invalid_auth"
        assert WebClient(base_url=standin.url, token="xoxb-right").auth_test()["ok"]


def test_token_may_come_as_a_form_field_and_is_not_recorded(standin: SlackStandIn) -> None:
    body = urlencode({"token": "xoxb-form", "user": GIULIA}).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    status, _, raw = raw_post(standin.url + "users.info", body, headers)
    assert status == 200
    assert json.loads(raw)["user"]["id"] == GIULIA
    (call,) = standin.calls_to("users.info")
    assert call.params == {"user": GIULIA}


def test_unknown_method(client: WebClient, standin: SlackStandIn) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.api_call("pulse.nonexistent")
    assert api_error(excinfo) == "unknown_method"
    assert standin.calls_to("pulse.nonexistent")[0].error == "unknown_method"


def test_malformed_json_body_is_invalid_json(standin: SlackStandIn) -> None:
    headers = {"Authorization": "Bearer xoxb-t", "Content-Type": "application/json"}
    status, _, body = raw_post(standin.url + "chat.postMessage", b"{not json", headers)
    assert status == 200
    assert json.loads(body)["error"] == "invalid_json"


def test_unknown_paths_are_404(standin: SlackStandIn) -> None:
    status, _, _ = raw_post(standin.root_url + "/nowhere", b"", {})
    assert status == 404


def test_get_requests_with_query_parameters(standin: SlackStandIn) -> None:
    connection = HTTPConnection("127.0.0.1", urlsplit(standin.url).port, timeout=5)
    try:
        connection.request(
            "GET",
            f"/api/users.info?user={OLIVER}&include_locale=true",
            headers={"Authorization": "Bearer xoxb-t"},
        )
        response = connection.getresponse()
        body = json.loads(response.read())
    finally:
        connection.close()
    assert response.status == 200
    assert body["user"]["locale"] == "en-GB"


# ---- simulated workspace ----------------------------------------------------------------


def test_demo_workspace_is_a_realistic_team() -> None:
    ws = Workspace.demo()
    people = [u for u in ws.users if not u.is_bot]
    assert 12 <= len(people) <= 18
    assert {"Europe/Rome", "Europe/London", "America/New_York", "Asia/Tokyo"} <= {
        u.tz for u in people
    }
    assert {"it-IT", "en-US", "en-GB"} <= {u.locale for u in people}
    admins = [u for u in ws.users if u.is_admin]
    assert [u.id for u in admins] == [GIULIA]
    assert [u.id for u in ws.users if u.deleted] == [CHIARA]
    assert [u.id for u in ws.users if u.is_restricted] == [PAUL]
    assert {u.id for u in ws.users if u.is_bot} == {"UBOT", CRM_BOT}
    assert {c.name for c in ws.channels} == {"general", "sales", "managers"}
    general = ws.channel("#general")
    assert general is not None
    assert set(general.members) == {u.id for u in people if not u.is_restricted} | {"UBOT"}
    managers = ws.channel("managers")
    assert managers is not None and GIULIA in managers.members
    assert Workspace.demo() is not ws  # each call builds a fresh, independent team


def test_bot_user_is_added_to_any_workspace() -> None:
    ws = Workspace(users=[SimUser(id="U1", name="ann")])
    bot = ws.user("UBOT")
    assert bot is not None and bot.is_bot and bot.bot_id == ws.bot_id


def test_unknown_time_zone_is_rejected_early() -> None:
    with pytest.raises(Exception, match="Mars"):
        SimUser(id="U1", name="x", tz="Mars/Olympus_Mons")


# ---- users ------------------------------------------------------------------------------


def test_users_info_with_locale_and_time_zone(client: WebClient) -> None:
    user = client.users_info(user=GIULIA, include_locale=True)["user"]
    assert user["id"] == GIULIA
    assert user["real_name"] == "Giulia Rossi"
    assert user["tz"] == "Europe/Rome"
    offset = datetime.now(ZoneInfo("Europe/Rome")).utcoffset()
    assert offset is not None and user["tz_offset"] == int(offset.total_seconds())
    assert user["tz_label"].startswith("Central European")
    assert user["locale"] == "it-IT"
    assert user["is_admin"] is True and user["is_owner"] is True
    assert user["profile"]["email"] == "giulia.rossi@pulse-demo.example"
    tokyo = client.users_info(user=HARUTO)["user"]
    assert tokyo["tz_offset"] == 9 * 3600
    assert "locale" not in tokyo  # only with include_locale


def test_a_member_without_a_time_zone_has_no_tz_fields() -> None:
    user = SimUser(id="U1", name="ann", tz=None).to_api("T1")
    assert not {"tz", "tz_label", "tz_offset"} & set(user)


def test_users_info_flags_guests_bots_and_deactivated_people(client: WebClient) -> None:
    assert client.users_info(user=PAUL)["user"]["is_restricted"] is True
    assert client.users_info(user=CHIARA)["user"]["deleted"] is True
    bot = client.users_info(user="UBOT")["user"]
    assert bot["is_bot"] is True
    assert bot["profile"]["bot_id"] == "B0PULSEBOT"


def test_users_info_unknown_user(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.users_info(user="U404")
    assert api_error(excinfo) == "user_not_found"


def test_users_list_pagination_collects_everyone(client: WebClient, standin: SlackStandIn) -> None:
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = client.users_list(limit=5, cursor=cursor, include_locale=True)
        assert len(page["members"]) <= 5
        assert all("locale" in member for member in page["members"])
        seen.extend(member["id"] for member in page["members"])
        pages += 1
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert seen == [user.id for user in standin.workspace.users]
    assert pages == 4  # 17 users in pages of 5
    assert [call.params["limit"] for call in standin.calls_to("users.list")] == ["5"] * 4


def test_users_list_without_limit_returns_all_at_once(
    client: WebClient, standin: SlackStandIn
) -> None:
    page = client.users_list()
    assert len(page["members"]) == len(standin.workspace.users)
    assert page["response_metadata"]["next_cursor"] == ""


def test_users_list_rejects_a_bogus_cursor(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.users_list(cursor="not-a-cursor")
    assert api_error(excinfo) == "invalid_cursor"


def test_users_lookup_by_email(client: WebClient) -> None:
    user = client.users_lookupByEmail(email="Oliver.Smith@pulse-demo.example")["user"]
    assert user["id"] == OLIVER
    with pytest.raises(SlackApiError) as excinfo:
        client.users_lookupByEmail(email="nobody@example.com")
    assert api_error(excinfo) == "users_not_found"


# ---- conversations ----------------------------------------------------------------------


def test_conversations_members_paginated(client: WebClient, standin: SlackStandIn) -> None:
    members: list[str] = []
    cursor = None
    while True:
        page = client.conversations_members(channel=SALES, limit=4, cursor=cursor)
        members.extend(page["members"])
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break
    sales = standin.workspace.channel(SALES)
    assert sales is not None
    assert members == sales.members
    assert CHIARA in members  # deactivated people stay listed: the bot must filter


def test_conversations_members_unknown_channel(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.conversations_members(channel="C404")
    assert api_error(excinfo) == "channel_not_found"


def test_conversations_info(client: WebClient) -> None:
    channel = client.conversations_info(channel=MANAGERS)["channel"]
    assert channel["name"] == "managers"
    assert channel["is_private"] is True and channel["is_member"] is True


def test_conversations_open_gives_a_stable_dm(client: WebClient) -> None:
    first = client.conversations_open(users=MARCO)
    assert first["channel"]["id"] == dm_channel_id(MARCO)
    assert first["channel"]["id"].startswith("D")
    assert "already_open" not in first
    again = client.conversations_open(users=[MARCO], return_im=True)
    assert again["channel"]["id"] == first["channel"]["id"]
    assert again["already_open"] is True
    assert again["channel"]["is_im"] is True and again["channel"]["user"] == MARCO
    assert client.conversations_open(users=OLIVER)["channel"]["id"] != first["channel"]["id"]


@pytest.mark.parametrize(
    ("users", "error"),
    [("U404", "user_not_found"), (CHIARA, "user_disabled"), ("", "users_list_not_supplied")],
)
def test_conversations_open_errors(client: WebClient, users: str, error: str) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.conversations_open(users=users)
    assert api_error(excinfo) == error


# ---- messages ---------------------------------------------------------------------------


def test_post_to_a_user_id_lands_in_their_dm(client: WebClient, standin: SlackStandIn) -> None:
    answer = client.chat_postMessage(channel=MARCO, text="Ciao Marco!")
    dm = answer["channel"]
    assert dm == standin.dm_channel_id(MARCO) == dm_channel_id(MARCO)
    assert dm.startswith("D")
    assert answer["message"]["text"] == "Ciao Marco!"
    assert answer["message"]["bot_id"] == "B0PULSEBOT"
    assert answer["message"]["ts"] == answer["ts"]
    (seen,) = standin.messages_for(MARCO)
    assert seen.text == "Ciao Marco!"
    assert seen.channel == dm and seen.ts == answer["ts"]
    assert not seen.ephemeral
    assert standin.messages_for(OLIVER) == []
    # posting to the D… id reaches the same conversation
    client.chat_postMessage(channel=dm, text="second")
    assert [m.text for m in standin.messages_for(MARCO)] == ["Ciao Marco!", "second"]
    assert client.conversations_open(users=MARCO)["already_open"] is True


def test_ts_is_unique_and_increasing_even_under_concurrency(
    client: WebClient, standin: SlackStandIn
) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(
            pool.map(lambda i: client.chat_postMessage(channel=GENERAL, text=f"#{i}"), range(24))
        )
    stamps = [answer["ts"] for answer in answers]
    assert len(set(stamps)) == 24
    stored = [m.ts for m in standin.channel_messages(GENERAL)]
    assert stored == sorted(stored, key=float)
    assert all(len(ts.split(".")[1]) == 6 for ts in stamps)


def test_post_to_channel_by_id_or_name(client: WebClient, standin: SlackStandIn) -> None:
    assert client.chat_postMessage(channel=SALES, text="deal won")["channel"] == SALES
    assert client.chat_postMessage(channel="#sales", text="another")["channel"] == SALES
    texts = [m.text for m in standin.channel_messages("sales")]
    assert texts == ["deal won", "another"]
    assert standin.messages_for(MARCO) == []  # channel posts are not private messages


def test_thread_replies_keep_thread_ts(client: WebClient, standin: SlackStandIn) -> None:
    parent = client.chat_postMessage(channel=GENERAL, text="parent")
    reply = client.chat_postMessage(channel=GENERAL, text="reply", thread_ts=parent["ts"])
    assert reply["message"]["thread_ts"] == parent["ts"]
    assert standin.channel_messages(GENERAL)[1].thread_ts == parent["ts"]


@pytest.mark.parametrize(
    ("channel", "error"),
    [
        ("C404", "channel_not_found"),
        ("U404", "channel_not_found"),
        (CHIARA, "is_archived"),
        (CRM_BOT, "cannot_dm_bot"),
    ],
)
def test_post_message_refusals(
    client: WebClient, standin: SlackStandIn, channel: str, error: str
) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postMessage(channel=channel, text="hello")
    assert api_error(excinfo) == error
    assert standin.messages == []


def test_bot_must_be_in_the_channel() -> None:
    ws = Workspace(
        users=[SimUser(id="U1", name="ann")],
        channels=[
            SimChannel("C9", "random", ["U1"]),
            SimChannel("C8", "old", [], is_archived=True),
        ],
    )
    with SlackStandIn(ws) as standin:
        client = WebClient(base_url=standin.url, token="xoxb-t")
        with pytest.raises(SlackApiError) as excinfo:
            client.chat_postMessage(channel="C9", text="hi")
        assert api_error(excinfo) == "not_in_channel"
        with pytest.raises(SlackApiError) as excinfo:
            client.chat_postMessage(channel="C8", text="hi")
        assert api_error(excinfo) == "is_archived"


@no_text_warning
def test_message_needs_text_blocks_or_attachments(client: WebClient, standin: SlackStandIn) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postMessage(channel=GENERAL)
    assert api_error(excinfo) == "no_text"
    assert client.chat_postMessage(channel=GENERAL, attachments=[{"text": "legacy"}])["ok"]
    assert standin.channel_messages(GENERAL)[0].attachments == [{"text": "legacy"}]


def test_text_limit_is_40000_characters(client: WebClient, standin: SlackStandIn) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postMessage(channel=GENERAL, text="x" * 40_001)
    assert api_error(excinfo) == "msg_too_long"
    assert standin.messages == []
    assert client.chat_postMessage(channel=GENERAL, text="x" * 40_000)["ok"]


def test_post_ephemeral_is_seen_only_by_its_user(client: WebClient, standin: SlackStandIn) -> None:
    answer = client.chat_postEphemeral(channel=SALES, user=OLIVER, text="only you")
    assert answer["message_ts"]
    (seen,) = standin.messages_for(OLIVER)
    assert seen.ephemeral and seen.channel == SALES and seen.text == "only you"
    assert seen.source == "chat.postEphemeral"
    assert standin.channel_messages(SALES) == []
    assert standin.messages_for(MARCO) == []


@pytest.mark.parametrize(
    ("channel", "user", "error"),
    [(SALES, AMELIA, "user_not_in_channel"), (SALES, "U404", "user_not_found")],
)
def test_post_ephemeral_refusals(client: WebClient, channel: str, user: str, error: str) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postEphemeral(channel=channel, user=user, text="psst")
    assert api_error(excinfo) == error


def test_dm_and_ephemeral_messages_for_a_user_come_in_order(
    client: WebClient, standin: SlackStandIn
) -> None:
    client.chat_postMessage(channel=OLIVER, text="one")
    client.chat_postEphemeral(channel=GENERAL, user=OLIVER, text="two")
    client.chat_postMessage(channel=OLIVER, text="three")
    assert [m.text for m in standin.messages_for(OLIVER)] == ["one", "two", "three"]


def test_chat_update_of_unknown_ts_fails(client: WebClient) -> None:
    client.chat_postMessage(channel=GENERAL, text="real")
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_update(channel=GENERAL, ts="1234.000001", text="nope")
    assert api_error(excinfo) == "message_not_found"


def test_chat_update_cannot_touch_ephemeral_messages(client: WebClient) -> None:
    ts = client.chat_postEphemeral(channel=GENERAL, user=MARCO, text="eph")["message_ts"]
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_update(channel=GENERAL, ts=ts, text="edited")
    assert api_error(excinfo) == "message_not_found"


@no_text_warning
def test_chat_update_replaces_content(client: WebClient, standin: SlackStandIn) -> None:
    posted = client.chat_postMessage(channel=MARCO, text="v1", blocks=[section("v1")])
    updated = client.chat_update(channel=posted["channel"], ts=posted["ts"], text="v2")
    assert updated["ts"] == posted["ts"] and updated["text"] == "v2"
    (message,) = standin.messages_for(MARCO)
    assert message.text == "v2"
    assert message.blocks == [section("v1")]  # left out: kept, as on Slack
    assert message.edit_count == 1
    client.chat_update(channel=posted["channel"], ts=posted["ts"], blocks=[section("v3")])
    assert standin.messages_for(MARCO)[0].blocks == [section("v3")]


@no_text_warning
def test_chat_update_validates_blocks(client: WebClient, standin: SlackStandIn) -> None:
    posted = client.chat_postMessage(channel=GENERAL, text="v1")
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_update(channel=GENERAL, ts=posted["ts"], blocks=[{"type": "nonsense"}])
    assert api_error(excinfo) == "invalid_blocks"
    assert standin.channel_messages(GENERAL)[0].blocks == []


def test_chat_delete(client: WebClient, standin: SlackStandIn) -> None:
    posted = client.chat_postMessage(channel=GENERAL, text="oops")
    assert client.chat_delete(channel=GENERAL, ts=posted["ts"])["ts"] == posted["ts"]
    assert standin.channel_messages(GENERAL) == []
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_delete(channel=GENERAL, ts=posted["ts"])
    assert api_error(excinfo) == "message_not_found"


# ---- block validation -------------------------------------------------------------------


def test_valid_sdk_blocks_pass_and_are_stored(client: WebClient, standin: SlackStandIn) -> None:
    options = [Option(text="Yes", value="yes"), Option(text="No", value="no")]
    blocks: list[Block] = [
        HeaderBlock(text="Weekly pulse"),
        SectionBlock(
            text=MarkdownTextObject(text="*How was your week?*"),
            accessory=ButtonElement(text="Answer", action_id="answer", value="w12"),
        ),
        DividerBlock(),
        ActionsBlock(
            elements=[
                StaticSelectElement(placeholder="Pick", action_id="pick", options=options),
                ButtonElement(text="Skip", action_id="skip", style="danger"),
            ]
        ),
    ]
    answer = client.chat_postMessage(channel=GIULIA, text="Weekly pulse", blocks=blocks)
    expected = [block.to_dict() for block in blocks]
    assert answer["message"]["blocks"] == expected
    assert standin.messages_for(GIULIA)[0].blocks == expected


def test_block_kit_builder_json_with_optional_fields_passes(client: WebClient) -> None:
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "block_id": "intro",
            "text": {"type": "mrkdwn", "text": "Hi", "verbatim": False},
        },
        {"type": "context", "elements": [{"type": "plain_text", "text": "fyi", "emoji": True}]},
    ]
    assert client.chat_postMessage(channel=GENERAL, text="hi", blocks=blocks)["ok"]


@pytest.mark.parametrize(
    ("blocks", "fragment"),
    [
        ([{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}], "3000"),
        ([{"type": "nonsense"}], "unsupported type: nonsense"),
        ([{"type": "divider"}] * 51, "no more than 50 items"),
        ([{"type": "section", "text": "bare string"}], "must provide an object"),
        ([{"type": "header", "text": {"type": "mrkdwn", "text": "x"}}], "must be plain_text"),
        ([{"type": "section", "text": {"type": "mrkdwn", "text": "a"}, "x": 1}], "additional"),
        ([{"type": "actions", "elements": [{"type": "gizmo"}]}], "failed to match"),
        ([{"type": "section", "text": {"type": "html", "text": "a"}}], "unsupported type: html"),
        (["not an object"], "must provide an object"),
        ({"type": "divider"}, "must provide an array"),
    ],
)
def test_invalid_blocks_are_rejected_and_not_stored(
    client: WebClient, standin: SlackStandIn, blocks: Any, fragment: str
) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postMessage(channel=MARCO, text="fallback", blocks=blocks)
    response = excinfo.value.response
    assert response.status_code == 200
    assert response["error"] == "invalid_blocks"
    assert any(fragment in error for error in response["errors"]), response["errors"]
    assert all("json-pointer:/blocks" in error for error in response["errors"])
    assert response["response_metadata"]["messages"][0].startswith("[ERROR] ")
    assert standin.messages == []
    (call,) = standin.calls_to("chat.postMessage")
    assert call.status == 200 and call.error == "invalid_blocks"


def test_form_encoded_blocks_are_decoded_and_validated(standin: SlackStandIn) -> None:
    headers = {
        "Authorization": "Bearer xoxb-t",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    good = urlencode({"channel": GENERAL, "blocks": json.dumps([section("form")])}).encode()
    status, _, body = raw_post(standin.url + "chat.postMessage", good, headers)
    assert status == 200 and json.loads(body)["ok"] is True
    assert standin.calls_to("chat.postMessage")[0].params["blocks"] == [section("form")]
    bad = urlencode({"channel": GENERAL, "blocks": json.dumps([{"type": "nope"}])}).encode()
    assert json.loads(raw_post(standin.url + "chat.postMessage", bad, headers)[2])["error"] == (
        "invalid_blocks"
    )
    broken = urlencode({"channel": GENERAL, "blocks": "[{"}).encode()
    assert json.loads(raw_post(standin.url + "chat.postMessage", broken, headers)[2])["error"] == (
        "invalid_blocks_format"
    )
    assert len(standin.channel_messages(GENERAL)) == 1


def test_invalid_blocks_inside_attachments(client: WebClient, standin: SlackStandIn) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postMessage(
            channel=GENERAL, text="t", attachments=[{"blocks": [{"type": "nonsense"}]}]
        )
    assert api_error(excinfo) == "invalid_attachments"
    assert standin.messages == []


def test_validators_are_usable_directly() -> None:
    assert validate_blocks([section("fine")]) == []
    assert validate_blocks([{"type": "divider"}] * 100, limit=100) == []
    assert validate_view(modal()) == []
    assert validate_view({"type": "modal", "blocks": []}) != []


# ---- views ------------------------------------------------------------------------------


def test_views_open_needs_a_trigger_id(client: WebClient, standin: SlackStandIn) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.views_open(trigger_id="", view=modal())
    response = excinfo.value.response
    assert response["error"] == "invalid_arguments"
    assert "trigger_id" in response["response_metadata"]["messages"][0]
    assert standin.views == []


def test_views_open_returns_the_view_with_an_id(client: WebClient, standin: SlackStandIn) -> None:
    view = View(
        type="modal",
        title="Pulse",
        submit="Send",
        callback_id="pulse",
        private_metadata="survey=7",
        blocks=[
            InputBlock(
                label="How do you feel?",
                block_id="mood",
                element=PlainTextInputElement(action_id="mood"),
            )
        ],
    )
    opened = client.views_open(trigger_id="123.456.abc", view=view)["view"]
    assert opened["id"].startswith("V")
    assert opened["root_view_id"] == opened["id"]
    assert opened["callback_id"] == "pulse"
    assert opened["private_metadata"] == "survey=7"
    assert opened["state"] == {"values": {}}
    assert opened["hash"]
    assert opened["team_id"] == standin.workspace.team_id
    assert standin.view(opened["id"]) == opened


@pytest.mark.parametrize(
    "view",
    [
        {"type": "modal", "title": {"type": "plain_text", "text": "x"}, "blocks": [{"type": "x"}]},
        {"type": "modal", "title": {"type": "plain_text", "text": "t" * 25}, "blocks": []},
        {
            "type": "modal",
            "title": {"type": "plain_text", "text": "t"},
            "blocks": [{"type": "divider"}] * 101,
        },
        {"type": "modal", "title": "bare", "blocks": [{"type": "divider"}]},
        {"type": "modal", "blocks": [{"type": "divider"}]},
        {"type": "wizard", "blocks": []},
        {
            "type": "modal",
            "title": {"type": "plain_text", "text": "t"},
            "blocks": [
                InputBlock(label="L", element=PlainTextInputElement(action_id="a")).to_dict()
            ],
        },  # input blocks need a submit button
    ],
)
def test_invalid_views_answer_invalid_arguments(
    client: WebClient, standin: SlackStandIn, view: dict[str, Any]
) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.views_open(trigger_id="1.2.3", view=view)
    response = excinfo.value.response
    assert response["error"] == "invalid_arguments"
    messages = response["response_metadata"]["messages"]
    assert messages and all(m.startswith("[ERROR] ") for m in messages)
    assert standin.views == []


def test_a_view_may_hold_100_blocks(client: WebClient) -> None:
    blocks = [DividerBlock().to_dict()] * 100
    assert client.views_open(trigger_id="1.2.3", view=modal(blocks=blocks))["ok"]


def test_views_update_by_id_and_external_id(client: WebClient, standin: SlackStandIn) -> None:
    first = modal("Step 1")
    first["external_id"] = "survey-7-marco"
    opened = client.views_open(trigger_id="1.2.3", view=first)["view"]
    by_id = client.views_update(view_id=opened["id"], view=modal("Step 2"))["view"]
    assert by_id["id"] == opened["id"]
    assert by_id["title"]["text"] == "Step 2"
    assert by_id["external_id"] == "survey-7-marco"
    assert by_id["hash"] != opened["hash"]
    by_external = client.views_update(external_id="survey-7-marco", view=modal("Step 3"))
    assert by_external["view"]["id"] == opened["id"]
    stored = standin.view(opened["id"])
    assert stored is not None and stored["title"]["text"] == "Step 3"


@pytest.mark.parametrize("kwargs", [{"view_id": "V404"}, {"external_id": "missing"}])
def test_views_update_unknown_view(client: WebClient, kwargs: dict[str, str]) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.views_update(view=modal(), **kwargs)
    assert api_error(excinfo) == "not_found"


def test_views_update_hash_conflict(client: WebClient) -> None:
    opened = client.views_open(trigger_id="1.2.3", view=modal())["view"]
    with pytest.raises(SlackApiError) as excinfo:
        client.views_update(view_id=opened["id"], hash="stale.hash", view=modal("New"))
    assert api_error(excinfo) == "hash_conflict"
    assert client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal("New"))["ok"]


def test_views_publish_home_tab(client: WebClient, standin: SlackStandIn) -> None:
    home = View(type="home", blocks=[SectionBlock(text="Your pulse history")])
    published = client.views_publish(user_id=MARCO, view=home)["view"]
    assert published["type"] == "home"
    again = client.views_publish(user_id=MARCO, view=home)["view"]
    assert again["id"] == published["id"]  # one home tab per user
    stored = standin.home_view(MARCO)
    assert stored is not None and stored["blocks"][0]["text"]["text"] == "Your pulse history"
    assert standin.home_view(OLIVER) is None


def test_views_publish_unknown_user(client: WebClient) -> None:
    home = View(type="home", blocks=[DividerBlock()])
    with pytest.raises(SlackApiError) as excinfo:
        client.views_publish(user_id="U404", view=home)
    assert api_error(excinfo) == "user_not_found"


def test_views_publish_refuses_a_modal(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.views_publish(user_id=MARCO, view=modal())
    assert api_error(excinfo) == "invalid_arguments"


# ---- files ------------------------------------------------------------------------------


def test_files_upload_v2_end_to_end(client: WebClient, standin: SlackStandIn) -> None:
    parent = client.chat_postMessage(channel=SALES, text="Q3 report below")
    payload = b"region,won\nEMEA,12\n" + bytes(range(256))
    answer = client.files_upload_v2(
        channel=SALES,
        content=payload,
        filename="q3.csv",
        title="Q3 pipeline",
        initial_comment="Here you go",
        thread_ts=parent["ts"],
    )
    assert answer["file"]["id"].startswith("F")
    assert answer["file"]["title"] == "Q3 pipeline"
    assert answer["file"]["name"] == "q3.csv"
    assert answer["file"]["size"] == len(payload)
    (stored,) = standin.files
    assert stored.content == payload
    assert (stored.name, stored.title) == ("q3.csv", "Q3 pipeline")
    assert (stored.channel, stored.thread_ts) == (SALES, parent["ts"])
    assert stored.initial_comment == "Here you go"
    share = standin.channel_messages(SALES)[-1]
    assert share.files == [stored.id] and share.text == "Here you go"
    assert share.thread_ts == parent["ts"]
    assert [c.method for c in standin.calls] == [
        "chat.postMessage",
        "files.getUploadURLExternal",
        UPLOAD,
        "files.completeUploadExternal",
    ]
    download = urllib.request.urlopen(answer["file"]["url_private"], timeout=5).read()
    assert download == payload


def test_files_upload_v2_to_a_dm(client: WebClient, standin: SlackStandIn) -> None:
    dm = client.conversations_open(users=OLIVER)["channel"]["id"]
    client.files_upload_v2(channel=dm, content="your results", filename="results.txt")
    (shared,) = standin.messages_for(OLIVER)
    assert shared.files == [standin.files[0].id]
    assert standin.files[0].content == b"your results"


def test_files_complete_upload_errors(client: WebClient, standin: SlackStandIn) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.files_completeUploadExternal(files=[{"id": "F404", "title": "x"}])
    assert api_error(excinfo) == "file_not_found"
    pending = client.files_getUploadURLExternal(filename="a.txt", length=3)
    with pytest.raises(SlackApiError) as excinfo:  # not uploaded yet
        client.files_completeUploadExternal(files=[{"id": pending["file_id"]}])
    assert api_error(excinfo) == "file_not_found"
    status, _, _ = raw_post(pending["upload_url"], b"abc", {})
    assert status == 200
    with pytest.raises(SlackApiError) as excinfo:
        client.files_completeUploadExternal(files=[{"id": pending["file_id"]}], channel_id="C404")
    assert api_error(excinfo) == "invalid_channel"
    assert standin.files == []


def test_multipart_upload_like_curl(client: WebClient, standin: SlackStandIn) -> None:
    ticket = client.files_getUploadURLExternal(filename="note.txt", length=5)
    boundary = "standinboundary"
    body = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="note.txt"\r\n'
        "Content-Type: text/plain\r\n\r\n"
        "hello\r\n"
        f"--{boundary}--\r\n"
    ).encode()
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    status, _, reply = raw_post(ticket["upload_url"], body, headers)
    assert (status, reply) == (200, b"OK - 5")
    client.files_completeUploadExternal(files=[{"id": ticket["file_id"]}])
    assert standin.files[0].content == b"hello"


def test_upload_to_an_unknown_url_is_404(standin: SlackStandIn) -> None:
    status, _, _ = raw_post(standin.root_url + "/upload/F404", b"x", {})
    assert status == 404


# ---- response_url -----------------------------------------------------------------------


def test_response_url_posts_are_recorded(standin: SlackStandIn) -> None:
    url = standin.response_url(user_id=MARCO, channel_id=GENERAL)
    assert url.startswith(standin.root_url + "/response/")
    assert standin.response_url() != url
    answer = WebhookClient(url).send(
        text="Thanks for voting!", blocks=[SectionBlock(text="Thanks!")], replace_original=True
    )
    assert (answer.status_code, answer.body) == (200, "ok")
    (post,) = standin.response_posts(url)
    assert post.text == "Thanks for voting!"
    assert post.replace_original is True and post.delete_original is False
    assert post.response_type == "ephemeral"
    assert post.blocks == [SectionBlock(text="Thanks!").to_dict()]
    (shown,) = standin.messages_for(MARCO)
    assert shown.ephemeral and shown.source == RESPONSE_URL and shown.channel == GENERAL
    (call,) = standin.calls_to(RESPONSE_URL)
    assert call.status == 200 and call.params["text"] == "Thanks for voting!"


def test_response_url_in_channel_is_visible_to_the_channel(standin: SlackStandIn) -> None:
    url = standin.response_url(user_id=MARCO, channel_id=SALES)
    WebhookClient(url).send(text="Marco closed a deal", response_type="in_channel")
    assert [m.text for m in standin.channel_messages(SALES)] == ["Marco closed a deal"]
    assert standin.messages_for(MARCO) == []


def test_response_url_delete_original(standin: SlackStandIn) -> None:
    url = standin.response_url(user_id=MARCO)
    assert WebhookClient(url).send_dict({"delete_original": True}).status_code == 200
    assert standin.response_posts()[0].delete_original is True
    assert standin.messages_for(MARCO) == []


def test_response_url_rejects_invalid_blocks_and_unknown_urls(standin: SlackStandIn) -> None:
    url = standin.response_url(user_id=MARCO)
    answer = WebhookClient(url).send(text="x", blocks=[{"type": "nonsense"}])
    assert (answer.status_code, answer.body) == (400, "invalid_blocks")
    assert WebhookClient(url).send_dict({"response_type": "ephemeral"}).body == "no_text"
    assert WebhookClient(url).send_dict({}).body == "invalid_payload"  # the SDK sends null
    assert standin.response_posts() == []
    assert standin.messages_for(MARCO) == []
    unknown = WebhookClient(standin.root_url + "/response/deadbeef").send(text="x")
    assert unknown.status_code == 404


# ---- fault injection --------------------------------------------------------------------


def test_rate_limit_answers_429_with_retry_after(standin: SlackStandIn) -> None:
    standin.rate_limit("chat.postMessage", per_minute=2)
    client = bare_client(standin)
    client.chat_postMessage(channel=GENERAL, text="1")
    client.chat_postMessage(channel=GENERAL, text="2")
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postMessage(channel=GENERAL, text="3")
    response = excinfo.value.response
    assert response.status_code == 429
    assert response["error"] == "ratelimited"
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert retry_after >= 59  # the window just started: wait nearly all of it
    assert [m.text for m in standin.channel_messages(GENERAL)] == ["1", "2"]
    assert [c.status for c in standin.calls_to("chat.postMessage")] == [200, 200, 429]
    assert client.auth_test()["ok"]  # other methods are not limited


def test_rate_limit_is_waited_out_by_the_sdk_retry_handler(standin: SlackStandIn) -> None:
    standin.rate_limit("chat.postMessage", per_minute=1, window=1.0)
    client = bare_client(standin)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
    client.chat_postMessage(channel=GENERAL, text="first")
    assert client.chat_postMessage(channel=GENERAL, text="second")["ok"]
    statuses = [c.status for c in standin.calls_to("chat.postMessage")]
    assert statuses[0] == 200 and statuses[-1] == 200 and 429 in statuses
    assert [m.text for m in standin.channel_messages(GENERAL)] == ["first", "second"]
    limited = next(c for c in standin.calls_to("chat.postMessage") if c.status == 429)
    assert limited.response == {"ok": False, "error": "ratelimited"}


def test_wildcard_rate_limit_applies_to_each_method(standin: SlackStandIn) -> None:
    standin.rate_limit("*", per_minute=1)
    client = bare_client(standin)
    client.auth_test()
    client.users_info(user=MARCO)  # its own window
    with pytest.raises(SlackApiError) as excinfo:
        client.auth_test()
    assert excinfo.value.response.status_code == 429


def test_fail_next_then_success(standin: SlackStandIn) -> None:
    standin.fail_next("chat.postMessage", count=2, status=500)
    client = bare_client(standin)
    for _ in range(2):
        with pytest.raises(SlackApiError) as excinfo:
            client.chat_postMessage(channel=GENERAL, text="try")
        assert excinfo.value.response.status_code == 500
    assert client.chat_postMessage(channel=GENERAL, text="try")["ok"]
    assert [c.status for c in standin.calls_to("chat.postMessage")] == [500, 500, 200]
    assert len(standin.channel_messages(GENERAL)) == 1  # failed calls had no effect


def test_fail_next_is_retried_by_the_server_error_handler(standin: SlackStandIn) -> None:
    standin.fail_next("*", status=503, error="service_unavailable")
    client = bare_client(standin)
    client.retry_handlers.append(ServerErrorRetryHandler(max_retry_count=1))
    assert client.users_info(user=MARCO)["ok"]
    calls = standin.calls_to("users.info")
    assert [c.status for c in calls] == [503, 200]
    assert calls[0].error == "service_unavailable"


def test_delay_makes_clients_time_out(standin: SlackStandIn) -> None:
    standin.delay("auth.test", 2.0)
    headers = {"Authorization": "Bearer xoxb-t"}
    started = time.monotonic()
    with pytest.raises((TimeoutError, urllib.error.URLError)):
        raw_post(standin.url + "auth.test", b"", headers, timeout=0.2)
    assert time.monotonic() - started < 1.5
    standin.clear_faults()
    status, _, _ = raw_post(standin.url + "auth.test", b"", headers, timeout=1.0)
    assert status == 200


def test_delay_still_answers_a_patient_client(standin: SlackStandIn) -> None:
    standin.delay("*", 0.2)
    started = time.monotonic()
    assert bare_client(standin).auth_test()["ok"]
    assert time.monotonic() - started >= 0.2


def test_clear_faults(standin: SlackStandIn) -> None:
    standin.fail_next("*", count=5)
    standin.rate_limit("*", per_minute=1)
    standin.clear_faults()
    client = bare_client(standin)
    assert all(client.auth_test()["ok"] for _ in range(3))


def test_fault_arguments_are_checked(standin: SlackStandIn) -> None:
    with pytest.raises(ValueError):
        standin.rate_limit("x", per_minute=0)
    with pytest.raises(ValueError):
        standin.fail_next("x", count=0)


# ---- recording and polling --------------------------------------------------------------


def test_calls_are_recorded_with_decoded_params(client: WebClient, standin: SlackStandIn) -> None:
    client.chat_postMessage(channel=MARCO, text="hi", blocks=[SectionBlock(text="hi")])
    client.users_info(user=MARCO)
    first, second = standin.calls
    assert first.method == "chat.postMessage"
    assert first.params["blocks"] == [SectionBlock(text="hi").to_dict()]
    assert first.ok and first.status == 200
    assert first.response is not None and first.response["channel"].startswith("D")
    assert second.params == {"user": MARCO}
    assert first.time <= second.time
    standin.reset_calls()
    assert standin.calls == []
    assert standin.messages_for(MARCO)  # resetting calls keeps messages


def test_reset_forgets_everything_but_the_workspace(
    client: WebClient, standin: SlackStandIn
) -> None:
    client.chat_postMessage(channel=MARCO, text="hi")
    standin.fail_next("*")
    standin.reset()
    assert standin.calls == [] and standin.messages == []
    assert client.auth_test()["ok"]


def test_wait_for_returns_the_first_truthy_value(client: WebClient, standin: SlackStandIn) -> None:
    timer = threading.Timer(0.05, lambda: client.chat_postMessage(channel=OLIVER, text="late"))
    timer.start()
    try:
        messages = standin.wait_for(lambda: standin.messages_for(OLIVER), timeout=5)
    finally:
        timer.join()
    assert [m.text for m in messages] == ["late"]


def test_wait_for_times_out_with_a_helpful_message(standin: SlackStandIn) -> None:
    with pytest.raises(AssertionError) as excinfo:
        standin.wait_for(lambda: standin.messages_for(OLIVER), timeout=0.05, describe="a DM")
    message = str(excinfo.value)
    assert "a DM" in message and "0.05" in message and "last calls: none" in message


def test_wait_for_calls(client: WebClient, standin: SlackStandIn) -> None:
    def post_twice() -> None:
        for text in ("a", "b"):
            client.chat_postMessage(channel=GENERAL, text=text)

    worker = threading.Thread(target=post_twice)
    worker.start()
    try:
        calls = standin.wait_for_calls("chat.postMessage", count=2)
    finally:
        worker.join()
    assert [c.params["text"] for c in calls] == ["a", "b"]
    with pytest.raises(AssertionError, match=r"3 call\(s\) to chat.postMessage"):
        standin.wait_for_calls("chat.postMessage", count=3, timeout=0.05)


def test_server_is_quiet(
    client: WebClient,
    standin: SlackStandIn,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    with caplog.at_level(logging.DEBUG, logger="bot.standin"):
        client.auth_test()
        with pytest.raises(SlackApiError):
            client.api_call("nope.nope")
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")
    assert any(r.name == "bot.standin" and r.levelno == logging.DEBUG for r in caplog.records)
