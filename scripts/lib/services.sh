# shellcheck shell=bash
# Ephemeral PostgreSQL / Redis helpers for scripts/test.sh.
#
# Sourced (not executed). Every function that starts something registers it in
# the _SVC_* variables below so that svc_cleanup (installed as an EXIT trap by
# the caller) can stop it and remove its temp dir, also on failure / Ctrl-C.
#
# Public functions:
#   svc_start_postgres   -> exports DATABASE_URL (primary, admin URL)
#   svc_start_replica    -> exports DATABASE_REPLICA_URL (streaming hot standby)
#   svc_start_redis      -> exports REDIS_URL
#   svc_check_pg_extensions URL
#   svc_cleanup

_SVC_PG_BINDIR=""
_SVC_PG_USER=""          # unprivileged user running postgres when we are root ("" = current user)
_SVC_PG_PRIMARY_DIR=""   # temp dir of the primary cluster (data in $dir/data)
_SVC_PG_PRIMARY_PORT=""
_SVC_PG_REPLICA_DIR=""
_SVC_REDIS_DIR=""
_SVC_REDIS_PORT=""
_SVC_REDIS_PID=""

svc_log() { printf '[test.sh] %s\n' "$*" >&2; }
svc_die() { printf '[test.sh] ERROR: %s\n' "$*" >&2; exit 1; }

_svc_is_root() { [[ $(id -u) -eq 0 ]]; }

# Hide a password in a URL for printing: scheme://user:secret@host -> scheme://user:***@host
svc_mask_url() { sed -E 's#(://[^:/@]+):[^@/]*@#\1:***@#' <<<"$1"; }

# Print a currently free TCP port on 127.0.0.1 (small race window; callers retry).
svc_free_port() {
    local p i
    if command -v python3 >/dev/null 2>&1 &&
        p=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()' 2>/dev/null) &&
        [[ "$p" =~ ^[0-9]+$ ]]; then
        echo "$p"; return
    fi
    for i in $(seq 1 50); do
        p=$(( 20000 + RANDOM % 40000 ))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
    done
    svc_die "could not find a free TCP port"
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

_svc_pg_conf() { # dir port -> appends settings to $dir/data/postgresql.conf
    cat >>"$1/data/postgresql.conf" <<CONF

# --- interaction-store scripts/test.sh (ephemeral test cluster) ---
listen_addresses = '127.0.0.1'
port = $2
unix_socket_directories = '$1'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 300
shared_buffers = 128MB
max_wal_senders = 10
wal_level = replica
hot_standby = on
log_min_messages = warning
CONF
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

svc_start_postgres() {
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
    local dir port attempt
    dir=$(_svc_mktemp pg)
    _SVC_PG_PRIMARY_DIR=$dir
    [[ -n "$_SVC_PG_USER" ]] && chown "$_SVC_PG_USER:" "$dir" && chmod 700 "$dir"

    if ! _svc_as_pg "$_SVC_PG_BINDIR/initdb" -D "$dir/data" --auth=trust -U postgres \
            --encoding=UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1; then
        _svc_as_pg rm -rf "$dir/data"
        _svc_as_pg "$_SVC_PG_BINDIR/initdb" -D "$dir/data" --auth=trust -U postgres \
            --encoding=UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 \
            || { cat "$dir/initdb.log" >&2; svc_die "initdb failed (log above)"; }
    fi
    cp "$dir/data/postgresql.conf" "$dir/postgresql.conf.orig"

    for attempt in 1 2 3; do
        port=$(svc_free_port)
        cp "$dir/postgresql.conf.orig" "$dir/data/postgresql.conf"
        _svc_pg_conf "$dir" "$port"
        if _svc_pg_ctl_start "$dir"; then
            _SVC_PG_PRIMARY_PORT=$port
            export DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
            svc_log "PostgreSQL: ephemeral $("$_SVC_PG_BINDIR/postgres" --version | awk '{print $3}') cluster, DATABASE_URL=$DATABASE_URL (data: $dir/data, bin: $_SVC_PG_BINDIR)"
            return 0
        fi
        svc_log "PostgreSQL did not start on port $port (attempt $attempt); log tail:"
        tail -n 20 "$dir/postgres.log" >&2 || true
    done
    svc_die "could not start the ephemeral PostgreSQL cluster (see log above)"
}

# Streaming hot-standby replica of the cluster started by svc_start_postgres.
svc_start_replica() {
    [[ -n "$_SVC_PG_PRIMARY_PORT" ]] || svc_die "svc_start_replica needs the ephemeral primary (DATABASE_URL was given externally)"
    local dir port attempt
    dir=$(_svc_mktemp pg-replica)
    _SVC_PG_REPLICA_DIR=$dir
    [[ -n "$_SVC_PG_USER" ]] && chown "$_SVC_PG_USER:" "$dir" && chmod 700 "$dir"
    _svc_as_pg "$_SVC_PG_BINDIR/pg_basebackup" -h 127.0.0.1 -p "$_SVC_PG_PRIMARY_PORT" -U postgres \
        -D "$dir/data" -R -X stream --checkpoint=fast --no-sync >"$dir/basebackup.log" 2>&1 \
        || { cat "$dir/basebackup.log" >&2; svc_die "pg_basebackup failed (log above)"; }
    cp "$dir/data/postgresql.conf" "$dir/postgresql.conf.orig"
    for attempt in 1 2 3; do
        port=$(svc_free_port)
        cp "$dir/postgresql.conf.orig" "$dir/data/postgresql.conf"
        _svc_pg_conf "$dir" "$port"   # later settings win: own port + socket dir
        if _svc_pg_ctl_start "$dir"; then
            export DATABASE_REPLICA_URL="postgres://postgres@127.0.0.1:$port/postgres"
            svc_log "PostgreSQL replica: streaming standby, DATABASE_REPLICA_URL=$DATABASE_REPLICA_URL (data: $dir/data)"
            return 0
        fi
        svc_log "PostgreSQL replica did not start on port $port (attempt $attempt); log tail:"
        tail -n 20 "$dir/postgres.log" >&2 || true
    done
    svc_die "could not start the PostgreSQL replica"
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
            for i in $(seq 1 50); do kill -0 "$_SVC_REDIS_PID" 2>/dev/null || break; sleep 0.1; done
            kill -9 "$_SVC_REDIS_PID" 2>/dev/null || true
        fi
        rm -rf "$_SVC_REDIS_DIR"
        _SVC_REDIS_DIR=""
    fi
    if [[ -n "$_SVC_PG_REPLICA_DIR" ]]; then
        _svc_pg_stop_dir "$_SVC_PG_REPLICA_DIR"
        rm -rf "$_SVC_PG_REPLICA_DIR"
        _SVC_PG_REPLICA_DIR=""
    fi
    if [[ -n "$_SVC_PG_PRIMARY_DIR" ]]; then
        _svc_pg_stop_dir "$_SVC_PG_PRIMARY_DIR"
        rm -rf "$_SVC_PG_PRIMARY_DIR"
        _SVC_PG_PRIMARY_DIR=""
    fi
}
