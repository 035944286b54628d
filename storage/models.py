"""Every model, imported in one place so that metadata (and Alembic) sees the whole schema."""

from __future__ import annotations

from storage.base import Base
from storage.deals import Deal, DealEvent, OwnerNudge
from storage.directory import DirectoryUser
from storage.leases import Instance
from storage.oneonones import OneOnOneNote, OneOnOneOccurrence, OneOnOneSeries, OneOnOneTopic
from storage.releases import SurveyRelease, SurveyResult
from storage.requests import HandledRequest
from storage.scheduling import ScheduledEffect
from storage.surveys import (
    Survey,
    SurveyAnswer,
    SurveyDelivery,
    SurveyInvitee,
    SurveyRespondent,
    SurveyRun,
)
from storage.upkeep import SurveyAnswerMark

__all__ = [
    "Base",
    "Deal",
    "DealEvent",
    "DirectoryUser",
    "HandledRequest",
    "Instance",
    "OneOnOneNote",
    "OneOnOneOccurrence",
    "OneOnOneSeries",
    "OneOnOneTopic",
    "OwnerNudge",
    "ScheduledEffect",
    "Survey",
    "SurveyAnswer",
    "SurveyAnswerMark",
    "SurveyDelivery",
    "SurveyInvitee",
    "SurveyRelease",
    "SurveyRespondent",
    "SurveyResult",
    "SurveyRun",
]
