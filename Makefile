# make run   serve the gateway with demo data on http://127.0.0.1:8000
# make test  lint, format check, type check and the test suite
# Both create .venv and install the project into it when needed; only python3 (3.11+),
# make and git are assumed.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null)
VENV := .venv
BIN := $(VENV)/bin
# Reinstall whenever pyproject.toml is newer than the last install.
INSTALLED := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
TYPED := shared gateway v2 legacy_flask migrations bench examples/notes/notes_app examples/notes/notes_v2

.PHONY: help setup run test lint typecheck pytest-sqlite pytest-postgres pytest-processes bench

help:
	@echo "make run   - serve the gateway with demo data on http://$(HOST):$(PORT)"
	@echo "make test  - ruff, mypy and pytest on SQLite and on PostgreSQL"
	@echo "make bench - v2 / legacy and gateway / gunicorn ratios on real servers"

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "python3.11 (or python3 >= 3.11) not found" >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "$(PYTHON) is older than Python 3.11" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

setup: $(INSTALLED)

# The Conduit example: its schema and demo data (its own command, run from this folder as a
# team's own app would be), then the gateway, which reads ./migration.toml and upgrades only
# its own records.
run: setup
	$(BIN)/python -m shared.cli demo
	$(BIN)/gateway serve --host $(HOST) --port $(PORT)

# Not part of `test`: load against real servers, SQLite then a throw-away PostgreSQL; the
# table goes to bench/results/<date>-compare.md. wrk and nginx (the front of the two-service
# deployment the gateway is compared with) come from Debian's packages; nginx is looked for
# in /usr/sbin too, which a user's PATH may lack.
bench: setup
	@command -v wrk >/dev/null || { apt-get install -y wrk || { apt-get update && apt-get install -y wrk; }; }
	@command -v nginx >/dev/null || test -x /usr/sbin/nginx \
		|| { apt-get install -y nginx || { apt-get update && apt-get install -y nginx; }; }
	$(BIN)/python bench/compare.py --database sqlite
	$(BIN)/python -m tests.postgres $(BIN)/python bench/compare.py --database postgresql

# Each pytest pass is its own target, added to `test`; pytest exits non-zero (5) when it
# collects nothing, so an empty pass fails too. Each runs on PYTEST_WORKERS processes
# (pytest-xdist), a test file's tests on one of them, so its module fixtures start once.
PYTEST_WORKERS ?= 2
PYTEST := $(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile
test: lint typecheck pytest-sqlite pytest-postgres pytest-processes

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy $(TYPED)

# The SQLite pass must not pick up a server URL exported in the caller's environment.
pytest-sqlite: setup
	env -u GATEWAY_TEST_DATABASE_URL $(PYTEST)

# The suite again on a throw-away PostgreSQL 15 server (PG_BIN overrides where its binaries
# are); tests/postgres.py starts it, sets GATEWAY_TEST_DATABASE_URL and removes it afterwards.
# Only the tests that reach the database run again (tests/conftest.py): the others run the
# same whatever the database, and the SQLite pass has run them.
pytest-postgres: setup
	$(BIN)/python -m tests.postgres env GATEWAY_TEST_DATABASE_ONLY=1 $(PYTEST)

# The legacy app served by processes of its own (legacy_processes), the production mode: the
# tests of what it must keep (the legacy mount, the edge, the contract's legacy side, the
# shadow) pass again in that mode, on PostgreSQL; tests/gateways.py reads the variable.
PROCESS_TESTS := tests/gateway/mounts/legacy/test_mount.py tests/gateway/mounts/legacy/test_buffering.py \
	tests/gateway/mounts/legacy/test_environ.py tests/gateway/edge tests/contract \
	tests/gateway/shadow/test_runner.py tests/gateway/shadow/test_process.py
pytest-processes: setup
	$(BIN)/python -m tests.postgres env GATEWAY_TEST_LEGACY_PROCESSES=2 $(PYTEST) $(PROCESS_TESTS)
