# Scaling Laws, Hands-On. Two commands on a fresh machine (Python 3.11):
#   make book   build the website into _build/html (executes every chapter, preset `book`)
#   make test   run the test suite (includes every chapter on preset `smoke` and a strict build)
#   make assignments  student notebooks and autograder zips into _build/assignments (otter assign)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

MATHJAX := mathjax@3.2.2
CHROMIUM ?= /usr/bin/chromium

.PHONY: book test test-loaded test-browser install smoke assignments freeze clean help
.DEFAULT_GOAL := help

help:
	@echo "make book    build the book into _build/html (creates .venv and installs on first use)"
	@echo "make test    run the tests (the same command CI runs)"
	@echo "make test-loaded  the same tests with every core kept busy by another process"
	@echo "make smoke   build the book quickly with the smoke preset"
	@echo "make test-browser  open every page of the smoke build in headless Chromium"
	@echo "make assignments  student notebooks + autograder zips into _build/assignments"
	@echo "make clean   remove _build"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall when the pins or the package metadata change.
$(STAMP): requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)

book: $(STAMP)
	$(BIN)/python tools/build.py --preset book --strict

smoke: $(STAMP)
	$(BIN)/python tools/build.py --preset smoke --strict

test: $(STAMP)
	$(BIN)/python -m pytest

# `make test` while competitor processes keep every core busy (benchmarks/under_load.py): the
# suite must pass on a loaded machine too; prints the wall time and each chapter's time.
test-loaded: $(STAMP)
	$(BIN)/python benchmarks/under_load.py -- $(BIN)/python -m pytest

# Every page in headless Chromium (the system's; `apt-get install chromium`): MathJax typesets,
# images load, a dropdown solution opens, no console errors; the 简体中文 pages in an installed
# CJK font (`apt-get install fonts-noto-cjk`); screenshots in _build/screenshots.
test-browser: $(STAMP)
	@test -x "$(CHROMIUM)" || { echo "test-browser needs Chromium at $(CHROMIUM): apt-get install chromium"; exit 2; }
	@fc-list 2>/dev/null | grep -q "Noto Sans CJK" || echo "test-browser: the 简体中文 pages are checked for a CJK font: apt-get install fonts-noto-cjk"
	npm install --prefix _build/browser-deps --no-audit --no-fund --silent $(MATHJAX)
	CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest -m browser tests/browser

assignments: $(STAMP)
	$(BIN)/python tools/assignments.py

freeze: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable | sed 's/^torch==\(.*\)+cpu$$/torch==\1/'

clean:
	rm -rf _build
