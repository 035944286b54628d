"""pulsebot: pulse and eNPS surveys and a sales pipeline, in Slack."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def _installed_version() -> str:
    # From the package metadata (pyproject.toml's `version`), so there is one place to bump it.
    try:
        return version("pulsebot")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "0+unknown"


__version__ = _installed_version()
