"""requirements.lock is what `make install` installs, and it agrees with pyproject.toml: every
package pyproject.toml asks for is pinned there at a version it accepts, with hashes.

(The full check, that the lock is what pip-compile would write now, is `make lock-check`, run
by CI; tests/reliability/test_lock.py shows it failing on a dependency added without it.)
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9._-]+)==(\S+)")
HASH = re.compile(r"--hash=sha256:[0-9a-f]{64}")


def locked(lock: str) -> dict[str, tuple[str, int]]:
    """Each package of the lock: its pinned version and how many hashes it has."""
    pins: dict[str, tuple[str, int]] = {}
    for entry in re.split(r"\n(?=\S)", lock):
        if match := PIN.match(entry):
            name, version = match.groups()
            pins[canonicalize_name(name)] = (version, len(HASH.findall(entry)))
    return pins


def wanted(pyproject: str) -> list[Requirement]:
    """Everything pyproject.toml asks for: to run, to develop (the dev extra), to build."""
    project = tomllib.loads(pyproject)
    return [
        Requirement(line)
        for line in (
            *project["project"]["dependencies"],
            *project["project"]["optional-dependencies"]["dev"],
            *project["build-system"]["requires"],
        )
    ]


def out_of_date(pyproject: str, lock: str) -> list[str]:
    pins = locked(lock)
    problems = [f"{name} has no hash" for name, (_, hashes) in pins.items() if not hashes]
    for requirement in wanted(pyproject):
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        pinned = pins.get(canonicalize_name(requirement.name))
        if pinned is None:
            problems.append(f"{requirement} is not in the lock")
        elif not requirement.specifier.contains(pinned[0], prereleases=True):
            problems.append(f"{requirement} does not accept the locked {pinned[0]}")
    return problems


def test_the_lock_pins_all_that_pyproject_asks_for_with_hashes() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    lock = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    assert out_of_date(pyproject, lock) == [], "run `make lock`"
    assert {"pip", "setuptools", "wheel", "pip-tools"} <= set(locked(lock))


def test_a_dependency_added_or_changed_without_the_lock_is_seen() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    lock = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    added = pyproject.replace('"click>=8.1,<9",', '"click>=8.1,<9",\n    "six>=1.16",')
    narrowed = pyproject.replace('"click>=8.1,<9",', '"click>=8.1,<8.2",')
    assert pyproject not in (added, narrowed)
    assert out_of_date(added, lock) == ["six>=1.16 is not in the lock"]
    (problem,) = out_of_date(narrowed, lock)
    assert problem.startswith("click<8.2,>=8.1 does not accept the locked")
    unhashed = re.sub(r"(?m)^(click==\S+) \\\n(?:\s+--hash=\S+(?: \\)?\n)+", r"\1\n", lock)
    assert out_of_date(pyproject, unhashed) == ["click has no hash"]


def test_make_install_installs_the_lock_and_checks_every_hash() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("$(STAMP): pyproject.toml $(LOCK)\n", 1)[1].split("\n\n", 1)[0]
    installs = [line.strip() for line in recipe.splitlines() if "pip install" in line]
    assert installs == [
        "$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)",
        "$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .",
    ]
    assert "LOCK := requirements.lock" in makefile
    assert "make lock-check" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
