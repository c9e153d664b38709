# HashInsight: `make run` and `make test` are the whole set-up (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INI ?= development.ini
VENDOR := hashinsight_core/static/vendor
LOCALE := hashinsight_core/locale

.DEFAULT_GOAL := help
.PHONY: help run test test-sqlite test-postgres lint format extract catalogs assets install install-test system-deps clean

help: ## show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

run: install assets catalogs ## set up everything and run the demo on http://localhost:6543
	$(BIN)/hashinsight demo $(INI)

test: system-deps install-test assets catalogs ## set up the test tools, lint, and run the whole suite (SQLite, then PostgreSQL)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@scripts/run-tests

test-sqlite: system-deps install-test assets catalogs ## the suite on SQLite only
	$(BIN)/pytest -n 2

lint: install-test ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-test ## ruff format + autofix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# --- set-up steps (each skipped when already done) -------------------------------------

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11+ is needed (found $$($(PYTHON) --version))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed tests/partner_plugin/pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]' -e tests/partner_plugin
	@touch $@

install: $(VENV)/.installed ## create .venv and install the package
system-deps: ## Debian packages for the browser tests (chromium, a CJK font), if missing
	@scripts/system-deps

install-test: $(VENV)/.installed-test ## install the test extra and the test partner plugin

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund

$(VENDOR)/.copied: node_modules/.package-lock.json
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)/bootstrap $(VENDOR)/bootstrap-icons $(VENDOR)/chart.js $(VENDOR)/countup.js $(VENDOR)/swagger-ui
	cp -r node_modules/bootstrap/dist/css node_modules/bootstrap/dist/js $(VENDOR)/bootstrap/
	cp -r node_modules/bootstrap-icons/font $(VENDOR)/bootstrap-icons/
	cp node_modules/chart.js/dist/chart.umd.min.js node_modules/chart.js/dist/chart.umd.min.js.map $(VENDOR)/chart.js/
	cp node_modules/countup.js/dist/countUp.umd.js $(VENDOR)/countup.js/
	cp node_modules/swagger-ui-dist/swagger-ui.css node_modules/swagger-ui-dist/swagger-ui-bundle.js $(VENDOR)/swagger-ui/
	@touch $@

assets: $(VENDOR)/.copied ## install front-end packages from npm and copy them into static/

$(LOCALE)/zh/LC_MESSAGES/hashinsight.mo: $(LOCALE)/zh/LC_MESSAGES/hashinsight.po $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -d $(LOCALE) -D hashinsight

catalogs: $(LOCALE)/zh/LC_MESSAGES/hashinsight.mo ## compile the gettext catalogs

extract: install ## collect translatable strings and update the catalogs
	$(BIN)/pybabel extract -F babel.cfg -k _ -k N_ --no-location --sort-output -o $(LOCALE)/hashinsight.pot hashinsight_core plugins
	$(BIN)/pybabel update -i $(LOCALE)/hashinsight.pot -d $(LOCALE) -D hashinsight --no-fuzzy-matching --ignore-obsolete

clean: ## remove the virtualenv, assets, compiled catalogs and caches (keeps var/)
	rm -rf $(VENV) node_modules $(VENDOR) .pytest_cache test-output
	find . -name '*.mo' -path '*/locale/*' -delete
