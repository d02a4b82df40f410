# ProloTrack: `make run` serves the demo clinic, `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
HOST ?= 127.0.0.1
PORT ?= 8000
# Links in emails and calendar feeds (PROLOTRACK_SITE_URL) point at the address served, unless set in the environment.
SITE_URL ?= http://$(if $(filter 0.0.0.0,$(HOST)),127.0.0.1,$(HOST)):$(PORT)
PG_URL ?= postgresql://postgres@127.0.0.1:5432/test

.PHONY: run run-cluster serve install install-dev browser-deps test lint test-pg test-clock check-deploy bench clean help messages

help:
	@echo "make run       install, migrate, load the demo clinic and serve http://$(HOST):$(PORT)"
	@echo "make run-cluster  DATABASE_URL=postgresql://... : two web processes behind HAProxy on :8000, worker, scheduler"
	@echo "make test      install and run every check (lint, migrations, import contract, mypy, tests, browser tests)"
	@echo "make test-pg   the database tests against PostgreSQL at DATABASE_URL (default $(PG_URL))"
	@echo "make test-clock  the suite at fixed wall clocks on the day's edges, under libfaketime (not in CI)"
	@echo "make bench     the benchmarks in bench/ (see docs/PERFORMANCE.md)"
	@echo "make messages  collect the patient-facing strings into each language's .po, compile the .mo (docs/LANGUAGES.md)"

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-run: requirements.txt constraints.txt | $(VENV)/bin/python
	$(PIP) install -r requirements.txt -c constraints.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt constraints.txt $(VENV)/.installed-run
	$(PIP) install -r requirements-dev.txt -c constraints.txt
	touch $@

install: $(VENV)/.installed-run
install-dev: $(VENV)/.installed-dev

# Debian's Chromium for the browser tests (Playwright cannot download its own browser here).
browser-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "Installing Debian's chromium for the browser tests..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; \
	fi

run: install
	@mkdir -p data
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py createcachetable
	PROLOTRACK_SITE_URL="$${PROLOTRACK_SITE_URL:-$(SITE_URL)}" $(PY) manage.py seed_demo
	@echo "Serving ProloTrack at http://$(HOST):$(PORT)/  (Ctrl-C to stop)"
	@# The web server, the reminder scheduler and the background task worker, stopped together (docs/MESSAGING.md).
	@# Plain log lines on the terminal that runs it; production keeps JSON (PROLOTRACK_LOG_FORMAT, docs/OPERATIONS.md).
	PROLOTRACK_LOG_FORMAT="$${PROLOTRACK_LOG_FORMAT:-text}" PROLOTRACK_SITE_URL="$${PROLOTRACK_SITE_URL:-$(SITE_URL)}" $(PY) -m prolotrack.messaging.run_all --host=$(HOST) --port=$(PORT)

# The patient-facing catalogues (docs/LANGUAGES.md): every marked string into each language's .po (new ones empty,
# to translate), then the compiled .mo that is committed, so a machine without gettext serves them. Needs GNU gettext.
MESSAGE_LANGUAGES ?= es
messages: install
	$(PY) manage.py makemessages $(addprefix -l ,$(MESSAGE_LANGUAGES)) --no-obsolete \
	  --ignore=tests --ignore=bench --ignore=test-artifacts --ignore=data --ignore=staticfiles
	$(PY) manage.py compilemessages $(addprefix -l ,$(MESSAGE_LANGUAGES)) --ignore=.venv --ignore=node_modules

# Two web processes, the task worker and the scheduler (Procfile.cluster) and HAProxy giving both web processes one port,
# against the PostgreSQL database of DATABASE_URL (docs/OPERATIONS.md, "Several web processes on one machine").
CLUSTER_PORT ?= 8000
run-cluster: install
	@test -n "$$DATABASE_URL" || { echo "make run-cluster: set DATABASE_URL=postgresql://user@host:5432/name"; exit 2; }
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py createcachetable
	PROLOTRACK_SITE_URL="$${PROLOTRACK_SITE_URL:-http://127.0.0.1:$(CLUSTER_PORT)}" $(PY) manage.py seed_demo
	PROLOTRACK_WEB_WORKERS="$${PROLOTRACK_WEB_WORKERS:-2}" $(PY) -m prolotrack.ops.cluster --port=$(CLUSTER_PORT)

lint: install-dev
	@mkdir -p data
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run -v1
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

check-deploy: install-dev
	PROLOTRACK_DEBUG=0 PROLOTRACK_SECRET_KEY=check-deploy-$$RANDOM-$$RANDOM-$$RANDOM-$$RANDOM-$$RANDOM-$$RANDOM-long-enough \
	  PROLOTRACK_ALLOWED_HOSTS=prolotrack.example.org $(PY) manage.py check --deploy --fail-level WARNING

# The suite spreads over the cores (pytest-xdist, each worker its own database and browser); TEST_WORKERS=0 runs it in
# one process. --durations lists the 30 slowest tests, to watch the CI budget (25 minutes, docs/CONTRIBUTING.md).
TEST_WORKERS ?= 2
test: install-dev browser-deps lint check-deploy
	$(PY) -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadgroup --durations=30

# The PostgreSQL run: every test that opens a database connection (the others cannot reach one and ran on SQLite;
# docs/OPERATIONS.md, "Tests on PostgreSQL"), no browser tests, spread over the cores (each worker its own database).
PG_WORKERS ?= 2
test-pg: install-dev
	DATABASE_URL=$${DATABASE_URL:-$(PG_URL)} $(PY) -m pytest -q -m "not browser" --database-tests-only -p no:cacheprovider -n $(PG_WORKERS) --dist loadgroup --durations=30

# The suite as `make test` runs it, once per fixed wall clock on the day's edges in the tests' clinic zones (Chicago
# late evening and after hours, a weekend, both changes of clocks, New Year's Eve), under libfaketime: tests/clock/run,
# docs/CONTRIBUTING.md "Time in tests". Not in .ci/run (one suite run per clock). CLOCKS="2026-12-08 05:30:00" (UTC;
# several separated by ';') picks the clocks, MACHINE_TZ the machine's zone.
test-clock: install-dev browser-deps
	tests/clock/run

bench: install-dev
	$(PY) bench/pages.py

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache .mypy_cache
