#!/usr/bin/env bash
# The one test command of interaction-store (also what CI runs via .ci/run).
#
#   ./scripts/test.sh              services + Rust checks/tests + bindings tests
#   ./scripts/test.sh --rust-only  skip the bindings tests (step 3)
#
# Steps:
#   1. services: unless DATABASE_URL / REDIS_URL are set, start an ephemeral
#      PostgreSQL (15) cluster and an ephemeral redis-server on free ports of
#      127.0.0.1 (never the system ones on 5432/6379); everything is stopped and
#      its temp dirs removed on exit, failure, Ctrl-C or kill.
#      Exports DATABASE_URL=postgres://postgres@127.0.0.1:PORT/postgres (admin URL;
#      tests create one database per test) and REDIS_URL=redis://127.0.0.1:PORT/.
#      With WITH_REPLICA=1 also a streaming hot-standby replica:
#      DATABASE_REPLICA_URL.
#   2. Rust: cargo fmt --check, clippy -D warnings, nextest (or cargo test) with
#      feature interaction-core/postgres-tests, doctests, each backend feature alone,
#      cargo publish --dry-run, actionlint on .github/workflows (scripts/lint-workflows.sh),
#      the Rust quickstart. Shared CARGO_TARGET_DIR (default <repo>/target).
#   3. Bindings: bindings-python/scripts/test.sh and bindings-node/scripts/test.sh
#      when they exist (same environment).
#
# Environment:
#   DATABASE_URL   use this PostgreSQL (admin URL) instead of an ephemeral cluster
#   REDIS_URL      use this Redis instead of an ephemeral redis-server
#   WITH_REPLICA=1 also start a streaming replica (exports DATABASE_REPLICA_URL)
#   PG_BINDIR      directory with initdb/pg_ctl/postgres (default: pg_config --bindir,
#                  else newest /usr/lib/postgresql/*/bin; as root: apt-get install)
#   CARGO_TARGET_DIR  default <repo>/target
#   TEST_SH_SERVICES_ONLY=1  debugging aid: start the services, print the URLs,
#                  smoke-test them (version, CREATE EXTENSION pg_trgm/btree_gin in a
#                  scratch db, redis PING, replica read-after-write when
#                  WITH_REPLICA=1), then stop everything and exit.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
# shellcheck source=scripts/lib/services.sh
source "$REPO/scripts/lib/services.sh"

RUST_ONLY=0
for arg in "$@"; do
    case "$arg" in
        --rust-only) RUST_ONLY=1 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown option: $arg (try --help)" >&2; exit 2 ;;
    esac
done

# ------------------------------------------------------------ step bookkeeping
# Keep the original stdout/stderr on fds 8/9: a signal trap can fire while a
# redirection (e.g. 2>initdb.log) is active, and the summary must still show.
exec 8>&1 9>&2
SCRIPT_START=$SECONDS
STEP_NAMES=() STEP_SECS=() STEP_RESULTS=()
CURRENT_STEP="" CURRENT_START=0 CHILD_PID=""

step_begin() { CURRENT_STEP=$1; CURRENT_START=$SECONDS; printf '\n==> [%s] %s\n' "$(date +%H:%M:%S)" "$1" >&2; }
step_end() { # result
    STEP_NAMES+=("$CURRENT_STEP"); STEP_SECS+=($((SECONDS - CURRENT_START))); STEP_RESULTS+=("$1")
    CURRENT_STEP=""
}

# Run one command as a step. It runs as a background job in its own process
# group (set -m) so that Ctrl-C / kill of this script can stop the whole tree
# (cargo + test binaries) right away, then the services are cleaned up.
run_step() { # name cmd...
    local name=$1 rc=0; shift
    step_begin "$name"
    printf '    $ %s\n' "$*" >&2
    set -m
    "$@" </dev/null &
    CHILD_PID=$!
    set +m
    wait "$CHILD_PID" || rc=$?
    CHILD_PID=""
    if [[ $rc -ne 0 ]]; then
        step_end "FAILED (exit $rc)"
        exit "$rc"
    fi
    step_end ok
}

