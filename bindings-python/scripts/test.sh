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
#   1. a new virtualenv with pinned maturin, ziglang, auditwheel, pytest, pytest-timeout
#      and mypy;
#   2. `maturin build --zig --compatibility manylinux2014` (debug profile; CARGO_TARGET_DIR
#      is honoured; zig links against glibc 2.17 symbols, so the wheel installs on glibc
#      2.17+: RHEL 7+, Debian 8+, Ubuntu 14.04+, Amazon Linux 2): the wheel's tag must be
#      manylinux2014 and `auditwheel show` must agree (no symbol newer than glibc 2.17);
#      then `pip install` of that abi3 wheel;
#   3. pytest from a directory where the source tree is not importable; then every python
#      block of README.md and bindings-python/README.md, run in order as one program per
#      README on a fresh SQLite and a fresh PostgreSQL database, and README.md's SQL
#      (scripts/readme_blocks.py python);
#   4. `python -m mypy.stubtest interaction_store` (the .pyi stubs match the module) and
#      `mypy --strict examples/quickstart.py`;
#   5. `python examples/quickstart.py` with no database server (SQLite default, in an
#      empty working directory);
#   6. if a python3.9 exists (the oldest CPython the abi3 wheel targets), the same wheel
#      installed there runs the quickstart too;
#   7. the sdist (`maturin sdist`) builds from source: `pip install --no-cache-dir` of it
#      into another fresh venv compiles it (maturin's PEP 517 backend, debug profile via
#      MATURIN_PEP517_ARGS, the shared CARGO_TARGET_DIR: only the two workspace crates
#      recompile, ~20 s), then the quickstart runs on it.
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
ZIGLANG_VERSION=0.17.1
AUDITWHEEL_VERSION=6.8.2
# Real servers in the tests: gunicorn --preload (fork safety), pydantic (from_attributes).
GUNICORN_VERSION=27.0.1
PYDANTIC_VERSION=2.14.4
# The oldest glibc the wheel supports (PEP 599 manylinux2014 = manylinux_2_17).
MANYLINUX=manylinux2014

log() { printf '[bindings-python %s] %s\n' "$(date +%T)" "$*" >&2; }

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
    "maturin==$MATURIN_VERSION" "ziglang==$ZIGLANG_VERSION" "auditwheel==$AUDITWHEEL_VERSION" \
    "pytest==$PYTEST_VERSION" "pytest-timeout==$PYTEST_TIMEOUT_VERSION" "mypy==$MYPY_VERSION" \
    "gunicorn==$GUNICORN_VERSION" "pydantic==$PYDANTIC_VERSION"

log "maturin build --zig --compatibility $MANYLINUX (debug)"
# --zig finds zig as `python3 -m ziglang` (the ziglang wheel): the venv's python first.
(cd "$HERE" && PATH="$TMP/venv/bin:$PATH" "$TMP/venv/bin/maturin" build --quiet --interpreter "$VPY" \
    --zig --compatibility "$MANYLINUX" --out "$TMP/wheels")
WHEEL=$(ls "$TMP"/wheels/interaction_store-*.whl)
log "checking the platform tag of $(basename "$WHEEL")"
"$VPY" - "$WHEEL" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    name = next(n for n in z.namelist() if n.endswith(".dist-info/WHEEL"))
    tags = [l.split(": ", 1)[1] for l in z.read(name).decode().splitlines() if l.startswith("Tag: ")]
want = "cp39-abi3-manylinux2014_x86_64"
if want not in tags:
    sys.exit(f"WHEEL tags {tags}: expected {want}")
print(f"WHEEL tags: {', '.join(tags)}", file=sys.stderr)
PY
# auditwheel reads the symbol versions the .so needs: it must fit manylinux_2_17.
"$TMP/venv/bin/auditwheel" show "$WHEEL" >"$TMP/auditwheel.txt"
if ! tr -s ' \n' ' ' <"$TMP/auditwheel.txt" | grep -q 'consistent with the following platform tag: "manylinux_2_17_x86_64"'; then
    cat "$TMP/auditwheel.txt" >&2
    log "auditwheel: the wheel needs a newer glibc than 2.17"
    exit 1
fi
log "installing $(basename "$WHEEL")"
"$VPY" -m pip install --quiet --disable-pip-version-check "$WHEEL"

mkdir -p "$TMP/run" "$TMP/quickstart"
export MYPY_CACHE_DIR="$TMP/mypy-cache"
cd "$TMP/run"

log "pytest"
# shellcheck disable=SC2086
"$VPY" -m pytest "$HERE/tests" -p no:cacheprovider --rootdir "$HERE" ${PYTEST_ARGS:-}

log "README blocks: the Python tours of README.md and bindings-python/README.md, SQLite and PostgreSQL"
"$VPY" "$REPO/scripts/readme_blocks.py" python

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

log "sdist: maturin sdist, then pip install --no-cache-dir of it (compiles from source)"
(cd "$HERE" && "$TMP/venv/bin/maturin" sdist --out "$TMP/sdist" >/dev/null)
SDIST=$(ls "$TMP"/sdist/interaction_store-*.tar.gz)
"$PYTHON" -m venv "$TMP/venv-sdist"
# Build isolation installs maturin (pinned by pyproject's build-system) from the index.
MATURIN_PEP517_ARGS="--profile dev" "$TMP/venv-sdist/bin/python" -m pip install --quiet \
    --disable-pip-version-check --no-cache-dir "$SDIST"
mkdir -p "$TMP/quickstart-sdist"
(cd "$TMP/quickstart-sdist" && env -u DATABASE_URL "$TMP/venv-sdist/bin/python" "$REPO/examples/quickstart.py" >/dev/null)
test -f "$TMP/quickstart-sdist/interactions.db"
log "all Python checks passed"
