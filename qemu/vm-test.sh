#!/usr/bin/env bash
# make vm-test: boot the image headless with agentd.vm_test on the kernel command line,
# so agentd-vm-test.service runs the in-image scenarios (tests/vm/scenarios.py) as the
# phone user and powers the VM off; read their results from the serial console.
#
# Usage: qemu/vm-test.sh [qemu-amd64|qemu-arm64] [--smoke]
#   --smoke  only boot until agentd answers in the phone session (the arm64 CI check)
# Exit: 0 when every scenario passed; 1 when one failed; 124 when the VM did not finish
# in time (AGENTD_VM_TIMEOUT seconds, default 1200). The console log stays in
# build/image/<target>/vm-test.log.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=${1:-qemu-amd64}
SMOKE=${2:-}
LOG=build/image/$TARGET/vm-test.log
rm -f "$LOG"
start=$(date +%s)
args=(--test --serial "$LOG" --timeout "${AGENTD_VM_TIMEOUT:-1200}")
# Whisper and the model tier are far too slow under TCG (see qemu/chroot-test.sh, which
# runs those two scenarios in the same image at native speed).
export AGENTD_VM_APPEND="agentd.vm_skip=model-tier,voice"
if [ "$SMOKE" = --smoke ]; then
    # Only the first scenario: the session, agentd started by systemd, its idle figures.
    export AGENTD_VM_APPEND="agentd.vm_only=agentd-ready"
fi
status=0
qemu/run.sh "$TARGET" "${args[@]}" || status=$?
elapsed=$(( $(date +%s) - start ))
# The serial console ends lines with \r\n.
grep -a 'agentd-vm: ' "$LOG" | tr -d '\r' | sed -E 's/^.*agentd-vm: /  /' | awk '!seen[$0]++' || true
result=$(grep -a -o 'agentd-vm: RESULT.*' "$LOG" | tr -d '\r' | tail -n1 || true)
if [ -z "$result" ]; then
    echo "vm-test[$TARGET]: no result after ${elapsed} s (qemu exit $status); the console's last lines:" >&2
    tail -n 40 "$LOG" | sed 's/^/  | /' >&2
    [ "$status" = 124 ] && exit 124
    exit 1
fi
echo "vm-test[$TARGET]: ${result#agentd-vm: } in ${elapsed} s (boot, scenarios and power-off)"
case $result in *"failed=0"*) exit 0 ;; *) exit 1 ;; esac
