#!/usr/bin/env bash
# Builds every release artifact this machine (Linux x86_64) can build, into OUTDIR:
#
#   ./scripts/build-release.sh OUTDIR
#
#   OUTDIR/crate/   interaction-core-X.Y.Z.crate           (cargo package)
#   OUTDIR/python/  interaction_store-X.Y.Z-cp39-abi3-manylinux2014_x86_64...whl (release,
#                   stripped; `maturin build --zig`: glibc 2.17 symbols) and the sdist
#   OUTDIR/npm/     interaction-store-X.Y.Z.tgz (JS only) and one
#                   interaction-store-interaction-store-<platform>-X.Y.Z.tgz per Linux
#                   target whose Rust standard library is installed or installable
#                   (`rustup target add`): linux-x64-gnu, linux-x64-musl, linux-arm64-gnu,
#                   linux-arm64-musl. All linked by zig (cargo-zigbuild): the gnu ones
#                   against glibc 2.17, the musl ones statically against musl.
#
# Not built here (no SDK on Linux): the macOS and Windows wheels and npm binaries, and the
# aarch64/musllinux wheels; .github/workflows/release.yml builds every target on a tag.
# Release builds, one after another: tens of minutes on 2 cores.
#
# Environment: CARGO_TARGET_DIR (default <repo>/target), PYTHON (default python3),
# NODE_TARGETS (space-separated subset of the four Linux targets; default all four).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${1:?usage: scripts/build-release.sh OUTDIR}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
PYTHON=${PYTHON:-python3}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target}"

MATURIN_VERSION=1.16.0
ZIGLANG_VERSION=0.17.1
CARGO_ZIGBUILD_VERSION=0.24.0
read -r -a NODE_TARGETS <<<"${NODE_TARGETS:-x86_64-unknown-linux-gnu x86_64-unknown-linux-musl aarch64-unknown-linux-gnu aarch64-unknown-linux-musl}"

log() { printf '==> [build-release] %s\n' "$*" >&2; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/build-release.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

log "tools: maturin, ziglang, cargo-zigbuild (PyPI) in $TMP/venv"
"$PYTHON" -m venv "$TMP/venv"
"$TMP/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "maturin==$MATURIN_VERSION" "ziglang==$ZIGLANG_VERSION" "cargo-zigbuild==$CARGO_ZIGBUILD_VERSION"
# zig is found as `python3 -m ziglang`: the venv's python first.
export PATH="$TMP/venv/bin:$PATH"

log "crate: cargo package -p interaction-core"
cargo package --quiet -p interaction-core --allow-dirty
version=$(cargo metadata --no-deps --format-version 1 | "$PYTHON" -c \
    'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "interaction-core"))')
mkdir -p "$OUT/crate"
cp "$CARGO_TARGET_DIR/package/interaction-core-$version.crate" "$OUT/crate/"

log "python: manylinux2014 abi3 wheel (release, zig) and sdist"
(cd "$REPO/bindings-python" &&
    maturin build --quiet --release --zig --compatibility manylinux2014 --out "$OUT/python" &&
    maturin sdist --out "$OUT/python" >/dev/null)

log "npm: main package (JS only)"
mkdir -p "$OUT/npm"
(cd "$REPO/bindings-node" && npm pack --pack-destination "$OUT/npm" --loglevel=error >/dev/null)

installed=$(rustup target list --installed 2>/dev/null || true)
for target in "${NODE_TARGETS[@]}"; do
    if ! grep -qx "$target" <<<"$installed" && ! rustup target add "$target" >/dev/null 2>&1; then
        log "npm: $target skipped: its Rust standard library is not installed and \`rustup target add $target\` failed"
        continue
    fi
    case $target in
        x86_64-unknown-linux-gnu) platform=linux-x64-gnu zig_target=$target.2.17 ;;
        x86_64-unknown-linux-musl) platform=linux-x64-musl zig_target=$target ;;
        aarch64-unknown-linux-gnu) platform=linux-arm64-gnu zig_target=$target.2.17 ;;
        aarch64-unknown-linux-musl) platform=linux-arm64-musl zig_target=$target ;;
    esac
    log "npm: $platform (cargo zigbuild --release --target $zig_target)"
    # musl targets link the C runtime statically by default; a Node addon is a shared
    # object loaded into a musl node, so link it dynamically (as napi-rs does).
    rustflags=""
    [[ $target == *musl ]] && rustflags="-Ctarget-feature=-crt-static"
    (cd "$REPO" && CARGO_PROFILE_RELEASE_STRIP=symbols \
        CARGO_ENCODED_RUSTFLAGS="$rustflags" \
        cargo zigbuild --quiet --release -p interaction-store-node --target "$zig_target")
    stage="$TMP/npm-$platform"
    cp -R "$REPO/bindings-node/npm/$platform" "$stage"
    cp "$CARGO_TARGET_DIR/$target/release/libinteraction_store_node.so" "$stage/interaction-store.$platform.node"
    (cd "$stage" && npm pack --pack-destination "$OUT/npm" --loglevel=error >/dev/null)
done

log "built into $OUT:"
(cd "$OUT" && find . -type f | sort | while read -r f; do printf '    %8s  %s\n' "$(du -h "$f" | cut -f1)" "${f#./}"; done) >&2
