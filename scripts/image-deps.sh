#!/usr/bin/env bash
# Debian packages for building the .deb and the images and booting them (apt installs
# what is missing). Needs root.
set -euo pipefail
PKGS="mmdebstrap qemu-user-static binfmt-support arch-test qemu-system-x86 qemu-system-arm
qemu-utils e2fsprogs fdisk dosfstools file crossbuild-essential-arm64 cmake"
missing=()
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "image-deps: installing ${missing[*]}" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2
fi
