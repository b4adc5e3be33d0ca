# secure_phone — the two commands: `make run` and `make test` (see README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := run

PORT ?= 3000
# Demo mode (personas, phone picker, demo inboxes; PRODUCT.md §12.1): on for `make run`, SECURE_PHONE_DEMO=0 turns it off.
SECURE_PHONE_DEMO ?= 1
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
TOOLS := .tools
BUN := $(TOOLS)/node_modules/.bin/bun
BUN_VERSION := 1.4.5

export REFLEX_TELEMETRY_ENABLED := false
export REFLEX_CHECK_LATEST_VERSION := false
export PATH := $(CURDIR)/$(VENV)/bin:$(CURDIR)/$(TOOLS)/node_modules/.bin:$(PATH)
export REFLEX_BUN_PATH := $(CURDIR)/$(BUN)
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test lint install migrate seed browser e2e unit integration dispatcher clean bench

## Install what is missing: the virtual environment, the pinned packages, bun.
install: $(VENV)/.installed $(BUN)

$(VENV)/.installed: pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required"' \
		|| { echo "Python 3.11 is required (found $$($(PYTHON) --version))"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[test]"
	touch $@

$(BUN):
	npm install --silent --no-audit --no-fund --prefix $(TOOLS) bun@$(BUN_VERSION)

## Debian's chromium for the browser tests (Playwright cannot download browsers here).
browser:
	@command -v chromium >/dev/null || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get -o DPkg::Lock::Timeout=300 update -qq \
		&& $$SUDO apt-get -o DPkg::Lock::Timeout=300 install -y -qq chromium; }

## Bring the database (SQLite by default, REFLEX_DB_URL otherwise) to the head migration.
migrate: install
	@mkdir -p "$${SECURE_PHONE_DATA_DIR:-data}"
	reflex db migrate

seed: migrate
	SECURE_PHONE_DEMO=$(SECURE_PHONE_DEMO) $(PY) -m secure_phone.seed

## Install, migrate, seed and serve the app at http://localhost:$(PORT).
run: seed
	SECURE_PHONE_DEMO=$(SECURE_PHONE_DEMO) PORT=$(PORT) scripts/serve

## Install (chromium included), lint and type-check, and run the whole suite: unit, integration, browser tests.
test: install browser
	scripts/test

## Lint (ruff), type-check (mypy) and check the layers (import-linter); `make test` starts with it.
lint: install
	scripts/lint

unit: install
	$(PY) -m pytest tests/unit -q

integration: install
	$(PY) -m pytest tests/integration -q

e2e: install browser
	$(PY) -m pytest tests/e2e -q

## The notification dispatcher on its own (scale-out mode starts it for you).
dispatcher: install
	$(PY) -m secure_phone.dispatcher

clean:
	rm -rf .web data .states

## Benchmark (reports, never gates): embedded then scale-out (PostgreSQL + Redis, when they run here);
## BENCH_QUICK=1 for a short embedded run (< 2 min). See docs/benchmarks.md.
bench: install browser
	$(PY) bench/run.py
