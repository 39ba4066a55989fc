# Everything installs itself into .venv on first use; only python3 (3.11 or 3.12) and make are needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
EMULATOR_PORT ?= 5000
export PORT EMULATOR_PORT

.PHONY: run test bench bench-quick clean

$(BIN)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

run: $(BIN)/.installed
	$(BIN)/python -m devstack.run

test: $(BIN)/.installed
	$(BIN)/python -m pytest -q -n 2 tests

bench: $(BIN)/.installed
	$(BIN)/python -m bench.run_all

bench-quick: $(BIN)/.installed
	$(BIN)/python -m bench.run_all --quick

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
