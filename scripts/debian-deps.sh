#!/bin/sh
# Install the Debian packages agentd's build and tests need, if any are missing.
# Usage: scripts/debian-deps.sh [extra packages...]
set -eu

# command -> package that provides it
need="dbus-daemon:dbus gdbus:libglib2.0-bin busctl:systemd systemd-analyze:systemd"
# the apps adapter launches through `gio launch` (the tests check it does)
need="$need gio:libglib2.0-bin"
# notifications: a real server (mako) in a headless wlroots compositor, notify-send as a client
need="$need phoc:phoc Xwayland:xwayland mako:mako-notifier notify-send:libnotify-bin"
# the screen: grim (wlr-screencopy), and a GTK window with known pixels to capture
need="$need grim:grim"
# the voice path: speech for the tests and spoken replies; recorders for `agentctl listen`
need="$need espeak-ng:espeak-ng arecord:alsa-utils parecord:pulseaudio-utils pw-record:pipewire-bin"
missing=""
for pair in $need; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing="$missing ${pair#*:}"
done
# the telephony tests run the real ModemManager (in /usr/sbin, often not on a user's PATH)
[ -x /usr/sbin/ModemManager ] || missing="$missing modemmanager"
/usr/bin/python3 -c "import gi; gi.require_version('Gtk', '3.0')" 2>/dev/null \
    || missing="$missing python3-gi gir1.2-gtk-3.0"
python3 -c 'import ensurepip, venv' 2>/dev/null || missing="$missing python3-venv"
missing="$missing $*"
missing=$(echo $missing | tr ' ' '\n' | sort -u | tr '\n' ' ')
[ -z "${missing# }" ] && exit 0

if [ "$(id -u)" = 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "Missing Debian packages:$missing; install them as root: apt-get install$missing" >&2
    exit 1
fi
echo "Installing Debian packages:$missing" >&2
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
# shellcheck disable=SC2086
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
