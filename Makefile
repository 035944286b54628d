# Two commands for a newcomer: `make test` and `make demo`. Each creates .venv when missing.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test lint typecheck pytest test-any-day reliability demo serve bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

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

demo: $(STAMP)
	$(BIN)/pulsebot demo

serve: $(STAMP)
	$(BIN)/pulsebot serve

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
