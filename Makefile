# Nexam: one entry point for people. `make help` lists the targets.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SERVICES := identity invitations notifier exams devicecheck
PACKAGES := contracts gateway $(addprefix services/,$(SERVICES))
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
TEST_DIRS = $(wildcard contracts/tests gateway/tests $(addsuffix /tests,$(addprefix services/,$(SERVICES))) tests)

.DEFAULT_GOAL := help
.PHONY: help install run migrate test lint format bench bench-bus bench-invite clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): requirements-dev.txt $(addsuffix /pyproject.toml,$(PACKAGES))
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 or newer is needed"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt \
		-e contracts -e gateway -e services/identity -e services/invitations \
		-e 'services/notifier[devmailbox]' -e services/exams -e services/devicecheck
	touch $(STAMP)

install: $(STAMP) ## Create the virtual environment and install every part (done on first use)

migrate: $(STAMP) ## Bring every service's database to the latest schema
	@for s in $(SERVICES); do $(BIN)/python -m $$s.migrate || exit 1; done

run: migrate ## Start the whole platform (embedded: SQLite, filesystem bus, dev mailbox)
	@echo "Starting Nexam: bus $${BUS_URL:-filesystem:// (var/bus)}, databases $${IDENTITY_DATABASE_URL:-SQLite under var/}"
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho --procfile deploy/Procfile.dev --app-root . start

test: $(STAMP) ## Run every test (real PostgreSQL/RabbitMQ when DATABASE_URL/AMQP_URL are set)
	$(BIN)/python -m pytest $(TEST_DIRS) $(PYTEST_ARGS)

lint: $(STAMP) ## ruff (check and format) and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy -p contracts -p gateway $(addprefix -p ,$(SERVICES))

format: $(STAMP) ## Format the code and sort imports
	$(BIN)/ruff check --fix --select I .
	$(BIN)/ruff format .

bench: bench-bus bench-invite ## Run every benchmark

bench-bus: $(STAMP) ## Events through outbox -> RabbitMQ -> consumer, against raw kombu
	$(BIN)/python tests/bench/bench_bus.py

bench-invite: $(STAMP) ## A 10,000-row roster through the gateway to an SMTP sink, against raw smtplib
	$(BIN)/python tests/bench/bench_invite.py

clean: ## Remove local data (var/) and the virtual environment
	rm -rf var $(VENV)
