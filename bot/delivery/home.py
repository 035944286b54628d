"""What goes on a person's App Home tab, gathered from every part of the bot."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.views import View

from bot.actor import Actor
from bot.deals.metrics import pipeline_glance
from bot.directory import UserRecord
from bot.i18n import Language, Texts
from bot.services import Services
from bot.summary import run_summary
from bot.views.deals import home_section
from bot.views.home import ManagerGlance, home_view
from bot.views.oneonones import home_section as oneonone_section

HOME_DEALS = 12
HOME_PAST_SURVEYS = 3


def manager_glance(services: Services, now: datetime) -> ManagerGlance:
    """The latest closed run (through the results threshold) and the pipeline in three numbers."""
    latest = services.surveys.latest_closed(now)
    pipeline = pipeline_glance(services.deals.db, services.deals.pipeline, now)
    return ManagerGlance(
        latest=run_summary(services.surveys, latest) if latest else None,
        min_responses=services.settings.min_responses,
        open_count=pipeline.open_count,
        weighted=pipeline.weighted,
        stale_count=pipeline.stale_count,
        currency=services.settings.currency,
    )


def build_home(
    services: Services, user: UserRecord, *, is_manager: bool, language: Language
) -> View:
    texts = Texts(language)
    now = services.clock()
    deals, total = services.deals.list_deals(
        Actor(user.user_id, is_manager=is_manager),
        owner_id=user.user_id,
        stages=services.deals.pipeline.open_names,
        limit=HOME_DEALS,
    )
    open_surveys, answered = services.surveys.home_surveys(user.user_id, HOME_PAST_SURVEYS)
    return home_view(
        texts,
        name=user.greeting_name,
        is_manager=is_manager,
        deal_blocks=home_section(texts, deals, total, language, services.settings.currency),
        open_surveys=open_surveys,
        answered=answered,
        glance=manager_glance(services, now) if is_manager else None,
        oneonone_blocks=oneonone_section(
            texts,
            services.oneonones.overview(user.user_id),
            user.user_id,
            user.zone(services.settings.zone),
        ),
    )
