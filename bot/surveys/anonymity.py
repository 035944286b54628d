"""The anonymous respondent key: HMAC-SHA256 of run and user under PULSEBOT_SECRET."""

from __future__ import annotations

import hashlib
import hmac


def respondent_key(secret: str, run_id: int, user_id: str) -> str:
    """Stable per run and person, so answers can be changed; meaningless without the secret.

    Keyed per run, so one person's answers to two runs cannot be linked either.
    """
    message = f"pulsebot.respondent.v1:{run_id}:{user_id}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
