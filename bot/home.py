"""What goes on a person's App Home tab, gathered from every part of the bot."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.views import View

from bot.config import Language
from bot.i18n import Texts
from bot.oneonones.service import overview as oneonone_overview
from bot.parsing.money import MoneyByCurrency, add_amount
from bot.services import Services
from bot.summary import run_summary
from bot.surveys.anonymity import respondent_key
from bot.surveys.jobs import policy_of
from bot.surveys.model import SurveyDefinition
from bot.views.deals import home_section
from bot.views.home import AnsweredSurvey, ManagerGlance, OpenSurvey, home_view
from bot.views.oneonones import home_section as oneonone_section
from storage import deals as deal_store
from storage import summary as summary_store
from storage import surveys as survey_store
from storage.directory import UserRecord

HOME_DEALS = 12
HOME_PAST_SURVEYS = 3


def survey_sections(
    services: Services, user_id: str, now: datetime
) -> tuple[list[OpenSurvey], list[AnsweredSurvey]]:
    """Open runs to answer, and the person's own past answers, looked up by their HMAC key.

    The key is computed here from the secret and never leaves this function; answers are
    never found by user id, because none is stored with them.
    """
    secret = services.settings.secret.get_secret_value()
    open_surveys: list[OpenSurvey] = []
    answered: list[AnsweredSurvey] = []
    with services.db.transaction() as session:
        for run in survey_store.open_runs_for(session, user_id, now):
            if run.closes_at <= now:
                continue
            mine = survey_store.answers_of(session, run.id, respondent_key(secret, run.id, user_id))
            open_surveys.append(
                OpenSurvey(
                    run.id, SurveyDefinition.from_json(run.definition), run.closes_at, bool(mine)
                )
            )
        past_runs = summary_store.answered_runs(
            session,
            user_id,
            lambda run_id: respondent_key(secret, run_id, user_id),
            HOME_PAST_SURVEYS,
        )
        for past in past_runs:
            mine = survey_store.answers_of(
                session, past.run_id, respondent_key(secret, past.run_id, user_id)
            )
            answered.append(
                AnsweredSurvey(
                    SurveyDefinition.from_json(past.definition),
                    past.closes_at,
                    {a.question: (a.number, a.text) for a in mine},
                )
            )
    open_surveys.sort(key=lambda s: s.closes_at)
    return open_surveys, answered


def manager_glance(services: Services, now: datetime) -> ManagerGlance:
    """The latest closed run (through the results threshold) and the pipeline in three numbers."""
    settings = services.settings
    pipeline = settings.pipeline
    with services.db.transaction() as session:
        latest = summary_store.runs_closed_before(session, now, 1)
        totals = deal_store.stage_totals(session, pipeline.probabilities)
        stale = summary_store.stale_count(session, pipeline.stale_days, now)
    weighted: MoneyByCurrency = {}
    for row in totals:
        add_amount(weighted, row.currency, row.weighted)
    return ManagerGlance(
        latest=run_summary(services.db, policy_of(services), latest[0]) if latest else None,
        min_responses=settings.min_responses,
        open_count=sum(row.count for row in totals),
        weighted=weighted,
        stale_count=stale,
        currency=settings.currency,
    )


def build_home(
    services: Services, user: UserRecord, *, is_manager: bool, language: Language
) -> View:
    texts = Texts(language)
    now = services.clock()
    deals, total = services.deals.list_deals(
        owner_id=user.user_id, stages=services.deals.pipeline.open_names, limit=HOME_DEALS
    )
    open_surveys, answered = survey_sections(services, user.user_id, now)
    return home_view(
        texts,
        name=user.display_name,
        is_manager=is_manager,
        deal_blocks=home_section(texts, deals, total, language, services.settings.currency),
        open_surveys=open_surveys,
        answered=answered,
        glance=manager_glance(services, now) if is_manager else None,
        oneonone_blocks=oneonone_section(
            texts,
            oneonone_overview(services.db, user.user_id),
            user.user_id,
            user.zone(services.settings.zone),
        ),
    )
