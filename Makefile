# Hearth — `make run` starts it on the embedded defaults, `make test` checks everything.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# `make run` needs only the runtime; `make test` adds the test tools (and the optional
# semantic FAQ stage, which the tests cover), about 500 MB more.
RUN_STAMP := $(VENV)/.installed-run
STAMP := $(VENV)/.installed-test
ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help run test lint typecheck pytest bench i18n clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# Setup output goes to stderr so `printf … | make run` prints only Hearth's lines on stdout.
$(RUN_STAMP): pyproject.toml
	@echo "setting up $(VENV) for running (first run or pyproject.toml changed)…" >&2
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) >&2
	@$(BIN)/python -m pip install --quiet --upgrade pip >&2
	@$(BIN)/python -m pip install --quiet -e . >&2
	@touch $(RUN_STAMP)

$(STAMP): pyproject.toml
	@echo "setting up $(VENV) for tests (first run or pyproject.toml changed)…" >&2
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) >&2
	@$(BIN)/python -m pip install --quiet --upgrade pip >&2
	@$(BIN)/python -m pip install --quiet -e '.[test]' >&2
	@touch $(STAMP) $(RUN_STAMP)

run: $(RUN_STAMP) ## Set up and start Hearth (console + SQLite unless tokens are configured)
	@$(BIN)/hearth run $(ARGS)

test: lint typecheck pytest ## Set up, then run ruff, mypy --strict and the test suite

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest $(ARGS)

bench: $(STAMP) ## Run the benchmarks (figures go to docs/performance.md)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python -m bench.ingest
	$(BIN)/python -m bench.points
	$(BIN)/python -m bench.faq

i18n: $(STAMP) ## Re-extract user-facing strings and update the catalogs
	$(BIN)/pybabel extract -k N_ --no-location --sort-output -o bot/locale/hearth.pot bot adapters
	$(BIN)/pybabel update -i bot/locale/hearth.pot -d bot/locale -D hearth --no-fuzzy-matching --ignore-obsolete --width 100

clean: ## Remove the virtualenv and caches
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
