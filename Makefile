# mlcourse: two commands do all the set-up (see README).
#   make tour     set up, then the lecture run of every tutorial and the report card (FULL=1: --full)
#   make test     set up if needed, then ruff (lint and format check) and the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.mlcourse-installed
FULL   ?=

.PHONY: tour test lint setup system data bench board report clean

tour: setup
	$(BIN)/mlcourse run all $(if $(FULL),--full,)
	$(BIN)/mlcourse report $(if $(FULL),--mode full,)
	@echo
	@echo "Open TensorBoard:  $(BIN)/mlcourse board   (then browse the URL it prints, e.g. http://127.0.0.1:6006)"

test: setup lint
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

setup: $(STAMP) data

# System packages (Debian/Ubuntu): python3-venv if venv cannot bootstrap pip, and the Fashion-MNIST files.
system:
	@bash .ci/system-packages.sh

$(STAMP): setup.cfg pyproject.toml
	@$(MAKE) --no-print-directory system
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

data: $(STAMP)
	$(BIN)/mlcourse data prepare --download

bench: setup
	$(BIN)/mlcourse bench

board: setup
	$(BIN)/mlcourse board

report: setup
	$(BIN)/mlcourse report

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
