#!/usr/bin/env bash
# Builds the Python wheel and runs the Python test suite against it.
#
#   DATABASE_URL=postgres://postgres@127.0.0.1:PORT/postgres bash bindings-python/scripts/test.sh
#
# Called by the repo's scripts/test.sh (which starts a throwaway PostgreSQL cluster and
# exports DATABASE_URL, an admin URL: the tests create one database per test from it).
# Without DATABASE_URL the PostgreSQL tests fail; they are never skipped.
#
# Steps, all in a fresh temp dir (removed on exit):
#   1. a new virtualenv with pinned maturin, pytest, pytest-timeout and mypy;
#   2. `maturin build` (debug profile; CARGO_TARGET_DIR is honoured) and `pip install`
#      of the abi3 wheel;
#   3. pytest from a directory where the source tree is not importable;
#   4. `python -m mypy.stubtest interaction_store` (the .pyi stubs match the module) and
#      `mypy --strict examples/quickstart.py`;
#   5. `python examples/quickstart.py` with no database server (SQLite default, in an
#      empty working directory);
#   6. if a python3.9 exists (the oldest CPython the abi3 wheel targets), the same wheel
#      installed there runs the quickstart too.
#
# Environment: PYTHON (default python3), DATABASE_URL, CARGO_TARGET_DIR, PYTEST_ARGS
# (extra pytest arguments, e.g. "-k finder -x").
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPO=$(cd "$HERE/.." && pwd)
PYTHON=${PYTHON:-python3}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target}"

MATURIN_VERSION=1.16.0
PYTEST_VERSION=9.2.0
PYTEST_TIMEOUT_VERSION=2.4.0
MYPY_VERSION=2.4.1

log() { printf '[bindings-python] %s\n' "$*" >&2; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/ispy.XXXXXX")
cleanup() { rm -rf "$TMP"; }
trap cleanup EXIT

if [[ -z "${DATABASE_URL:-}" ]]; then
    log "WARNING: DATABASE_URL is not set: the PostgreSQL tests will fail"
fi

log "virtualenv ($($PYTHON --version 2>&1)) in $TMP/venv"
"$PYTHON" -m venv "$TMP/venv"
VPY="$TMP/venv/bin/python"
"$VPY" -m pip install --quiet --disable-pip-version-check \
    "maturin==$MATURIN_VERSION" "pytest==$PYTEST_VERSION" \
    "pytest-timeout==$PYTEST_TIMEOUT_VERSION" "mypy==$MYPY_VERSION"

log "maturin build (debug)"
(cd "$HERE" && "$TMP/venv/bin/maturin" build --quiet --interpreter "$VPY" --out "$TMP/wheels")
WHEEL=$(ls "$TMP"/wheels/interaction_store-*.whl)
log "installing $(basename "$WHEEL")"
"$VPY" -m pip install --quiet --disable-pip-version-check "$WHEEL"

mkdir -p "$TMP/run" "$TMP/quickstart"
export MYPY_CACHE_DIR="$TMP/mypy-cache"
cd "$TMP/run"

log "pytest"
# shellcheck disable=SC2086
"$VPY" -m pytest "$HERE/tests" -p no:cacheprovider --rootdir "$HERE" ${PYTEST_ARGS:-}

log "stubtest"
"$VPY" -m mypy.stubtest interaction_store

log "mypy --strict examples/quickstart.py"
"$VPY" -m mypy --strict "$REPO/examples/quickstart.py"

log "examples/quickstart.py on the SQLite default (no database server)"
(cd "$TMP/quickstart" && env -u DATABASE_URL "$VPY" "$REPO/examples/quickstart.py")
test -f "$TMP/quickstart/interactions.db"

PY39=""
for c in python3.9 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.9*/bin/python3.9; do
    if "$c" -c 'import sys; assert sys.version_info[:2] == (3, 9)' >/dev/null 2>&1; then PY39=$c; break; fi
done
if [[ -n "$PY39" ]]; then
    log "abi3: the same wheel on $("$PY39" --version 2>&1)"
    "$PY39" -m venv "$TMP/venv39"
    "$TMP/venv39/bin/python" -m pip install --quiet --disable-pip-version-check "$WHEEL"
    mkdir -p "$TMP/quickstart39"
    (cd "$TMP/quickstart39" && env -u DATABASE_URL "$TMP/venv39/bin/python" "$REPO/examples/quickstart.py" >/dev/null)
else
    log "no python3.9 found: abi3 check on the oldest CPython not run"
fi
log "all Python checks passed"
