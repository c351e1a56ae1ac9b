#!/usr/bin/env bash
# Lay out the PinePhone's SD card / eMMC image from a finished root file system tree.
#
# MBR (u-boot-install-sunxi64 refuses GPT: the SPL at 8 KiB would trample it):
#   8 KiB     sunxi-spl.bin                  (the A64's boot ROM loads it from here)
#   40 KiB    u-boot-sunxi-with-spl.fit.itb  (ATF + u-boot + the device trees)
#   4 MiB     partition 1, ext4 "agentd-boot", bootable: extlinux/extlinux.conf, the
#             kernel, the initramfs and the PinePhone device trees (mounted at /boot)
#   +256 MiB  partition 2, ext4 "agentd-root": the root file system
# u-boot's distro boot finds extlinux.conf on the bootable partition.
#
# Usage: image/pinephone-disk.sh ROOTFS OUTDIR ROOT_MB   (called by image/build.sh)
set -euo pipefail
ROOTFS=$1 OUT=$2 ROOT_MB=$3
BOOT_MB=256
UBOOT=$ROOTFS/usr/lib/u-boot/pinephone
DTB_NAME=sun50i-a64-pinephone-1.2.dtb
for f in "$UBOOT/sunxi-spl.bin" "$UBOOT/u-boot-sunxi-with-spl.fit.itb"; do
    [ -f "$f" ] || { echo "pinephone-disk: $f is missing (Debian's u-boot-sunxi)" >&2; exit 1; }
done
KVER=$(basename "$(ls -d "$ROOTFS"/usr/lib/linux-image-* | sort -V | tail -n1)")
KVER=${KVER#linux-image-}
DTBS=$ROOTFS/usr/lib/linux-image-$KVER/allwinner
[ -f "$DTBS/$DTB_NAME" ] || { echo "pinephone-disk: $DTBS/$DTB_NAME is missing" >&2; exit 1; }

# The boot partition's tree.
BOOT=$OUT/boot-tree
rm -rf "$BOOT"
mkdir -p "$BOOT/extlinux" "$BOOT/dtbs/allwinner"
cp -L "$ROOTFS/boot/vmlinuz-$KVER" "$BOOT/vmlinuz"
cp -L "$ROOTFS/boot/initrd.img-$KVER" "$BOOT/initrd.img"
cp "$DTBS"/sun50i-a64-pinephone-*.dtb "$BOOT/dtbs/allwinner/"
cat > "$BOOT/extlinux/extlinux.conf" <<CONF
# agentd phone image for the PinePhone (Debian bookworm, kernel $KVER)
default agentd
menu title agentd
timeout 20

label agentd
    menu label agentd (Debian bookworm, $KVER)
    linux /vmlinuz
    initrd /initrd.img
    fdt /dtbs/allwinner/$DTB_NAME
    append root=LABEL=agentd-root rw rootwait console=ttyS0,115200 console=tty0 printk.devkmsg=on
CONF
# /boot is the first partition on the phone.
rm -rf "$ROOTFS/boot"/*
printf '%s\n' "LABEL=agentd-root / ext4 defaults,noatime 0 1" \
    "LABEL=agentd-boot /boot ext4 defaults,noatime 0 2" > "$ROOTFS/etc/fstab"

mkfs.ext4 -q -F -L agentd-boot -d "$BOOT" "$OUT/boot.part" "${BOOT_MB}M"
mkfs.ext4 -q -F -L agentd-root -d "$ROOTFS" "$OUT/root.part" "${ROOT_MB}M"
DISK=$OUT/disk.img
START1=$((4 * 2048))                  # sectors of 512 bytes
START2=$((START1 + BOOT_MB * 2048))
TOTAL_MB=$((4 + BOOT_MB + ROOT_MB))
rm -f "$DISK"
truncate -s "${TOTAL_MB}M" "$DISK"
sfdisk --quiet "$DISK" <<TABLE
label: dos
start=$START1, size=$((BOOT_MB * 2048)), type=83, bootable
start=$START2, size=$((ROOT_MB * 2048)), type=83
TABLE
dd if="$UBOOT/sunxi-spl.bin" of="$DISK" bs=8k seek=1 conv=notrunc status=none
dd if="$UBOOT/u-boot-sunxi-with-spl.fit.itb" of="$DISK" bs=8k seek=5 conv=notrunc status=none
dd if="$OUT/boot.part" of="$DISK" bs=1M seek=4 conv=notrunc,sparse status=none
dd if="$OUT/root.part" of="$DISK" bs=1M seek=$((4 + BOOT_MB)) conv=notrunc,sparse status=none
rm -rf "$OUT/boot.part" "$OUT/root.part" "$BOOT"
# What the layout test compares the disk with, byte by byte.
cp "$UBOOT/sunxi-spl.bin" "$UBOOT/u-boot-sunxi-with-spl.fit.itb" "$OUT/"
cp "$DTBS/$DTB_NAME" "$OUT/"
