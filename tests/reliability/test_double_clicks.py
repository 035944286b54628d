"""Double clicks: ten concurrent clicks of one eNPS button by one person are one answer.

(Ten concurrent `/deal advance` by the owner: tests/test_deals_concurrency.py,
`test_ten_signed_advances_through_the_app`.)
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from storage.surveys import SurveyAnswer, SurveyRespondent
from tests.harness import BotHarness
from tests.reliability.helpers import MANAGER, REP


def test_ten_concurrent_clicks_of_one_enps_button_are_one_answer(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    bot.command(MANAGER, "/pulse", "start enps")
    dm = bot.standin.wait_for(lambda: next(iter(bot.dms(REP)), None), describe="the eNPS DM")
    assert bot.services.background.wait_idle()
    button = next(
        element
        for block in dm.blocks
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == "pulse.enps.9"
    )
    clicks = [
        bot.requests.block_action(
            user_id=REP,
            action_id="pulse.enps.9",
            value=button["value"],
            channel_id=dm.channel,
            message_ts=dm.ts,
            response_url=bot.standin.response_url(user_id=REP),
        )
        for _ in range(10)
    ]  # ten clicks: ten trigger ids, so retry de-duplication does not merge them
    start = threading.Barrier(10)

    def click(index: int) -> tuple[int, str]:
        start.wait()
        response = bot.dispatch(clicks[index])
        return response.status, response.body

    with caplog.at_level(logging.ERROR), ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(click, range(10)))
        assert bot.services.background.wait_idle()
    assert answers == [(200, "")] * 10
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    with bot.services.db.transaction() as session:
        stored = session.execute(select(SurveyAnswer.question, SurveyAnswer.number)).all()
        respondents = session.scalars(select(SurveyRespondent.respondent)).all()
    assert [tuple(row) for row in stored] == [(0, 9)]
    assert len(respondents) == 1
