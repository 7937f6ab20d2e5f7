# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SCALE  ?= 1.0
SERVE  ?= 1

.PHONY: demo test lint typecheck unit docs bench bench-feeds bench-taxii clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Marsad needs Python 3.11 or newer"; exit 1; }
	@$(PYTHON) -m venv --help >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq python3-venv; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $(STAMP)

# The web pages serve htmx and Cytoscape.js from node_modules (npm packages, never copied in).
node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund

demo: $(STAMP) node_modules/.package-lock.json
	$(BIN)/marsad demo --scale $(SCALE)
	$(if $(filter 1,$(SERVE)),$(BIN)/marsad serve --host 127.0.0.1 --port 8000,@echo "SERVE=0: not serving (marsad serve starts the web application)")

lint: $(STAMP)
	$(BIN)/ruff check marsad tests bench
	$(BIN)/ruff format --check marsad tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP) node_modules/.package-lock.json
	@test -x /usr/bin/chromium || { apt-get update -qq && apt-get install -y -qq chromium; }  # web browser tests
	@command -v pdftoppm >/dev/null || { apt-get update -qq && apt-get install -y -qq poppler-utils; }  # product PDF tests
	$(BIN)/pytest -q -n 2

test: lint typecheck unit

docs: $(STAMP)
	$(BIN)/python -m marsad.cli.reference > docs/cli.md

bench: $(STAMP)
	$(BIN)/python bench/ingest.py

# IntelMQ, the peer of bench/feeds.py, lives in its own venv: never a Marsad dependency.
INTELMQ_VENV := bench/.venv-intelmq
ROWS ?= 200000

$(INTELMQ_VENV)/.installed:
	$(PYTHON) -m venv $(INTELMQ_VENV)
	$(INTELMQ_VENV)/bin/pip install -q --upgrade pip
	$(INTELMQ_VENV)/bin/pip install -q 'intelmq>=3.1,<4'
	@touch $@

bench-feeds: $(STAMP) $(INTELMQ_VENV)/.installed
	$(BIN)/python bench/feeds.py --rows $(ROWS)

# medallion (the OASIS TAXII 2.1 reference server), the peer of bench/taxii.py, likewise.
MEDALLION_VENV := bench/.venv-medallion

$(MEDALLION_VENV)/.installed:
	$(PYTHON) -m venv $(MEDALLION_VENV)
	$(MEDALLION_VENV)/bin/pip install -q --upgrade pip
	$(MEDALLION_VENV)/bin/pip install -q 'medallion==3.0.0'
	@touch $@

bench-taxii: $(STAMP) $(MEDALLION_VENV)/.installed
	$(BIN)/python bench/taxii.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache bench/.venv-intelmq bench/.venv-medallion
