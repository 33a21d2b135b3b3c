# shellcheck shell=bash
# Ephemeral PostgreSQL / pgBouncer / pg_auto_failover / Redis helpers for scripts/test.sh.
#
# Sourced (not executed). Every function that starts something registers it in
# the _SVC_* variables below so that svc_cleanup (installed as an EXIT trap by
# the caller) can stop it and remove its temp dir, also on failure / Ctrl-C.
# Everything listens on 127.0.0.1 only, on free ports; as root, the servers run
# as the postgres OS user (created if missing); missing packages are installed
# with apt-get as root, otherwise the helper stops and says what to install.
#
# Public functions (all URLs postgres://postgres@127.0.0.1:PORT/postgres, trust
# auth, superuser, unless noted):
#   svc_start_postgres   -> DATABASE_URL (primary, admin URL)
#   svc_start_topology   -> TOPOLOGY_PRIMARY_URL (= DATABASE_URL when svc_start_postgres
#                           ran, else a private primary), TOPOLOGY_REPLICA_URLS (two
#                           streaming hot standbys, comma-separated),
#                           TOPOLOGY_REPLICA_DATADIRS (their PGDATA, same order),
#                           PG_BINDIR, PG_OS_USER (owner of the clusters, "" = current
#                           user), DATABASE_REPLICA_URL (first replica, when the
#                           topology primary is DATABASE_URL)
#   svc_start_pgbouncer URL -> TOPOLOGY_PGBOUNCER_URL (pgBouncer, transaction pooling,
#                           in front of URL's host:port, any database name)
#   svc_start_failover   starts a pg_auto_failover formation in the background;
#   svc_wait_failover    -> FAILOVER_URL (postgres://postgres@127.0.0.1:P1,127.0.0.1:P2/postgres),
#                           FAILOVER_MONITOR_URL (pg_autoctl show uri --formation monitor),
#                           FAILOVER_NODE_DIRS (PGDATA of the two nodes, URL order),
#                           FAILOVER_KILL_PRIMARY / FAILOVER_RESTART_NODE (paths of
#                           scripts/lib/failover-kill-primary.sh / failover-restart-node.sh)
#   svc_start_redis      -> REDIS_URL
#   svc_check_pg_extensions URL
#   svc_cleanup

_SVC_PG_BINDIR=""
_SVC_PG_USER=""          # unprivileged user running postgres when we are root ("" = current user)
_SVC_PG_PRIMARY_DIR=""   # temp dir of the DATABASE_URL cluster (data in $dir/data)
_SVC_PG_PRIMARY_PORT=""
_SVC_PG_DIRS=()          # every plain cluster we started (primary, topology primary, replicas)
_SVC_LAST_DIR=""         # set by _svc_new_cluster / _svc_clone_standby / _svc_start_cluster
_SVC_LAST_PORT=""
_SVC_PORTS_FILE=""       # ports handed out by svc_free_port in this run (also by background jobs)
_SVC_PGBOUNCER_DIR=""
_SVC_FAILOVER_DIR=""     # pg_auto_failover formation (monitor + 2 nodes), see svc_start_failover
_SVC_FAILOVER_JOB=""     # pid of its background start job
_SVC_FAILOVER_RM=""      # pid of the background rm -rf of its dir (cleanup)
_SVC_REDIS_DIR=""
_SVC_REDIS_PORT=""
_SVC_REDIS_PID=""

svc_log() { printf '[test.sh] %s\n' "$*" >&2; }
svc_die() { printf '[test.sh] ERROR: %s\n' "$*" >&2; exit 1; }

_svc_is_root() { [[ $(id -u) -eq 0 ]]; }

# Process pid exists and is not a zombie (daemons are reparented to an init that
# may reap them late; kill -0 succeeds on a zombie).
_svc_alive() {
    local st
    kill -0 "$1" 2>/dev/null || return 1
    st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 0
    [[ "$st" != Z ]]
}

# Hide a password in a URL for printing: scheme://user:secret@host -> scheme://user:***@host
svc_mask_url() { sed -E 's#(://[^:/@]+):[^@/]*@#\1:***@#' <<<"$1"; }

# Print a currently free TCP port on 127.0.0.1 (small race window; callers retry).
# Ports already handed out in this run (_SVC_PORTS_FILE, shared with the background
# failover job) are never handed out twice.
svc_free_port() {
    local p i
    for i in $(seq 1 50); do
        p=$(_svc_pick_port) || continue
        if [[ -n "$_SVC_PORTS_FILE" && -f "$_SVC_PORTS_FILE" ]]; then
            grep -qx "$p" "$_SVC_PORTS_FILE" && continue
            echo "$p" >>"$_SVC_PORTS_FILE"
        fi
        echo "$p"; return 0
    done
    svc_die "could not find a free TCP port"
}

_svc_pick_port() {
    local p i
    if command -v python3 >/dev/null 2>&1 &&
        p=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()' 2>/dev/null) &&
        [[ "$p" =~ ^[0-9]+$ ]]; then
        echo "$p"; return 0
    fi
    for i in $(seq 1 50); do
        p=$(( 20000 + RANDOM % 40000 ))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
    done
    return 1
}

_svc_ports_init() {
    [[ -n "$_SVC_PORTS_FILE" ]] && return 0
    _SVC_PORTS_FILE=$(mktemp "${TMPDIR:-/tmp}/interaction-store-ports.XXXXXX")
}

