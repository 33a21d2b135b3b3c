#!/usr/bin/env bash
# Kill the current primary node of the pg_auto_failover formation that
# scripts/test.sh started (FAILOVER_URL), the way a crashed machine dies: its
# pg_autoctl keeper (whole process group: supervisor, node-active service,
# postgres controller) and its postmaster get SIGKILL, so nothing restarts it.
# The monitor then promotes the other node (about 3 s until it accepts writes;
# connect with FAILOVER_URL + target_session_attrs=read-write).
#
#   "$FAILOVER_KILL_PRIMARY"      (= scripts/lib/failover-kill-primary.sh)
#
# Needs FAILOVER_URL (postgres://postgres@127.0.0.1:P1,127.0.0.1:P2/postgres) and
# FAILOVER_NODE_DIRS (the nodes' PGDATA, same order), as exported by
# scripts/test.sh; run it as root or as the user owning the formation (PG_OS_USER).
# The primary is the one node where pg_is_in_recovery() is false; exits 1 unless
# exactly one node is. Prints the killed node's PGDATA on stdout (bring it back as
# a secondary with "$FAILOVER_RESTART_NODE" PGDATA). Uses $PG_BINDIR/psql if set.
set -euo pipefail
: "${FAILOVER_URL:?FAILOVER_URL is not set (start the services with scripts/test.sh)}"
: "${FAILOVER_NODE_DIRS:?FAILOVER_NODE_DIRS is not set (start the services with scripts/test.sh)}"
psql=psql
[[ -n "${PG_BINDIR:-}" && -x "$PG_BINDIR/psql" ]] && psql="$PG_BINDIR/psql"

IFS=, read -r -a dirs <<<"$FAILOVER_NODE_DIRS"
userinfo=$(sed -nE 's#^[a-z]+://([^@/]*@).*#\1#p' <<<"$FAILOVER_URL")
IFS=, read -r -a hosts <<<"$(sed -E 's#^[a-z]+://([^@/]*@)?([^/?]+).*#\2#' <<<"$FAILOVER_URL")"
[[ ${#hosts[@]} -eq ${#dirs[@]} ]] || { echo "failover-kill-primary: FAILOVER_URL has ${#hosts[@]} hosts but FAILOVER_NODE_DIRS ${#dirs[@]} dirs" >&2; exit 1; }

primary=() i=0
for i in "${!hosts[@]}"; do
    r=$("$psql" "postgres://${userinfo}${hosts[$i]}/postgres?connect_timeout=3" -X -qAt -c 'select pg_is_in_recovery()' 2>/dev/null || true)
    [[ "$r" == f ]] && primary+=("$i")
done
[[ ${#primary[@]} -eq 1 ]] || { echo "failover-kill-primary: expected exactly one writable node, found ${#primary[@]} (${hosts[*]})" >&2; exit 1; }
i=${primary[0]}
pgdata=${dirs[$i]}

pids=()
pgid=$(cat "$(dirname "$pgdata")/keeper.pid" 2>/dev/null || true)
if [[ "$pgid" =~ ^[0-9]+$ ]]; then
    kill -9 -- "-$pgid" 2>/dev/null || true
    pids+=("$pgid")
fi
pm=$(head -n1 "$pgdata/postmaster.pid" 2>/dev/null || true)
if [[ "$pm" =~ ^[0-9]+$ ]]; then
    kill -9 "$pm" 2>/dev/null || true
    pids+=("$pm")
fi
[[ ${#pids[@]} -gt 0 ]] || { echo "failover-kill-primary: no keeper.pid / postmaster.pid for $pgdata" >&2; exit 1; }
for _ in $(seq 1 50); do
    alive=0
    for p in "${pids[@]}"; do   # alive and not a zombie waiting for init to reap it
        if kill -0 "$p" 2>/dev/null && [[ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" != Z ]]; then alive=1; fi
    done
    [[ $alive == 0 ]] && break
    sleep 0.1
done
echo "failover-kill-primary: killed node $((i + 1)) (${hosts[$i]}, keeper pgid ${pgid:-?}, postmaster ${pm:-?})" >&2
echo "$pgdata"
