"""`make demo`, a newcomer's first command, as a test: the whole story runs and Slack accepts it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_the_demo_tells_the_whole_story_offline(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PULSEBOT_"))}
    env.pop("DATABASE_URL", None)  # the embedded SQLite default, as on a fresh clone
    finished = subprocess.run(
        [sys.executable, "-m", "bot", "demo"],
        check=False,  # the output is what the assertion shows
        cwd=tmp_path,  # the chart it saves goes here
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    output = finished.stdout
    assert finished.returncode == 0, output + finished.stderr
    # Each scene the README promises, and every Web API call it made accepted by the stand-in.
    for scene in (
        "/deal pipeline",
        "[Snooze 7 days]",  # the stale-deal nudge
        "eNPS +",  # the manager reads the results
        "/oneonone add",
        "Weighted pipeline",  # the weekly summary
    ):
        assert scene in output, scene
    assert "all answered" in output.splitlines()[-1]
    assert list((tmp_path / "demo-output").glob("*.png"))
