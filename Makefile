# 碳惠泰安 — the two commands a newcomer runs are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := carbon_platform.app:create_app

SWAGGER_FILES := swagger-ui.css swagger-ui-bundle.js swagger-ui-standalone-preset.js LICENSE
SWAGGER_DIR := mobile_api/static/vendor/swagger-ui
ECHARTS_DIR := admin/static/vendor/echarts
OPEN_PROPS_DIR := admin/static/vendor/open-props
# CodeMirror 6 for the console's YAML editor: each package's own ES module, copied as it is published, named
# package:entry-file; admin/templates/admin/rulebooks/_editor.html maps each bare import to its copy (an import
# map), so no bundler runs and nothing is loaded from anywhere but our static files.
CODEMIRROR_DIR := admin/static/vendor/codemirror
CODEMIRROR_MODULES := @codemirror/state:dist/index.js @codemirror/view:dist/index.js \
  @codemirror/language:dist/index.js @codemirror/commands:dist/index.js @codemirror/lint:dist/index.js \
  @codemirror/lang-yaml:dist/index.js @codemirror/streamparser:dist/index.js @lezer/common:dist/index.js \
  @lezer/highlight:dist/index.js @lezer/lr:dist/index.js @lezer/yaml:dist/index.js crelt:index.js \
  style-mod:src/style-mod.js w3c-keyname:index.js @marijn/find-cluster-break:src/index.js
# The console's browser tests drive Debian's chromium through Playwright; Playwright never downloads one.
CHROMIUM ?= /usr/bin/chromium
export CARBON_TEST_CHROMIUM := $(CHROMIUM)
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: run test install install-test vendor translations messages migrate lint bench clean help browser h5

help:
	@echo "make run    install, migrate, load reference + demo data, serve on http://127.0.0.1:$(PORT)"
	@echo "make test   install with test extras and run the whole suite"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.stamp-install: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.stamp-install-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(VENV)/.stamp-install $@

install: $(VENV)/.stamp-install vendor translations h5
install-test: $(VENV)/.stamp-install-test vendor translations browser h5

# JavaScript libraries come from the npm registry, pinned by package-lock.json, and are served from
# our own static files. --ignore-scripts: no package gets to run code (or phone home) on install.
vendor: $(SWAGGER_DIR)/.stamp $(ECHARTS_DIR)/.stamp $(OPEN_PROPS_DIR)/.stamp $(CODEMIRROR_DIR)/.stamp
node_modules/.stamp: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@
$(SWAGGER_DIR)/.stamp: node_modules/.stamp
	mkdir -p $(SWAGGER_DIR)
	cp $(addprefix node_modules/swagger-ui-dist/,$(SWAGGER_FILES)) $(SWAGGER_DIR)/
	touch $@
$(ECHARTS_DIR)/.stamp: node_modules/.stamp
	mkdir -p $(ECHARTS_DIR)
	cp node_modules/echarts/dist/echarts.min.js node_modules/echarts/LICENSE $(ECHARTS_DIR)/
	touch $@
$(OPEN_PROPS_DIR)/.stamp: node_modules/.stamp
	mkdir -p $(OPEN_PROPS_DIR)
	cp node_modules/open-props/open-props.min.css node_modules/open-props/LICENSE $(OPEN_PROPS_DIR)/
	touch $@
$(CODEMIRROR_DIR)/.stamp: node_modules/.stamp
	rm -rf $(CODEMIRROR_DIR) && mkdir -p $(CODEMIRROR_DIR)
	for module in $(CODEMIRROR_MODULES); do \
	  package=$${module%%:*}; name=$$(echo $${package#@} | tr / -); \
	  cp node_modules/$$package/$${module#*:} $(CODEMIRROR_DIR)/$$name.js; \
	  { echo "== $$package"; cat node_modules/$$package/LICENSE*; } >> $(CODEMIRROR_DIR)/LICENSES.txt; \
	done
	touch $@

# The H5 client (h5/: Vue 3 + Vant 4, built with Vite) is built into h5/dist, which Flask serves at /h5/.
# Rebuilt only when its sources, its lock file or its build configuration changed.
H5_SOURCES := $(shell find h5/src h5/public -type f 2>/dev/null) h5/index.html h5/vite.config.js
h5: h5/dist/index.html
h5/node_modules/.stamp: h5/package.json h5/package-lock.json
	cd h5 && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@
h5/dist/index.html: h5/node_modules/.stamp $(H5_SOURCES)
	cd h5 && npm run --silent build -- --logLevel warn
	find h5/dist -type f \( -name '*.js' -o -name '*.css' -o -name '*.html' -o -name '*.svg' -o -name '*.webmanifest' \) \
	  -exec gzip -9 -k -f {} +
	touch $@

# Debian's chromium (and a font that draws Chinese) for the browser tests, installed with apt when missing.
browser:
	@if [ ! -x "$(CHROMIUM)" ] || ! fc-list 2>/dev/null | grep -qi "CJK"; then \
	  echo "installing chromium and fonts-noto-cjk with apt"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  ( $$SUDO apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk \
	      >/dev/null ) || \
	  echo "could not install chromium with apt: the browser tests will be skipped (CI requires them)"; \
	fi

# Chinese is the source language of the console; English comes from the compiled catalogue.
translations: admin/translations/en/LC_MESSAGES/messages.mo
admin/translations/en/LC_MESSAGES/messages.mo: admin/translations/en/LC_MESSAGES/messages.po | $(VENV)/.stamp-install
	$(BIN)/pybabel compile --use-fuzzy -d admin/translations -l en

migrate: install
	$(BIN)/carbon-platform db upgrade

run: install migrate
	$(BIN)/carbon-platform seed reference
	$(BIN)/carbon-platform seed demo --if-empty
	$(BIN)/carbon-platform serve --port $(PORT)

test: install-test
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install-test
	$(BIN)/ruff check .

bench: install-test
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/rules.py
	$(BIN)/python benchmarks/ledger.py

clean:
	rm -rf $(VENV) node_modules $(SWAGGER_DIR) $(ECHARTS_DIR) $(OPEN_PROPS_DIR) $(CODEMIRROR_DIR) admin/translations/*/LC_MESSAGES/*.mo

# After changing console text: refresh the catalogue, translate the new entries, commit the .po.
messages: $(VENV)/.stamp-install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_pgettext:1c,2 -o admin/translations/messages.pot --no-location --omit-header .
	$(BIN)/pybabel update -i admin/translations/messages.pot -d admin/translations -l en --no-fuzzy-matching
