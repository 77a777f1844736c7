# CCRM: `make run` brings the whole suite up locally, `make test` runs the tests.
# Both create .venv and install the project on first use (and again whenever
# pyproject.toml changes). Extra pytest arguments: make test ARGS="-k media".

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.ccrm-installed
ARGS   ?=

.PHONY: help install test lint run preflight clean fault-test

help:
	@echo "make run    - migrate, load the demo organisation, start every service (http://127.0.0.1:8000)"
	@echo "make test   - run the test suite (ARGS=\"...\" passes options to pytest)"
	@echo "make lint   - ruff and mypy on the typed paths, lint-imports (make test runs them too)"
	@echo "make fault-test - kill -9 every service in turn and restart RabbitMQ while complaints flow,"
	@echo "                  then reconcile (FAULT_ARGS=\"--duration 90\" for the short form)"
	@echo "make install- create .venv and install the project"
	@echo "make clean  - remove logs, demo tokens and local MinIO data (keeps var/media, the stored files)"

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Checks PostgreSQL and RabbitMQ answer; enables RabbitMQ's management plugin,
# which nameko's per-test vhosts need, and waits for its API.
preflight: $(STAMP)
	$(PY) -m scripts.preflight --management

test: preflight browser-deps
	$(PY) -m pytest $(ARGS)

# Style, types and the import contract (pyproject: [tool.ruff], [tool.mypy],
# [tool.importlinter]); tests/test_code_quality.py runs the same under `make test`.
# ruff and mypy check the typed paths: mypy's `files`. Every tool runs even when
# an earlier one failed, so one run shows everything; the target fails if any did.
TYPED_PATHS = $(shell $(PYTHON) -c "import tomllib; print(' '.join(tomllib.load(open('pyproject.toml', 'rb'))['tool']['mypy']['files']))")

lint: $(STAMP)
	@status=0; \
	$(PY) -m ruff check $(TYPED_PATHS) || status=1; \
	$(PY) -m mypy || status=1; \
	$(VENV)/bin/lint-imports || status=1; \
	exit $$status

# The fault test (docs/reliability.md): its own command, not part of `make test`.
# It restarts RabbitMQ (rabbitmqctl stop_app/start_app), so run it alone.
FAULT_ARGS ?=
fault-test: preflight
	$(PY) -m scripts.fault_test $(FAULT_ARGS)

# exec: SIGTERM sent to make reaches the runner itself, which stops everything.
run: $(STAMP)   # INSTANCES=2 make run: two processes of every service
	exec $(PY) -m scripts.run_local --instances $(or $(INSTANCES),1)

clean:
	rm -rf var/log var/minio var/demo-tokens.json
	@echo "kept var/media (signatures and photos the database points at): rm -rf var/media to drop them too"

include mk/web.mk
