# The two commands a newcomer needs:  make run  (API + demo data on :8000)  and  make test.
SHELL := /bin/bash

.PHONY: run test lint setup db-stop db-status bench soak

setup:
	@scripts/setup.sh

run: setup
	@scripts/run.sh

test: setup
	@scripts/test.sh $(PYTEST_ARGS)

# Lint alone (make test runs it first): ruff's rules and ruff's format, as pyproject.toml sets them.
lint: setup
	@.venv/bin/ruff check .
	@.venv/bin/ruff format --check .

# County-scale benchmark (not part of make test): ANXUN_BENCH_SCALE=0.05 for a quick run.
bench: setup
	@scripts/bench.sh

# Phones through lost answers, worker kills and a database crash (bench/soak.py); its own cluster in var/soak.
soak: setup
	@.venv/bin/python -m bench.soak $(SOAK_ARGS)

db-stop:
	@scripts/pg.sh stop

db-status:
	@scripts/pg.sh status
