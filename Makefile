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
# The shs1-test suites (tests/sync/test_shs1_suite.py) are Node programs, installed once
# into ./node_modules from package-lock.json; this stamp says it has been done.
NODE_STAMP := node_modules/.weft-installed
# The browser tests (tests/web) drive Debian's Chromium through Playwright, which never
# downloads a browser of its own; installed here with apt-get when it is missing.
CHROMIUM := /usr/bin/chromium
# The server benchmark (bench/bench_server.py) loads the HTTP server with wrk, from Debian.
WRK := /usr/bin/wrk
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: help install node-tools browser run test lint pg-check bench clean

help:
	@echo "make run    start a node on ./data (creates the operator identity on first run)"
	@echo "make test   lint, type-check, check import contracts, run the tests (what CI runs;"
	@echo "           installs the shs1-test suites with npm and Debian's chromium the first time)"
	@echo "make bench  run the benchmarks, write bench-results.json (BENCH=name for one)"
	@echo "make lint   ruff, mypy and import-linter only"
	@echo "make clean  remove .venv and caches (never ./data)"

install: $(STAMP)

# Reinstall only when pyproject.toml changes (or the venv is missing).
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

# --ignore-scripts: no third-party install scripts; the suites' crypto then runs on the
# JavaScript build of libsodium, which is all they need.
node-tools: $(NODE_STAMP)

$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { \
	    echo "!! make test needs node and npm: the shs1-test suites check the secret handshake"; \
	    exit 1; }
	npm ci --ignore-scripts --no-audit --no-fund
	@touch $@

browser: $(CHROMIUM)

$(CHROMIUM):
	@command -v apt-get >/dev/null 2>&1 || { \
	    echo "!! make test needs Chromium at $(CHROMIUM) for the browser tests; install it"; exit 1; }
	$(SUDO) apt-get install -y --no-install-recommends chromium \
	    || { $(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends chromium; }

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

test: lint pg-check $(NODE_STAMP) $(CHROMIUM)
	$(BIN)/pytest tests

bench: $(STAMP) $(WRK)
	$(BIN)/python -m bench $(BENCH)

$(WRK):
	@command -v apt-get >/dev/null 2>&1 || { echo "!! make bench needs wrk at $(WRK); install it"; exit 1; }
	$(SUDO) apt-get install -y --no-install-recommends wrk \
	    || { $(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends wrk; }

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis .import_linter_cache build
	rm -rf src/*.egg-info
	find . -name __pycache__ -type d -not -path './data/*' -prune -exec rm -rf {} +
