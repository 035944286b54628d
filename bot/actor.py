"""Who is asking: what every permission check in the services needs to know of a person."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    user_id: str
    is_manager: bool = False
    # Slack's guests (single- and multi-channel): pulsebot is for the team, not for them.
    is_guest: bool = False
