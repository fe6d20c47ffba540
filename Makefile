# Nexam: one entry point for people. `make help` lists the targets.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SERVICES := identity invitations notifier exams devicecheck
PACKAGES := contracts gateway $(addprefix services/,$(SERVICES)) cli
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
BENCH_MODE ?= deployed
TEST_DIRS = $(wildcard contracts/tests gateway/tests $(addsuffix /tests,$(addprefix services/,$(SERVICES))) cli/tests tests)
TRANSLATIONS := gateway/src/gateway/web/translations
CATALOGS := $(patsubst %.po,%.mo,$(wildcard $(TRANSLATIONS)/*/LC_MESSAGES/messages.po))

.DEFAULT_GOAL := help
.PHONY: help install run migrate test lint format translations translations-update bench bench-bus bench-invite bench-signin bench-exam-start clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-19s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): requirements-dev.txt $(addsuffix /pyproject.toml,$(PACKAGES)) tests/browser/package.json tests/browser/package-lock.json \
		tests/oidc/package.json tests/oidc/package-lock.json
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 or newer is needed"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt \
		-e contracts -e gateway -e services/identity -e services/invitations \
		-e services/notifier -e services/exams -e services/devicecheck -e cli
	@# axe-core for the browser tests' accessibility checks (they skip without it), and
	@# oidc-provider for the OpenID Connect stand-ins of Google and Microsoft (likewise)
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error && \
		npm ci --prefix tests/oidc --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the browser tests' accessibility checks and the OIDC tests will be skipped"; fi
	touch $(STAMP)

install: $(STAMP) translations ## Create the virtual environment and install every part (done on first use)

migrate: $(STAMP) ## Bring every service's database to the latest schema
	@for s in $(SERVICES); do $(BIN)/python -m $$s.migrate || exit 1; done

run: migrate translations ## Start the whole platform (embedded: SQLite, filesystem bus, dev mailbox)
	@echo "Starting Nexam: bus $${BUS_URL:-filesystem:// (var/bus)}, databases $${IDENTITY_DATABASE_URL:-SQLite under var/}"
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho --procfile deploy/Procfile.dev --app-root . start

test: $(STAMP) translations ## Run every test (real PostgreSQL/RabbitMQ when DATABASE_URL/AMQP_URL are set)
	$(BIN)/python -m pytest $(TEST_DIRS) $(PYTEST_ARGS)

translations: $(CATALOGS) ## Compile the pages' translations (.po to .mo: built, not committed)

$(TRANSLATIONS)/%/LC_MESSAGES/messages.mo: $(TRANSLATIONS)/%/LC_MESSAGES/messages.po | $(STAMP)
	$(BIN)/pybabel compile --statistics -i $< -o $@

translations-update: $(STAMP) ## Re-extract the pages' and the services' texts into messages.pot and merge them into each .po
	$(BIN)/pybabel extract -F gateway/babel.cfg -k lazy_gettext -c TRANSLATORS: --no-location \
		--sort-output --project=Nexam --version=gateway --copyright-holder=Nexam \
		-o $(TRANSLATIONS)/messages.pot gateway/src/gateway/web
	$(BIN)/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) -D messages \
		--ignore-obsolete
	@# each service's catalog: read from its .po at run time, nothing to compile
	@for s in $(SERVICES); do \
		src=services/$$s/src/$$s; \
		$(BIN)/pybabel -q extract -F services/babel.cfg -k N_ -k say -c TRANSLATORS: --no-location \
			--sort-output --project=nexam-$$s --copyright-holder=Nexam \
			-o $$src/translations/messages.pot $$src || exit 1; \
		$(BIN)/pybabel -q update -i $$src/translations/messages.pot -d $$src/translations \
			-D messages --ignore-obsolete || exit 1; \
	done

lint: $(STAMP) ## ruff (check and format) and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy -p contracts -p gateway $(addprefix -p ,$(SERVICES)) -p nexam_cli

format: $(STAMP) ## Format the code and sort imports
	$(BIN)/ruff check --fix --select I .
	$(BIN)/ruff format .

bench: $(STAMP) ## Run every benchmark, then write their figures against the goals to var/bench/summary.md
	@# one that fails is listed without figures in the summary; the others still run
	-$(MAKE) --no-print-directory bench-bus
	-$(MAKE) --no-print-directory bench-invite
	-$(MAKE) --no-print-directory bench-signin BENCH_MODE=embedded
	-$(MAKE) --no-print-directory bench-signin BENCH_MODE=deployed
	-$(MAKE) --no-print-directory bench-exam-start
	$(BIN)/python tests/bench/summary.py

bench-bus: $(STAMP) ## Events through outbox -> RabbitMQ -> consumer, against raw kombu
	$(BIN)/python tests/bench/bench_bus.py

bench-invite: $(STAMP) ## A 10,000-row roster through the gateway to an SMTP sink, against raw smtplib
	$(BIN)/python tests/bench/bench_invite.py

bench-signin: $(STAMP) ## N candidates sign in (password + emailed code) at once, against raw argon2id (BENCH_MODE=embedded: as `make run` starts it)
	BENCH_MODE=$(BENCH_MODE) $(BIN)/python tests/bench/bench_signin.py

bench-exam-start: $(STAMP) ## N candidates start one exam within 60 s, then autosave every 30 s for 5 minutes
	$(BIN)/python tests/bench/bench_exam_start.py

clean: ## Remove local data (var/) and the virtual environment
	rm -rf var $(VENV) tests/browser/node_modules tests/oidc/node_modules
