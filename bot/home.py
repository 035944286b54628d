"""What goes on a person's App Home tab, gathered from every part of the bot."""

from __future__ import annotations

from slack_sdk.models.views import View

from bot.config import Language
from bot.i18n import Texts
from bot.services import Services
from bot.views.deals import home_section
from bot.views.home import home_view
from storage.directory import UserRecord

HOME_DEALS = 12


def build_home(
    services: Services, user: UserRecord, *, is_manager: bool, language: Language
) -> View:
    texts = Texts(language)
    deals, total = services.deals.list_deals(
        owner_id=user.user_id, stages=services.deals.pipeline.open_names, limit=HOME_DEALS
    )
    return home_view(
        texts,
        name=user.display_name,
        is_manager=is_manager,
        deal_blocks=home_section(texts, deals, total, language, services.settings.currency),
    )
