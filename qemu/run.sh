#!/usr/bin/env bash
# Boot a built image (image/build.sh) in QEMU.
#
# Usage: qemu/run.sh qemu-amd64|qemu-arm64 [--headless] [--test] [--serial FILE] [--timeout S]
#   default     a window with the phone screen (virtio-gpu, 720x1440; VNC on
#               127.0.0.1:5900 where there is no desktop) and the serial console on
#               this terminal (root logs in without a password; Ctrl-a x quits)
#   --headless  no window (the screen still exists for phoc, grim and uinput)
#   --test      run the in-image scenarios (agentd-vm-test.service) and power off
#   --serial F  write the console to F instead of this terminal
#   --timeout S give up after S seconds (exit 124)
# Env: AGENTD_QEMU_ACCEL=kvm|tcg forces the accelerator. Otherwise KVM is used where a
# KVM guest really starts (a short probe; on some hosts /dev/kvm exists but QEMU fails
# with "failed to set MSR" or hangs after SeaBIOS), else TCG.
# The image is never changed: the disk is a copy-on-write snapshot.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=${1:?usage: qemu/run.sh qemu-amd64|qemu-arm64 [--headless] [--test] [--serial FILE]}
shift
HEADLESS=0 TEST=0 SERIAL="" TIMEOUT=0
while [ $# -gt 0 ]; do
    case $1 in
        --headless) HEADLESS=1 ;;
        --test) TEST=1 HEADLESS=1 ;;
        --serial) SERIAL=$2; shift ;;
        --timeout) TIMEOUT=$2; shift ;;
        *) echo "qemu/run.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
DIR=build/image/$TARGET
for f in root.img vmlinuz initrd.img cmdline; do
    [ -f "$DIR/$f" ] || { echo "qemu/run.sh: $DIR/$f is missing: run image/build.sh $TARGET (make image)" >&2; exit 1; }
done
APPEND="$(cat "$DIR/cmdline")"
[ "$TEST" = 1 ] && APPEND="$APPEND agentd.vm_test=1 systemd.show_status=false ${AGENTD_VM_APPEND:-}"

case $TARGET in
    qemu-amd64)
        QEMU=qemu-system-x86_64
        MACHINE=(-machine q35)
        ;;
    qemu-arm64)
        QEMU=qemu-system-aarch64
        # cortex-a53 is the PinePhone's core; max with pauth-impdef boots 20% faster
        # under TCG, plain max twice as slow (pointer authentication in software).
        MACHINE=(-machine virt -cpu "${AGENTD_QEMU_CPU:-max,pauth-impdef=on}")
        ;;
    *) echo "qemu/run.sh: $TARGET does not boot in QEMU (pinephone: make flash)" >&2; exit 2 ;;
esac
command -v "$QEMU" >/dev/null || { echo "qemu/run.sh: $QEMU is missing: scripts/image-deps.sh" >&2; exit 1; }

accel() {
    if [ -n "${AGENTD_QEMU_ACCEL:-}" ]; then echo "$AGENTD_QEMU_ACCEL"; return; fi
    if [ "$TARGET" != qemu-amd64 ] || [ "$(uname -m)" != x86_64 ] || [ ! -w /dev/kvm ]; then
        echo tcg; return
    fi
    # A KVM guest that reaches the kernel prints "Linux version" within seconds.
    if timeout 15 "$QEMU" -accel kvm -machine q35 -cpu host -m 256 -nodefaults -display none \
        -no-reboot -serial stdio -kernel "$DIR/vmlinuz" -append "console=ttyS0 panic=-1 loglevel=7" \
        2>/dev/null | grep -q -m1 "Linux version"; then
        echo kvm
    else
        echo tcg
    fi
}
ACCEL=$(accel)
CPU=()
if [ "$TARGET" = qemu-amd64 ]; then
    if [ "$ACCEL" = kvm ]; then CPU=(-cpu host); else CPU=(-cpu max); fi
fi
echo "qemu/run.sh: $TARGET with $ACCEL" >&2

if [ "$HEADLESS" = 1 ]; then
    DISPLAY_ARGS=(-display none)
elif [ -n "${AGENTD_QEMU_DISPLAY:-}" ]; then
    DISPLAY_ARGS=(-display "$AGENTD_QEMU_DISPLAY")
elif [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
    DISPLAY_ARGS=(-display gtk)
else
    # No desktop here (a server, an SSH session): the screen goes to VNC on this machine.
    DISPLAY_ARGS=(-display none -vnc 127.0.0.1:0)
    echo "qemu/run.sh: no desktop here: the phone's screen is on VNC at 127.0.0.1:5900" >&2
fi
if [ -n "$SERIAL" ]; then SERIAL_ARGS=(-serial "file:$SERIAL"); else SERIAL_ARGS=(-serial mon:stdio); fi
CMD=("$QEMU" "${MACHINE[@]}" "${CPU[@]}" -accel "$ACCEL" -m 2048 -smp 2 -no-reboot
     -kernel "$DIR/vmlinuz" -initrd "$DIR/initrd.img" -append "$APPEND"
     -drive "file=$DIR/root.img,if=virtio,format=raw,snapshot=on"
     -device virtio-gpu-pci,xres=720,yres=1440 -device virtio-rng-pci
     -device virtio-keyboard-pci -device virtio-tablet-pci -nic none
     "${DISPLAY_ARGS[@]}" "${SERIAL_ARGS[@]}")
if [ "$TIMEOUT" -gt 0 ]; then exec timeout --kill-after=10 "$TIMEOUT" "${CMD[@]}"; fi
exec "${CMD[@]}"
