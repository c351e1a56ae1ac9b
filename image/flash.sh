#!/usr/bin/env bash
# make flash DEVICE=/dev/sdX: write the PinePhone image to an SD card (or to the phone's
# eMMC exposed over USB by a flashing tool such as JumpDrive).
#
# Safety: DEVICE must be a whole block device that is removable, on USB, or an MMC/SD
# card; none of its partitions may be mounted; it must be large enough. The device,
# its size and model are shown and you must type its name to go on (--yes skips that,
# for scripts that did their own checks).
#
# Usage: image/flash.sh DEVICE [IMAGE] [--yes]     (IMAGE: build/image/pinephone/disk.img)
set -euo pipefail
cd "$(dirname "$0")/.."
die() { echo "flash: $*" >&2; exit 1; }

YES=0 ARGS=()
for a in "$@"; do
    case $a in --yes) YES=1 ;; *) ARGS+=("$a") ;; esac
done
DEVICE=${ARGS[0]:-}
IMAGE=${ARGS[1]:-build/image/pinephone/disk.img}
[ -n "$DEVICE" ] || die "usage: make flash DEVICE=/dev/sdX (lsblk lists the disks)"
[ -f "$IMAGE" ] || die "$IMAGE is missing: make image IMAGE=pinephone"
[ -b "$DEVICE" ] || die "$DEVICE is not a block device"
NAME=$(basename "$(readlink -f "$DEVICE")")
# FLASH_SYSFS: a fake sysfs tree, for the tests only (they flash a loop device).
SYS=${FLASH_SYSFS:-/sys}/class/block/$NAME
[ -e "$SYS" ] || die "$DEVICE is not known to the kernel"
[ -e "$SYS/partition" ] && die "$DEVICE is a partition: give the whole device (e.g. /dev/sdb, not /dev/sdb1)"
REMOVABLE=$(cat "$SYS/removable" 2>/dev/null || echo 0)
TRAN=$(lsblk -dno TRAN "$DEVICE" 2>/dev/null | tr -d ' ')
if [ "$REMOVABLE" != 1 ] && [ "$TRAN" != usb ] && [[ $NAME != mmcblk* ]]; then
    die "$DEVICE is not removable, not on USB and not an SD card: refusing to overwrite what may be this computer's own disk"
fi
MOUNTED=$(lsblk -nro MOUNTPOINT "$DEVICE" | sed '/^$/d' || true)
[ -z "$MOUNTED" ] || die "$DEVICE has mounted partitions ($(echo "$MOUNTED" | paste -sd' ')): unmount them first"
DEV_BYTES=$(blockdev --getsize64 "$DEVICE")
IMG_BYTES=$(stat -c %s "$IMAGE")
[ "$DEV_BYTES" -ge "$IMG_BYTES" ] || die "$DEVICE holds $((DEV_BYTES / 1000000)) MB, the image needs $((IMG_BYTES / 1000000)) MB"

echo "Write $IMAGE ($((IMG_BYTES / 1000000)) MB) to:"
lsblk -o NAME,SIZE,MODEL,TRAN,RM,TYPE "$DEVICE"
echo "Everything on $DEVICE will be lost."
if [ "$YES" != 1 ]; then
    [ -t 0 ] || die "not asking without a terminal: run it at a terminal, or add --yes"
    read -r -p "Type $NAME to go on: " answer
    [ "$answer" = "$NAME" ] || die "not confirmed; nothing was written"
fi
dd if="$IMAGE" of="$DEVICE" bs=4M conv=fsync status=progress
sync
echo "flash: done. Put the card in the PinePhone and power it on."
