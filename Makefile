# The two commands: `make run` (the whole system) and `make test` (the suite).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint bench stop clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) manage.py run

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

bench: $(STAMP)
	$(PY) -m pytest tests/bench -s -p no:randomly $(PYTEST_ARGS)

# Stop the embedded PostgreSQL and Redis if something left them running.
stop: $(STAMP)
	$(PY) -c "from switchyard import embedded; embedded.stop_redis(); embedded.stop_postgres()"

clean: stop
	rm -rf var $(VENV)