# Temp dir readable by the postgres user when we are root.
_svc_mktemp() {
    local base="${TMPDIR:-/tmp}"
    _svc_is_root && base=/tmp
    mktemp -d "$base/interaction-store-$1.XXXXXX"
}

_svc_apt_install() {
    svc_log "installing Debian package(s) $* with apt-get (running as root)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends "$@" >&2
}

# ---------------------------------------------------------------- PostgreSQL

_svc_find_pg_bindir() {
    local d
    if command -v pg_config >/dev/null 2>&1; then
        d=$(pg_config --bindir 2>/dev/null || true)
        if [[ -n "$d" && -x "$d/initdb" && -x "$d/pg_ctl" ]]; then echo "$d"; return 0; fi
    fi
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
    if [[ -n "$d" && -x "$d/initdb" && -x "$d/pg_ctl" ]]; then echo "$d"; return 0; fi
    return 1
}

# Run a command as the unprivileged postgres user (or directly when not root), from /.
# fds 8/9 (test.sh keeps the original stdout/stderr there) are closed so that
# daemons do not hold the caller's terminal/pipe open.
_svc_as_pg() {
    if [[ -z "$_SVC_PG_USER" ]]; then
        (cd / && exec 8>&- 9>&- && "$@")
    elif command -v runuser >/dev/null 2>&1; then
        (cd / && exec 8>&- 9>&- && runuser -u "$_SVC_PG_USER" -- "$@")
    else
        local q; q=$(printf '%q ' "$@")
        (cd / && exec 8>&- 9>&- && su -s /bin/sh "$_SVC_PG_USER" -c "$q")
    fi
}

_svc_setup_pg_user() {
    _svc_is_root || { _SVC_PG_USER=""; return; }
    if ! id -u postgres >/dev/null 2>&1; then
        svc_log "creating system user 'postgres' to run the ephemeral cluster"
        useradd --system --user-group --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin postgres
    fi
    _SVC_PG_USER=postgres
}

_svc_pg_conf() { # dir port [role] -> appends settings to $dir/data/postgresql.conf
    local preload=""
    [[ -n "$(_svc_pg_pkglib pg_stat_statements)" ]] && preload="shared_preload_libraries = 'pg_stat_statements'"
    cat >>"$1/data/postgresql.conf" <<CONF

# --- interaction-store scripts/test.sh (ephemeral test cluster${3:+, $3}) ---
listen_addresses = '127.0.0.1'
port = $2
unix_socket_directories = '$1'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 300
shared_buffers = 128MB
max_wal_senders = 10
max_replication_slots = 10
wal_level = replica
hot_standby = on
hot_standby_feedback = on
log_min_messages = warning
$preload
CONF
}

# Path of a server module (e.g. pg_stat_statements.so) when installed, else "".
_svc_pg_pkglib() {
    local lib=""
    [[ -x "$_SVC_PG_BINDIR/pg_config" ]] && lib=$("$_SVC_PG_BINDIR/pg_config" --pkglibdir 2>/dev/null || true)
    [[ -n "$lib" && -d "$lib" ]] || lib="$_SVC_PG_BINDIR/../lib"
    [[ -f "$lib/$1.so" ]] && echo "$lib/$1.so"
    return 0
}

_svc_pg_ctl_start() { # dir -> 0 on success
    _svc_as_pg "$_SVC_PG_BINDIR/pg_ctl" -D "$1/data" -l "$1/postgres.log" -w -t 60 start </dev/null >/dev/null 2>&1
}

_svc_pg_stop_dir() { # dir
    local dir=$1 pid
    [[ -d "$dir/data" ]] || return 0
    if [[ -f "$dir/data/postmaster.pid" ]]; then
        _svc_as_pg "$_SVC_PG_BINDIR/pg_ctl" -D "$dir/data" -m immediate -w -t 20 stop >/dev/null 2>&1 || true
        if [[ -f "$dir/data/postmaster.pid" ]]; then
            pid=$(head -n1 "$dir/data/postmaster.pid" 2>/dev/null || true)
            [[ "$pid" =~ ^[0-9]+$ ]] && kill -9 "$pid" 2>/dev/null || true
        fi
    fi
}

# Find (or, as root, apt-get install) the PostgreSQL server binaries; create the
# postgres OS user when root.
_svc_need_pg() {
    [[ -n "$_SVC_PG_BINDIR" ]] && return 0
    if [[ -n "${PG_BINDIR:-}" ]]; then
        [[ -x "$PG_BINDIR/initdb" && -x "$PG_BINDIR/pg_ctl" ]] || svc_die "PG_BINDIR=$PG_BINDIR has no initdb/pg_ctl"
        _SVC_PG_BINDIR=$PG_BINDIR
    fi
    [[ -n "$_SVC_PG_BINDIR" ]] || _SVC_PG_BINDIR=$(_svc_find_pg_bindir) || {
        if _svc_is_root && command -v apt-get >/dev/null 2>&1; then
            _svc_apt_install postgresql   # Debian's postgresql-NN ships pg_trgm/btree_gin
            _SVC_PG_BINDIR=$(_svc_find_pg_bindir) || svc_die "PostgreSQL server binaries still not found after apt-get install postgresql"
        else
            svc_die "PostgreSQL server binaries (initdb, pg_ctl) not found. Install PostgreSQL 15 (Debian/Ubuntu: 'sudo apt-get install postgresql'; macOS: 'brew install postgresql@15'), put its bin dir on PATH or set PG_BINDIR, or set DATABASE_URL to an existing server (admin URL)."
        fi
    }
    _svc_setup_pg_user
    _svc_ports_init
}

