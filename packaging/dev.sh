#!/usr/bin/env bash
# Sets up oncall-console from a fresh clone and runs it or its test suite.
#   packaging/dev.sh run [ARGS...]   install what is missing, then start the console on a demo store
#   packaging/dev.sh test [PYTEST ARGS...]   install what is missing, then run every quality gate
# Idempotent: each step checks before it installs. Needs root or sudo for apt-get.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
cd "$ROOT"

# Debian 12 / Ubuntu 24.04 packages: Python venv, Qt's runtime libraries (offscreen and xcb),
# Xvfb for screenshots, and the real peers the test-suite starts (Nagios plugins, Prometheus).
APT_PACKAGES=(
  python3 python3-venv python3-pip
  libegl1 libgl1 libx11-6 libdbus-1-3 libfontconfig1 libfreetype6 libglib2.0-0 libxkbcommon0
  xvfb xauth libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-render-util0
  libxcb-render0 libxcb-shape0 libxcb-util1 libxcb-xkb1 libxkbcommon-x11-0 fonts-dejavu-core
  dbus-daemon gnome-keyring monitoring-plugins-basic prometheus
  tesseract-ocr tesseract-ocr-eng
  x11-xserver-utils dunst pulseaudio pulseaudio-utils libpulse0 prometheus-alertmanager
  libnotify-bin
)

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "error: installing system packages needs root or sudo: $*" >&2; exit 4; fi
}

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

ensure_apt() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    # Ubuntu 24.04 renamed some libraries with a t64 suffix; either name satisfies us.
    installed "$p" || installed "${p}t64" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get -o DPkg::Lock::Timeout=600 update -qq
  as_root apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

pick_python() {
  # The distribution's Python first: it is what a stranger's machine has.
  for py in /usr/bin/python3 python3; do
    if command -v "$py" >/dev/null && "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      echo "$py"; return 0
    fi
  done
  echo "error: Python 3.11 or newer is required" >&2; exit 4
}

ensure_venv() {
  local stamp="$VENV/.installed" want
  want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating $VENV"
    "$(pick_python)" -m venv "$VENV"
  fi
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    say "installing Python packages into $VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
    "$VENV/bin/python" -m pip install -q -e ".[dev]"
    echo "$want" > "$stamp"
  fi
}

setup() { ensure_apt; ensure_venv; }

cmd_run() {
  setup
  if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] && [ -z "${QT_QPA_PLATFORM:-}" ]; then
    cat >&2 <<'MSG'
No display found (DISPLAY and WAYLAND_DISPLAY are unset), so no window can open here.
  - On a desktop, run this from a terminal inside your graphical session.
  - On a server, use a virtual screen:   xvfb-run -a packaging/dev.sh run
  - Or render once to a file:            packaging/dev.sh run --screenshot console.png
    (that uses Qt's offscreen platform: QT_QPA_PLATFORM=offscreen)
The headless command line works anywhere:  .venv/bin/oncall-console --demo --help
MSG
    for a in "$@"; do [ "$a" = "--screenshot" ] && export QT_QPA_PLATFORM=offscreen; done
    [ "${QT_QPA_PLATFORM:-}" = offscreen ] || exit 2
  fi
  exec "$VENV/bin/oncall-console" --demo "$@"
}

cmd_test() {
  setup
  exec bash "$ROOT/packaging/test-suite.sh" "$@"
}

case "${1:-}" in
  run) shift; cmd_run "$@" ;;
  test) shift; cmd_test "$@" ;;
  setup) setup ;;
  *) echo "usage: packaging/dev.sh run|test|setup [ARGS...]" >&2; exit 2 ;;
esac
