"""A click's response_url is used only when it is Slack's (or SLACK_API_URL's host, for the
stand-in): a private reply is never posted anywhere else, and the person gets it by DM."""

from __future__ import annotations

import logging

import pytest

from bot.slack_client import is_slack_response_url
from bot.standin import SlackStandIn, Workspace
from bot.views import deals as deal_views
from tests.harness import BotHarness, block_text
from tests.reliability.helpers import REP

STANDIN_API = "http://127.0.0.1:5000/api/"


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://hooks.slack.com/actions/T0PULSE01/1234/abcd", True),
        ("https://hooks.slack.com/commands/T0PULSE01/1234/abcd", True),
        ("http://127.0.0.1:5000/response/abcd", True),  # the stand-in, SLACK_API_URL's host
        ("http://hooks.slack.com/actions/T0PULSE01/1234/abcd", False),  # not TLS
        ("https://hooks.slack.com.evil.example/actions/1", False),
        ("https://hooks.slack.com@evil.example/actions/1", False),
        ("https://evil.example@hooks.slack.com/actions/1", False),
        ("https://hooks.slack.com:8443/actions/1", False),
        ("https://evil.example/?to=https://hooks.slack.com/actions/1", False),
        ("http://127.0.0.1:5001/response/abcd", False),  # another port of the same machine
        ("http://169.254.169.254/latest/meta-data/", False),  # a cloud metadata service
        ("file:///etc/passwd", False),
        ("https://hooks.slack.com", False),
        ("", False),
    ],
)
def test_only_slacks_response_urls_are_accepted(url: str, allowed: bool) -> None:
    assert is_slack_response_url(url, STANDIN_API) is allowed


def test_a_foreign_response_url_gets_nothing_and_the_reply_goes_by_dm(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    with SlackStandIn(Workspace.demo()) as elsewhere, caplog.at_level(logging.WARNING):
        foreign = elsewhere.response_url(user_id=REP)  # 127.0.0.1, another port
        dms_before = len(bot.dms(REP))
        bot.click(REP, deal_views.ADVANCE, "#999", response_url=foreign)
        assert bot.services.background.wait_idle()
        assert elsewhere.response_posts() == []
    dms = bot.dms(REP)
    assert len(dms) == dms_before + 1
    assert "#999" in block_text({"text": dms[-1].text, "blocks": dms[-1].blocks})
    assert "a response_url outside hooks.slack.com was not used; answered by DM" in caplog.text
    assert foreign not in caplog.text

    # The same click with Slack's own response_url is answered there, not by DM.
    own = bot.standin.response_url(user_id=REP)
    bot.click(REP, deal_views.ADVANCE, "#999", response_url=own)
    assert bot.services.background.wait_idle()
    assert len(bot.standin.response_posts(own)) == 1
    assert len(bot.dms(REP)) == dms_before + 1
