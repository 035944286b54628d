"""The anonymous respondent key: HMAC-SHA256 of run and user under PULSEBOT_SECRET."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Collection, Iterable


def respondent_key(secret: str, run_id: int, user_id: str) -> str:
    """Stable per run and person, so answers can be changed; meaningless without the secret.

    Keyed per run, so one person's answers to two runs cannot be linked either.
    """
    message = f"pulsebot.respondent.v1:{run_id}:{user_id}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def answered_among(
    secret: str, run_id: int, user_ids: Iterable[str], respondents: Collection[str]
) -> frozenset[str]:
    """Which of these people answered a run: those whose key is among its respondents.

    The only way from a person to their answers goes through the secret, held in memory.
    """
    return frozenset(u for u in user_ids if respondent_key(secret, run_id, u) in respondents)
