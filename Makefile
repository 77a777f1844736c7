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
	@echo "make lint   - ruff on the repository, mypy on the typed paths, lint-imports (make test runs them too)"
	@echo "make fault-test - while complaints flow: kill -9 every service, restart RabbitMQ and PostgreSQL,"
	@echo "                  slow/stall/cut the network, RabbitMQ's disk alarm, the object store down;"
	@echo "                  then reconcile (on servers of its own; FAULT_ARGS as in .ci/run for the short form)"
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
# ruff checks the whole repository; mypy the typed paths (its `files`). Every tool
# runs even when an earlier one failed, so one run shows everything; the target
# fails if any did.
lint: $(STAMP)
	@status=0; \
	$(PY) -m ruff check . || status=1; \
	$(PY) -m mypy || status=1; \
	$(VENV)/bin/lint-imports || status=1; \
	exit $$status

# The fault test (docs/reliability.md): its own command, not part of `make test`.
# It brings its own PostgreSQL cluster (port 5442) and RabbitMQ node
# (ccrmfault@localhost, 5682) under var/fault/ and never touches the shared
# servers. FAULT_ARGS: --duration, --interval, --faults (kill,broker,postgres,
# stall,latency,partition,disk,store; default all), --screenshot; CI's short form:
#   FAULT_ARGS="--duration 180 --interval 15 20 --faults kill,broker,postgres,stall"
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
