"""`make demo`, a newcomer's first command, as a test: the whole story runs and Slack accepts it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path


def run_demo(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PULSEBOT_"))}
    env.pop("DATABASE_URL", None)  # the embedded SQLite default, as on a fresh clone
    return subprocess.run(
        [sys.executable, "-m", "bot", "demo", *args],
        check=False,  # the output is what the assertion shows
        cwd=tmp_path,  # the chart it saves goes here
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


# Slack markup a person never sees: user and channel ids, date tokens, HTML escapes.
RAW_MARKUP = re.compile(r"<@U|<#C|<!date|&lt;|&gt;|&amp;")


def test_the_demo_tells_the_whole_story_offline(tmp_path: Path) -> None:
    finished = run_demo(tmp_path)
    output = finished.stdout
    assert finished.returncode == 0, output + finished.stderr
    # Each scene the README promises, and every Web API call it made accepted by the stand-in.
    for scene in (
        "/deal pipeline",
        "[Snooze 7 days]",  # the stale-deal nudge
        "eNPS +",  # the manager reads the results
        "/oneonone add",
        "Weighted pipeline",  # the weekly summary
        "nella variabilità normale, non è un vero cambiamento",  # a change that is noise
        "un cambiamento reale, oltre la variabilità normale",  # and one that is not
        "within normal variation, not a real change",  # in the summary, in English
    ):
        assert scene in output, scene
    assert "all answered" in output.splitlines()[-1]
    assert list((tmp_path / "demo-output").glob("*.png"))
    # Read as a person would: names and dates, not <@U05OSMITH> and <!date^…>.
    assert not RAW_MARKUP.findall(output), sorted(set(RAW_MARKUP.findall(output)))
    assert "@Oliver Smith" in output and "week of" in output


def test_the_demo_in_italian(tmp_path: Path) -> None:
    finished = run_demo(tmp_path, "--language", "it")
    output = finished.stdout
    assert finished.returncode == 0, output + finished.stderr
    for scene in (
        "scrive: /deal pipeline",
        "Pipeline ponderata",
        "rilevazione",
        "settimana del",
        "Riepilogo settimanale",
        "nella variabilità normale, non è un vero cambiamento",  # a change that is noise
        "un cambiamento reale, oltre la variabilità normale",  # and one that is not
    ):
        assert scene in output, scene
    assert not RAW_MARKUP.findall(output), sorted(set(RAW_MARKUP.findall(output)))
    assert "tutte con risposta" in output.splitlines()[-1]
    for english in ("Usage:", "Weighted pipeline", "types:", " deals,", "week of"):
        assert english not in output, english