# New temp dir owned by the postgres user, registered for cleanup -> _SVC_LAST_DIR.
_svc_pg_mkdir() { # label
    local dir
    dir=$(_svc_mktemp "$1")
    _SVC_PG_DIRS+=("$dir")
    [[ -n "$_SVC_PG_USER" ]] && chown "$_SVC_PG_USER:" "$dir" && chmod 700 "$dir"
    _SVC_LAST_DIR=$dir
}

# initdb a new cluster in a registered temp dir -> _SVC_LAST_DIR (not started).
_svc_new_cluster() { # label
    local dir
    _svc_pg_mkdir "$1"; dir=$_SVC_LAST_DIR
    if ! _svc_as_pg "$_SVC_PG_BINDIR/initdb" -D "$dir/data" --auth=trust -U postgres \
            --encoding=UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1; then
        _svc_as_pg rm -rf "$dir/data"
        _svc_as_pg "$_SVC_PG_BINDIR/initdb" -D "$dir/data" --auth=trust -U postgres \
            --encoding=UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 \
            || { cat "$dir/initdb.log" >&2; svc_die "initdb failed (log above)"; }
    fi
    cp "$dir/data/postgresql.conf" "$dir/postgresql.conf.orig"
}

# Start the cluster in dir on a free port (3 attempts) -> _SVC_LAST_PORT.
_svc_start_cluster() { # dir label
    local dir=$1 label=$2 port attempt
    for attempt in 1 2 3; do
        port=$(svc_free_port)
        cp "$dir/postgresql.conf.orig" "$dir/data/postgresql.conf"
        _svc_pg_conf "$dir" "$port" "$label"   # later settings win (a clone keeps its source's block)
        if _svc_pg_ctl_start "$dir"; then
            _SVC_LAST_PORT=$port
            return 0
        fi
        svc_log "$label did not start on port $port (attempt $attempt); log tail:"
        tail -n 20 "$dir/postgres.log" >&2 || true
    done
    svc_die "could not start $label (see log above)"
}

svc_start_postgres() {
    _svc_need_pg
    local dir
    _svc_new_cluster pg; dir=$_SVC_LAST_DIR
    _SVC_PG_PRIMARY_DIR=$dir
    _svc_start_cluster "$dir" "PostgreSQL primary"
    _SVC_PG_PRIMARY_PORT=$_SVC_LAST_PORT
    export DATABASE_URL="postgres://postgres@127.0.0.1:$_SVC_PG_PRIMARY_PORT/postgres"
    svc_log "PostgreSQL: ephemeral $("$_SVC_PG_BINDIR/postgres" --version | awk '{print $3}') cluster, DATABASE_URL=$DATABASE_URL (data: $dir/data, bin: $_SVC_PG_BINDIR)"
}

# --------------------------------------------------- replication topology
#
# svc_start_topology: two streaming hot-standby replicas (pg_basebackup -R, one
# physical replication slot each, test_sh_replica1/2, so a stopped/paused replica
# can always catch up)
# of the DATABASE_URL cluster when we started it, else of a private primary.
# Exports TOPOLOGY_PRIMARY_URL, TOPOLOGY_REPLICA_URLS (comma-separated, same order
# as TOPOLOGY_REPLICA_DATADIRS), TOPOLOGY_REPLICA_DATADIRS, PG_BINDIR, PG_OS_USER.
# A test stops / restarts replica i (its log goes to $(dirname DATADIR)/postgres.log):
#   runuser -u "$PG_OS_USER" -- "$PG_BINDIR/pg_ctl" -D DATADIR -m immediate -w stop
#   runuser -u "$PG_OS_USER" -- "$PG_BINDIR/pg_ctl" -D DATADIR -l "$(dirname DATADIR)/postgres.log" -w start
# (without the runuser prefix when PG_OS_USER is empty: the script did not run as root).
svc_start_topology() {
    _svc_need_pg
    local primary_port label i dir pids=() urls=() dirs=()
    if [[ -n "$_SVC_PG_PRIMARY_PORT" ]]; then
        primary_port=$_SVC_PG_PRIMARY_PORT
        label="the DATABASE_URL cluster"
    else
        _svc_new_cluster pg-topology; dir=$_SVC_LAST_DIR
        _svc_start_cluster "$dir" "topology primary"
        primary_port=$_SVC_LAST_PORT
        label="a private primary (DATABASE_URL is external)"
    fi
    # Clone both replicas at once (fast checkpoint, no fsync). The slots exist (and
    # hold WAL) before either backup starts: with `pg_basebackup -C` the other
    # backup's checkpoint can remove WAL this one has yet to stream.
    _svc_psql "postgres://postgres@127.0.0.1:$primary_port/postgres" \
        -c "select pg_create_physical_replication_slot('test_sh_replica1', true)" \
        -c "select pg_create_physical_replication_slot('test_sh_replica2', true)" >/dev/null \
        || svc_die "could not create the replication slots on the topology primary"
    for i in 1 2; do
        _svc_pg_mkdir "pg-replica$i"; dir=$_SVC_LAST_DIR; dirs+=("$dir")
        _svc_as_pg "$_SVC_PG_BINDIR/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres \
            -D "$dir/data" -R -X stream -S "test_sh_replica$i" --checkpoint=fast --no-sync \
            >"$dir/basebackup.log" 2>&1 </dev/null &
        pids+=($!)
    done
    for i in 0 1; do
        wait "${pids[$i]}" || { cat "${dirs[$i]}/basebackup.log" >&2; svc_die "pg_basebackup of replica $((i + 1)) failed (log above)"; }
    done
    for i in 0 1; do
        dir=${dirs[$i]}
        cp "$dir/data/postgresql.conf" "$dir/postgresql.conf.orig"
        _svc_start_cluster "$dir" "replica $((i + 1))"
        urls+=("postgres://postgres@127.0.0.1:$_SVC_LAST_PORT/postgres")
    done
    export TOPOLOGY_PRIMARY_URL="postgres://postgres@127.0.0.1:$primary_port/postgres"
    export TOPOLOGY_REPLICA_URLS="${urls[0]},${urls[1]}"
    export TOPOLOGY_REPLICA_DATADIRS="${dirs[0]}/data,${dirs[1]}/data"
    export PG_BINDIR="$_SVC_PG_BINDIR" PG_OS_USER="$_SVC_PG_USER"
    # Back-compat (was WITH_REPLICA=1): a replica of DATABASE_URL itself.
    if [[ -n "$_SVC_PG_PRIMARY_PORT" && -z "${DATABASE_REPLICA_URL:-}" ]]; then
        export DATABASE_REPLICA_URL="${urls[0]}"
    fi
    svc_log "topology: primary $label TOPOLOGY_PRIMARY_URL=$TOPOLOGY_PRIMARY_URL; streaming hot standbys TOPOLOGY_REPLICA_URLS=$TOPOLOGY_REPLICA_URLS (data: $TOPOLOGY_REPLICA_DATADIRS)"
}

