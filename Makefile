# Two commands for a newcomer: `make test` and `make demo`. Each creates .venv when missing.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

LOCK := requirements.lock

.PHONY: install lock lock-check test lint typecheck pytest test-any-day reliability demo serve bench clean

# What is installed is requirements.lock: every package pinned, each file checked against its
# hash (pip, and setuptools and wheel that build pulsebot, included). Then pulsebot itself from
# this folder, adding nothing and downloading no build tools of its own.
$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

# The lock is written by pip-compile from pyproject.toml (runtime, the dev extra, the build
# requirements), for CPython 3.11. Pins already in it are kept where they still fit.
PIP_COMPILE = CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet --extra=dev \
	--all-build-deps --allow-unsafe --generate-hashes --strip-extras \
	--no-emit-index-url --no-emit-find-links --no-emit-trusted-host

# After changing the dependencies in pyproject.toml.
lock: $(STAMP)
	$(PIP_COMPILE) --output-file=$(LOCK) pyproject.toml

# CI: the lock is what `make lock` would write now, else pyproject.toml changed without it.
lock-check: $(STAMP)
	@fresh=$$(mktemp) && cp $(LOCK) $$fresh && \
	$(PIP_COMPILE) --output-file=$$fresh pyproject.toml && \
	if diff -u $(LOCK) $$fresh; then rm -f $$fresh; \
	else rm -f $$fresh; echo "$(LOCK) is out of date with pyproject.toml: run make lock" >&2; exit 1; fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck pytest

# The suite (SQLite) at dates that break date arithmetic: DST nights, 29 February, New Year's
# Eve... under Debian's faketime (apt-get install -y faketime). One moment of your own:
# make test-any-day AT=2027-06-15T12:00Z ZONE=Asia/Tokyo
test-any-day: $(STAMP)
	$(BIN)/python -m tests.any_day $(if $(AT),--at $(AT) --zone $(or $(ZONE),UTC)) $(if $(PYTEST_ARGS),-- $(PYTEST_ARGS))

# The slow reliability cases (kill -9 mid-job, Slack Web API outages, the load run); `make test`
# runs the quick ones. PostgreSQL cases need PULSEBOT_TEST_DATABASE_URL, like `make test`.
reliability: $(STAMP)
	$(BIN)/pytest tests/reliability -m slow $(PYTEST_ARGS)

# Over Socket Mode, as `pulsebot run` talks to Slack: make demo DEMO_ARGS=--socket-mode
demo: $(STAMP)
	$(BIN)/pulsebot demo $(DEMO_ARGS)

serve: $(STAMP)
	$(BIN)/pulsebot serve

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
