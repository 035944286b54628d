"""`make lock-check` (CI's first step) passes on the lock as it is, and fails once
pyproject.toml asks for something the lock was not written for. It asks PyPI, as pip-compile
does, so it is one of the slow cases."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def lock_check(folder: Path) -> subprocess.CompletedProcess[str]:
    # The repository's own .venv (its pip-compile), and no install step: STAMP is emptied.
    return subprocess.run(
        ["make", "-C", str(folder), "lock-check", f"VENV={ROOT / '.venv'}", "STAMP="],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_lock_check_fails_when_pyproject_changes_without_the_lock(tmp_path: Path) -> None:
    for name in ("Makefile", "pyproject.toml", "README.md", "requirements.lock"):
        shutil.copy(ROOT / name, tmp_path / name)
    agreed = lock_check(tmp_path)
    assert agreed.returncode == 0, agreed.stdout + agreed.stderr

    pyproject = tmp_path / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(text.replace('"click>=8.1,<9",', '"click>=8.1,<9",\n    "six>=1.16",'))
    stale = lock_check(tmp_path)
    assert stale.returncode != 0
    assert "requirements.lock is out of date with pyproject.toml: run make lock" in stale.stderr
    assert "+six==" in stale.stdout
    assert (tmp_path / "requirements.lock").read_text() == (ROOT / "requirements.lock").read_text()
