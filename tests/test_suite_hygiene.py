"""The test suite's own manners: no files left in the working directory, short `-ra` output."""

from __future__ import annotations

import tomllib
import warnings
from pathlib import Path

import pytest
from setuptools import SetuptoolsDeprecationWarning  # type: ignore[import-untyped]
from setuptools.config.pyprojecttoml import apply_configuration  # type: ignore[import-untyped]
from setuptools.dist import Distribution  # type: ignore[import-untyped]

from bot.app import build_services
from tests.conftest import fold_skips_by_reason, make_settings


def test_services_built_from_default_test_settings_write_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A relative sqlite:///unused.db used to appear (with -wal and -shm) wherever pytest ran.
    monkeypatch.chdir(tmp_path)
    services = build_services(make_settings())
    services.background.shutdown()
    services.db.dispose()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def _skip(path: str, line: int, reason: str) -> pytest.TestReport:
    return pytest.TestReport(
        nodeid=f"{path}::t{line}",
        location=(path, line, f"t{line}"),
        keywords={},
        outcome="skipped",
        longrepr=(path, line, reason),
        when="setup",
    )


def test_skips_of_one_reason_fold_into_one_line() -> None:
    postgres = "PostgreSQL tests skipped: PULSEBOT_TEST_DATABASE_URL is not set"
    reports = [
        _skip("/repo/tests/test_a.py", 10, postgres),
        _skip("/repo/tests/test_a.py", 20, postgres),
        _skip("/repo/tests/sub/test_b.py", 5, postgres),
        _skip("/repo/tests/test_c.py", 7, "needs faketime"),
    ]
    fold_skips_by_reason(reports)
    assert {r.longrepr for r in reports} == {
        ("/repo/tests", None, postgres),
        ("/repo/tests/test_c.py", 7, "needs faketime"),
    }


def test_installing_prints_no_setuptools_deprecation() -> None:
    # `project.license = { text = "MIT" }` printed a SetuptoolsDeprecationWarning three times
    # per install; an SPDX string (setuptools >= 77) does not.
    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    with warnings.catch_warnings():
        warnings.simplefilter("error", SetuptoolsDeprecationWarning)
        distribution = apply_configuration(Distribution(), str(pyproject))
    assert distribution.metadata.license_expression == "MIT"
    requires = tomllib.loads(pyproject.read_text())["build-system"]["requires"]
    assert "setuptools>=77" in requires
