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
#      Always also a production-like topology (each part unless its variables are
#      set; all URLs postgres://postgres@127.0.0.1:PORT/postgres, superuser, trust):
#      - two streaming hot-standby replicas (pg_basebackup -R, replication slots,
#        hot_standby_feedback) of the DATABASE_URL cluster, or of a private primary
#        when DATABASE_URL is given: TOPOLOGY_PRIMARY_URL, TOPOLOGY_REPLICA_URLS
#        (comma-separated), TOPOLOGY_REPLICA_DATADIRS (their PGDATA, same order),
#        DATABASE_REPLICA_URL (the first replica, when it replicates DATABASE_URL).
#        pg_stat_statements is preloaded when installed. A test (as root) stops /
#        restarts replica DIR with
#          runuser -u "$PG_OS_USER" -- "$PG_BINDIR/pg_ctl" -D DIR -m immediate -w stop
#          runuser -u "$PG_OS_USER" -- "$PG_BINDIR/pg_ctl" -D DIR -l "$(dirname DIR)/postgres.log" -w start
#        (no runuser prefix when PG_OS_USER is empty, i.e. this script ran unprivileged);
#      - pgBouncer (transaction pooling, max_client_conn 1000, default_pool_size 20,
#        any database name, ignore_startup_parameters = extra_float_digits,options:
#        `options` such as -c statement_timeout=... are accepted and DROPPED) in
#        front of TOPOLOGY_PRIMARY_URL: TOPOLOGY_PGBOUNCER_URL;
#      - a pg_auto_failover formation (monitor + 2 nodes, synchronous replication,
#        a killed primary is failed over in ~3 s): FAILOVER_URL=
#        postgres://postgres@127.0.0.1:P1,127.0.0.1:P2/postgres (add
#        ?target_session_attrs=read-write), FAILOVER_MONITOR_URL, FAILOVER_NODE_DIRS
#        (nodes' PGDATA, URL order); "$FAILOVER_KILL_PRIMARY" SIGKILLs the current
#        primary's keeper + postgres (prints its PGDATA), "$FAILOVER_RESTART_NODE"
#        PGDATA brings it back as secondary.
#      Also exports PG_BINDIR and PG_OS_USER (the OS user owning the clusters).
#   2. Rust: cargo fmt --check, clippy -D warnings, nextest (or cargo test) with
#      feature interaction-core/postgres-tests, doctests, each backend feature alone,
#      cargo publish --dry-run, actionlint on .github/workflows (scripts/lint-workflows.sh),
#      the Rust quickstart and API tour. Shared CARGO_TARGET_DIR (default <repo>/target).
#   3. Bindings: bindings-python/scripts/test.sh and bindings-node/scripts/test.sh
#      when they exist (same environment).
#
# Environment:
#   DATABASE_URL   use this PostgreSQL (admin URL) instead of an ephemeral cluster
#   REDIS_URL      use this Redis instead of an ephemeral redis-server
#   TOPOLOGY_PRIMARY_URL + TOPOLOGY_REPLICA_URLS  use this primary and these replicas
#                  (set both; TOPOLOGY_REPLICA_DATADIRS too if tests stop replicas)
#   TOPOLOGY_PGBOUNCER_URL  use this pgBouncer (transaction pooling, in front of
#                  TOPOLOGY_PRIMARY_URL)
#   FAILOVER_URL (+ FAILOVER_MONITOR_URL, FAILOVER_NODE_DIRS)  use this formation
#                  (the kill/restart helpers only work on one this script started)
#   WITH_REPLICA   ignored (the replicas always start)
#   PG_BINDIR      directory with initdb/pg_ctl/postgres (default: pg_config --bindir,
#                  else newest /usr/lib/postgresql/*/bin; as root: apt-get install)
#   CARGO_TARGET_DIR  default <repo>/target
#   TEST_SH_SERVICES_ONLY=1  debugging aid: start the services, print the URLs,
#                  smoke-test them (version, CREATE EXTENSION pg_trgm/btree_gin in a
#                  scratch db, redis PING, a write and a CREATE DATABASE reach both
#                  replicas within 5 s, queries through pgBouncer also to that new
#                  database, a write through FAILOVER_URL, then a failover drill:
#                  kill the primary, time until the other node takes writes, restart
#                  the killed node), then stop everything and exit.
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
if [[ -n "${WITH_REPLICA:-}" ]]; then
    svc_log "WITH_REPLICA is no longer needed (ignored): the replicas always start"
