# biostresstest: `make demo` runs the pilot (Breda) and serves the map; `make test` runs the tests.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BST := $(VENV)/bin/biostresstest
VENDOR := src/biostresstest/web/static/vendor
# Local copies of the sources: the shared data folder beside the checkout, when it is there.
SHARED_DATA := $(abspath $(CURDIR)/../shared/data)
ifneq ($(wildcard $(SHARED_DATA)/README.md),)
export BIOSTRESSTEST_MIRROR ?= $(SHARED_DATA)
endif
GEMEENTE ?= GM0758
PORT ?= 8000

.PHONY: demo test install vendor system-deps lint bench clean

demo: install
	$(BST) run --gemeente $(GEMEENTE)
	$(BST) run --area otterlo
	$(BST) serve --port $(PORT)

# pytest runs beside a throwaway PostGIS server, so the PostGIS store's contract tests always run
test: install system-deps lint
	scripts/test-postgres.sh $(VENV)/bin/pytest

install: $(VENV)/.installed vendor

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q -U pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $@

node_modules/.package-lock.json: package-lock.json package.json
	npm ci --no-audit --no-fund --loglevel=error

vendor: $(VENDOR)/maplibre-gl/maplibre-gl.mjs $(VENDOR)/nl-design-system/theme.css

# copied only when the npm packages changed, so a running server is left alone otherwise
$(VENDOR)/maplibre-gl/maplibre-gl.mjs: node_modules/.package-lock.json
	rm -rf $(VENDOR)/maplibre-gl
	mkdir -p $(VENDOR)/maplibre-gl
	cp node_modules/maplibre-gl/dist/maplibre-gl.mjs node_modules/maplibre-gl/dist/maplibre-gl-worker.mjs \
	   node_modules/maplibre-gl/dist/maplibre-gl-shared.mjs node_modules/maplibre-gl/dist/maplibre-gl.css \
	   node_modules/maplibre-gl/LICENSE.txt $(VENDOR)/maplibre-gl/

# NL Design System: the design tokens of the example theme and the Utrecht CSS components
$(VENDOR)/nl-design-system/theme.css: node_modules/.package-lock.json
	rm -rf $(VENDOR)/nl-design-system
	mkdir -p $(VENDOR)/nl-design-system
	cp node_modules/@nl-design-system-unstable/voorbeeld-design-tokens/dist/theme.css $(VENDOR)/nl-design-system/theme.css
	cp node_modules/@utrecht/component-library-css/dist/index.css $(VENDOR)/nl-design-system/utrecht.css
	cp node_modules/@utrecht/component-library-css/LICENSE.md $(VENDOR)/nl-design-system/LICENSE-utrecht.md

system-deps:
	scripts/install-system-deps.sh

lint:
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/mypy

bench: install
	$(VENV)/bin/python bench/bench_run.py
	$(VENV)/bin/python bench/bench_tiles.py
	scripts/test-postgres.sh $(VENV)/bin/python bench/bench_store_tiles.py
	$(VENV)/bin/python bench/bench_landcover.py
	$(VENV)/bin/python bench/bench_habitat_quality.py
	$(VENV)/bin/python bench/bench_load.py
	$(VENV)/bin/python bench/bench_indicators.py
	$(VENV)/bin/python bench/bench_urban_cooling.py
	$(VENV)/bin/python bench/bench_reports.py
	$(VENV)/bin/python bench/bench_scenario.py

clean:
	rm -rf $(VENV) node_modules $(VENDOR) data test-artifacts
