#!/usr/bin/env bash
# The Debian packages for the .deb and the images are part of scripts/debian-deps.sh's
# list (the tests build and boot the images too).
exec "$(dirname "$0")/debian-deps.sh"
