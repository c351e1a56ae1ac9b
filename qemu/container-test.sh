#!/usr/bin/env bash
# The in-image scenarios that need native speed, in the image's own root file system
# booted as a container (systemd-nspawn: the image's systemd, logind, user manager,
# D-Bus activation and agentd; no screen, so only scenarios without one).
#
# Whisper under QEMU's TCG takes over 7 minutes without a word for 1.5 s of speech, so
# "the voice path works from a recorded file" is checked here: espeak-ng speech in a WAV
# file → agentctl ask --audio → AskAudio → Whisper base → the plan.
#
# Usage: qemu/container-test.sh [SCENARIO,...]    (default: voice; image built with
#        KEEP_ROOTFS=1, as make vm-test does). Exit 0 when they all passed.
set -euo pipefail
cd "$(dirname "$0")/.."
ONLY=${1:-voice}
ROOTFS=build/image/qemu-amd64/rootfs
[ -d "$ROOTFS/usr/lib/agentd" ] || { echo "container-test: $ROOTFS is missing: KEEP_ROOTFS=1 image/build.sh qemu-amd64 (make vm-test)" >&2; exit 1; }
command -v systemd-nspawn >/dev/null || { echo "container-test: systemd-nspawn is missing (apt install systemd-container)" >&2; exit 1; }
LOG=build/image/qemu-amd64/container-test.log
start=$(date +%s)
status=0
# The scenarios power the container off when done (SuccessAction/FailureAction).
timeout --kill-after=10 "${AGENTD_CONTAINER_TIMEOUT:-600}" systemd-nspawn --quiet \
    --directory="$ROOTFS" --register=no --keep-unit --boot --console=pipe \
    --machine=agentd-phone -- agentd.vm_test=1 "agentd.vm_only=$ONLY" </dev/null >"$LOG" 2>&1 || status=$?
grep -a 'agentd-vm: ' "$LOG" | sed -E 's/^.*agentd-vm: /  /' | awk '!seen[$0]++' || true
result=$(grep -a -o 'agentd-vm: RESULT.*' "$LOG" | tail -n1 || true)
if [ -z "$result" ]; then
    echo "container-test: no result after $(( $(date +%s) - start )) s (exit $status); the last lines:" >&2
    tail -n 30 "$LOG" | sed 's/^/  | /' >&2
    exit 1
fi
echo "container-test: ${result#agentd-vm: } in $(( $(date +%s) - start )) s"
case $result in *"failed=0 skipped=0"*) exit 0 ;; *) exit 1 ;; esac
