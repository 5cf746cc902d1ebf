# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv and install.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

CHROMIUM ?= /usr/bin/chromium

.PHONY: demo test lint typecheck unit bench clean chromium screenshots

# The demo needs the platform only; the tests add their tools (about 18 s more to install).
$(BIN)/.runtime: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(BIN)/.runtime

demo: $(BIN)/.runtime
	$(BIN)/revmentor demo

lint: $(BIN)/.installed
	$(BIN)/ruff check .

typecheck: $(BIN)/.installed
	$(BIN)/mypy

# The console's browser tests drive Debian's Chromium (Playwright's own browser download cannot
# work without internet access to its CDN); installed here when missing and apt is at hand as root.
chromium:
	@if [ -x $(CHROMIUM) ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else echo "no $(CHROMIUM): install Debian's chromium (apt-get install chromium) for the console's browser tests"; fi

# Two workers, each with its own broker and database; a test file runs whole, in order, on one
# of them (the browser tests build on each other). Most tests wait on the broker, not the CPU.
test: lint typecheck chromium
	$(BIN)/python -m pytest -n 2 --dist loadfile

unit: $(BIN)/.installed
	$(BIN)/python -m pytest -m "not integration"

bench: $(BIN)/.installed
	$(BIN)/python benchmarks/outbox_relay.py
	$(BIN)/python benchmarks/enrolment_import.py
	$(BIN)/python benchmarks/matching.py --mentors 5000 --mentees 5000
	$(BIN)/python benchmarks/sessions_kpis.py --mentorships 5000 --sessions 50000

screenshots: $(BIN)/.installed chromium
	$(BIN)/python scripts/console_screenshots.py docs/console

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
