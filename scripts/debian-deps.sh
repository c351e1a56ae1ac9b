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
# settings and power against the real services: NetworkManager and upowerd on a private
# system bus, PipeWire + WirePlumber + pipewire-pulse with a null sink, GNOME's schemas
need="$need /usr/sbin/NetworkManager:network-manager /usr/libexec/upowerd:upower"
need="$need wireplumber:wireplumber /usr/bin/pipewire-pulse:pipewire-pulse pactl:pulseaudio-utils"
need="$need /usr/share/glib-2.0/schemas/org.gnome.desktop.interface.gschema.xml:gsettings-desktop-schemas"
# the screenshot portal: xdg-desktop-portal with the wlr backend (and -gtk for Access)
need="$need /usr/libexec/xdg-desktop-portal:xdg-desktop-portal"
need="$need /usr/libexec/xdg-desktop-portal-wlr:xdg-desktop-portal-wlr"
need="$need /usr/libexec/xdg-desktop-portal-gtk:xdg-desktop-portal-gtk"
# media: a real MPRIS player (mpv with Debian's MPRIS script) and playerctl to check it
need="$need mpv:mpv /usr/lib/mpv-mpris/mpris.so:mpv-mpris playerctl:playerctl"
# location: the real GeoClue (and its demo agent) on a private system bus, fed NMEA
need="$need /usr/libexec/geoclue:geoclue-2.0 /usr/libexec/geoclue-2.0/demos/agent:geoclue-2.0"
# messages: Chatty, run headless to create its SMS history database and read it back
need="$need /usr/bin/chatty:chatty"
# accessibility: the AT-SPI bus (at-spi-bus-launcher, at-spi2-registryd)
need="$need /usr/libexec/at-spi-bus-launcher:at-spi2-core"
# the .deb and the phone images (make deb/image/qemu/vm-test; tests/test_image.py):
# bootstrap, emulate amd64 and arm64, cross-compile llama.cpp, lay out the disks
need="$need mmdebstrap:mmdebstrap qemu-system-x86_64:qemu-system-x86 qemu-system-aarch64:qemu-system-arm"
need="$need qemu-aarch64-static:qemu-user-static update-binfmts:binfmt-support arch-test:arch-test"
need="$need aarch64-linux-gnu-gcc:crossbuild-essential-arm64 cmake:cmake file:file"
need="$need sfdisk:fdisk debugfs:e2fsprogs dpkg-deb:dpkg systemd-nspawn:systemd-container"
# consent tests: a Flatpak-style sandbox, made as Flatpak makes it
need="$need bwrap:bubblewrap"
# the .deb test reads the generated man page
need="$need man:man-db"
missing=""
for pair in $need; do
    cmd=${pair%%:*}
    case $cmd in
        /*) [ -e "$cmd" ] || missing="$missing ${pair#*:}" ;;
        *) command -v "$cmd" >/dev/null 2>&1 || missing="$missing ${pair#*:}" ;;
    esac
done
# the telephony tests run the real ModemManager (in /usr/sbin, often not on a user's PATH)
[ -x /usr/sbin/ModemManager ] || missing="$missing modemmanager"
# the contacts tests run the real Evolution Data Server (source registry, address books)
[ -x /usr/libexec/evolution-addressbook-factory ] || missing="$missing evolution-data-server"
/usr/bin/python3 -c "import gi; gi.require_version('Gtk', '3.0')" 2>/dev/null \
    || missing="$missing python3-gi gir1.2-gtk-3.0"
python3 -c 'import ensurepip, venv' 2>/dev/null || missing="$missing python3-venv"
# evdev (uinput) builds from source: the kernel's input headers
[ -f /usr/include/linux/input.h ] || missing="$missing linux-libc-dev"
# qemu-system-x86 needs its firmware (SeaBIOS, iPXE ROMs) without recommends
[ -f /usr/share/seabios/bios-256k.bin ] || missing="$missing seabios"
[ -e /usr/lib/ipxe/qemu/efi-virtio.rom ] || missing="$missing ipxe-qemu"
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
