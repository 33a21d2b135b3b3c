#!/usr/bin/env bash
# Tests of the Node package (called by the repo's scripts/test.sh when present).
#
#   DATABASE_URL=postgres://postgres@127.0.0.1:PORT/postgres bash bindings-node/scripts/test.sh
#
# 1. npm ci (package-lock.json is committed)
# 2. napi build (debug) into a scratch folder; fails if the committed index.d.ts or
#    native.js differ from what the build generates (run `npm run build` and commit them)
# 3. npm pack, then install the tarball into a fresh temporary project
# 4. node --expose-gc --test on the test files copied there (SQLite temp files and
#    PostgreSQL: without DATABASE_URL the PostgreSQL tests FAIL, they never skip)
# 5. tsc --strict --noEmit on a TypeScript sample against the installed package
# 6. node examples/quickstart.mjs from an empty temporary cwd (embedded SQLite default)
#
# Environment: DATABASE_URL (admin URL; each test suite creates its own database),
# CARGO_TARGET_DIR (default <repo>/target).
set -euo pipefail

PKG=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPO=$(cd "$PKG/.." && pwd)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target}"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/interaction-store-node.XXXXXX")
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT

log() { printf '==> [bindings-node] %s\n' "$*" >&2; }

if [[ -z "${DATABASE_URL:-}" ]]; then
    log "DATABASE_URL is not set: the PostgreSQL tests will fail"
fi

cd "$PKG"
log "npm ci"
npm ci --no-audit --no-fund --loglevel=error

log "napi build (debug)"
npx napi build --platform --js native.js --dts index.d.ts --output-dir "$WORK/build"
stale=0
for f in index.d.ts native.js; do
    if ! diff -u "$PKG/$f" "$WORK/build/$f" >&2; then
        log "$f is not what napi build generates: run 'npm run build' in bindings-node and commit it"
        stale=1
    fi
done
[[ $stale == 0 ]] || exit 1
cp "$WORK/build/"*.node "$PKG/"

log "npm pack"
tarball=$(npm pack --pack-destination "$WORK" --loglevel=error | tail -n 1)
log "installing $tarball into a fresh project"
mkdir -p "$WORK/project"
cd "$WORK/project"
printf '{ "name": "interaction-store-test-project", "private": true }\n' >package.json
npm install --no-audit --no-fund --loglevel=error "$WORK/$tarball"
cp -R "$PKG/test" "$WORK/project/test"
cp "$REPO/examples/quickstart.mjs" "$WORK/project/quickstart.mjs"

log "node --test (from $WORK/project)"
QUICKSTART_MJS="$REPO/examples/quickstart.mjs" node --expose-gc --test test/

log "tsc --strict --noEmit on the TypeScript sample"
mkdir -p "$WORK/project/types-check"
cp "$PKG/test/types/sample.ts" "$PKG/test/types/tsconfig.json" "$WORK/project/types-check/"
"$PKG/node_modules/.bin/tsc" --strict --noEmit -p "$WORK/project/types-check/tsconfig.json"

log "examples/quickstart.mjs from an empty cwd (embedded SQLite default)"
mkdir -p "$WORK/cwd"
(cd "$WORK/cwd" && node "$WORK/project/quickstart.mjs")
[[ -f "$WORK/cwd/interactions.db" ]] || { log "quickstart did not create interactions.db in its cwd"; exit 1; }
log "ok"