print_summary() {
    local i total=$((SECONDS - SCRIPT_START)) failed=""
    [[ ${#STEP_NAMES[@]} -gt 0 ]] || return 0
    printf '\n==> summary\n' >&2
    for i in "${!STEP_NAMES[@]}"; do
        printf '    %5ss  %-18s %s\n' "${STEP_SECS[$i]}" "${STEP_RESULTS[$i]}" "${STEP_NAMES[$i]}" >&2
        [[ ${STEP_RESULTS[$i]} == ok ]] || failed=${STEP_NAMES[$i]}
    done
    if [[ -n "$failed" ]]; then
        printf '    FAILED at step: %s (total %ss)\n' "$failed" "$total" >&2
    else
        printf '    all steps passed (total %ss)\n' "$total" >&2
    fi
}

on_exit() {
    local rc=$?
    set +e
    exec 1>&8 2>&9
    trap - EXIT INT TERM
    if [[ -n "$CHILD_PID" ]]; then
        kill -TERM -- "-$CHILD_PID" 2>/dev/null
        for _ in $(seq 1 50); do kill -0 "$CHILD_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL -- "-$CHILD_PID" 2>/dev/null
    fi
    [[ -n "$CURRENT_STEP" ]] && step_end "FAILED (exit $rc)"
    svc_cleanup
    print_summary
    exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------- 1. services
step_begin services
if [[ -n "${DATABASE_URL:-}" ]]; then
    svc_log "PostgreSQL: using DATABASE_URL from the environment: $(svc_mask_url "$DATABASE_URL")"
else
    svc_start_postgres
fi
svc_check_pg_extensions "$DATABASE_URL"
if [[ "${WITH_REPLICA:-0}" == 1 ]]; then
    if [[ -n "${DATABASE_REPLICA_URL:-}" ]]; then
        svc_log "PostgreSQL replica: using DATABASE_REPLICA_URL from the environment: $(svc_mask_url "$DATABASE_REPLICA_URL")"
    else
        svc_start_replica
    fi
fi
if [[ -n "${REDIS_URL:-}" ]]; then
    svc_log "Redis: using REDIS_URL from the environment: $(svc_mask_url "$REDIS_URL")"
else
    svc_start_redis
fi
step_end ok

# --------------------------------------------- debugging aid: services only
if [[ "${TEST_SH_SERVICES_ONLY:-0}" == 1 ]]; then
    step_begin services-smoke-test
    echo "DATABASE_URL=$DATABASE_URL"
    echo "REDIS_URL=$REDIS_URL"
    [[ -n "${DATABASE_REPLICA_URL:-}" ]] && echo "DATABASE_REPLICA_URL=$DATABASE_REPLICA_URL"
    _svc_psql "$DATABASE_URL" -c 'select version()'
    scratch="test_sh_scratch_$$"
    _svc_psql "$DATABASE_URL" -c "create database $scratch"
    _svc_psql "${DATABASE_URL%/*}/$scratch" -c 'create extension pg_trgm' -c 'create extension btree_gin' \
        -c "select 'extensions: ' || string_agg(extname || ' ' || extversion, ', ' order by extname) from pg_extension where extname in ('pg_trgm','btree_gin')"
    _svc_psql "$DATABASE_URL" -c "drop database $scratch"
    _svc_psql "$DATABASE_URL" -c 'show max_connections' -c 'show fsync' | paste -sd' ' | sed 's/^/max_connections, fsync: /'
    if command -v redis-cli >/dev/null 2>&1; then
        echo "redis: $(redis-cli -u "$REDIS_URL" ping)"
    else
        _svc_redis_ping "${REDIS_URL##*:}" >/dev/null && echo "redis: PONG"
    fi
    if [[ -n "${DATABASE_REPLICA_URL:-}" ]]; then
        token="t$RANDOM$$"
        _svc_psql "$DATABASE_URL" -c 'create table if not exists test_sh_replica_check (v text)' \
            -c "insert into test_sh_replica_check values ('$token')"
        got=""
        for _ in $(seq 1 50); do
            got=$(_svc_psql "$DATABASE_REPLICA_URL" -c "select v from test_sh_replica_check where v = '$token'" 2>/dev/null || true)
            [[ "$got" == "$token" ]] && break
            sleep 0.1
        done
        [[ "$got" == "$token" ]] || svc_die "replica did not receive the write within 5s"
        [[ "$(_svc_psql "$DATABASE_REPLICA_URL" -c 'select pg_is_in_recovery()')" == t ]] || svc_die "replica is not in recovery"
        echo "replica: read-after-write ok, pg_is_in_recovery() = t"
        _svc_psql "$DATABASE_URL" -c 'drop table test_sh_replica_check'
    fi
    step_end ok
    exit 0
fi

# ------------------------------------------------------------------ 2. Rust
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-auto}"
# sqlx compile-time macros would otherwise try the (empty) test server.
if [[ -z "${SQLX_OFFLINE+x}" ]] && compgen -G "$REPO/.sqlx" >/dev/null; then export SQLX_OFFLINE=true; fi
FEATURES=(--features interaction-core/postgres-tests)
# Binding crates (bindings-*/: pyo3 / napi-rs cdylibs) are linted by clippy here
# but tested by their own scripts in step 3: their test/doctest binaries may not
# link outside maturin / napi (Python / Node symbols resolved at load time).
EXCLUDES=()
if meta=$(cargo metadata --no-deps --format-version 1 2>/dev/null); then
    while IFS= read -r pkg; do
        if [[ -n "$pkg" ]]; then EXCLUDES+=(--exclude "$pkg"); fi
    done < <(python3 -c '
import json, os, sys
root = os.path.join(sys.argv[1], "")
for p in json.load(sys.stdin)["packages"]:
    rel = os.path.relpath(p["manifest_path"], root)
    if rel.startswith("bindings-"):
        print(p["name"])' "$REPO" <<<"$meta")
fi
[[ ${#EXCLUDES[@]} -eq 0 ]] || svc_log "Rust tests exclude binding crates (tested in step 3): ${EXCLUDES[*]}"

run_step "cargo fmt" cargo fmt --all --check
run_step "cargo clippy" cargo clippy --workspace --all-targets "${FEATURES[@]}" -- -D warnings
if cargo nextest --version >/dev/null 2>&1; then
    run_step "cargo nextest" cargo nextest run --workspace ${EXCLUDES[@]+"${EXCLUDES[@]}"} "${FEATURES[@]}" --no-fail-fast
else
    svc_log "cargo-nextest not installed: using cargo test"
    run_step "cargo test" cargo test --workspace ${EXCLUDES[@]+"${EXCLUDES[@]}"} "${FEATURES[@]}"
fi
run_step "cargo doctests" cargo test --workspace ${EXCLUDES[@]+"${EXCLUDES[@]}"} --doc
# Each backend alone (cargo features `sqlite` / `postgres`): it builds lint-clean, its half
# of the contract suite passes, and the other engine's driver is not in its tree.
run_step "sqlite-only build" bash -c 'cargo clippy -p interaction-core --all-targets --no-default-features --features sqlite -- -D warnings && cargo nextest run -p interaction-core --no-default-features --features sqlite --no-fail-fast && ! cargo tree -p interaction-core --no-default-features --features sqlite -e normal --prefix none | grep -E "^sqlx|postgres"'
run_step "postgres-only build" bash -c 'cargo clippy -p interaction-core --all-targets --no-default-features --features postgres-tests -- -D warnings && cargo nextest run -p interaction-core --no-default-features --features postgres-tests --no-fail-fast && ! cargo tree -p interaction-core --no-default-features --features postgres -e normal --prefix none | grep -E "sqlite"'
# The crate publishes: its package (migrations included) builds on its own.
run_step "cargo publish --dry-run" cargo publish --dry-run --allow-dirty -p interaction-core
# The release workflow cannot run here: actionlint checks it (schema, expressions, matrix).
run_step "lint release workflow" bash "$REPO/scripts/lint-workflows.sh"
# The README quickstart, as a user runs it: no server, no configuration, a fresh cwd.
QUICKSTART_DIR=$(mktemp -d "${TMPDIR:-/tmp}/interaction-store-quickstart.XXXXXX")
run_step "quickstart (Rust)" bash -c 'cd "$1" && env -u DATABASE_URL -u REDIS_URL cargo run -q --manifest-path "$2/Cargo.toml" --example quickstart && test -s interactions.db' _ "$QUICKSTART_DIR" "$REPO"
rm -rf "$QUICKSTART_DIR"

# -------------------------------------------------------------- 3. bindings
if [[ $RUST_ONLY == 1 ]]; then
    svc_log "--rust-only: skipping bindings tests"
else
    for b in python node; do
        if [[ -f "$REPO/bindings-$b/scripts/test.sh" ]]; then
            run_step "bindings-$b" bash "$REPO/bindings-$b/scripts/test.sh"
        fi
    done
fi
exit 0
