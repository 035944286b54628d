"""The application's long-lived parts, built once and handed to every listener and job."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk import WebClient

from bot.background import Background
from bot.clock import Clock, system_clock
from bot.config import Settings
from bot.deals.service import DealService
from bot.directory import Directory
from bot.leases import Leases
from bot.oneonones.service import OneOnOneService
from bot.surveys.service import SurveyService
from storage.db import Database


@dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database
    client: WebClient
    directory: Directory
    deals: DealService
    surveys: SurveyService
    oneonones: OneOnOneService
    background: Background
    # This instance's leases on the work it claims (bot.leases).
    leases: Leases
    # Every "now" the listeners and jobs use; tests and the demo give a FrozenClock.
    clock: Clock = system_clock
