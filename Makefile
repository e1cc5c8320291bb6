# Tagscope. `make run` serves the dashboard with a worker and the HighLevel sandbox; `make test` runs the suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
CHROMIUM ?= /usr/bin/chromium
PYTEST_ARGS ?=

# What `make run` needs: debug mode, the sandbox instead of HighLevel, a local demo webhook receiver.
RUN_ENV := DEBUG=true HIGHLEVEL_SANDBOX=true HIGHLEVEL_CLIENT_ID=tagscope-sandbox \
	HIGHLEVEL_CLIENT_SECRET=sandbox-secret DESTINATION_ALLOWED_HOSTS=127.0.0.1,localhost

.PHONY: install run test test-suite bench lint faults chromium pango clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) pango

# Report PDFs are made by WeasyPrint, which needs Pango (and a font) from Debian; install them when missing
# and we may (root), the way chromium is installed below.
PANGO_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
pango:
	@if ! ldconfig -p | grep -q 'libpangoft2-1.0.so.0' || ! ldconfig -p | grep -q 'libharfbuzz-subset.so.0' \
		|| ! fc-list 2>/dev/null | grep -qi dejavu; then \
		if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
			echo "Installing Pango and a font from Debian for report PDFs..."; \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(PANGO_PACKAGES) >/dev/null) \
				|| echo "NOTE: could not install Pango; report PDFs (and their tests) will fail."; \
		else echo "NOTE: Pango missing and not root: install $(PANGO_PACKAGES) for report PDFs."; fi; \
	fi

# Browser tests use Debian's Chromium; install it when missing and we may (root), else they are skipped.
chromium:
	@if [ ! -x "$(CHROMIUM)" ]; then \
		if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
			echo "Installing Debian's chromium for the browser tests..."; \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
				|| echo "NOTE: could not install chromium; browser tests will be skipped."; \
		else echo "NOTE: $(CHROMIUM) missing and not root; browser tests will be skipped."; fi; \
	fi

run: install
	$(RUN_ENV) $(PY) manage.py migrate --noinput -v0
	$(RUN_ENV) $(PY) manage.py demo_setup
	$(RUN_ENV) $(PY) manage.py devstack

test: install chromium test-suite

test-suite:
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

# The slow tests and every case of the fault matrix (tests/faults), whose table is printed at the end.
faults: install
	$(PY) -m pytest -m "slow or faults" $(PYTEST_ARGS)

# Every benchmark (bench/*.py) as a subprocess, then one table of figures against their targets.
bench: install
	$(PY) bench/run_all.py

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pip-audit --progress-spinner off --skip-editable || echo "pip-audit could not finish (see above)"

clean:
	rm -rf $(VENV) staticfiles test-results db.sqlite3 db.sqlite3-* db.sqlite3.ratelimit
