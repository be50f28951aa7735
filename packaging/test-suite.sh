#!/usr/bin/env bash
# Runs every quality gate against the venv that packaging/dev.sh set up, starting the
# services the tests need (a private session bus and a virtual X screen) and stopping them after.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="$ROOT/.venv/bin"
export PATH="$PY:$PATH"
say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

RUN_DIR="$(mktemp -d /tmp/oncall-tests.XXXXXX)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$RUN_DIR"; }
trap cleanup EXIT

# Keep the developer's real store and settings out of the tests.
export XDG_DATA_HOME="$RUN_DIR/data" XDG_CONFIG_HOME="$RUN_DIR/config" XDG_STATE_HOME="$RUN_DIR/state"
export XDG_CACHE_HOME="$RUN_DIR/cache" XDG_RUNTIME_DIR="$RUN_DIR/runtime"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"

say "ruff"
ruff check console tests
say "mypy --strict console"
mypy --strict console
say "import-linter"
lint-imports

say "starting Xvfb"
Xvfb -displayfd 3 -screen 0 1920x1080x24 -nolisten tcp 3>"$RUN_DIR/display" 2>"$RUN_DIR/xvfb.log" &
PIDS+=($!)
for _ in $(seq 100); do [ -s "$RUN_DIR/display" ] && break; sleep 0.1; done
[ -s "$RUN_DIR/display" ] || { echo "Xvfb did not start:"; cat "$RUN_DIR/xvfb.log"; exit 4; } >&2
export DISPLAY=":$(head -n1 "$RUN_DIR/display")"

say "pytest (full suite)"
python -m pytest "$@"

say "pytest (headless: everything but console.ui, with PySide6 unimportable)"
# pytest-qt is switched off (it imports Qt) and with it its ini keys, hence the addopts.
python -m pytest -p no:pytest-qt -p tests.noqt -o addopts="--strict-markers -ra" \
  --ignore=tests/gui -m "not gui and not slow" -q "$@"
