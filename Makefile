# Two commands for a newcomer: `make test` and `make demo`. Each creates .venv when missing.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test lint typecheck pytest reliability demo serve bench clean

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
