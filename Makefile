# agentd: `make run` sets up and runs a demo; `make test` sets up and runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: all run test lint bench introspection deps clean llama-wheel embedder bench-model

all: $(STAMP)

deps:
	scripts/debian-deps.sh

$(STAMP): pyproject.toml scripts/build-llama-wheel.sh
	scripts/debian-deps.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check \
		"$$(PYTHON=$(BIN)/python scripts/build-llama-wheel.sh)" -e '.[test,model,voice]'
	touch $(STAMP)

run: $(STAMP)
	scripts/demo.sh

test: $(STAMP)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check agentd tests bench

bench: $(STAMP)
	$(BIN)/python bench/run.py

# The model tier: the cached llama-cpp-python wheel, the ToolRAG embedder, its benchmark.
llama-wheel:
	scripts/build-llama-wheel.sh

embedder:
	scripts/make-embedder-gguf.sh

bench-model: $(STAMP)
	$(BIN)/python bench/model.py

# Regenerate system/dbus/*.xml after changing the D-Bus interfaces.
introspection: $(STAMP)
	$(BIN)/python -m agentd.bus.introspect system/dbus

clean:
	rm -rf $(VENV) .run .pytest_cache .ruff_cache
