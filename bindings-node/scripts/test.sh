#!/usr/bin/env bash
# Tests of the Node package (called by the repo's scripts/test.sh when present).
#
#   DATABASE_URL=postgres://postgres@127.0.0.1:PORT/postgres bash bindings-node/scripts/test.sh
#
# 1. npm ci (package-lock.json is committed)
# 2. napi build (debug) into a scratch folder; fails if the committed index.d.ts or
#    native.js differ from what the build generates (run `npm run build` and commit them)
# 3. the napi-rs package layout: the main package `interaction-store` (JS only) and one
#    package per platform, @interaction-store/interaction-store-<platform> (npm/<platform>/,
#    the .node only). The versions of all of them equal the crates' version. npm pack of the
#    main package and of this machine's platform package (linux-x64-gnu, with the binary
#    just built); each tarball's file list is checked. The main tarball alone, installed
#    into a fresh project, must fail to load with the clear "no native binary" error; then
#    the platform tarball is installed beside it (as npm does with the optionalDependencies
#    that `napi pre-publish` adds on release)
# 4. node --expose-gc --test on the test files copied there (SQLite temp files and
#    PostgreSQL: without DATABASE_URL the PostgreSQL tests FAIL, they never skip)
# 5. tsc --strict --noEmit on a TypeScript sample against the installed package
# 6. every js block of README.md and bindings-node/README.md, run in order as one module per
#    README on a fresh SQLite and a fresh PostgreSQL database, and type-checked with
#    tsc --strict --checkJs (scripts/readme_blocks.py node)
# 7. node examples/quickstart.mjs from an empty temporary cwd (embedded SQLite default)
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

log "versions: package.json, npm/*/package.json and the crates agree"
crate_version=$(cargo metadata --no-deps --format-version 1 --manifest-path "$REPO/Cargo.toml" |
    node -e 'const m = JSON.parse(require("fs").readFileSync(0, "utf8")); process.stdout.write(m.packages.find((p) => p.name === "interaction-core").version)')
node - "$PKG" "$crate_version" <<'JS'
const fs = require('fs'), path = require('path')
const [pkgDir, crateVersion] = process.argv.slice(2)
const main = require(path.join(pkgDir, 'package.json'))
const bad = []
if (main.version !== crateVersion) bad.push(`package.json ${main.version} != crate ${crateVersion}`)
const dirs = fs.readdirSync(path.join(pkgDir, 'npm'))
if (dirs.length !== main.napi.targets.length) bad.push(`npm/ has ${dirs.length} packages for ${main.napi.targets.length} napi.targets`)
for (const d of dirs) {
  const p = require(path.join(pkgDir, 'npm', d, 'package.json'))
  if (p.name !== `${main.napi.packageName}-${d}`) bad.push(`npm/${d}: name ${p.name}`)
  if (p.version !== main.version) bad.push(`npm/${d}: version ${p.version} != ${main.version}`)
}
if (bad.length) { console.error(bad.join('\n')); process.exit(1) }
JS

# The tarball's file list, sorted (npm pack --dry-run --json).
pack_files() { # dir
    (cd "$1" && npm pack --dry-run --json --loglevel=error) |
        node -e 'const [p] = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log(p.files.map((f) => f.path).sort().join(" "))'
}
expect_files() { # dir expected...
    local dir=$1 got; shift
    got=$(pack_files "$dir")
    if [[ "$got" != "$*" ]]; then
        log "npm pack of $dir: files '$got', expected '$*'"
        exit 1
    fi
}

PLATFORM=linux-x64-gnu
log "npm pack: interaction-store and @interaction-store/interaction-store-$PLATFORM"
expect_files "$PKG" README.md index.d.ts index.js index.mjs native.js package.json
tarball=$(npm pack --pack-destination "$WORK" --loglevel=error | tail -n 1)
cp -R "$PKG/npm/$PLATFORM" "$WORK/npm-$PLATFORM"
cp "$WORK/build/interaction-store.$PLATFORM.node" "$WORK/npm-$PLATFORM/"
expect_files "$WORK/npm-$PLATFORM" README.md "interaction-store.$PLATFORM.node" package.json
platform_tarball=$(cd "$WORK/npm-$PLATFORM" && npm pack --pack-destination "$WORK" --loglevel=error | tail -n 1)

log "installing $tarball alone into a fresh project: it must say that no binary fits"
mkdir -p "$WORK/project"
cd "$WORK/project"
printf '{ "name": "interaction-store-test-project", "private": true }\n' >package.json
npm install --no-audit --no-fund --loglevel=error "$WORK/$tarball"
node -e '
try { require("interaction-store"); console.error("loaded without a platform package"); process.exit(1) }
catch (e) { if (!/no native binary loads on/.test(e.message) || e.code !== "INTERNAL") { console.error(e); process.exit(1) } }'
log "installing $platform_tarball beside it"
npm install --no-audit --no-fund --loglevel=error "$WORK/$platform_tarball"
node -e 'require("interaction-store"); require.resolve("@interaction-store/interaction-store-'"$PLATFORM"'")'
cp -R "$PKG/test" "$WORK/project/test"
cp "$REPO/examples/quickstart.mjs" "$WORK/project/quickstart.mjs"

log "node --test (from $WORK/project)"
QUICKSTART_MJS="$REPO/examples/quickstart.mjs" node --expose-gc --test test/

log "tsc --strict --noEmit on the TypeScript sample"
mkdir -p "$WORK/project/types-check"
cp "$PKG/test/types/sample.ts" "$PKG/test/types/tsconfig.json" "$WORK/project/types-check/"
"$PKG/node_modules/.bin/tsc" --strict --noEmit -p "$WORK/project/types-check/tsconfig.json"

log "README blocks: the Node tours of README.md and bindings-node/README.md (SQLite, PostgreSQL, tsc --strict)"
python3 "$REPO/scripts/readme_blocks.py" node --project "$WORK/project" --tsc "$PKG/node_modules/.bin/tsc"

log "examples/quickstart.mjs from an empty cwd (embedded SQLite default)"
mkdir -p "$WORK/cwd"
(cd "$WORK/cwd" && node "$WORK/project/quickstart.mjs")
[[ -f "$WORK/cwd/interactions.db" ]] || { log "quickstart did not create interactions.db in its cwd"; exit 1; }
log "ok"