# ----------------------------------------------------------------- pgBouncer
#
# pgBouncer in transaction pooling mode in front of URL's host:port, auth trust for
# user postgres (the server must let postgres in without a password), every
# database name forwarded (also ones created later). pgBouncer 1.18 accepts
# `options` in ignore_startup_parameters and then drops it (a statement_timeout
# sent that way does not reach the server); protocol-level named prepared
# statements fail in transaction mode ("prepared statement ... already exists" /
# "does not exist"), unnamed ones (extended protocol) work.
# Exports TOPOLOGY_PGBOUNCER_URL=postgres://postgres@127.0.0.1:PORT/postgres.
svc_start_pgbouncer() { # primary-url
    local url=$1 hostport host upport port dir attempt i pid
    hostport=$(sed -E 's#^[a-z]+://([^@/]*@)?([^/?]+).*#\2#' <<<"$url")
    if [[ "$hostport" == *:* ]]; then host=${hostport%:*} upport=${hostport##*:}; else host=$hostport upport=5432; fi
    local bin
    bin=$(command -v pgbouncer || ls /usr/sbin/pgbouncer 2>/dev/null || true)
    if [[ -z "$bin" ]]; then
        if _svc_is_root && command -v apt-get >/dev/null 2>&1; then
            _svc_apt_install pgbouncer
            bin=$(command -v pgbouncer || ls /usr/sbin/pgbouncer 2>/dev/null || true)
            [[ -n "$bin" ]] || svc_die "pgbouncer still not found after apt-get install pgbouncer"
        else
            svc_die "pgbouncer not found. Install PgBouncer (Debian/Ubuntu: 'sudo apt-get install pgbouncer'; macOS: 'brew install pgbouncer') or set TOPOLOGY_PGBOUNCER_URL to an existing pgBouncer (transaction pooling) in front of TOPOLOGY_PRIMARY_URL."
        fi
    fi
    _svc_setup_pg_user
    _svc_ports_init
    dir=$(_svc_mktemp pgbouncer)
    _SVC_PGBOUNCER_DIR=$dir
    printf '"postgres" ""\n' >"$dir/userlist.txt"
    [[ -n "$_SVC_PG_USER" ]] && chown -R "$_SVC_PG_USER:" "$dir" && chmod 700 "$dir"
    for attempt in 1 2 3; do
        port=$(svc_free_port)
        rm -f "$dir/pgbouncer.pid"
        cat >"$dir/pgbouncer.ini" <<INI
; interaction-store scripts/test.sh (ephemeral pgBouncer)
[databases]
* = host=$host port=$upport

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir = $dir
auth_type = trust
auth_file = $dir/userlist.txt
admin_users = postgres
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 20
max_user_connections = 100
server_idle_timeout = 30
ignore_startup_parameters = extra_float_digits,options
pidfile = $dir/pgbouncer.pid
logfile = $dir/pgbouncer.log
INI
        [[ -n "$_SVC_PG_USER" ]] && chown "$_SVC_PG_USER:" "$dir/pgbouncer.ini"
        if _svc_as_pg "$bin" -d -q "$dir/pgbouncer.ini" </dev/null >>"$dir/pgbouncer.out" 2>&1; then
            for i in $(seq 1 50); do
                if [[ -s "$dir/pgbouncer.pid" ]] && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
                    export TOPOLOGY_PGBOUNCER_URL="postgres://postgres@127.0.0.1:$port/postgres"
                    svc_log "pgBouncer: $("$bin" --version | head -n1 | awk '{print $2}'), transaction pooling in front of $host:$upport, TOPOLOGY_PGBOUNCER_URL=$TOPOLOGY_PGBOUNCER_URL"
                    return 0
                fi
                sleep 0.1
            done
        fi
        svc_log "pgbouncer did not start on port $port (attempt $attempt); log tail:"
        tail -n 20 "$dir/pgbouncer.log" "$dir/pgbouncer.out" >&2 2>/dev/null || true
        pid=$(cat "$dir/pgbouncer.pid" 2>/dev/null || true)
        [[ "$pid" =~ ^[0-9]+$ ]] && kill -9 "$pid" 2>/dev/null || true
    done
    svc_die "could not start pgbouncer"
}

_svc_stop_pgbouncer() {
    local dir=$_SVC_PGBOUNCER_DIR pid i
    [[ -n "$dir" ]] || return 0
    pid=$(cat "$dir/pgbouncer.pid" 2>/dev/null || true)
    if [[ "$pid" =~ ^[0-9]+$ ]] && _svc_alive "$pid"; then
        kill -TERM "$pid" 2>/dev/null || true
        for i in $(seq 1 30); do _svc_alive "$pid" || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -rf "$dir"
    _SVC_PGBOUNCER_DIR=""
}

_svc_psql() { # url args...
    local psql=psql
    [[ -n "$_SVC_PG_BINDIR" && -x "$_SVC_PG_BINDIR/psql" ]] && psql="$_SVC_PG_BINDIR/psql"
    local url=$1; shift
    "$psql" "$url" -X -v ON_ERROR_STOP=1 -qAt "$@"
}

# Fail clearly unless pg_trgm and btree_gin can be created on the server.
svc_check_pg_extensions() {
    local url=$1 have
    if [[ -z "$_SVC_PG_BINDIR" ]] && ! command -v psql >/dev/null 2>&1; then
        svc_log "psql not found: skipping the pg_trgm/btree_gin availability check"
        return 0
    fi
    have=$(_svc_psql "$url" -c "select string_agg(name, ',' order by name) from pg_available_extensions where name in ('pg_trgm','btree_gin')") \
        || svc_die "cannot connect to PostgreSQL at $(svc_mask_url "$url")"
    [[ "$have" == "btree_gin,pg_trgm" ]] \
        || svc_die "PostgreSQL at $(svc_mask_url "$url") lacks extension(s) pg_trgm/btree_gin (available: '${have}'). Install the contrib modules (Debian: postgresql-15 ships them; elsewhere: postgresql-contrib)."
}

# ------------------------------------------------------- pg_auto_failover
#
# A pg_auto_failover formation on loopback: a monitor and two data nodes
# (synchronous replication), pg_autoctl --auth trust --no-ssl, run as the postgres
# OS user in its own temp dir ($dir/{monitor,node1,node2}/data; each pg_autoctl
# runs in its own session, its process group id in $dir/<name>/keeper.pid).
# The monitor is tuned so that a killed primary (keeper + postgres SIGKILLed) is
# failed over in about 3 s (see _SVC_FAILOVER_MONITOR_CONF).
# svc_start_failover starts it in the background; svc_wait_failover waits and
# exports FAILOVER_URL, FAILOVER_MONITOR_URL, FAILOVER_NODE_DIRS,
# FAILOVER_KILL_PRIMARY, FAILOVER_RESTART_NODE.

_SVC_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Health checks every 0.5 s; a node whose connection fails 3 times in a row (250 ms
# apart) and whose keeper has not reported for 2 s (keepers report every second) is
# unhealthy; an unreachable old primary counts as demoted after 0.5 s; failovers are
# allowed 1 s after the monitor started (default 10 s). A connection that merely
# hangs (loaded machine) only fails after health_check_timeout (5 s, the default).
# Measured: a killed primary's peer accepts writes after 2.5-3.7 s (defaults: ~47 s).
_SVC_FAILOVER_MONITOR_CONF="
pgautofailover.health_check_period = 500
pgautofailover.health_check_timeout = 5000
pgautofailover.health_check_max_retries = 2
pgautofailover.health_check_retry_delay = 250
pgautofailover.node_considered_unhealthy_timeout = 2000
pgautofailover.primary_demote_timeout = 500
pgautofailover.startup_grace_period = 1000
"

_svc_find_pg_autoctl() {
    local b
    b=$(command -v pg_autoctl 2>/dev/null || true)
    [[ -z "$b" && -x "$_SVC_PG_BINDIR/pg_autoctl" ]] && b="$_SVC_PG_BINDIR/pg_autoctl"
    [[ -n "$b" ]] && echo "$b"
}

svc_start_failover() {
    _svc_need_pg
    local bin dir major pm p1 p2
    bin=$(_svc_find_pg_autoctl) || {
        major=$("$_SVC_PG_BINDIR/postgres" --version | awk '{print $3}' | cut -d. -f1)
        if _svc_is_root && command -v apt-get >/dev/null 2>&1; then
            _svc_apt_install "postgresql-$major-auto-failover"
            bin=$(_svc_find_pg_autoctl) || svc_die "pg_autoctl still not found after apt-get install postgresql-$major-auto-failover"
        else
            svc_die "pg_autoctl (pg_auto_failover) not found. Install it (Debian/Ubuntu: 'sudo apt-get install postgresql-$major-auto-failover'; elsewhere see https://pg-auto-failover.readthedocs.io) or set FAILOVER_URL and FAILOVER_MONITOR_URL to an existing formation."
        fi
    }
    dir=$(_svc_mktemp failover)
    _SVC_FAILOVER_DIR=$dir
    [[ -n "$_SVC_PG_USER" ]] && chown "$_SVC_PG_USER:" "$dir" && chmod 700 "$dir"
    pm=$(svc_free_port) p1=$(svc_free_port) p2=$(svc_free_port)
    # Own session/process group (pid in job.pid) so that cleanup can stop it mid-way.
    (cd / && exec setsid bash -c 'echo $$ >"$1/job.pid"; source "$2/services.sh"; _svc_failover_job "$@"' \
        _ "$dir" "$_SVC_LIB_DIR" "$bin" "$_SVC_PG_BINDIR" "$_SVC_PG_USER" "$pm" "$p1" "$p2" \
        </dev/null >"$dir/job.log" 2>&1 8>&- 9>&-) &
    _SVC_FAILOVER_JOB=$!
    svc_log "pg_auto_failover: starting monitor + 2 nodes in the background (ports $pm, $p1, $p2; dir $dir)"
}

svc_wait_failover() {
    local dir=$_SVC_FAILOVER_DIR rc=0
    [[ -n "$dir" && -n "${_SVC_FAILOVER_JOB:-}" ]] || return 0
    wait "$_SVC_FAILOVER_JOB" || rc=$?
    _SVC_FAILOVER_JOB=""
    if [[ $rc -ne 0 || ! -s "$dir/result.env" ]]; then
        tail -n 60 "$dir/job.log" >&2 || true
        svc_die "pg_auto_failover formation did not come up (job log above)"
    fi
    # shellcheck disable=SC1091
    source "$dir/result.env"
    export FAILOVER_URL FAILOVER_MONITOR_URL FAILOVER_NODE_DIRS
    export FAILOVER_KILL_PRIMARY="$_SVC_LIB_DIR/failover-kill-primary.sh"
    export FAILOVER_RESTART_NODE="$_SVC_LIB_DIR/failover-restart-node.sh"
    export PG_BINDIR="$_SVC_PG_BINDIR" PG_OS_USER="$_SVC_PG_USER"
    svc_log "pg_auto_failover: $(tail -n1 "$dir/job.log")"
    svc_log "pg_auto_failover: FAILOVER_URL=$FAILOVER_URL FAILOVER_MONITOR_URL=$FAILOVER_MONITOR_URL (node data: $FAILOVER_NODE_DIRS)"
}

# Runs in its own session (see svc_start_failover); all output goes to job.log.
_svc_failover_job() { # dir libdir pg_autoctl bindir pguser monitor-port node1-port node2-port
    local dir=$1 bin=$3 pm=$6 p1=$7 p2=$8 t0=$SECONDS mon="" s="" i ck=0 n1url
    _SVC_PG_BINDIR=$4 _SVC_PG_USER=$5
    local -a envv=(env "HOME=$dir" "XDG_CONFIG_HOME=$dir/config" "XDG_DATA_HOME=$dir/share"
        "XDG_RUNTIME_DIR=$dir/run" "PATH=$_SVC_PG_BINDIR:/usr/local/bin:/usr/bin:/bin")
    printf '%q ' "${envv[@]:1}" >"$dir/pg_autoctl.env"
    printf '\nPG_AUTOCTL=%q\nPG_OS_USER=%q\n' "$bin" "$_SVC_PG_USER" >>"$dir/pg_autoctl.env"
    n1url="postgres://postgres@127.0.0.1:$p1/postgres"
    _svc_as_pg mkdir -p "$dir/monitor" "$dir/node1" "$dir/node2" "$dir/run"
    # initdb the monitor and node1 ourselves, at once: UTF8 (pg_autoctl's own initdb
    # takes the environment's locale: SQL_ASCII under runuser) and no fsync; node2
    # is a pg_basebackup of node1, settings included.
    _svc_failover_initdb "$dir/monitor/data" & i=$!
    _svc_failover_initdb "$dir/node1/data" || return 1
    wait "$i" || return 1

    _svc_as_pg "${envv[@]}" "$bin" create monitor --pgdata "$dir/monitor/data" --pgport "$pm" \
        --hostname 127.0.0.1 --auth trust --no-ssl --pgctl "$_SVC_PG_BINDIR/pg_ctl" \
        >"$dir/monitor/create.log" 2>&1 || { cat "$dir/monitor/create.log"; return 1; }
    _svc_as_pg "${envv[@]}" "$bin" config set --pgdata "$dir/monitor/data" postgresql.listen_addresses 127.0.0.1 >/dev/null
    _svc_as_pg sh -c 'cat >>"$1"' _ "$dir/monitor/data/postgresql.conf" <<CONF
$_SVC_FAILOVER_MONITOR_CONF
CONF
    _svc_failover_run "$dir" monitor "${envv[@]}" "$bin" run --pgdata "$dir/monitor/data"
    for i in $(seq 1 150); do
        mon=$(_svc_as_pg "${envv[@]}" "$bin" show uri --formation monitor --pgdata "$dir/monitor/data" 2>/dev/null) &&
            _svc_psql "$mon" -c 'select 1' >/dev/null 2>&1 && break
        mon=""; sleep 0.2
    done
    [[ -n "$mon" ]] || { echo "monitor did not come up"; tail -n 30 "$dir/monitor/keeper.log"; return 1; }
    echo "monitor up after $((SECONDS - t0))s: $mon"

    _svc_failover_run "$dir" node1 "${envv[@]}" "$bin" create postgres --pgdata "$dir/node1/data" \
        --pgport "$p1" --listen 127.0.0.1 --hostname 127.0.0.1 --name node1 --monitor "$mon" \
        --auth trust --no-ssl --pgctl "$_SVC_PG_BINDIR/pg_ctl" --run
    for i in $(seq 1 300); do
        s=$(_svc_psql "$mon" -c "select reportedstate from pgautofailover.node where nodename = 'node1'" 2>/dev/null || true)
        [[ "$s" == single ]] && break
        sleep 0.2
    done
    [[ "$s" == single ]] || { echo "node1 did not reach state single (state: '$s')"; tail -n 30 "$dir/node1/keeper.log"; return 1; }
    echo "node1 single after $((SECONDS - t0))s"

    _svc_failover_run "$dir" node2 "${envv[@]}" "$bin" create postgres --pgdata "$dir/node2/data" \
        --pgport "$p2" --listen 127.0.0.1 --hostname 127.0.0.1 --name node2 --monitor "$mon" \
        --auth trust --no-ssl --pgctl "$_SVC_PG_BINDIR/pg_ctl" --run
    for i in $(seq 1 900); do
        # pg_autoctl's pg_basebackup waits for a spread checkpoint (~7 s): make it immediate.
        if [[ $ck == 0 && "$(_svc_psql "$n1url" -c "select count(*) from pg_stat_progress_basebackup where phase like 'waiting for checkpoint%'" 2>/dev/null)" == 1 ]]; then
            _svc_psql "$n1url" -c checkpoint >/dev/null 2>&1 || true
            ck=1
        fi
        s=$(_svc_psql "$mon" -c "select string_agg(nodename || ':' || reportedstate || '/' || goalstate, ',' order by nodename) from pgautofailover.node" 2>/dev/null || true)
        [[ "$s" == node1:primary/primary,node2:secondary/secondary ]] && break
        sleep 0.1
    done
    if [[ "$s" != node1:primary/primary,node2:secondary/secondary ]]; then
        echo "formation did not reach primary + secondary (state: '$s')"
        tail -n 30 "$dir/node1/keeper.log" "$dir/node2/keeper.log"
        return 1
    fi
    {
        printf 'FAILOVER_URL=%q\n' "postgres://postgres@127.0.0.1:$p1,127.0.0.1:$p2/postgres"
        printf 'FAILOVER_MONITOR_URL=%q\n' "$mon"
        printf 'FAILOVER_NODE_DIRS=%q\n' "$dir/node1/data,$dir/node2/data"
    } >"$dir/result.env.tmp"
    mv "$dir/result.env.tmp" "$dir/result.env"
    echo "formation up after $((SECONDS - t0))s: node1 primary, node2 secondary ($(_svc_psql "$n1url" -c 'show synchronous_standby_names'))"
}

_svc_failover_initdb() { # pgdata
    local d=$1
    if ! _svc_as_pg "$_SVC_PG_BINDIR/initdb" -D "$d" --auth=trust -U postgres \
            --encoding=UTF8 --locale=C.UTF-8 --no-sync >"$d.initdb.log" 2>&1; then
        _svc_as_pg rm -rf "$d"
        _svc_as_pg "$_SVC_PG_BINDIR/initdb" -D "$d" --auth=trust -U postgres \
            --encoding=UTF8 --locale=C --no-sync >"$d.initdb.log" 2>&1 \
            || { cat "$d.initdb.log"; return 1; }
    fi
    _svc_as_pg sh -c 'cat >>"$1"' _ "$d/postgresql.conf" <<CONF

# --- interaction-store scripts/test.sh (pg_auto_failover, ephemeral) ---
fsync = off
full_page_writes = off
CONF
}

# Start pg_autoctl (args after dir/name) as the postgres user in a new session;
# process group id -> $dir/$name/keeper.pid, output -> $dir/$name/keeper.log.
_svc_failover_run() { # dir name cmd...
    local dir=$1 name=$2; shift 2
    local -a asuser=()
    [[ -n "$_SVC_PG_USER" ]] && asuser=(runuser -u "$_SVC_PG_USER" --)
    (cd / && exec setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$dir/$name/keeper.pid" \
        ${asuser[@]+"${asuser[@]}"} "$@" </dev/null >>"$dir/$name/keeper.log" 2>&1 8>&- 9>&-) &
}

# Kill every process of the formation (and of a half-started one), free the
# shared memory of the killed postmasters, remove the temp dir.
_svc_stop_failover() {
    local dir=$_SVC_FAILOVER_DIR f pg i pids p line shmid
    [[ -n "$dir" && -d "$dir" ]] || { _SVC_FAILOVER_DIR=""; return 0; }
    for f in "$dir/job.pid" "$dir"/*/keeper.pid; do
        [[ -f "$f" ]] || continue
        pg=$(cat "$f" 2>/dev/null || true)
        [[ "$pg" =~ ^[0-9]+$ ]] && kill -9 -- "-$pg" 2>/dev/null || true
    done
    [[ -n "${_SVC_FAILOVER_JOB:-}" ]] && kill -9 "$_SVC_FAILOVER_JOB" 2>/dev/null || true
    # Postgres children (and pgautofailover's health check worker, which ignores
    # postmaster death) have their cwd in a data dir of ours.
    for i in $(seq 1 50); do
        pids=()
        for p in $(find /proc -mindepth 2 -maxdepth 2 -name cwd -lname "$dir/*" 2>/dev/null) \
                $(pgrep -f -- "${dir//./\\.}/" 2>/dev/null); do
            p=${p#/proc/}; p=${p%/cwd}
            [[ "$p" =~ ^[0-9]+$ && "$p" != "$$" && "$p" != "$BASHPID" ]] && pids+=("$p")
        done
        [[ ${#pids[@]} -eq 0 ]] && break
        kill -9 "${pids[@]}" 2>/dev/null || true
        sleep 0.1
    done
    # SysV shared memory segment of each postmaster that could not remove it.
    for f in "$dir"/*/data/postmaster.pid; do
        [[ -f "$f" ]] || continue
        line=$(sed -n 7p "$f" 2>/dev/null || true)
        shmid=$(awk '{print $2}' <<<"$line")
        [[ "$shmid" =~ ^[0-9]+$ ]] || continue
        if ipcs -m 2>/dev/null | awk -v id="$shmid" '$2 == id && $6 == 0 {found=1} END {exit !found}'; then
            ipcrm -m "$shmid" 2>/dev/null || true
        fi
    done
    rm -rf "$dir" &   # seconds on a disk with online discard: overlap it (svc_cleanup waits)
    _SVC_FAILOVER_RM=$!
    _SVC_FAILOVER_DIR=""
}

# --------------------------------------------------------------------- Redis

svc_start_redis() {
    if ! command -v redis-server >/dev/null 2>&1; then
        if _svc_is_root && command -v apt-get >/dev/null 2>&1; then
            _svc_apt_install redis-server
            command -v redis-server >/dev/null 2>&1 || svc_die "redis-server still not found after apt-get install redis-server"
        else
            svc_die "redis-server not found. Install Redis (Debian/Ubuntu: 'sudo apt-get install redis-server'; macOS: 'brew install redis') or set REDIS_URL to an existing server."
        fi
    fi
    local dir port attempt i
    dir=$(_svc_mktemp redis)
    _SVC_REDIS_DIR=$dir
    for attempt in 1 2 3; do
        port=$(svc_free_port)
        rm -f "$dir/redis.pid"
        if (cd "$dir" && redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
                --dir "$dir" --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
                --protected-mode yes </dev/null >/dev/null 2>&1 8>&- 9>&-); then
            for i in $(seq 1 100); do
                if [[ -s "$dir/redis.pid" ]] && _svc_redis_ping "$port"; then
                    _SVC_REDIS_PORT=$port
                    _SVC_REDIS_PID=$(cat "$dir/redis.pid")
                    export REDIS_URL="redis://127.0.0.1:$port/"
                    svc_log "Redis: ephemeral $(redis-server --version | grep -o 'v=[^ ]*'), REDIS_URL=$REDIS_URL"
                    return 0
                fi
                sleep 0.1
            done
        fi
        svc_log "redis-server did not start on port $port (attempt $attempt); log tail:"
        tail -n 20 "$dir/redis.log" >&2 2>/dev/null || true
        [[ -s "$dir/redis.pid" ]] && kill -9 "$(cat "$dir/redis.pid")" 2>/dev/null || true
    done
    svc_die "could not start the ephemeral redis-server"
}

_svc_redis_ping() { # port
    if command -v redis-cli >/dev/null 2>&1; then
        [[ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" == PONG ]]
    else
        (exec 3<>"/dev/tcp/127.0.0.1/$1" && printf 'PING\r\n' >&3 && read -r -t 2 line <&3 && [[ "$line" == +PONG* ]]) 2>/dev/null
    fi
}

# ------------------------------------------------------------------- cleanup

svc_cleanup() {
    local i
    if [[ -n "$_SVC_REDIS_DIR" ]]; then
        if [[ -n "$_SVC_REDIS_PID" ]] && kill -0 "$_SVC_REDIS_PID" 2>/dev/null; then
            if command -v redis-cli >/dev/null 2>&1; then
                redis-cli -h 127.0.0.1 -p "$_SVC_REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
            fi
            for i in $(seq 1 50); do _svc_alive "$_SVC_REDIS_PID" || break; sleep 0.1; done
            kill -9 "$_SVC_REDIS_PID" 2>/dev/null || true
        fi
        rm -rf "$_SVC_REDIS_DIR"
        _SVC_REDIS_DIR=""
    fi
    _svc_stop_failover
    _svc_stop_pgbouncer
    # Plain clusters: all at once (immediate shutdown), then remove their dirs.
    local d pids=()
    for d in ${_SVC_PG_DIRS[@]+"${_SVC_PG_DIRS[@]}"}; do
        _svc_pg_stop_dir "$d" &
        pids+=($!)
    done
    for i in ${pids[@]+"${pids[@]}"}; do wait "$i" 2>/dev/null || true; done
    pids=()
    for d in ${_SVC_PG_DIRS[@]+"${_SVC_PG_DIRS[@]}"}; do rm -rf "$d" & pids+=($!); done
    [[ -n "$_SVC_FAILOVER_RM" ]] && pids+=("$_SVC_FAILOVER_RM")
    for i in ${pids[@]+"${pids[@]}"}; do wait "$i" 2>/dev/null || true; done
    _SVC_PG_DIRS=() _SVC_PG_PRIMARY_DIR="" _SVC_FAILOVER_RM=""
    if [[ -n "$_SVC_PORTS_FILE" ]]; then rm -f "$_SVC_PORTS_FILE"; _SVC_PORTS_FILE=""; fi
}
