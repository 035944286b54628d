"""PostgreSQL goes away while requests arrive: friendly answers, /healthz 503, and service
resumes by itself with every committed change kept.

The "restart" is a loopback proxy between the bot and the shared PostgreSQL server, cut (every
connection dropped, new ones turned away) and restored: nobody else's server is touched.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot.clock import FrozenClock
from bot.i18n import Texts
from bot.standin import SlackStandIn
from bot.web import ServerThread, make_wsgi_app
from storage.db import Database
from storage.deals import Deal
from tests.conftest import make_settings
from tests.harness import BotHarness
from tests.reliability.helpers import REP
from tests.reliability.tcp_proxy import CuttableProxy
from tests.test_web import get, post

UNAVAILABLE = Texts("en")("common.error_unavailable")
IN_DOUBT = Texts("en")("common.error_in_doubt")


@pytest.fixture
def proxied(
    postgres_url: str, standin: SlackStandIn, clock: FrozenClock
) -> Iterator[tuple[BotHarness, CuttableProxy]]:
    real = make_url(postgres_url)
    with CuttableProxy((real.host or "127.0.0.1", real.port or 5432)) as proxy:
        url = real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        db = Database(url)
        settings = make_settings(SLACK_API_URL=standin.url, DATABASE_URL=url)
        bot = BotHarness.boot(settings, db=db, standin=standin, clock=clock)
        yield bot, proxy
        bot.close()
        db.dispose()


def stored_deals(bot: BotHarness) -> set[str]:
    with bot.services.db.transaction() as session:
        return set(session.scalars(select(Deal.name)))


def test_requests_during_an_outage_get_a_friendly_answer_and_service_resumes(
    proxied: tuple[BotHarness, CuttableProxy],
) -> None:
    bot, proxy = proxied
    with ServerThread(make_wsgi_app(bot.app, bot.services)) as server:
        events = server.url + "/slack/events"
        created: list[str] = []  # deals whose creation Slack was told about
        refused: list[str] = []  # told "nothing was changed"
        in_doubt: list[str] = []  # the cut came during its COMMIT: told it may have been kept
        statuses: list[int] = []
        stop = threading.Event()

        def rep_typing() -> None:
            """A person creating deals the whole time: before, during and after the outage."""
            n = 0
            while not stop.is_set():
                n += 1
                name = f"Steady {n}"
                status, body = post(
                    events, bot.requests.slash_command("/deal", f'new "{name}" 1k', user_id=REP)
                )
                statuses.append(status)
                answer = json.loads(body) if body.startswith("{") else {"text": body}
                assert answer.get("response_type", "ephemeral") == "ephemeral"
                said = answer.get("text", "")
                told = refused if UNAVAILABLE in said else in_doubt if IN_DOUBT in said else created
                told.append(name)

        typist = threading.Thread(target=rep_typing)
        typist.start()
        try:
            bot.standin.wait_for(lambda: len(created) >= 5, describe="deals before the outage")
            proxy.cut()
            bot.standin.wait_for(lambda: len(refused) >= 5, describe="answers in the outage")
            assert get(server.url + "/healthz")[0] == 503
            response_url = bot.standin.response_url(user_id=REP)
            click = bot.requests.block_action(
                user_id=REP,
                action_id="deal_advance",
                value="1",
                channel_id=bot.standin.dm_channel_id(REP),
                response_url=response_url,
            )
            assert post(events, click) == (200, "")  # Slack ignores a click's ack body...
            told = bot.standin.wait_for(  # ...so the click is answered in its conversation
                lambda: bot.standin.response_posts(response_url), describe="the click's answer"
            )
            assert UNAVAILABLE in (told[0].text or "")
            form = bot.requests.view_submission(
                user_id=REP,
                callback_id="deal_note_modal",
                values={"note": {"value": {"type": "plain_text_input", "value": "hi"}}},
                private_metadata='{"deal": 1}',
            )
            status, body = post(events, form)
            assert status == 200
            assert UNAVAILABLE in json.loads(body)["errors"]["note"]  # shown under the field
            # Opening the App Home: a 200 (no retry into the outage) and a Home tab that says so.
            assert post(events, bot.requests.app_home_opened(REP)) == (200, "")
            home = bot.standin.wait_for(
                lambda: bot.standin.home_view(REP), describe="the Home tab in the outage"
            )
            assert UNAVAILABLE in json.dumps(home, ensure_ascii=False)
            proxy.restore()
            after = len(created)
            bot.standin.wait_for(lambda: len(created) >= after + 5, describe="service resumed")
        finally:
            stop.set()
            typist.join(timeout=30)
        assert get(server.url + "/healthz")[0] == 200
    assert set(statuses) == {200}
    assert refused, "the outage was not noticed"
    # Every deal a person was told about is stored; none that was refused is. One whose
    # COMMIT the cut interrupted may be either way, and its person was told so.
    stored = stored_deals(bot)
    assert set(created) <= stored and not stored & set(refused)
    assert stored <= set(created) | set(in_doubt)
    assert len(in_doubt) <= 1  # one person typing: at most one COMMIT in flight at the cut
