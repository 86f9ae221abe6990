# Two commands: `make run` and `make test` (README.md). Everything else is a step of those.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install install-test translations serve db demo lint bench browser-deps clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11+ is required"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed translations static/vendor/.installed
install-test: $(VENV)/.installed-test translations static/vendor/.installed

# Browser libraries from the npm registry, pinned by package-lock.json, copied where pages load them.
static/vendor/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p static/vendor
	cp node_modules/socket.io-client/dist/socket.io.min.js static/vendor/
	touch $@

translations: $(VENV)/.installed
	$(BIN)/pybabel compile -d translations -D messages >/dev/null

db: install
	$(BIN)/flask db upgrade

demo: db
	$(BIN)/flask demo load
	$(BIN)/flask demo accounts

serve:
	@echo "Thi đua số: http://$(HOST):$(PORT)/  (Ctrl+C to stop)"
	$(BIN)/flask run --host $(HOST) --port $(PORT)

run: demo serve

# Debian's Chromium drives the browser tests; Playwright never downloads a browser of its own.
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-core >/dev/null; \
	  else echo "chromium not installed (apt-get install chromium): browser tests will be skipped"; fi; }

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/lint-imports

test: install-test browser-deps lint
	$(BIN)/pytest $(PYTEST_ARGS)

$(VENV)/.installed-bench: $(VENV)/.installed-test pyproject.toml
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $@

bench: $(VENV)/.installed-bench translations
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) instance/thidua.sqlite3 .pytest_cache
