# armdbg: `make run` starts the shell on the embedded demo, `make test` runs everything.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint unit bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/armdbg

lint: $(VENV)/.installed-test
	$(BIN)/ruff check armdbg plugins tests benchmarks
	$(BIN)/mypy armdbg/machine armdbg/isa armdbg/kprobes armdbg/tracing

test: lint
	$(BIN)/python -m pytest

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/run_speed.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
