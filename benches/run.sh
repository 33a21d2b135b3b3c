#!/usr/bin/env bash
# The whole peer comparison in one command (issue 8):
#
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres bash benches/run.sh
#
# 1. builds (or reuses) the bench databases through the Rust generator and runs the Rust
#    comparison: `cargo run --release -p interaction-benches --bin compare`, output saved to
#    benches/results/rust-compare.txt;
# 2. builds the Python wheel (maturin, release) into a fresh virtualenv with the pinned peers
#    of benches/python/requirements.txt;
# 3. builds the Node addon (napi, release), packs the package (`npm pack`) and installs it
#    next to the pinned peers of benches/node/package.json (npm ci), then generates the
#    Prisma client offline from the hand-written schema;
# 4. runs benches/python/peers.py and benches/node/peers.mjs (JSON in benches/results/);
# 5. writes benches/RESULTS.md and benches/charts/*.png from that JSON (benches/report.py).
#
# Environment:
#   DATABASE_URL      required: admin URL of the PostgreSQL server (a database
#                     interaction_bench_<rows> is created there and reused)
#   BENCH_ROWS        rows of the bench data (default 100000)
#   BENCH_PEER_CALLS  calls per peer per round in the peer scripts (default 300)
#   BENCH_ITERS       interleaved pairs per operation in the Rust compare (default 200)
#   CARGO_TARGET_DIR  cargo's target dir (default <repo>/target); the SQLite bench file
#                     lives under it, and so does the scratch dir below
#   BENCH_WORK        scratch dir for the venv, wheel and npm tarball
#                     (default $CARGO_TARGET_DIR/peer-bench; recreated on every run)
#   BENCH_SKIP        comma-separated steps to skip: rust,python,node (re-runs a part;
#                     the report then uses the JSON already in benches/results/)
#   PYTHON            interpreter for the venv (default python3)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
log() { printf '\n==> [benches] %s\n' "$*" >&2; }

if [[ -z "${DATABASE_URL:-}" ]]; then
    cat >&2 <<'EOF'
benches/run.sh: DATABASE_URL is not set.
It must be the admin URL of a PostgreSQL 15 server the benchmarks may create a database on,
for example:
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres bash benches/run.sh
EOF
    exit 2
fi

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target}"
export BENCH_ROWS="${BENCH_ROWS:-100000}"
PYTHON=${PYTHON:-python3}
WORK=${BENCH_WORK:-$CARGO_TARGET_DIR/peer-bench}
RESULTS="$HERE/results"
SKIP=",${BENCH_SKIP:-},"
mkdir -p "$RESULTS" "$WORK"
skip() { [[ $SKIP == *",$1,"* ]]; }
T0=$(date +%s)

# --- 1. bench data + Rust comparison ----------------------------------------------------------
if ! skip rust; then
    log "cargo run --release -p interaction-benches --bin compare (builds the bench data if needed)"
    (cd "$REPO" && cargo run --release -p interaction-benches --bin compare) \
        >"$RESULTS/rust-compare.txt" 2>"$WORK/rust-compare.stderr" || {
        tail -n 40 "$WORK/rust-compare.stderr" >&2
        log "the Rust comparison failed (see above)"
        exit 1
    }
    grep -E '^\| (postgres|sqlite) ' "$RESULTS/rust-compare.txt" >&2 || true
fi

# --- 2. Python: fresh venv, pinned peers, the release wheel -----------------------------------
VENV="$WORK/venv"
if ! skip python; then
    log "fresh virtualenv ($("$PYTHON" --version 2>&1)) with benches/python/requirements.txt"
    rm -rf "$VENV" "$WORK/wheels"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$HERE/python/requirements.txt"
    log "maturin build --release (bindings-python)"
    (cd "$REPO/bindings-python" && "$VENV/bin/maturin" build --release --quiet \
        --interpreter "$VENV/bin/python" --out "$WORK/wheels")
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$WORK"/wheels/interaction_store-*.whl
fi

