#!/usr/bin/env bash
# Cross-compile the llama.cpp libraries that llama-cpp-python loads, for arm64, once, and
# cache them; print the folder holding libllama.so and libggml*.so.
#
# The source is the llama.cpp that the pinned llama-cpp-python sdist vendors (the same
# commit the Python bindings were written for). Flags: no native CPU tuning (the phone's
# Cortex-A53 is armv8-a), shared libraries that find each other beside them (RPATH
# $ORIGIN, as in the x86_64 wheel), and no apps/tests/examples/server (with apps on,
# build-info.h is not found in a cross build). The libraries need libgomp1.
#
# Usage: scripts/build-llama-arm64.sh      (needs crossbuild-essential-arm64 and cmake)
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/agentd
CMAKE_FLAGS="-DBUILD_SHARED_LIBS=ON -DGGML_NATIVE=OFF -DGGML_CPU_ARM_ARCH=armv8-a \
-DLLAMA_BUILD_APP=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
-DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_CURL=OFF -DGGML_OPENMP=ON \
-DCMAKE_BUILD_TYPE=Release -DCMAKE_BUILD_WITH_INSTALL_RPATH=ON -DCMAKE_INSTALL_RPATH=\$ORIGIN"
log() { echo "build-llama-arm64: $*" >&2; }

for tool in aarch64-linux-gnu-gcc aarch64-linux-gnu-g++ cmake; do
    command -v "$tool" >/dev/null || { log "$tool is missing: apt install crossbuild-essential-arm64 cmake"; exit 1; }
done
SDIST=$(scripts/build-llama-wheel.sh --sdist-only)
KEY=$(printf '%s\n' "$(sha256sum "$SDIST" | cut -c1-64)" "$CMAKE_FLAGS" \
      "$(aarch64-linux-gnu-gcc -dumpfullversion)" | sha256sum | cut -c1-16)
OUT=$CACHE/llama-arm64/$KEY

if [ ! -f "$OUT/.done" ]; then
    mkdir -p "$CACHE/llama-arm64"
    exec 9>"$CACHE/llama-arm64/.lock"
    flock 9
    if [ ! -f "$OUT/.done" ]; then
        tmp=$(mktemp -d "$CACHE/llama-arm64/.build.XXXXXX")
        trap 'rm -rf "$tmp"' EXIT
        log "cross-compiling llama.cpp for arm64 (about 2.5 min on 2 cores)"
        start=$(date +%s)
        tar -xzf "$SDIST" -C "$tmp" --wildcards '*/vendor/llama.cpp/*'
        src=$(echo "$tmp"/llama_cpp_python-*/vendor/llama.cpp)
        cat > "$tmp/toolchain.cmake" <<'TC'
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
TC
        # shellcheck disable=SC2086
        cmake -S "$src" -B "$tmp/build" -DCMAKE_TOOLCHAIN_FILE="$tmp/toolchain.cmake" \
            $CMAKE_FLAGS >"$tmp/cmake.log" 2>&1 || { tail -30 "$tmp/cmake.log" >&2; exit 1; }
        cmake --build "$tmp/build" -j"$(nproc)" >"$tmp/build.log" 2>&1 \
            || { tail -30 "$tmp/build.log" >&2; exit 1; }
        mkdir -p "$tmp/out"
        find "$tmp/build" -name 'lib*.so*' -exec cp -a {} "$tmp/out/" \;
        printf '%s\n' "sdist=$(basename "$SDIST")" "cmake_args=$CMAKE_FLAGS" > "$tmp/out/BUILD-INFO"
        touch "$tmp/out/.done"
        rm -rf "$OUT"
        mv "$tmp/out" "$OUT"
        rm -rf "$tmp"
        trap - EXIT
        log "built in $(( $(date +%s) - start )) s"
    fi
fi
echo "$OUT"
