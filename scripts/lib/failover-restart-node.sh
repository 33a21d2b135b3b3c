#!/usr/bin/env bash
# Bring a node of the scripts/test.sh pg_auto_failover formation back after
# "$FAILOVER_KILL_PRIMARY" (or any stop): starts `pg_autoctl run` for it again, as
# the formation's OS user, in its own session (pgid in $(dirname PGDATA)/keeper.pid),
# and waits (up to 60 s) until the monitor reports it as "secondary" and the other
# node as "primary" (synchronous replication again).
#
#   "$FAILOVER_RESTART_NODE" PGDATA      (= scripts/lib/failover-restart-node.sh)
#
# PGDATA is one of FAILOVER_NODE_DIRS. Needs FAILOVER_MONITOR_URL; run as root or
# as that user.
set -euo pipefail
pgdata=${1:?usage: failover-restart-node.sh PGDATA}
: "${FAILOVER_MONITOR_URL:?FAILOVER_MONITOR_URL is not set (start the services with scripts/test.sh)}"
nodedir=$(dirname "$pgdata")
envfile="$(dirname "$nodedir")/pg_autoctl.env"
[[ -f "$envfile" ]] || { echo "failover-restart-node: $envfile not found: not a scripts/test.sh formation" >&2; exit 1; }
# line 1: env assignments for pg_autoctl (HOME, XDG_*, PATH); then PG_AUTOCTL=, PG_OS_USER=
read -r envline <"$envfile"
envv=()
eval "envv=($envline)"
eval "$(sed -n '2,$p' "$envfile")"
psql=psql
[[ -n "${PG_BINDIR:-}" && -x "$PG_BINDIR/psql" ]] && psql="$PG_BINDIR/psql"
asuser=()
[[ -n "${PG_OS_USER:-}" && $(id -u) -eq 0 ]] && asuser=(runuser -u "$PG_OS_USER" --)

(cd / && exec setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$nodedir/keeper.pid" \
    ${asuser[@]+"${asuser[@]}"} env "${envv[@]}" "$PG_AUTOCTL" run --pgdata "$pgdata" \
    </dev/null >>"$nodedir/keeper.log" 2>&1) &
# node name = pg_autoctl --name given by scripts/test.sh (node1/node2 = dir name)
name=$(basename "$nodedir")
for _ in $(seq 1 300); do
    s=$("$psql" "$FAILOVER_MONITOR_URL" -X -qAt -c "select string_agg(reportedstate || '/' || goalstate, ',' order by nodename = '$name') from pgautofailover.node" 2>/dev/null || true)
    [[ "$s" == primary/primary,secondary/secondary ]] && { echo "failover-restart-node: $name is secondary again (the other node is primary)" >&2; exit 0; }
    sleep 0.2
done
echo "failover-restart-node: $name did not become secondary (with a primary) within 60 s (state: $s; log: $nodedir/keeper.log)" >&2
exit 1