# --- 3. Node: release addon, npm pack, peers ----------------------------------------------------
if ! skip node; then
    log "napi build --release (bindings-node)"
    (cd "$REPO/bindings-node" && npm ci --no-audit --no-fund --loglevel=error)
    rm -rf "$WORK/napi" "$WORK/pkg" "$WORK"/*.tgz
    (cd "$REPO/bindings-node" && npx napi build --platform --release --js native.js \
        --dts index.d.ts --output-dir "$WORK/napi")
    # Pack from a copy: the work tree stays untouched (the committed index.d.ts/native.js
    # are what the package ships; bindings-node/scripts/test.sh checks they are current).
    mkdir -p "$WORK/pkg"
    (cd "$REPO/bindings-node" && cp package.json index.js index.mjs index.d.ts native.js README.md "$WORK/pkg/")
    cp "$WORK/napi/"*.node "$WORK/pkg/"
    TARBALL=$(cd "$WORK/pkg" && npm pack --pack-destination "$WORK" --loglevel=error | tail -n 1)
    log "npm ci (benches/node) + the packed $TARBALL"
    (cd "$HERE/node" && npm ci --no-audit --no-fund --loglevel=error \
        && npm install --no-save --no-audit --no-fund --loglevel=error "$WORK/$TARBALL")
    log "prisma generate (offline: PRISMA_SCHEMA_ENGINE_BINARY=/bin/false)"
    (cd "$HERE/node" && PRISMA_SCHEMA_ENGINE_BINARY=/bin/false npx prisma generate \
        --schema prisma/schema.prisma) >&2 || log "prisma generate failed: the Prisma peer will be reported as not run"
fi

# --- 4. peer runs ---------------------------------------------------------------------------
if ! skip python; then
    log "python benches/python/peers.py"
    "$VENV/bin/python" "$HERE/python/peers.py" --rows "$BENCH_ROWS" --out "$RESULTS/python.json"
fi
if ! skip node; then
    log "node benches/node/peers.mjs"
    (cd "$HERE/node" && node peers.mjs --rows "$BENCH_ROWS" --out "$RESULTS/node.json")
fi

# --- 5. machine facts + report ----------------------------------------------------------------
log "RESULTS.md and charts"
RPY="$VENV/bin/python"
[[ -x "$RPY" ]] || RPY=$PYTHON
"$RPY" - "$RESULTS/machine.json" "$T0" <<'EOF'
import json, os, platform, re, subprocess, sys, datetime as dt
out, t0 = sys.argv[1], int(sys.argv[2])
def sh(*a):
    try:
        return subprocess.run(a, capture_output=True, text=True, check=True).stdout.strip()
    except Exception as e:  # noqa: BLE001
        return f"unknown ({e})"
url = os.environ["DATABASE_URL"]
pgv = "unknown"
try:
    import psycopg
    with psycopg.connect(url) as c:
        pgv = c.execute("SELECT version()").fetchone()[0]
except Exception as e:  # noqa: BLE001
    pgv = f"unknown ({e})"
mem = "unknown"
for line in open("/proc/meminfo"):
    if line.startswith("MemTotal:"):
        mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
cpu = "unknown"
for line in open("/proc/cpuinfo"):
    if line.startswith("model name"):
        cpu = line.split(":", 1)[1].strip(); break
rows = os.environ.get("BENCH_ROWS", "100000")
redacted = re.sub(r"//([^:@/]+):[^@/]*@", r"//\1:***@", url)
doc = {
    "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    "duration_s": int(dt.datetime.now().timestamp()) - t0,
    "commit": sh("git", "-C", os.path.dirname(out), "rev-parse", "--short", "HEAD")
              + (" (with uncommitted changes)" if sh("git", "-C", os.path.dirname(out), "status", "--porcelain", "--untracked-files=no") else ""),
    "nproc": os.cpu_count(),
    "cpu": cpu,
    "memory": mem,
    "os": f"{platform.system()} {platform.release()}",
    "postgres_version": pgv,
    "database_url_redacted": redacted,
    "loadavg_at_end": [round(x, 2) for x in os.getloadavg()],
    "rows": int(rows),
    "rustc": sh("rustc", "--version"),
    "commands": [
        f"DATABASE_URL={redacted} BENCH_ROWS={rows} bash benches/run.sh",
        "# which runs:",
        "cargo run --release -p interaction-benches --bin compare   # data + Rust table",
        "maturin build --release  (bindings-python) + pip install into a fresh venv",
        "napi build --release (bindings-node) + npm pack + npm ci in benches/node",
        "PRISMA_SCHEMA_ENGINE_BINARY=/bin/false npx prisma generate --schema prisma/schema.prisma",
        f"python benches/python/peers.py --rows {rows}",
        f"node benches/node/peers.mjs --rows {rows}",
        "python benches/report.py",
    ],
}
open(out, "w").write(json.dumps(doc, indent=1) + "\n")
EOF
"$RPY" "$HERE/report.py"
log "done in $(( $(date +%s) - T0 )) s: benches/RESULTS.md, benches/charts/, benches/results/"