fi
# The pg_auto_failover formation takes longest: it starts in the background first.
if [[ -n "${FAILOVER_URL:-}" ]]; then
    svc_log "pg_auto_failover: using FAILOVER_URL from the environment: $(svc_mask_url "$FAILOVER_URL")"
else
    svc_start_failover
fi
if [[ -n "${DATABASE_URL:-}" ]]; then
    svc_log "PostgreSQL: using DATABASE_URL from the environment: $(svc_mask_url "$DATABASE_URL")"
else
    svc_start_postgres
fi
svc_check_pg_extensions "$DATABASE_URL"
if [[ -n "${TOPOLOGY_PRIMARY_URL:-}" && -n "${TOPOLOGY_REPLICA_URLS:-}" ]]; then
    svc_log "topology: using TOPOLOGY_PRIMARY_URL / TOPOLOGY_REPLICA_URLS from the environment: $(svc_mask_url "$TOPOLOGY_PRIMARY_URL") / $(svc_mask_url "$TOPOLOGY_REPLICA_URLS")"
elif [[ -n "${TOPOLOGY_PRIMARY_URL:-}" || -n "${TOPOLOGY_REPLICA_URLS:-}" ]]; then
    svc_die "set both TOPOLOGY_PRIMARY_URL and TOPOLOGY_REPLICA_URLS (or neither: then the test command starts the topology)"
else
    svc_start_topology
fi
if [[ -n "${TOPOLOGY_PGBOUNCER_URL:-}" ]]; then
    svc_log "pgBouncer: using TOPOLOGY_PGBOUNCER_URL from the environment: $(svc_mask_url "$TOPOLOGY_PGBOUNCER_URL")"
else
    svc_start_pgbouncer "$TOPOLOGY_PRIMARY_URL"
fi
if [[ -n "${REDIS_URL:-}" ]]; then
    svc_log "Redis: using REDIS_URL from the environment: $(svc_mask_url "$REDIS_URL")"
else
    svc_start_redis
fi
svc_wait_failover
step_end ok

