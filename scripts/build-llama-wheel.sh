#!/usr/bin/env bash
# Build the pinned llama-cpp-python wheel once and cache it; print the wheel's path.
#
# llama-cpp-python ships only as a source distribution. A default build uses
# -march=native (AVX-512 here), which crashes on CPUs without it, and builds the
# multimodal library agentd does not use; hence the flags below. The wheel is cached
# under a key made of the version, the flags, the Python tag and the machine, so CI
# builds it once and a changed flag builds a new one.
#
# Usage: scripts/build-llama-wheel.sh [--sdist-only]
#   prints the cached wheel's path (or, with --sdist-only, the sdist's path) on stdout.
# Env:   PYTHON (default python3), XDG_CACHE_HOME, LLAMA_EXTRA_CMAKE_ARGS (appended).
set -euo pipefail

VERSION=0.3.36
SDIST_SHA256=832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e
PYTHON=${PYTHON:-python3}
# Tests, tools, examples and the server are already off when llama.cpp is a
# subproject; saying so keeps the key honest if that default ever changes.
CMAKE_FLAGS="-DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF \
-DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF ${LLAMA_EXTRA_CMAKE_ARGS:-}"

CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/agentd
SDIST_DIR=$CACHE/sdist
SDIST=$SDIST_DIR/llama_cpp_python-$VERSION.tar.gz

log() { echo "build-llama-wheel: $*" >&2; }

fetch_sdist() {
    if [ -f "$SDIST" ] && echo "$SDIST_SHA256  $SDIST" | sha256sum -c --quiet - 2>/dev/null; then
        return
    fi
    mkdir -p "$SDIST_DIR"
    local tmp
    tmp=$(mktemp -d "$SDIST_DIR/.download.XXXXXX")
    log "downloading the llama-cpp-python $VERSION source distribution (77 MB)"
    "$PYTHON" -m pip download --quiet --no-deps --no-binary :all: \
        "llama-cpp-python==$VERSION" -d "$tmp" >&2
    if ! echo "$SDIST_SHA256  $tmp/llama_cpp_python-$VERSION.tar.gz" | sha256sum -c --quiet -; then
        rm -rf "$tmp"
        log "the downloaded sdist does not match the pinned sha256; refusing it"
        exit 1
    fi
    mv "$tmp/llama_cpp_python-$VERSION.tar.gz" "$SDIST"
    rm -rf "$tmp"
}

fetch_sdist
if [ "${1:-}" = "--sdist-only" ]; then
    echo "$SDIST"
    exit 0
fi

PYTAG=$("$PYTHON" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
KEY=$(printf '%s\n' "$VERSION" "$CMAKE_FLAGS" "$PYTAG" "$(uname -m)" | sha256sum | cut -c1-16)
WHEEL_DIR=$CACHE/wheels/llama-cpp-python-$VERSION-$KEY

if ! ls "$WHEEL_DIR"/llama_cpp_python-*.whl >/dev/null 2>&1; then
    mkdir -p "$CACHE/wheels"
    # One build at a time; a second caller waits and then finds the wheel.
    exec 9>"$CACHE/wheels/.lock"
    flock 9
    if ! ls "$WHEEL_DIR"/llama_cpp_python-*.whl >/dev/null 2>&1; then
        tmp=$(mktemp -d "$CACHE/wheels/.build.XXXXXX")
        trap 'rm -rf "$tmp"' EXIT
        log "building llama-cpp-python $VERSION (about 4 min on 2 cores) with: $CMAKE_FLAGS"
        start=$(date +%s)
        CMAKE_ARGS="$CMAKE_FLAGS" CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) \
            "$PYTHON" -m pip wheel --quiet --no-deps -w "$tmp" "$SDIST" >&2
        printf '%s\n' "version=$VERSION" "cmake_args=$CMAKE_FLAGS" "python=$PYTAG" \
            "machine=$(uname -m)" > "$tmp/BUILD-INFO"
        rm -rf "$WHEEL_DIR"
        mv "$tmp" "$WHEEL_DIR"
        trap - EXIT
        log "built in $(( $(date +%s) - start )) s"
    fi
fi
ls "$WHEEL_DIR"/llama_cpp_python-*.whl | head -n1
