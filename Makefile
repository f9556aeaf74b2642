# make run  - set everything up and serve the site on http://127.0.0.1:5000 (SQLite)
# make test - set everything up and run the whole test suite
# make bench - run every benchmark; each prints one JSON line per figure on stdout
.DEFAULT_GOAL := help
.PHONY: help install translations translations-extract translations-update run test lint format fonts bench bench-pages bench-triage bench-export bench-intake bench-backup bench-lighthouse clean

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 5000

help:
	@echo "make run    set up and serve the site on http://$(HOST):$(PORT)"
	@echo "make test   set up and run the whole test suite"
	@echo "make lint   ruff check and format check"
	@echo "make fonts  remake the Kannada, Telugu and Devanagari web fonts (needs fonts-noto-core)"
	@echo "make bench  every benchmark (or bench-pages, bench-triage, bench-export, bench-intake)"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found " + sys.version.split()[0] + "); set PYTHON=python3.11")'
	@# Set-up talks on stderr, so that `make bench > figures.jsonl` holds figures only.
	@echo "Setting up $(VENV): installing the project and its test tools" >&2
	@$(PYTHON) -m venv $(VENV) >&2
	@$(BIN)/python -m pip install --quiet --upgrade pip >&2
	@$(BIN)/python -m pip install --quiet -e '.[dev]' >&2
	@touch $(STAMP)

install: $(STAMP)

# Patient-facing strings live in gettext catalogues under crm/translations (see babel.cfg).
# extract: templates and code -> messages.pot; update: merge it into each language's .po;
# translations: compile the .po files to the .mo files the app reads (never committed).
CATALOGUES := crm/translations
translations-extract: install
	$(BIN)/pybabel --quiet extract -F babel.cfg -k _l -k lazy_gettext --sort-by-file \
		--add-comments=Translators: \
		--msgid-bugs-address=privacy@example.invalid --project=clinic-crm \
		-o $(CATALOGUES)/messages.pot .

translations-update: translations-extract
	$(BIN)/pybabel --quiet update -i $(CATALOGUES)/messages.pot -d $(CATALOGUES) --no-fuzzy-matching

translations: install
	@if ls $(CATALOGUES)/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then \
		$(BIN)/pybabel compile --statistics -d $(CATALOGUES) >&2; fi

run: install translations
	$(BIN)/crm db upgrade
	$(BIN)/crm seed
	@$(BIN)/python -c 'from crm import create_app; app = create_app(); print("" if app.config["MAIL_SERVER"] else "Note: no mail server is configured (CRM_MAIL_SERVER), so emails wait in the outbox.")'
	$(BIN)/crm run --host $(HOST) --port $(PORT)

# The suite runs on SQLite; with CRM_TEST_POSTGRES=1 it runs again on a throwaway PostgreSQL.
test: install translations
	$(BIN)/python -m pytest $(PYTEST_ARGS)
ifeq ($(CRM_TEST_POSTGRES),1)
	CRM_TEST_DATABASE=postgres $(BIN)/python -m pytest $(PYTEST_ARGS)
endif

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The subsetted web fonts are committed; this remakes them from Debian's Noto fonts
# (apt-get install fonts-noto-core), with their stylesheets and FONTLOG.
fonts: install
	$(BIN)/python tools/subset_fonts.py

# Figures go to stdout as JSON lines, progress to stderr: make bench > figures.jsonl
# The first run builds databases of 10,000 and 1,000,000 leads in bench/results/ (a few minutes).
bench: bench-pages bench-triage bench-export bench-intake bench-backup

bench-pages: install
	@$(BIN)/python bench/pages_bench.py

# With CRM_TEST_POSTGRES=1, the searches also on a throwaway PostgreSQL cluster: the 10,000-lead
# data copied in, and the 100,000-lead data copied in ten times (a million leads).
bench-triage: install
	@$(BIN)/python bench/inbox_bench.py
ifeq ($(CRM_TEST_POSTGRES),1)
	@$(BIN)/python bench/inbox_bench.py --postgres --leads 10000
	@$(BIN)/python bench/inbox_bench.py --postgres --leads 100000 --times 10
endif

# Needs the sqlite3 command-line shell (apt-get install sqlite3) to compare with.
bench-export: install
	@$(BIN)/python bench/export_bench.py

# With CRM_TEST_POSTGRES=1, also on a throwaway PostgreSQL cluster with 4 workers (as the tests start one).
bench-intake: install
	@$(BIN)/python bench/intake_bench.py

bench-backup: install
	@$(BIN)/python bench/backup_bench.py

# Needs Node and Debian's Chromium; installs Lighthouse 12.2.3 into bench/lighthouse/ (git-ignored).
bench-lighthouse: install
	@test -x bench/lighthouse/node_modules/.bin/lighthouse || (mkdir -p bench/lighthouse && cd bench/lighthouse && npm i -E --no-audit --no-fund lighthouse@12.2.3 >&2)
	@CHROME_PATH=$${CHROME_PATH:-/usr/bin/chromium} $(BIN)/python bench/lighthouse_bench.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
