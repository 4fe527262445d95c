# The two commands: `make demo` and `make test`. Everything else here serves them.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q

# Test settings: the real PostgreSQL and Redis on this machine (see scripts/ensure_services.sh).
TEST_ENV := DJANGO_DEBUG=1 \
	DATABASE_URL=$${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/wildfire_cs} \
	REDIS_URL=$${TEST_REDIS_URL:-redis://127.0.0.1:6379/5} \
	CS_VAR_DIR=$(CURDIR)/var/test

.PHONY: demo test bench lint types migrations-check pytest services messages clean

$(VENV)/.runtime: requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -r requirements.txt
	@touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(PIP) install -r requirements-dev.txt
	@touch $@

## demo: set up and run everything (sandbox, CS server, worker, beat) in the foreground
demo: $(VENV)/.runtime
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(PY) manage.py run_demo $(DEMO_ARGS)

## test: set up and run the whole suite against the real PostgreSQL, Redis, Chromium and nginx
test: $(VENV)/.dev services
	@scripts/ensure_chromium.sh
	@scripts/ensure_nginx.sh
	$(MAKE) --no-print-directory lint types migrations-check messages pytest

## bench: set up, check PostgreSQL/Redis, install wrk if missing, run the load scenarios, write docs/benchmarks.md
##        (BENCH_QUICK=1 for a smoke run, BENCH_ONLY=relay,storm for some scenarios; see bench/config.py)
bench: $(VENV)/.dev services
	@command -v wrk >/dev/null || { echo "installing wrk (Debian package)"; \
		(apt-get install -y -qq wrk >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null)) \
		|| { echo "ERROR: wrk is missing and could not be installed (apt-get install wrk, as root)" >&2; exit 1; }; }
	$(PY) -m bench

services:
	@scripts/ensure_services.sh

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(TEST_ENV) $(VENV)/bin/lint-imports

types: $(VENV)/.dev
	$(TEST_ENV) $(VENV)/bin/mypy .

migrations-check: $(VENV)/.dev
	$(TEST_ENV) $(PY) manage.py makemigrations --check --dry-run

messages: $(VENV)/.runtime
	$(TEST_ENV) $(PY) manage.py compilemessages --ignore=.venv --verbosity 0

pytest: $(VENV)/.dev
	$(TEST_ENV) $(VENV)/bin/pytest --create-db $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var
