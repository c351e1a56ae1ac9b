#!/usr/bin/env bash
# The in-image scenarios that need native speed, run in the image's own root file system
# through chroot: the image's python3, agentd package, models and Whisper, with the
# phone user's session bus started there and agentd started by its D-Bus activation file
# (no systemd, no screen).
#
# Why: under QEMU's TCG, Whisper base gave no word in over 7 minutes for 1.5 s of speech
# (CTranslate2's vector code, emulated), and a model-tier request with the 4 MB test
# model took over 7 minutes (unexplained: llama.cpp alone under qemu-user needs ~8 s
# for the same tokens). So "the voice path works from a recorded file" and "a model-tier
# request completes" are checked here, and the boot (make vm-test) covers the rest.
#
# Usage: qemu/chroot-test.sh [SCENARIO ...]   (default: model-tier voice; the image built
#        with KEEP_ROOTFS=1, as make vm-test does). Exit 0 when they all passed.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || set -- model-tier voice
ROOTFS=build/image/qemu-amd64/rootfs
[ -d "$ROOTFS/usr/lib/agentd" ] || { echo "chroot-test: $ROOTFS is missing: KEEP_ROOTFS=1 image/build.sh qemu-amd64 (make vm-test)" >&2; exit 1; }
start=$(date +%s)
status=0
# Private mount and PID namespaces (what the check starts ends with it): its own /proc,
# /sys and /dev from the host, a fresh /run and /tmp.
unshare --mount --pid --fork --propagation private -- sh -c '
    set -e
    root=$1; shift
    mount -t proc proc "$root/proc"
    mount --bind /sys "$root/sys"
    mount --bind /dev "$root/dev"
    mount -t tmpfs tmpfs "$root/run"
    mount -t tmpfs tmpfs "$root/tmp"
    exec chroot "$root" /usr/bin/python3 /usr/share/agentd-image/scenarios.py \
        --user phone --session --only "$@"
' chroot-test "$ROOTFS" "$@" 2>&1 | tee build/image/qemu-amd64/chroot-test.log \
    | sed -E 's/^(.*agentd-vm: )?/  /' || status=$?
result=$(grep -a -o 'agentd-vm: RESULT.*' build/image/qemu-amd64/chroot-test.log | tail -n1 || true)
if [ -z "$result" ]; then
    echo "chroot-test: no result after $(( $(date +%s) - start )) s (exit $status)" >&2
    exit 1
fi
echo "chroot-test: ${result#agentd-vm: } in $(( $(date +%s) - start )) s"
case $result in *"failed=0 skipped=0"*) exit 0 ;; *) exit 1 ;; esac
