# agentd: `make run` sets up and runs a demo; `make test` sets up and runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: all run test lint bench introspection deps clean

all: $(STAMP)

deps:
	scripts/debian-deps.sh

$(STAMP): pyproject.toml
	scripts/debian-deps.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	scripts/demo.sh

test: $(STAMP)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check agentd tests bench

bench: $(STAMP)
	$(BIN)/python bench/run.py

# Regenerate system/dbus/*.xml after changing the D-Bus interfaces.
introspection: $(STAMP)
	$(BIN)/python -m agentd.bus.introspect system/dbus

clean:
	rm -rf $(VENV) .run .pytest_cache .ruff_cache
