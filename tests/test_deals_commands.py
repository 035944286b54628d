"""`/deal` through signed requests: every subcommand, permissions, bad input, buttons, modals."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from bot import slack_client
from bot.i18n import Texts
from bot.standin import UPLOAD, Fault, validate_blocks
from bot.views import deals as views
from storage.deals import Deal, DealEvent
from tests.harness import BotHarness, block_text

REP = "U05OSMITH"  # Oliver, English, not a manager
OTHER_REP = "U07JMILLE"  # James
MANAGER = "U01GROSSI"  # Giulia, workspace admin (so a manager), Italian
ITALIAN_REP = "U02MBIANC"


def say(bot: BotHarness, user: str, text: str) -> str:
    return BotHarness.reply_text(bot.command(user, "/deal", text))


def deal_row(bot: BotHarness, name_key: str) -> Deal:
    with bot.services.db.transaction() as session:
        deal = session.scalars(select(Deal).where(Deal.name_key == name_key)).one()
        session.expunge(deal)
        return deal


def events(bot: BotHarness, deal_id: int) -> list[DealEvent]:
    with bot.services.db.transaction() as session:
        rows = list(
            session.scalars(
                select(DealEvent).where(DealEvent.deal_id == deal_id).order_by(DealEvent.id)
            )
        )
        for row in rows:
            session.expunge(row)
        return rows


def mrkdwn_texts(message: dict[str, object]) -> list[str]:
    found = [str(message.get("text") or "")]

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                found.append(str(node.get("text")))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message.get("blocks"))
    return found


def count_rows(bot: BotHarness) -> tuple[int, int]:
    with bot.services.db.transaction() as session:
        return (
            int(session.scalar(select(func.count()).select_from(Deal)) or 0),
            int(session.scalar(select(func.count()).select_from(DealEvent)) or 0),
        )


def days_ahead(bot: BotHarness, days: int) -> date:
    """A date `days` after the pinned today: dates in the past are refused, whatever the day."""
    return (bot.clock() + timedelta(days=days)).date()


def test_new_deal_with_every_part(bot: BotHarness) -> None:
    close = days_ahead(bot, 14)
    text = say(
        bot, REP, f'new "ACME Corp" 50k proposal <@U07JMILLE|james> source:web close:{close}'
    )
    assert "Created *ACME Corp* (#1) in proposal, €50,000, owner <@U07JMILLE>" in text
    deal = deal_row(bot, "acme corp")
    assert (deal.stage, deal.owner_id, deal.source, str(deal.close_date)) == (
        "proposal",
        OTHER_REP,
        "web",
        close.isoformat(),
    )
    assert str(deal.amount) == "50000.00" and deal.currency == "EUR"
    (created,) = events(bot, deal.id)
    assert (created.kind, created.to_stage, created.actor_id) == ("created", "proposal", REP)


def test_the_story_of_a_deal(bot: BotHarness) -> None:
    say(bot, REP, "new Globex 20000")
    assert "moved lead → *qualified*" in say(bot, REP, "advance globex first call went well")
    assert "moved back qualified → *lead*" in say(bot, REP, "back Globex")
    assert "moved lead → *proposal*" in say(bot, REP, "stage globex proposal")
    assert "Note added" in say(bot, REP, "note globex they want a discount")
    due = days_ahead(bot, 7)
    assert f"Next step for *Globex*: send revised quote (due {Texts('en').short_date(due)})" in say(
        bot, REP, f"next globex send revised quote due:{due}"
    )
    assert "is now $1,200.50" in say(bot, REP, "amount globex $1,200.50")
    assert "is won ($1,200.50)" in say(bot, REP, "won globex signed!")
    assert "reopened: won → *negotiation*" in say(bot, REP, "stage globex negotiation")
    assert "marked lost" in say(bot, REP, "lost globex budget cut")
    deal = deal_row(bot, "globex")
    assert deal.stage == "lost" and deal.lost_reason == "budget cut"
    assert deal.next_step == "send revised quote" and deal.next_step_due == due
    kinds = [(e.kind, e.from_stage, e.to_stage) for e in events(bot, deal.id)]
    assert kinds == [
        ("created", None, "lead"),
        ("stage", "lead", "qualified"),
        ("stage", "qualified", "lead"),
        ("stage", "lead", "proposal"),
        ("note", None, None),
        ("next_step", None, None),
        ("amount", None, None),
        ("stage", "proposal", "won"),
        ("stage", "won", "negotiation"),
        ("stage", "negotiation", "lost"),
    ]
    card = say(bot, REP, "show #1")
    assert "Globex (#1)" in card and "budget cut" in card and "History" in card


def test_a_list_line_longer_than_a_section_is_clipped_not_left_empty(bot: BotHarness) -> None:
    """A next step of "&" escapes to five times its length: its line alone overflows a section.
    (Lists once put such a line after an empty section, which Slack refuses; whether the line
    crossed the limit hung on the length of the due date, so on the day of the month.)"""
    say(bot, REP, "new Acme 1k")
    say(bot, REP, "new Globex 2k")
    say(bot, REP, "next acme " + "&" * 1990 + f" due:{days_ahead(bot, 23)}")
    for text in ("list", "list all"):
        reply = BotHarness.reply(bot.command(REP, "/deal", text))
        assert validate_blocks(reply["blocks"]) == []
        sections = [b["text"]["text"] for b in reply["blocks"] if b["type"] == "section"]
        assert all(sections) and all(len(t) <= 3000 for t in sections)
        assert "Globex" in "\n".join(sections) and sections[1].endswith("…")


def test_advance_from_negotiation_says_won_or_lost(bot: BotHarness) -> None:
    say(bot, REP, "new Initech 10k negotiation")
    text = say(bot, REP, "advance initech")
    assert "last open stage" in text and "/deal won" in text and "/deal lost" in text


def test_only_owner_or_manager_may_change(bot: BotHarness) -> None:
    say(bot, REP, "new Umbrella 5k")
    before = count_rows(bot)
    text = say(bot, OTHER_REP, "advance umbrella")
    assert "belongs to <@U05OSMITH>" in text
    assert count_rows(bot) == before
    # Everyone may look.
    assert "Umbrella (#1)" in say(bot, OTHER_REP, "show umbrella")
    assert "Umbrella" in say(bot, OTHER_REP, "list all")
    # A manager may change it (and gets Italian, from the Slack locale).
    assert "è passata da lead a *qualificata*" in say(bot, MANAGER, "advance umbrella")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("frobnicate", "I don't know `/deal frobnicate`", id="unknown_subcommand"),
        pytest.param("advance", "Missing the deal", id="missing_deal"),
        pytest.param("lost ACME", "Missing the reason", id="lost_without_reason"),
        pytest.param("note ACME", "Missing the text", id="empty_note"),
        pytest.param("amount ACME 12x", "can't read `12x` as an amount", id="bad_amount"),
        pytest.param("next ACME call due:someday", "can't read `someday` as a date", id="bad_date"),
        pytest.param("stage ACME closing", "There is no stage `closing`", id="unknown_stage"),
        pytest.param("advance Nope", "There is no deal called *Nope*", id="unknown_deal"),
        pytest.param("advance acmee", "Did you mean one of these?", id="did_you_mean"),
        pytest.param("advance Ac", "*Ac* fits more than one deal", id="ambiguous"),
        pytest.param("show #99", "There is no deal #99", id="unknown_id"),
        pytest.param("new " + "x" * 101, "at most 100 characters", id="name_too_long"),
        pytest.param('new "ACME Corp"', "already exists", id="duplicate_name"),
        pytest.param('new "unclosed', "never closed", id="unterminated_quote"),
        pytest.param("owner ACME bob", "is not a person", id="owner_not_a_mention"),
        pytest.param("list nonsense", "I can't list `nonsense`", id="bad_list_filter"),
        pytest.param("new Foo 10k won", "can't start as won", id="new_as_closed"),
    ],
)
def test_bad_input_is_explained_and_changes_nothing(
    bot: BotHarness, text: str, expected: str
) -> None:
    say(bot, REP, 'new "ACME Corp" 10k')
    say(bot, REP, "new Acorn 1k")
    before = count_rows(bot)
    response = bot.command(REP, "/deal", text)
    assert response.status == 200
    reply = BotHarness.reply(response)
    assert expected in block_text(reply)
    assert count_rows(bot) == before


def test_advance_of_a_closed_deal(bot: BotHarness) -> None:
    say(bot, REP, "new Hooli 1k")
    say(bot, REP, "won hooli")
    assert "is closed (won)" in say(bot, REP, "advance hooli")


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("'; DROP TABLE deals; --", id="sql_injection"),
        pytest.param("Café 🚀 Ünïcode", id="emoji"),
        pytest.param("שלום עולם", id="right_to_left"),
        pytest.param("<!channel> & <b>", id="slack_markup"),
    ],
)
def test_odd_names_are_stored_verbatim_and_shown_safely(bot: BotHarness, name: str) -> None:
    escaped = name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # Slack escapes &, < and > in slash command text; the bot undoes it to store the name.
    response = bot.command(REP, "/deal", f'new "{escaped}" 1k')
    assert "Created" in BotHarness.reply_text(response)
    with bot.services.db.transaction() as session:
        assert session.scalars(select(Deal.name)).one() == name
    card = BotHarness.reply(bot.command(REP, "/deal", "show #1"))
    # mrkdwn (and a message's text) would ping a channel; plain_text never does.
    assert all("<!channel>" not in text for text in mrkdwn_texts(card))
    assert name in json.dumps(card, ensure_ascii=False) or "&lt;" in json.dumps(card)
    assert validate_blocks(card["blocks"]) == []


def test_list_filters(bot: BotHarness) -> None:
    say(bot, REP, "new Alpha 1k")
    say(bot, REP, "new Beta 2k proposal")
    say(bot, OTHER_REP, "new Gamma 3k")
    assert "Alpha" in say(bot, REP, "list") and "Gamma" not in say(bot, REP, "list")
    mine_for_james = say(bot, REP, "list <@U07JMILLE|james>")
    assert "Gamma" in mine_for_james and "Alpha" not in mine_for_james
    in_proposal = say(bot, REP, "list proposal")
    assert "Beta" in in_proposal and "Alpha" not in in_proposal
    assert all(n in say(bot, REP, "list all") for n in ("Alpha", "Beta", "Gamma"))
    assert "Stalled deals (0)" in say(bot, REP, "stalled")


def test_pipeline_answer(bot: BotHarness) -> None:
    say(bot, REP, "new Alpha 10k")
    say(bot, REP, "new Beta 20k proposal")
    text = say(bot, REP, "pipeline")
    assert "Weighted pipeline" in text
    assert "€11,000" in text  # 10k × 10% + 20k × 50%


def test_buttons_change_the_deal_for_the_owner_only(bot: BotHarness) -> None:
    say(bot, REP, "new Stark 7k")
    url = bot.standin.response_url(user_id=OTHER_REP)
    assert bot.click(OTHER_REP, views.ADVANCE, "1", response_url=url).status == 200
    posts = bot.standin.wait_for(lambda: bot.standin.response_posts(url))
    assert "belongs to" in block_text(posts[0].payload)
    assert deal_row(bot, "stark").stage == "lead"
    url = bot.standin.response_url(user_id=REP)
    bot.click(REP, views.ADVANCE, "1", response_url=url)
    posts = bot.standin.wait_for(lambda: bot.standin.response_posts(url))
    assert "moved lead → *qualified*" in block_text(posts[0].payload)
    bot.click(REP, views.WIN, "1")
    bot.standin.wait_for(lambda: deal_row(bot, "stark").stage == "won")


def test_forged_button_value_is_refused(bot: BotHarness) -> None:
    url = bot.standin.response_url(user_id=REP)
    bot.click(REP, views.ADVANCE, "not-a-number", response_url=url)
    posts = bot.standin.wait_for(lambda: bot.standin.response_posts(url))
    assert "is not a deal number" in block_text(posts[0].payload)


def test_note_and_lost_modals(bot: BotHarness) -> None:
    say(bot, REP, "new Wayne 9k")
    bot.click(REP, views.LOSE, "1")
    (opened,) = bot.standin.wait_for_calls("views.open")
    view = opened.params["view"]
    assert isinstance(view, dict) and view["callback_id"] == views.LOST_MODAL
    empty = bot.submit(
        REP,
        views.LOST_MODAL,
        {"reason": {"value": {"type": "plain_text_input", "value": "  "}}},
        view["private_metadata"],
    )
    assert json.loads(empty.body)["response_action"] == "errors"
    assert deal_row(bot, "wayne").stage == "lead"
    done = bot.submit(
        REP,
        views.LOST_MODAL,
        {"reason": {"value": {"type": "plain_text_input", "value": "chose a rival"}}},
        view["private_metadata"],
    )
    assert done.status == 200 and done.body == ""
    deal = deal_row(bot, "wayne")
    assert (deal.stage, deal.lost_reason) == ("lost", "chose a rival")
    bot.standin.wait_for(lambda: bot.standin.messages_for(REP))


def test_new_deal_modal(bot: BotHarness) -> None:
    response = bot.command(REP, "/deal", "new")
    assert response.status == 200 and response.body == ""
    (opened,) = bot.standin.wait_for_calls("views.open")
    view = opened.params["view"]
    assert isinstance(view, dict) and view["callback_id"] == views.NEW_MODAL

    def values(amount: str) -> dict[str, dict[str, dict[str, object]]]:
        return {
            "name": {"value": {"type": "plain_text_input", "value": "Cyberdyne"}},
            "amount": {"value": {"type": "plain_text_input", "value": amount}},
            "stage": {
                "value": {"type": "static_select", "selected_option": {"value": "qualified"}}
            },
            "owner": {"value": {"type": "users_select", "selected_user": REP}},
            "source": {"value": {"type": "plain_text_input", "value": "trade show"}},
            "close": {"value": {"type": "datepicker", "selected_date": str(days_ahead(bot, 60))}},
        }

    bad = bot.submit(REP, views.NEW_MODAL, values("lots"), view["private_metadata"])
    assert "amount" in json.loads(bad.body)["errors"]
    good = bot.submit(REP, views.NEW_MODAL, values("€25.000"), view["private_metadata"])
    assert good.body == ""
    deal = deal_row(bot, "cyberdyne")
    assert (deal.stage, str(deal.amount), deal.source) == ("qualified", "25000.00", "trade show")


def test_announcements_go_to_the_deals_channel(bot: BotHarness) -> None:
    settings = bot.services.settings.model_copy(update={"deals_channel": "C02SALES"})
    object.__setattr__(bot.services, "settings", settings)
    say(bot, REP, "new Tyrell 80k")
    say(bot, REP, "won tyrell")
    bot.standin.wait_for(lambda: len(bot.standin.channel_messages("C02SALES")) == 2)
    messages = bot.standin.channel_messages("C02SALES")
    assert "New deal *Tyrell*" in messages[0].text
    assert "*Tyrell* is won" in messages[1].text


def test_export_sends_a_csv_file(bot: BotHarness) -> None:
    say(bot, REP, "new Soylent 5k")
    say(bot, REP, 'note soylent =HYPERLINK("http://evil")')
    say(bot, REP, "export")
    bot.standin.wait_for(lambda: bot.standin.files)
    (uploaded,) = bot.standin.files
    rows = list(csv.DictReader(io.StringIO(uploaded.content.decode("utf-8-sig"))))
    assert [row["event_kind"] for row in rows] == ["created", "note"]
    assert rows[1]["note"].startswith("'=")  # no formula runs in a spreadsheet


def test_an_export_upload_refused_for_a_while_is_tried_again(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(slack_client, "UPLOAD_BACKOFF_SECONDS", 0.01)
    say(bot, REP, "new Soylent 5k")
    bot.standin.outage(UPLOAD, [Fault(status=500), Fault(status=429)])
    say(bot, REP, "export")
    bot.standin.wait_for(lambda: bot.standin.files)
    assert bot.services.background.wait_idle()
    assert len(bot.standin.files) == 1
    assert len(bot.standin.calls_to(UPLOAD)) == 3


def test_an_export_slack_will_not_take_is_reported_to_the_asker(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(slack_client, "UPLOAD_BACKOFF_SECONDS", 0.01)
    say(bot, REP, "new Soylent 5k")
    bot.standin.outage(UPLOAD, [Fault(status=500)] * slack_client.UPLOAD_ATTEMPTS)
    say(bot, REP, "export")
    bot.standin.wait_for(lambda: any("did not take" in (m.text or "") for m in bot.dms(REP)))
    assert bot.standin.files == []


def test_app_home_lists_the_reps_open_deals(bot: BotHarness) -> None:
    say(bot, REP, "new Oscorp 4k")
    bot.dispatch(bot.requests.app_home_opened(REP))
    (call,) = bot.standin.wait_for_calls("views.publish")
    view = call.params["view"]
    assert isinstance(view, dict)
    text = block_text(view)
    assert "Oscorp" in text and "[Advance]" in text
    bot.click(REP, views.ADVANCE, "1", from_home=True)
    calls = bot.standin.wait_for_calls("views.publish", count=2)
    view = calls[-1].params["view"]
    assert isinstance(view, dict) and "qualified" in block_text(view)


@pytest.mark.parametrize(
    ("actor", "reply"),
    [
        pytest.param(REP, "*Vandelay* now belongs to <@U07JMILLE>", id="by_the_owner"),
        pytest.param(MANAGER, "*Vandelay* ora appartiene a <@U07JMILLE>", id="by_a_manager"),
    ],
)
def test_owner_hands_a_deal_over(bot: BotHarness, actor: str, reply: str) -> None:
    say(bot, REP, "new Vandelay 3k")
    assert reply in say(bot, actor, "owner vandelay <@U07JMILLE|james>")
    deal = deal_row(bot, "vandelay")
    assert deal.owner_id == OTHER_REP
    handed = events(bot, deal.id)[-1]
    assert (handed.kind, handed.actor_id, handed.changes) == (
        "owner",
        actor,
        {"owner": [REP, OTHER_REP]},
    )
    # The history shows who had it and who has it now, as people, not as raw ids.
    card = say(bot, OTHER_REP, "show vandelay")
    assert "<@U05OSMITH> → <@U07JMILLE>" in card
    # The new owner may change the deal now; the old one is refused and writes nothing.
    assert "moved lead → *qualified*" in say(bot, OTHER_REP, "advance vandelay")
    before = count_rows(bot)
    for text in ("advance vandelay", "note vandelay mine again?", "owner vandelay <@U05OSMITH>"):
        assert "belongs to <@U07JMILLE>" in say(bot, REP, text)
    assert count_rows(bot) == before
    assert deal_row(bot, "vandelay").owner_id == OTHER_REP
    assert "Vandelay" in say(bot, OTHER_REP, "list")
    assert "Vandelay" not in say(bot, REP, "list")


def test_owner_hand_over_refusals(bot: BotHarness) -> None:
    say(bot, REP, "new Kramerica 2k")
    before = count_rows(bot)
    assert "belongs to <@U05OSMITH>" in say(bot, OTHER_REP, "owner kramerica <@U07JMILLE>")
    assert "already belongs to <@U05OSMITH>" in say(bot, REP, "owner kramerica <@U05OSMITH>")
    assert "Missing the person" in say(bot, REP, "owner kramerica")
    assert count_rows(bot) == before
    assert deal_row(bot, "kramerica").owner_id == REP


def test_stages_are_understood_by_the_names_shown_in_italian(bot: BotHarness) -> None:
    # The Italian help and cards call `proposal` "proposta": typing what one reads must work.
    assert "Ferrari" in say(bot, ITALIAN_REP, "new Ferrari 40k proposta")
    say(bot, ITALIAN_REP, "stage ferrari negoziazione")
    say(bot, ITALIAN_REP, "new Ducati 10k qualificata")
    with bot.services.db.transaction() as session:
        stages = {name: stage for name, stage in session.execute(select(Deal.name, Deal.stage))}
    assert stages == {"Ferrari": "negotiation", "Ducati": "qualified"}
    listing = say(bot, ITALIAN_REP, "list qualificata")
    assert "Ducati" in listing and "Ferrari" not in listing
    say(bot, ITALIAN_REP, "stage ducati persa budget tagliato")  # lost, with its reason
    with bot.services.db.transaction() as session:
        lost = session.execute(select(Deal.stage, Deal.lost_reason).where(Deal.name == "Ducati"))
        assert lost.one() == ("lost", "budget tagliato")
    assert "stage" in say(bot, REP, "stage ferrari proposal")  # the English names still work


def test_usage_lines_are_in_the_readers_language_and_shown_once(bot: BotHarness) -> None:
    italian = say(bot, ITALIAN_REP, "lost")
    assert "Uso: `/deal lost &lt;trattativa&gt; &lt;motivo&gt;`" in italian  # English before
    refused = say(bot, REP, "new ACME 50k 60k")
    assert refused.count("Usage:") == refused.count("You gave") == refused.count("&lt;name&gt;")
    assert "You gave the amount twice" in refused
    assert "due volte: l'importo" in say(bot, ITALIAN_REP, "new ACME 50k 60k")
    assert "<name>" not in refused  # escaped alike: `<` was raw in one and escaped in the other


def test_history_names_fields_in_the_readers_words(bot: BotHarness) -> None:
    say(bot, REP, "new Initech 40k")
    due = days_ahead(bot, 9)
    say(bot, REP, f"next initech send the quote due:{due}")
    say(bot, REP, "amount initech 55k")
    card = say(bot, REP, "show initech")
    assert "next_step_due" not in card and "currency" not in card
    assert f"due: — → {Texts('en').short_date(due)}" in card  # e.g. Thu 10 Dec 2026
    assert "amount: €40,000 → €55,000" in card
    italian = say(bot, ITALIAN_REP, "show initech")
    assert f"scadenza: — → {Texts('it').short_date(due)}" in italian  # gio 10 dic 2026
    assert "importo: 40.000\u00a0€ → 55.000\u00a0€" in italian


def test_the_italian_help_uses_the_italian_keywords_it_shows(bot: BotHarness) -> None:
    helped = say(bot, ITALIAN_REP, "help")
    assert (
        "[fonte:&lt;testo&gt;] [chiusura:&lt;data&gt;]" in helped
        and "scadenza:tra 3 giorni" in helped
    )
    # …and what the help shows works as shown.
    assert "Creata *Ducati*" in say(
        bot, ITALIAN_REP, "new Ducati 10k proposta chiusura:15/12 fonte:fiera"
    )
    assert "Prossimo passo per *Ducati*: richiamare" in say(
        bot, ITALIAN_REP, "next ducati richiamare scadenza:tra 3 giorni"
    )
