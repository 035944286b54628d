"""Settings: fail fast, one line naming the variable, exit status 2, no secret echoed."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import PLACEHOLDER_SECRETS, ConfigError, load_settings
from tests.conftest import TEST_SECRET, make_settings
from tests.faketime_compat import child_python_path

REQUIRED = {
    "SLACK_BOT_TOKEN": "xoxb-1-2-abc",
    "SLACK_SIGNING_SECRET": "signing-secret",
    "PULSEBOT_SECRET": TEST_SECRET,
}


def clean_env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PULSEBOT_"))}
    env.pop("DATABASE_URL", None)
    env.update(values)
    return env


def test_defaults() -> None:
    settings = make_settings()
    assert settings.language == "en"
    assert settings.port == 3000
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.slack_app_token is None
    assert settings.min_responses == 3
    assert settings.managers == frozenset()
    assert (settings.summary_day, settings.summary_time) == ("mon", "09:00")


@pytest.mark.parametrize(("day", "expected"), [("fri", "fri"), ("Friday", "fri"), (" SUN ", "sun")])
def test_summary_day_takes_short_and_full_names(day: str, expected: str) -> None:
    settings = make_settings(PULSEBOT_SUMMARY_DAY=day, PULSEBOT_SUMMARY_TIME="17:30")
    assert settings.summary_day == expected
    assert (settings.summary_at.hour, settings.summary_at.minute) == (17, 30)


def test_managers_are_split_on_commas() -> None:
    settings = make_settings(PULSEBOT_MANAGERS="U01, U02 ,,W03")
    assert settings.managers == {"U01", "U02", "W03"}


def test_api_url_gets_its_trailing_slash() -> None:
    assert make_settings(SLACK_API_URL="http://127.0.0.1:9/api").slack_api_url == (
        "http://127.0.0.1:9/api/"
    )


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        pytest.param({"SLACK_BOT_TOKEN": "xoxp-user"}, "SLACK_BOT_TOKEN: must be a bot token", id="user_token"),
        pytest.param({"SLACK_APP_TOKEN": "xoxb-nope"}, "SLACK_APP_TOKEN: must be an app-level", id="bad_app_token"),
        pytest.param({"PULSEBOT_SECRET": "short"}, "PULSEBOT_SECRET: must be at least 32", id="short_secret"),
        pytest.param({"PULSEBOT_TIMEZONE": "Mars/Olympus"}, "PULSEBOT_TIMEZONE: is not an IANA", id="bad_timezone"),
        pytest.param({"PULSEBOT_LANGUAGE": "fr"}, "PULSEBOT_LANGUAGE:", id="unknown_language"),
        pytest.param({"PULSEBOT_PORT": "70000"}, "PULSEBOT_PORT:", id="port_out_of_range"),
        pytest.param({"PULSEBOT_MANAGERS": "U1,bob"}, "PULSEBOT_MANAGERS: must be Slack user ids like U012ABC, not bob", id="manager_not_an_id"),
        pytest.param({"PULSEBOT_MANAGERS_CHANNEL": "#managers"}, "PULSEBOT_MANAGERS_CHANNEL: must be a Slack channel id", id="channel_name"),
        pytest.param({"PULSEBOT_MIN_RESPONSES": "2"}, "PULSEBOT_MIN_RESPONSES:", id="threshold_below_floor"),
        pytest.param({"DATABASE_URL": "not a url"}, "DATABASE_URL: is not a database URL", id="bad_database_url"),
        pytest.param({"SLACK_API_URL": "slack.com/api"}, "SLACK_API_URL: must be an http(s) URL", id="api_url_without_scheme"),
        pytest.param({"PULSEBOT_SUMMARY_DAY": "someday"}, "PULSEBOT_SUMMARY_DAY: must be a day of the week: mon, tue", id="summary_day_unknown"),
        pytest.param({"PULSEBOT_SUMMARY_TIME": "25:00"}, "PULSEBOT_SUMMARY_TIME: must be a 24-hour time HH:MM", id="summary_time_out_of_range"),
        pytest.param({"PULSEBOT_SUMMARY_TIME": "9am"}, "PULSEBOT_SUMMARY_TIME: must be a 24-hour time HH:MM", id="summary_time_not_hh_mm"),
        pytest.param({"PULSEBOT_SUMMARY_TIME": "9:00"}, "PULSEBOT_SUMMARY_TIME: must be a 24-hour time HH:MM", id="summary_time_one_digit_hour"),
        pytest.param({"PULSEBOT_SUMMARY_TIME": "09.00"}, "PULSEBOT_SUMMARY_TIME: must be a 24-hour time HH:MM", id="summary_time_with_a_dot"),
    ],
)  # fmt: skip
def test_invalid_values_are_named(overrides: dict[str, str], expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None, **{**REQUIRED, **overrides})
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)


def test_missing_values_are_named() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None, SLACK_BOT_TOKEN="xoxb-1")
    message = str(caught.value)
    assert "SLACK_SIGNING_SECRET: is not set" in message
    assert "PULSEBOT_SECRET: is not set" in message


def test_secret_values_are_never_echoed() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None, **{**REQUIRED, "PULSEBOT_SECRET": "tiny-secret"})
    assert "tiny-secret" not in str(caught.value)


ENV_EXAMPLE = Path(__file__).resolve().parent.parent / ".env.example"


def test_the_env_example_placeholder_is_one_that_is_refused() -> None:
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    (value,) = [line.split("=", 1)[1] for line in lines if line.startswith("PULSEBOT_SECRET=")]
    assert value in PLACEHOLDER_SECRETS


@pytest.mark.parametrize(
    ("secret", "expected"),
    [
        # Each case passes every check but its own, so each check is shown to be needed.
        pytest.param("replace-me-with-the-output-of-pulsebot-secret", "is the placeholder from .env.example", id="placeholder"),
        pytest.param("change-me-to-a-long-random-string", "is the placeholder from .env.example", id="older_placeholder"),
        pytest.param("3f9a1c7e5b2d8f0a6c4e9b1d7a3f5c2", "must be at least 32 characters", id="31_characters"),
        pytest.param("z" * 64, "has too few different characters", id="one_character_repeated"),
        pytest.param("a7k2a7e2k7a2e7k2ae7k2a7e2ka7e2k7a2e7", "has too few different characters", id="five_characters"),
        pytest.param("Kx7#mP2$Qw9&" * 3, "repeats a short pattern", id="repeated_pattern"),
        pytest.param("abcdefghijklmnopqrstuvwxyz0123456789", "is mostly runs of neighbouring characters", id="alphabet"),
    ],
)  # fmt: skip
def test_a_guessable_secret_is_refused_with_how_to_make_one(secret: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None, **{**REQUIRED, "PULSEBOT_SECRET": secret})
    message = str(caught.value)
    assert message.startswith(f"PULSEBOT_SECRET: {expected}")
    assert message.endswith("; make one with `pulsebot secret`")
    assert secret not in message and "\n" not in message


def test_pulsebot_secret_prints_a_fresh_secret_that_is_accepted() -> None:
    made = [
        subprocess.run(
            [sys.executable, "-m", "bot", "secret"],
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
        for _ in range(2)
    ]
    first, second = (output.strip() for output in made)
    assert made[0] == first + "\n" and len(first) == 64 and int(first, 16) >= 0
    assert first != second
    assert load_settings(_env_file=None, **{**REQUIRED, "PULSEBOT_SECRET": first})


def test_serve_with_the_placeholder_secret_says_how_to_make_one(tmp_path: Path) -> None:
    env = clean_env(
        **{**REQUIRED, "PULSEBOT_SECRET": "replace-me-with-the-output-of-pulsebot-secret"}
    )
    result = subprocess.run(
        [sys.executable, "-m", "bot", "serve"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "pulsebot: configuration error: PULSEBOT_SECRET: is the placeholder from .env.example; "
        "make one with `pulsebot secret`"
    ]


@pytest.mark.parametrize("command", [["serve"], ["run"]])
def test_cli_exits_2_with_one_line(command: list[str]) -> None:
    env = clean_env(**{**REQUIRED, "PULSEBOT_TIMEZONE": "Nowhere/City"})
    result = subprocess.run(
        [sys.executable, "-m", "bot", *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "pulsebot: configuration error: PULSEBOT_TIMEZONE: is not an IANA time zone "
        "(e.g. Europe/Rome)"
    ]
    assert "Traceback" not in result.stderr
    for value in REQUIRED.values():
        assert value not in result.stderr + result.stdout


def test_cli_reads_dotenv_file(tmp_path: pytest.TempPathFactory) -> None:
    env_file = os.path.join(str(tmp_path), ".env")
    with open(env_file, "w", encoding="utf-8") as handle:
        handle.write("SLACK_BOT_TOKEN=xoxb-from-dotenv\nSLACK_SIGNING_SECRET=abc\n")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "serve"],
        env=clean_env(PYTHONPATH=child_python_path(os.getcwd())),
        cwd=str(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    # The two values from .env were taken; only the third is reported.
    assert result.stderr.strip() == ("pulsebot: configuration error: PULSEBOT_SECRET: is not set")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again when the probe goes


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        pytest.param(
            {"SLACK_API_URL": "http://127.0.0.1:{port}/api/"},
            "pulsebot: Slack's auth.test failed at http://127.0.0.1:{port}/api/: ",
            id="slack_unreachable",
        ),
        pytest.param(
            {"DATABASE_URL": "postgresql://nobody:hunter2-pw@127.0.0.1:{port}/none"},
            "pulsebot: the schema upgrade failed (exit status 1)",
            id="database_unreachable",
        ),
    ],
)
def test_serve_that_cannot_start_says_why_without_a_traceback(
    tmp_path: pytest.TempPathFactory, overrides: dict[str, str], expected: str
) -> None:
    port = str(_closed_port())
    values = {"DATABASE_URL": f"sqlite:///{tmp_path}/start.db", **REQUIRED}
    values |= {name: value.replace("{port}", port) for name, value in overrides.items()}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "serve", "--port", port],
        env=clean_env(**values),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith(expected.replace("{port}", port))
    assert "Traceback" not in result.stderr
    for value in ("hunter2-pw", *REQUIRED.values()):  # PULSEBOT_SECRET's value among them
        assert value not in result.stderr + result.stdout
    if "DATABASE_URL" in overrides:  # the child that upgrades the schema said what it met
        assert "pulsebot: cannot upgrade the database at DATABASE_URL: " in result.stderr


def test_confidence_is_90_or_95() -> None:
    assert load_settings(_env_file=None, **REQUIRED).confidence == 95
    assert load_settings(_env_file=None, **REQUIRED, PULSEBOT_CONFIDENCE="90").confidence == 90
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None, **{**REQUIRED, "PULSEBOT_CONFIDENCE": "99"})
    assert "PULSEBOT_CONFIDENCE:" in str(caught.value)
