# weft's everyday commands. `make run` starts a node, `make test` is what CI runs.

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV  := .venv
BIN   := $(VENV)/bin
STAMP := $(VENV)/.installed
# The PostgreSQL the tests use (trust auth); tests/conftest.py reads the same variable.
PG_URL := $(or $(WEFT_TEST_DATABASE_URL),postgresql://postgres@127.0.0.1:5432/test)
# `make bench BENCH=ingest` runs one benchmark (bench/bench_ingest.py).
BENCH ?=

.PHONY: help install run test lint pg-check bench clean

help:
	@echo "make run    start a node on ./data (creates the operator identity on first run)"
	@echo "make test   lint, type-check, check import contracts, run the tests (what CI runs)"
	@echo "make bench  run the benchmarks, write bench-results.json (BENCH=name for one)"
	@echo "make lint   ruff, mypy and import-linter only"
	@echo "make clean  remove .venv and caches (never ./data)"

install: $(STAMP)

# Reinstall only when pyproject.toml changes (or the venv is missing).
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

run: $(STAMP)
	exec $(BIN)/weft serve --data ./data

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

# Warn, do not stop: the PostgreSQL half of the tests then fails with its own message.
pg-check: $(STAMP)
	@if command -v pg_isready >/dev/null 2>&1; then \
	    pg_isready -q -d '$(PG_URL)'; \
	else \
	    $(BIN)/python -c 'import asyncio, asyncpg, sys; loop = asyncio.new_event_loop(); conn = loop.run_until_complete(asyncpg.connect(sys.argv[1], timeout=5)); loop.run_until_complete(conn.close())' '$(PG_URL)' >/dev/null 2>&1; \
	fi || { \
	    echo "!! PostgreSQL is not reachable at $(PG_URL)"; \
	    echo "!! The tests need it (trust auth, database 'test', user postgres); the PostgreSQL"; \
	    echo "!! half of them will fail. Start it, or point WEFT_TEST_DATABASE_URL at one."; \
	}

test: lint pg-check
	$(BIN)/pytest tests

bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis .import_linter_cache build
	rm -rf src/*.egg-info
	find . -name __pycache__ -type d -not -path './data/*' -prune -exec rm -rf {} +
