#!/usr/bin/env bash
# Installs the Debian packages Argus's tests need, only where they are missing.
# Idempotent: runs `apt-get update` only when something has to be installed.
#
# Why each package:
#   python3-gi, gir1.2-gst-rtsp-server-1.0, gstreamer1.0-rtsp
#       the loopback RTSP test server (tests/servers/rtsp_server.py), which runs
#       under the system /usr/bin/python3 because a virtualenv cannot import gi.
#   gstreamer1.0-plugins-base   videotestsrc, videoconvert (the test pattern)
#   gstreamer1.0-plugins-good   rtph264pay (RTP packetising)
#   gstreamer1.0-plugins-bad    h264parse
#   gstreamer1.0-plugins-ugly   x264enc (H.264 encoding)
#   chromium                    the headless browser the dashboard tests drive
#                               through Playwright (no browser download needed)
set -euo pipefail

PACKAGES=(
    python3-gi
    gir1.2-gst-rtsp-server-1.0
    gstreamer1.0-rtsp
    gstreamer1.0-plugins-base
    gstreamer1.0-plugins-good
    gstreamer1.0-plugins-bad
    gstreamer1.0-plugins-ugly
    chromium
)

# Callers may name other packages (the Makefile asks for python3-venv this way).
if (($#)); then
    PACKAGES=("$@")
fi
SUDO=""
if [[ $(id -u) -ne 0 ]] && command -v sudo >/dev/null; then
    SUDO="sudo"
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
    echo "system-deps: installing ${missing[*]}"
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
    echo "system-deps: all ${#PACKAGES[@]} packages present"
fi
