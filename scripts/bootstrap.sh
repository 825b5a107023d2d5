#!/usr/bin/env bash
# Create the course's Python environment in .venv (idempotent). Called by the Makefile.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"
stamp="$VENV/.installed"

if [ -f "$stamp" ] && [ "$stamp" -nt pyproject.toml ]; then
  exit 0
fi

if ! command -v "$PYTHON" >/dev/null 2>&1 || ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Python 3 with venv support (Debian packages)..."
    apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3 python3-venv python3-pip >/dev/null
    PYTHON=python3
  else
    echo "error: Python 3.11+ with the venv module is needed." >&2
    echo "-> Install it (Debian/Ubuntu: sudo apt-get install python3-venv) and run the command again." >&2
    exit 1
  fi
fi
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "error: $("$PYTHON" --version) is too old; the course needs Python 3.11 or newer (its pinned packages do)." >&2
  echo "-> Install a newer python3, or run: make PYTHON=python3.11 ..." >&2
  exit 1
fi

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
echo "Installing the course's Python packages into $VENV (about a minute the first time)..."
if ! "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e '.[test]' 2>"$VENV/pip-error.log"; then
  grep -v '^WARNING: Location' "$VENV/pip-error.log" | tail -n 5 >&2
  echo "error: pip could not install the course's packages (is PyPI reachable from here?)." >&2
  echo "-> Check the network or set PIP_INDEX_URL to a mirror, then run the command again. Full log: $VENV/pip-error.log" >&2
  exit 1
fi
touch "$stamp"
