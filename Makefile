# Two commands on a fresh machine: `make demo` and `make test`. Everything else is a step they share.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# uv installs exactly what uv.lock pins; it lives in a folder of its own, outside the project's venv.
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml uv.lock 2>/dev/null | md5sum | cut -c1-12)
VENDOR := src/trainquant/web/static/vendor
SWAGGER := $(VENDOR)/swagger-ui/swagger-ui-bundle.js $(VENDOR)/swagger-ui/swagger-ui.css
ASSETS := $(VENDOR)/htmx.min.js $(VENDOR)/echarts.min.js $(SWAGGER)
CHROMIUM ?= /usr/bin/chromium

.PHONY: demo test setup assets browser fonts db bench clean serve lock lint

demo: setup db ## set everything up, load the simulated school, serve
	$(BIN)/trainquant demo

serve: setup db
	$(BIN)/trainquant serve

test: setup browser lint ## set everything up, check the code (ruff, mypy) and run the whole suite
	$(BIN)/python -m pytest -q -p no:cacheprovider

# Zero findings is the standard: both are configured in pyproject.toml.
lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

setup: $(STAMP) $(ASSETS) fonts

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install -q --disable-pip-version-check uv==$(UV_VERSION)

# --locked: refuses a uv.lock that no longer matches pyproject.toml (run `make lock` after changing dependencies).
# --compile-bytecode: a server process starts from compiled modules from the first time on (with
# several workers, uvicorn's health check waits for each new process to come up).
$(STAMP): pyproject.toml uv.lock | $(UV)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --locked --compile-bytecode --extra test --python $(PYTHON)
	rm -f $(VENV)/.installed-* && touch $@

lock: $(UV) ## pin the dependencies again after changing pyproject.toml
	$(UV) lock

# SCARF_ANALYTICS=false: swagger-ui-dist's analytics dependency must not try to phone home from an intranet.
node_modules/.package-lock.json: package.json package-lock.json
	SCARF_ANALYTICS=false npm ci --no-audit --no-fund --loglevel=error

$(VENDOR)/htmx.min.js: node_modules/.package-lock.json
	mkdir -p $(VENDOR) && cp node_modules/htmx.org/dist/htmx.min.js $@

$(VENDOR)/echarts.min.js: node_modules/.package-lock.json
	mkdir -p $(VENDOR) && cp node_modules/echarts/dist/echarts.min.js $@

$(VENDOR)/swagger-ui/%: node_modules/.package-lock.json
	mkdir -p $(VENDOR)/swagger-ui && cp node_modules/swagger-ui-dist/$* $@

assets: $(ASSETS)

# The page tests drive Debian's Chromium (never a downloaded browser build); CJK fonts for the screenshots.
browser:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null) \
	      || echo "could not install chromium; the browser tests will be skipped"; \
	  else echo "no $(CHROMIUM): install Debian's chromium to run the browser tests (they are skipped)"; fi; \
	fi

# The PDF export sets Chinese text with the system's CJK fonts (WeasyPrint through Pango).
fonts:
	@if ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk fontconfig libpango-1.0-0 libpangoft2-1.0-0 >/dev/null) \
	      || echo "could not install fonts-noto-cjk: PDF exports will show no Chinese text"; \
	  else echo "install Debian's fonts-noto-cjk: without it PDF exports show no Chinese text"; fi; \
	fi

db: setup
	$(BIN)/trainquant db upgrade

bench: setup
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) $(TOOLS) node_modules $(VENDOR) var
