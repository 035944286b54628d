"""A modal closed without submitting: acknowledged, nothing to undo.

Slack sends view_closed only for modals opened with notify_on_close; none of ours are, but an
unacknowledged delivery would be a 404 and Slack's error log would fill with them.
"""

from __future__ import annotations

import re

from slack_bolt import Ack, App


def modal_closed(ack: Ack) -> None:
    ack()


def register(app: App) -> None:
    app.view_closed(re.compile(".*"))(modal_closed)
