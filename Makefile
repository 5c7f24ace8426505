# The two commands of the README's Quick start are `make run` and `make test`.
# Everything else here is what they are made of.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install browser migrate sample-data demo-data demo-user serve check lint typecheck clean

# DEBUG is off unless set; the local targets turn it on (the tests do so in tests/settings.py).
run serve demo-user demo-data sample-data migrate: export DEBUG = 1

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

## Debian's Chromium and ChromeDriver for the browser tests (installed only when missing).
browser:
	bash .ci/install-chromium

migrate: install
	$(PY) manage.py migrate --no-input -v0

sample-data: migrate
	$(PY) manage.py ingest --timezones data/sample/timezones.csv --hours data/sample/menu_hours.csv \
		--polls data/sample/store_status.csv

## Beside the real sample (all of whose polls are active): a generated week with outages for 300 of its stores.
demo-data: sample-data
	$(PY) manage.py demo_data

demo-user: migrate
	$(PY) manage.py demo_user --base-url http://$(HOST):$(PORT)
	$(PY) manage.py demo_owners --base-url http://$(HOST):$(PORT)

serve: install
	$(PY) manage.py serve --host $(HOST) --port $(PORT)

## Install, migrate, load the bundled sample data and the demo week, then serve the API with a worker on SQLite.
run: demo-data demo-user serve

## The whole test suite (SQLite unless DATABASE_URL is set).
test: install browser
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .

typecheck: install
	$(VENV)/bin/mypy .

clean:
	rm -rf var/ .pytest_cache .mypy_cache
