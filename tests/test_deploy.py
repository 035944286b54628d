"""The files in deploy/ and .env.example: valid, and naming every setting there is."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from bot.config import Settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"


def settings_names() -> set[str]:
    return {str(field.validation_alias) for field in Settings.model_fields.values()}


def env_names(path: Path) -> set[str]:
    lines = path.read_text().splitlines()
    return {line.split("=", 1)[0] for line in lines if line and not line.startswith("#")}


@pytest.mark.parametrize("env_file", ["deploy/production.env", ".env.example"])
def test_env_files_name_every_setting_and_nothing_else(env_file: str) -> None:
    assert env_names(ROOT / env_file) == settings_names()


def test_production_env_needs_its_secrets_filled_in() -> None:
    from bot.config import ConfigError, load_settings

    with pytest.raises(ConfigError) as refused:
        load_settings(_env_file=DEPLOY / "production.env")
    assert "PULSEBOT_SECRET: is the placeholder from .env.example" in str(refused.value)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_unit_verifies(tmp_path: Path) -> None:
    # The unit as installed, its paths pointed at this checkout (verify checks they exist).
    unit = (DEPLOY / "pulsebot.service").read_text()
    unit = unit.replace("/opt/pulsebot/venv/bin/pulsebot", str(ROOT / ".venv/bin/pulsebot"))
    unit = unit.replace("/etc/pulsebot/pulsebot.env", str(DEPLOY / "production.env"))
    (tmp_path / "pulsebot.service").write_text(unit)
    done = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / "pulsebot.service")],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "pulsebot.service" not in done.stderr, done.stderr


def test_proxies_publish_slack_events_only() -> None:
    for name in ("Caddyfile", "nginx.conf"):
        text = (DEPLOY / name).read_text()
        routes = [
            line.strip()
            for line in text.splitlines()
            if line.strip().startswith(("handle /", "location ", "reverse_proxy ", "proxy_pass "))
        ]
        assert any("/slack/events" in route for route in routes)
        assert not any("/healthz" in route or "/metrics" in route for route in routes)
        assert "127.0.0.1:3000" in text
        assert "keepalive" in text  # under pulsebot's 10 s idle timeout
