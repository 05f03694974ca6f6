# Two entry points a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# The web console's front-end dependencies (the official socket.io-client; uqr for QR codes; Chart.js for the dashboard) come from npm.
WEB_STAMP := hub/web/node_modules/.installed
# Test-only: the official AsyncAPI parser checks the realtime contract document.
CONTRACT_STAMP := tests/contract/node_modules/.installed

.PHONY: run test lint install screenshots bench bench-quick clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

$(WEB_STAMP): hub/web/package.json hub/web/package-lock.json
	@command -v npm >/dev/null || (apt-get update -qq && apt-get install -y -qq nodejs npm)
	npm ci --prefix hub/web --no-audit --no-fund
	touch $(WEB_STAMP)

$(CONTRACT_STAMP): tests/contract/package.json tests/contract/package-lock.json $(WEB_STAMP)
	npm ci --prefix tests/contract --no-audit --no-fund
	touch $(CONTRACT_STAMP)

install: $(STAMP) $(WEB_STAMP)

run: $(STAMP) $(WEB_STAMP)
	$(VENV)/bin/hub serve

# The tests start their own Redis and drive Debian's Chromium; both are installed when missing.
test: $(STAMP) $(WEB_STAMP) $(CONTRACT_STAMP)
	@command -v redis-server >/dev/null || (apt-get update -qq && apt-get install -y -qq redis-server)
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
	$(PY) -m pytest $(PYTEST_ARGS)

# Lint, format and types (ruff and mypy, configured in pyproject.toml); .ci/run runs it before the tests.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# Regenerates the README's screenshots (docs/screenshots) from the browser tests.
screenshots: $(STAMP) $(WEB_STAMP)
	HUB_SCREENSHOTS_DIR=docs/screenshots $(PY) -m pytest tests/test_web_journeys.py tests/test_web_zcc_report.py
	HUB_SCREENSHOTS_DIR=docs/screenshots $(PY) -m pytest tests/test_web_console.py tests/test_web_console_panels.py tests/test_web_oa_links.py tests/test_web_admin.py tests/test_web_dashboard.py tests/test_web_alerts.py tests/test_call_recordings.py tests/test_web_consent_bulk.py tests/test_web_zns.py tests/test_web_followers.py tests/test_web_customer.py tests/test_web_contacts.py tests/test_web_campaigns.py

bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[test,bench]'
	$(PY) -m bench.run --profile

bench-quick: $(STAMP)
	$(PY) -m pip install --quiet -e '.[test,bench]'
	$(PY) -m bench.run --quick

clean:
	rm -rf $(VENV) .hub-data .pytest_cache hub/web/node_modules tests/contract/node_modules
