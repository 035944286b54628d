"""Every model, imported in one place so that metadata (and Alembic) sees the whole schema."""

from __future__ import annotations

from storage.base import Base
from storage.directory import DirectoryUser
from storage.requests import HandledRequest
from storage.surveys import Survey, SurveyAnswer, SurveyDelivery, SurveyParticipant, SurveyRun

__all__ = [
    "Base",
    "DirectoryUser",
    "HandledRequest",
    "Survey",
    "SurveyAnswer",
    "SurveyDelivery",
    "SurveyParticipant",
    "SurveyRun",
]