# --------------------------------------------- debugging aid: services only
if [[ "${TEST_SH_SERVICES_ONLY:-0}" == 1 ]]; then
    step_begin services-smoke-test
    for v in DATABASE_URL REDIS_URL DATABASE_REPLICA_URL TOPOLOGY_PRIMARY_URL TOPOLOGY_REPLICA_URLS \
        TOPOLOGY_REPLICA_DATADIRS TOPOLOGY_PGBOUNCER_URL FAILOVER_URL FAILOVER_MONITOR_URL \
        FAILOVER_NODE_DIRS FAILOVER_KILL_PRIMARY FAILOVER_RESTART_NODE PG_BINDIR PG_OS_USER; do
        if [[ -n "${!v+x}" ]]; then echo "$v=${!v}"; fi
    done
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
    # Replicas: a write and a new database on the primary show up on both within 5 s.
    token="t$RANDOM$$" repdb="test_sh_topology_$$"
    _svc_psql "$TOPOLOGY_PRIMARY_URL" -c "create database $repdb" \
        -c 'create table if not exists test_sh_replica_check (v text)' \
        -c "insert into test_sh_replica_check values ('$token')"
    IFS=, read -r -a replica_urls <<<"$TOPOLOGY_REPLICA_URLS"
    for r in "${replica_urls[@]}"; do
        got=""
        for _ in $(seq 1 50); do
            got=$(_svc_psql "$r" -c "select v || (select count(*) from pg_database where datname = '$repdb') from test_sh_replica_check where v = '$token'" 2>/dev/null || true)
            [[ "$got" == "${token}1" ]] && break
            sleep 0.1
        done
        [[ "$got" == "${token}1" ]] || svc_die "replica $r did not receive the write within 5s"
        [[ "$(_svc_psql "$r" -c 'select pg_is_in_recovery()')" == t ]] || svc_die "replica $r is not in recovery"
        [[ "$(_svc_psql "${r%/*}/$repdb" -c 'select current_database()')" == "$repdb" ]] || svc_die "database $repdb not on replica $r"
        echo "replica ${r##*@}: read-after-write ok, new database ok, pg_is_in_recovery() = t, shared_preload_libraries = '$(_svc_psql "$r" -c 'show shared_preload_libraries')'"
    done
    # pgBouncer (transaction pooling): a query, a database created after it started,
    # and the startup parameter `options` (accepted but ignored).
    [[ "$(_svc_psql "$TOPOLOGY_PGBOUNCER_URL" -c 'select 1')" == 1 ]] || svc_die "query through pgBouncer failed"
    [[ "$(_svc_psql "${TOPOLOGY_PGBOUNCER_URL%/*}/$repdb" -c 'select current_database()')" == "$repdb" ]] \
        || svc_die "database $repdb not reachable through pgBouncer"
    echo "pgbouncer: query ok, new database ok, with options=-c statement_timeout=1234: statement_timeout = $(PGOPTIONS='-c statement_timeout=1234' _svc_psql "$TOPOLOGY_PGBOUNCER_URL" -c 'show statement_timeout') (options are ignored), pool_mode = $(_svc_psql "${TOPOLOGY_PGBOUNCER_URL%/*}/pgbouncer" -c 'show config' | awk -F'|' '$1 == "pool_mode" {print $2}')"
    _svc_psql "$TOPOLOGY_PRIMARY_URL" -c "drop database $repdb with (force)" -c 'drop table test_sh_replica_check'
    # pg_auto_failover: a writable primary through the multi-host URL.
    fo_sep='?'; [[ "$FAILOVER_URL" == *'?'* ]] && fo_sep='&'
    fo_rw="$FAILOVER_URL${fo_sep}target_session_attrs=read-write"
    echo "failover: writable primary on port $(_svc_psql "$fo_rw" -c 'create table if not exists test_sh_failover_check (v int)' -c 'insert into test_sh_failover_check values (1)' -c 'select inet_server_port()'), synchronous_standby_names = '$(_svc_psql "$fo_rw" -c 'show synchronous_standby_names')'"
    if [[ -n "${FAILOVER_MONITOR_URL:-}" ]]; then
        _svc_psql "$FAILOVER_MONITOR_URL" -c "select 'failover: ' || string_agg(nodename || ' ' || nodeport || ' ' || reportedstate, ', ' order by nodename) from pgautofailover.node"
    fi
    if [[ -x "${FAILOVER_KILL_PRIMARY:-}" ]]; then
        # Drill: kill the primary (keeper + postgres), time until the other node takes writes, bring it back.
        t0=$(date +%s%N)
        killed=$("$FAILOVER_KILL_PRIMARY")
        for _ in $(seq 1 300); do
            _svc_psql "$fo_rw&connect_timeout=2" -c 'insert into test_sh_failover_check values (2)' >/dev/null 2>&1 && break
            sleep 0.1
        done
        _svc_psql "$fo_rw" -c 'insert into test_sh_failover_check values (3)' >/dev/null || svc_die "no writable primary after killing the primary"
        echo "failover: killed the primary, the other node accepted writes after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
        "$FAILOVER_RESTART_NODE" "$killed"
        _svc_psql "$FAILOVER_MONITOR_URL" -c "select 'failover: ' || string_agg(nodename || ' ' || nodeport || ' ' || reportedstate, ', ' order by nodename) from pgautofailover.node"
    fi
    step_end ok
    exit 0
fi

# ------------------------------------------------------------------ 2. Rust
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-auto}"
# sqlx compile-time macros would otherwise try the (empty) test server.
if [[ -z "${SQLX_OFFLINE+x}" ]] && compgen -G "$REPO/.sqlx" >/dev/null; then export SQLX_OFFLINE=true; fi
FEATURES=(--features interaction-core/postgres-tests,interaction-cli/postgres-tests)
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

# Docs that run: every fenced block of the three READMEs is executed somewhere (the Python
# and Node tours run in step 3, the Rust ones are doctests) or exempt with a reason.
run_step "README blocks" python3 "$REPO/scripts/readme_blocks.py" check
run_step "cargo fmt" cargo fmt --all --check
run_step "cargo clippy" cargo clippy --workspace --all-targets "${FEATURES[@]}" -- -D warnings
if cargo nextest --version >/dev/null 2>&1; then
    run_step "cargo nextest" cargo nextest run --workspace ${EXCLUDES[@]+"${EXCLUDES[@]}"} "${FEATURES[@]}" --no-fail-fast
else
    svc_log "cargo-nextest not installed: using cargo test"
    run_step "cargo test" cargo test --workspace ${EXCLUDES[@]+"${EXCLUDES[@]}"} "${FEATURES[@]}"
fi
run_step "cargo doctests" cargo test --workspace ${EXCLUDES[@]+"${EXCLUDES[@]}"} --doc
run_step "rustdoc (broken links are errors)" env RUSTDOCFLAGS="-D warnings" cargo doc -p interaction-core --no-deps
# Each backend alone (cargo features `sqlite` / `postgres`): it builds lint-clean, its half
# of the contract suite passes (the topology and pgBouncer runs, which kill and pause shared
# servers, ran once above), and the other engine's driver is not in its tree.
run_step "sqlite-only build" bash -c 'cargo clippy -p interaction-core --all-targets --no-default-features --features sqlite -- -D warnings && cargo nextest run -p interaction-core --no-default-features --features sqlite --no-fail-fast && ! cargo tree -p interaction-core --no-default-features --features sqlite -e normal --prefix none | grep -E "^sqlx|postgres"'
run_step "postgres-only build" bash -c 'cargo clippy -p interaction-core --all-targets --no-default-features --features postgres-tests -- -D warnings && cargo nextest run -p interaction-core --no-default-features --features postgres-tests --no-fail-fast -E "not test(/^topology::|::pgbouncer::/)" && ! cargo tree -p interaction-core --no-default-features --features postgres -e normal --prefix none | grep -E "sqlite"'
# The crate publishes: its package (migrations included) builds on its own.
run_step "cargo publish --dry-run" cargo publish --dry-run --allow-dirty -p interaction-core
# The release workflow cannot run here: actionlint checks it (schema, expressions, matrix).
run_step "lint release workflow" bash "$REPO/scripts/lint-workflows.sh"
# The README quickstart, as a user runs it: no server, no configuration, a fresh cwd.
QUICKSTART_DIR=$(mktemp -d "${TMPDIR:-/tmp}/interaction-store-quickstart.XXXXXX")
run_step "quickstart (Rust)" bash -c 'cd "$1" && env -u DATABASE_URL -u REDIS_URL cargo run -q --manifest-path "$2/Cargo.toml" --example quickstart && test -s interactions.db' _ "$QUICKSTART_DIR" "$REPO"
rm -rf "$QUICKSTART_DIR"
# The README's Rust API tour (examples/tour.rs; examples/tests/readme.rs keeps the README
# block identical): on sqlite::memory:, with the Redis part on REDIS_URL.
run_step "API tour (Rust)" cargo run -q --example tour

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
