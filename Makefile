# The two commands of the README: `make run` and `make test`. Everything else is what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
FLASK := $(BIN)/flask --app app
HOST ?= 127.0.0.1
PORT ?= 5000
PG_ADMIN_DSN ?= host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=3
PG_TEST_DB ?= rpm_test
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/$(PG_TEST_DB)

ASSETS := app/static/vendor/versions.json

.PHONY: install assets system-packages notice-font run serve test bench bench-quick test-sqlite test-postgres replica lint \
  typecheck check-diagrams clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

## front-end bundles from the npm registry, copied to app/static/vendor (served locally: no CDN)
$(ASSETS): app/frontend/package-lock.json app/frontend/build.mjs $(wildcard app/frontend/src/*)
	npm ci --prefix app/frontend --no-audit --no-fund --loglevel=error
	node app/frontend/build.mjs

assets: $(ASSETS)

## make run: set up, migrate, load the demo county, process timers in the background, serve on 127.0.0.1
run: install assets notice-font
	$(FLASK) init-db
	$(FLASK) load-demo
	@echo "返贫监测认定和帮扶: http://$(HOST):$(PORT)/  (demo users: see README; password \$$DEMO_PASSWORD or Shiquan@2020)"
	@$(FLASK) timers run & timers=$$!; trap 'kill $$timers 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/waitress-serve --listen=$(HOST):$(PORT) --threads=8 app.wsgi:application

## make test: lint, then the whole suite on SQLite, then on PostgreSQL when a server is reachable
test: system-packages install assets lint typecheck check-diagrams test-sqlite test-postgres bench-quick

## what the suite needs beyond pip and npm, as the programs it runs and the package each comes from: LibreOffice
## Calc and poppler (the annexes opened in a real spreadsheet program, PDFs read, fonts listed and pages rendered),
## Chromium (the browser journeys; never a downloaded browser), and a CJK font (fontconfig must find one for
## Chinese). Installed with apt-get as root or with sudo; otherwise one line names them. A no-op when all are there.
SYSTEM_NEEDS ?= soffice:libreoffice-calc-nogui pdftotext:poppler-utils pdffonts:poppler-utils \
  pdftoppm:poppler-utils chromium:chromium fc-list:fontconfig
CJK_FONT_PACKAGE ?= fonts-noto-cjk
system-packages:
	@missing=""; add() { case " $$missing " in *" $$1 "*) ;; *) missing="$$missing $$1";; esac; }; \
	for need in $(SYSTEM_NEEDS); do command -v "$${need%%:*}" >/dev/null 2>&1 || add "$${need#*:}"; done; \
	fc-list :lang=zh family 2>/dev/null | grep -q . || add $(CJK_FONT_PACKAGE); \
	[ -z "$$missing" ] && exit 0; \
	if [ "$$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo -n"; \
	else echo "make test needs these system packages:$$missing; install them with: sudo apt-get install$$missing" >&2; exit 1; fi; \
	command -v apt-get >/dev/null || { echo "make test needs these system packages:$$missing (no apt-get here: install them by hand)" >&2; exit 1; }; \
	echo "== installing system packages:$$missing"; \
	$$sudo apt-get update -q && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -q --no-install-recommends $$missing

## the Chinese face the notices' PDFs embed (fonts-noto-cjk), installed as system-packages does; without root or
## sudo the app still runs (a notice then prints from its page, and its PDF says which package is missing)
notice-font:
	@$(MAKE) -s --no-print-directory system-packages SYSTEM_NEEDS="fc-list:fontconfig" || \
	  echo "(continuing: the notices' PDFs need a Chinese font until it is installed)" >&2

lint: install
	$(BIN)/ruff check .

check-diagrams: install
	DATABASE_URL=sqlite:///:memory: $(FLASK) processes check

test-sqlite: install assets
	@echo "== test suite on SQLite"
	$(BIN)/pytest -q

## on PostgreSQL, with a streaming replica of the server beside it (`make replica`) for tests/replica: without root
## or sudo to make one those tests skip, except under CI=true, which must test it
test-postgres: install assets
	@if $(BIN)/python -c "import psycopg; psycopg.connect('$(PG_ADMIN_DSN)').close()" 2>/dev/null; then \
	  if replica=$$(.ci/replica); then \
	    read -r version name port <<<"$$replica"; \
	    export TEST_REPLICA_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:$$port/$(PG_TEST_DB); \
	    export TEST_REPLICA_CLUSTER=$$version/$$name; \
	    echo "== streaming replica $$version/$$name on port $$port"; \
	  elif [ "$$CI" = "true" ]; then \
	    echo "CI must test the pages read from a replica, and .ci/replica could not make one" >&2; exit 1; \
	  else \
	    echo "== no streaming replica (.ci/replica could not make one): tests/replica skip"; \
	  fi; \
	  echo "== test suite on PostgreSQL ($(PG_TEST_DB))"; \
	  $(BIN)/python -c "import psycopg; c = psycopg.connect('$(PG_ADMIN_DSN)', autocommit=True); \
	    c.execute('DROP DATABASE IF EXISTS $(PG_TEST_DB) WITH (FORCE)'); c.execute('CREATE DATABASE $(PG_TEST_DB)')" && \
	  TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -q; \
	elif [ "$$CI" = "true" ]; then \
	  echo "PostgreSQL is not reachable at 127.0.0.1:5432; CI must test on it" >&2; exit 1; \
	else \
	  echo "== PostgreSQL not reachable at 127.0.0.1:5432: skipped the PostgreSQL run"; \
	fi

## make replica: a streaming replica of the PostgreSQL server on 127.0.0.1:5432, made (or reused) as a second
## cluster of this machine (Debian's pg_createcluster, then pg_basebackup); prints "VERSION NAME PORT". Root or sudo.
replica:
	@.ci/replica

## make bench: the county at scale (60,000 households) under gunicorn, each figure beside its yardstick from the same
## run (engine floor, openpyxl's own time, 1x history, 10^3 open tasks); writes bench/results/<date>.json, latest.json
## and latest.md. BENCH_ARGS="--scale 10" (or 100) scales households and history; BENCH_ARGS="--db postgresql
## --scale 100" runs it on PostgreSQL at 1, 10 and 100 counties (latest-postgresql.*); see python -m bench.county_bench -h
bench: install assets
	$(BIN)/python -m bench.county_bench $(BENCH_ARGS)

## make bench-quick: the same benchmark, small (about two minutes), so CI keeps it working; asserts nothing about speed
bench-quick: install assets
	$(BIN)/python -m bench.county_bench --quick

typecheck: install
	$(BIN)/mypy

clean:
	rm -rf $(VENV) instance/*.sqlite3* app/frontend/node_modules app/static/vendor
