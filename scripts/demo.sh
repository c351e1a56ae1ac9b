#!/bin/sh
# `make run`: start agentd on a private session bus and send it a few requests.
# State (the task journal) is kept in .run/ so `agentctl tasks` remembers across runs.
set -eu
cd "$(dirname "$0")/.."
BIN=.venv/bin

if [ -z "${AGENTD_DEMO_INNER:-}" ]; then
    export AGENTD_DEMO_INNER=1
    exec dbus-run-session -- "$0" "$@"
fi

export XDG_STATE_HOME="$PWD/.run/state"
export AGENTD_CONFIRMATION_TIMEOUT_S="${AGENTD_CONFIRMATION_TIMEOUT_S:-30}"
mkdir -p .run
"$BIN/agentd" 2>.run/agentd.log &
AGENTD_PID=$!
trap 'kill $AGENTD_PID 2>/dev/null; wait $AGENTD_PID 2>/dev/null || true' EXIT
gdbus wait --session --timeout 20 io.agentd.Agent1

say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { say "$@"; "$@" || true; }

run "$BIN/agentctl" status
run "$BIN/agentctl" ask "What time is it?"
run "$BIN/agentctl" ask "set a tea timer for 3 seconds"
run "$BIN/agentctl" ask --dry-run "turn off wi-fi, then turn on bluetooth"
run "$BIN/agentctl" ask --dry-run --json "text mom I'm running late"
if [ -t 0 ]; then
    echo "(agentd asks before anything leaves the phone: answer y or n)"
    run "$BIN/agentctl" ask "text mom I'm running late"
fi
run "$BIN/agentctl" ask "order me a pizza"
sleep 3
say "agentd's log (the tea timer fired)"
grep -E "fired|ready" .run/agentd.log || true
run "$BIN/agentctl" tasks --limit 10
