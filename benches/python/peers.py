"""Python peer benchmarks: the interaction_store wheel against what a Python user would
pick instead, side by side in one run (issue 8).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python benches/python/peers.py

Runs on the bench databases that the Rust generator builds (`benches/src/data.rs`):
PostgreSQL `interaction_bench_<rows>` on the server of DATABASE_URL and SQLite
`<target>/bench-data/interaction_bench_<rows>.db`. Build them first with
`cargo run --release -p interaction-benches --bin compare` (benches/run.sh does).

Method (see /work/shared/PERFORMANCE.md and benches/README.md):
- every peer sends the library's exact SQL (copied from benches/src/ops.rs) where it sends
  SQL at all, with the same parameter types (int4 site ids and ids, int8 LIMIT);
- before timing, every peer's rows (ids) are checked against the library's;
- warm-up calls, then 3 rounds of N calls; within a round the peers are interleaved call by
  call and the order of the peers rotates between rounds; medians and p99 over all rounds;
- ratios are to the first peer of each group (the baseline), lower is better, except for
  throughput groups (calls per second, higher is better).

Writes a JSON document (default benches/results/python.json) and prints a summary.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import inspect
import json
import os
import platform
import sqlite3
import statistics
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Optional
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import psycopg
import psycopg_pool
import sqlalchemy
from psycopg.rows import dict_row
from psycopg.types.numeric import Int4, Int8
from sqlalchemy import (
    BigInteger,
    Computed,
    DateTime,
    Integer,
    String,
    Text,
    create_engine,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

import interaction_store as ist

HERE = Path(__file__).resolve().parent
BENCHES = HERE.parent
REPO = BENCHES.parent

# --- the generator's constants (benches/src/data.rs) --------------------------------------
SITES = 10
COMMON_TERM = "customer"
FILTER_TYPE = "visit"
USER = "bench"
WRITE_SITE = "bench-writes"
EPOCH = dt.datetime(2023, 1, 1, tzinfo=dt.timezone.utc)
SPAN_FOR_WRITES = 800
PAGE = 50

# --- the library's SQL (benches/src/ops.rs) -------------------------------------------------
COLUMNS = (
    "interactions.interaction_id, interactions.site_id, interactions.title, "
    "interactions.type, interactions.lead, interactions.start_datetime, "
    "interactions.end_datetime, interactions.timezone, interactions.location, "
    "interactions.description, interactions.notes, interactions.created_by, "
    "interactions.created_at, interactions.updated_by, interactions.updated_at, "
    "interactions.deleted_at, interactions.deleted_by, interactions.version"
)
FIND_HEAD = (
    f"SELECT {COLUMNS} FROM interactions WHERE interactions.site_id = $1 "
    "AND interactions.deleted_at IS NULL"
)
RECENCY = " ORDER BY interactions.start_datetime DESC, interactions.interaction_id DESC LIMIT "
# ops.rs numbers the binds the other way round ($1 site, $2 id); the library sends $1 id,
# $2 site (checked against pg_stat_activity below).
GET_SQL = (
    f"SELECT {COLUMNS} FROM interactions WHERE interactions.interaction_id = $1 "
    "AND interactions.site_id + 0 = $2 AND interactions.deleted_at IS NULL"
)
CREATE_SQL = (
    "INSERT INTO interactions (site_id, title, type, lead, start_datetime, end_datetime, "
    "timezone, location, description, notes, created_by, created_at, version) VALUES ($1, $2, "
    f"$3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1) RETURNING {COLUMNS}"
)
AUDIT_PG = (
    "INSERT INTO audit_log (occurred_at, actor_id, site_id, action, entity, "
    "entity_id, changes) VALUES ($1, $2, $3, $4, $5, $6, CAST($7 AS jsonb))"
)
# The library's create on PostgreSQL (interaction-core audit.rs `open_inline`/`close_inline`):
# change and audit row in ONE statement (a data-modifying CTE), one round trip, atomic
# without BEGIN/COMMIT. ops.rs still times BEGIN + two INSERTs + COMMIT on its hand side.
CREATE_CTE = (
    f"WITH w AS ({CREATE_SQL}), a AS (INSERT INTO audit_log (occurred_at, actor_id, site_id, "
    "action, entity, entity_id, changes) SELECT $13, $14, $15, $16, $17, w.interaction_id, "
    "CAST($18 AS jsonb) FROM w) SELECT * FROM w"
)
RECENT = f"{FIND_HEAD}{RECENCY}$2"
KEYSET = (
    f"{FIND_HEAD} AND (interactions.start_datetime, interactions.interaction_id) < ($2, $3)"
    f"{RECENCY}$4"
)
TEXT_PG = (
    f"{FIND_HEAD} AND interactions.search_vector @@ websearch_to_tsquery('english', $2)"
    f"{RECENCY}$3"
)
TEXT_SQLITE = (
    f"{FIND_HEAD} AND interactions.interaction_id IN (SELECT rowid FROM interactions_fts "
    f"WHERE interactions_fts MATCH $2){RECENCY}$3"
)
TYPE_SQL = f"{FIND_HEAD} AND interactions.type IN ($2){RECENCY}$3"

COLUMN_NAMES = [c.split(".")[1] for c in COLUMNS.split(", ")]


def with_database(url: str, db: str) -> str:
    """`url` with its database name replaced by `db` (fixture.rs `with_database`)."""
    p = urlsplit(url)
    return urlunsplit((p.scheme, p.netloc, "/" + db, p.query, p.fragment))


def with_options(url: str, options: str) -> str:
    """`url` with libpq `options` (e.g. `-c synchronous_commit=off`) added."""
    from urllib.parse import quote

    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options={quote(options)}"


# --- SQLAlchemy models mapped onto the library's tables --------------------------------------
class Base(DeclarativeBase):
    pass


class InteractionRow(Base):
    __tablename__ = "interactions"
    interaction_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(50))
    lead: Mapped[str] = mapped_column(String(100))
    start_datetime: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    end_datetime: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    timezone: Mapped[str] = mapped_column(String(50))
    location: Mapped[Optional[str]] = mapped_column(String(255))
    description: Mapped[Optional[str]] = mapped_column(Text)
    notes: Mapped[Optional[str]] = mapped_column(Text)
    created_by: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[Optional[int]] = mapped_column(Integer)
    updated_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime(timezone=True))
    deleted_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime(timezone=True))
    deleted_by: Mapped[Optional[int]] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    # Generated by the database; never loaded with the row.
    search_vector: Mapped[Any] = mapped_column(
        TSVECTOR, Computed("(generated by the migration)", persisted=True), deferred=True
    )


class AuditRow(Base):
    __tablename__ = "audit_log"
    audit_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    actor_id: Mapped[Optional[int]] = mapped_column(Integer)
    site_id: Mapped[Optional[int]] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(50))
    entity: Mapped[str] = mapped_column(String(50))
    entity_id: Mapped[Optional[int]] = mapped_column(BigInteger)
    changes: Mapped[Any] = mapped_column(JSONB)


T = InteractionRow.__table__
CORE_COLUMNS = [T.c[n] for n in COLUMN_NAMES]
I = InteractionRow


def core_recency(stmt: Any, limit: int) -> Any:
    return stmt.order_by(T.c.start_datetime.desc(), T.c.interaction_id.desc()).limit(limit)


def orm_recency(stmt: Any, limit: int) -> Any:
    return stmt.order_by(I.start_datetime.desc(), I.interaction_id.desc()).limit(limit)


def ts_match(col: Any, term: str) -> Any:
    return col.op("@@")(func.websearch_to_tsquery(literal_column("'english'"), term))


def library_sql_is(conn: Any, lib_call: Callable[[], Any], sql: str) -> bool:
    """Runs `lib_call` (a sync library call), then reads the text of the statement the
    library's connection ran last from pg_stat_activity and checks the peer's SQL is the
    same (the view truncates long texts: a prefix match counts), as report.rs does."""
    lib_call()
    r = conn.execute(
        "SELECT query FROM pg_stat_activity WHERE datname = current_database() "
        "AND application_name = 'interaction-store' AND pid <> pg_backend_pid() "
        "AND query_start IS NOT NULL ORDER BY query_start DESC LIMIT 1"
    ).fetchone()
    q = (r[0] if not isinstance(r, dict) else r["query"]) if r else ""
    q = q.rstrip("\x00").strip()
    same = bool(q) and sql.startswith(q)
    if not same:
        print(f"  !! the library sent: {q[:300]!r}", file=sys.stderr)
    return same


# --- the harness ----------------------------------------------------------------------------
def quantile(v: list[float], q: float) -> float:
    s = sorted(v)
    return s[round((len(s) - 1) * q)]


async def call(fn: Callable[[], Any]) -> Any:
    r = fn()
    if inspect.isawaitable(r):
        r = await r
    return r


class Bench:
    def __init__(self, calls: int, rounds: int, warmup: int, only: Optional[set[str]]) -> None:
        self.calls = calls
        self.rounds = rounds
        self.warmup = warmup
        self.only = only
        self.groups: list[dict[str, Any]] = []
        self.failures: list[dict[str, str]] = []

    def wanted(self, gid: str) -> bool:
        return self.only is None or any(gid.startswith(o) for o in self.only)

    def fail(self, group: str, peer: str, err: BaseException) -> None:
        msg = f"{type(err).__name__}: {err}".strip()
        print(f"  !! {group} / {peer}: {msg}", file=sys.stderr)
        traceback.print_exc(limit=3, file=sys.stderr)
        self.failures.append({"group": group, "peer": peer, "error": msg[:500]})

    async def latency(
        self,
        gid: str,
        title: str,
        backend: str,
        peers: list[tuple[str, Callable[[], Any]]],
        check: Optional[Callable[[str, Any, Any], bool]] = None,
        note: str = "",
        calls: Optional[int] = None,
        sql_same: Optional[bool] = None,
    ) -> None:
        """Interleaved latency of `peers`; the first is the baseline, `peers[i][1]()`
        returns the ids it read or wrote (checked against the library's, the first peer
        whose name starts with 'library')."""
        if not self.wanted(gid):
            return
        calls = calls or self.calls
        print(f"== {gid}: {title}", file=sys.stderr)
        # Correctness first: same ids as the library.
        got_by: dict[str, Any] = {}
        slowest = 0.0
        for name, fn in peers:
            try:
                t0 = time.perf_counter()
                got_by[name] = await call(fn)
                slowest = max(slowest, time.perf_counter() - t0)
            except BaseException as e:  # noqa: BLE001 - reported, the run goes on
                self.fail(gid, name, e)
        ref_name = next((n for n, _ in peers if n.startswith("library")), peers[0][0])
        if ref_name not in got_by:
            print(f"  {ref_name} failed: group skipped", file=sys.stderr)
            return
        ref = got_by[ref_name]
        live: list[tuple[str, Callable[[], Any]]] = []
        checks: dict[str, str] = {}
        for name, fn in peers:
            if name not in got_by:
                continue
            got = got_by[name]
            try:
                ok = check(name, ref, got) if check else (got == ref and len(got) > 0)
                if not ok:
                    raise AssertionError(f"returned ids {str(got)[:200]} != library {str(ref)[:200]}")
                checks[name] = f"same ids as the library ({len(got)})" if check is None else "row and audit row written"
                live.append((name, fn))
            except BaseException as e:  # noqa: BLE001
                self.fail(gid, name, e)
        if not live or live[0][0] != peers[0][0]:
            print(f"  baseline {peers[0][0]} failed: group skipped", file=sys.stderr)
            return
        # Slow operations (a call over 5 ms) get fewer calls: about 2 s per peer and round.
        if slowest > 0.005:
            calls = max(10, min(calls, int(2.0 / slowest)))
        for _ in range(self.warmup):
            for _, fn in live:
                await call(fn)
        samples: dict[str, list[float]] = {n: [] for n, _ in live}
        round_medians: dict[str, list[float]] = {n: [] for n, _ in live}
        for r in range(self.rounds):
            k = r % len(live)
            order = live[k:] + live[:k]
            this_round: dict[str, list[float]] = {n: [] for n, _ in live}
            for _ in range(calls):
                for name, fn in order:
                    t0 = time.perf_counter_ns()
                    r_ = fn()
                    if inspect.isawaitable(r_):
                        await r_
                    this_round[name].append((time.perf_counter_ns() - t0) / 1e3)
            for n, v in this_round.items():
                samples[n].extend(v)
                round_medians[n].append(statistics.median(v))
        base = statistics.median(samples[live[0][0]])
        results = []
        for name, _ in live:
            v = samples[name]
            med = statistics.median(v)
            results.append(
                {
                    "peer": name,
                    "median_us": round(med, 1),
                    "p99_us": round(quantile(v, 0.99), 1),
                    "ratio": round(med / base, 3),
                    "round_medians_us": [round(x, 1) for x in round_medians[name]],
                    "calls": len(v),
                    "check": checks[name],
                }
            )
            print(
                f"  {name:<34} median {med:9.1f} µs  p99 {quantile(v, 0.99):9.1f} µs  "
                f"{med / base:6.2f}x",
                file=sys.stderr,
            )
        self.groups.append(
            {
                "id": gid,
                "title": title,
                "backend": backend,
                "kind": "latency",
                "baseline": live[0][0],
                "note": note,
                "sql_text_same_as_library": sql_same,
                "results": results,
            }
        )

    def throughput(
        self,
        gid: str,
        title: str,
        threads: int,
        peers: list[tuple[str, Callable[[], Any]]],
        calls_per_thread: int,
        note: str = "",
    ) -> None:
        """`threads` threads each make `calls_per_thread` calls of each peer; 3 rounds,
        peer order rotated; median calls/s over the rounds."""
        if not self.wanted(gid):
            return
        print(f"== {gid}: {title}", file=sys.stderr)

        def run(fn: Callable[[], Any], lat: list[float]) -> float:
            barrier = threading.Barrier(threads + 1)
            per: list[list[float]] = [[] for _ in range(threads)]

            def worker(i: int) -> None:
                barrier.wait()
                mine = per[i]
                for _ in range(calls_per_thread):
                    t0 = time.perf_counter_ns()
                    fn()
                    mine.append((time.perf_counter_ns() - t0) / 1e3)
                barrier.wait()

            ts = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
            for t in ts:
                t.start()
            barrier.wait()
            t0 = time.perf_counter()
            barrier.wait()
            wall = time.perf_counter() - t0
            for t in ts:
                t.join()
            for p in per:
                lat.extend(p)
            return threads * calls_per_thread / wall

        for name, fn in peers:  # warm-up (and every thread's connection)
            run(fn, [])
        rates: dict[str, list[float]] = {n: [] for n, _ in peers}
        lats: dict[str, list[float]] = {n: [] for n, _ in peers}
        for r in range(self.rounds):
            k = r % len(peers)
            for name, fn in peers[k:] + peers[:k]:
                rates[name].append(run(fn, lats[name]))
        base = statistics.median(rates[peers[0][0]])
        results = []
        for name, _ in peers:
            med = statistics.median(rates[name])
            results.append(
                {
                    "peer": name,
                    "calls_per_s": round(med, 1),
                    "round_calls_per_s": [round(x, 1) for x in rates[name]],
                    "median_us": round(statistics.median(lats[name]), 1),
                    "p99_us": round(quantile(lats[name], 0.99), 1),
                    "ratio": round(med / base, 3),
                    "calls": len(lats[name]),
                }
            )
            print(
                f"  {name:<34} {med:9.0f} calls/s  p99 {quantile(lats[name], 0.99):9.1f} µs  "
                f"{med / base:6.2f}x",
                file=sys.stderr,
            )
        self.groups.append(
            {
                "id": gid,
                "title": title,
                "backend": "postgres",
                "kind": "throughput",
                "threads": threads,
                "baseline": peers[0][0],
                "note": note,
                "results": results,
            }
        )


# --- PostgreSQL ---------------------------------------------------------------------------
def ids_of_rows(rows: list[Any], key: str = "interaction_id") -> list[int]:
    out = []
    for r in rows[:PAGE]:
        if isinstance(r, dict):
            out.append(r[key])
        elif hasattr(r, "interaction_id"):
            out.append(r.interaction_id)
        else:
            out.append(r[0])
    return out


def new_fields(n: int) -> dict[str, Any]:
    """The interaction the Rust benches create (ops.rs `new_interaction`)."""
    start = EPOCH + dt.timedelta(days=SPAN_FOR_WRITES, minutes=n)
    return {
        "title": f"Weekly pricing sync {n}",
        "interaction_type": "meeting",
        "lead": "Alice Martin",
        "start": start,
        "end": start + dt.timedelta(hours=1),
        "timezone": "Europe/Berlin",
        "location": "Room 101",
        "description": "Customer asked about the renewal timeline; the team agreed next steps, the "
        "discount options and a follow-up with the vendor before the quarter closes.",
        "notes": "Send the revised quote and schedule the pilot review.",
    }


def ts_json(t: dt.datetime) -> str:
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def audit_changes(f: dict[str, Any]) -> str:
    """The audit `changes` of a create, as the library writes it (sorted keys)."""
    return json.dumps(
        {
            "title": f["title"],
            "type": f["interaction_type"],
            "lead": f["lead"],
            "start_datetime": ts_json(f["start"]),
            "end_datetime": ts_json(f["end"]),
            "timezone": f["timezone"],
            "location": f["location"],
            "description": f["description"],
            "notes": f["notes"],
        },
        sort_keys=True,
        separators=(",", ":"),
    )


def now_us() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


async def postgres(b: Bench, server_url: str, rows: int) -> dict[str, Any]:
    url = with_database(server_url, f"interaction_bench_{rows}")
    meta: dict[str, Any] = {"url": url}
    admin = psycopg.connect(url, autocommit=True)
    fp = admin.execute("SELECT value FROM bench_meta WHERE key = 'fingerprint'").fetchone()
    meta["fingerprint"] = fp[0] if fp else None
    meta["server_version"] = admin.execute("SHOW server_version").fetchone()[0]
    user_id = admin.execute("SELECT user_id FROM users WHERE username = %s", (USER,)).fetchone()[0]
    site_of = dict(admin.execute("SELECT name, site_id FROM sites").fetchall())
    site = site_of["bench-site-01"]
    wsite = site_of[WRITE_SITE]
    read_ids = [
        r[0]
        for r in admin.execute(
            "SELECT interaction_id FROM interactions WHERE site_id = %s "
            "ORDER BY interaction_id LIMIT 1000",
            (Int4(site),),
        )
    ]
    # The write site grows with every run: refresh its statistics (benches/README.md).
    admin.execute("ANALYZE interactions")

    # The library, sync and asyncio, opened as the Rust benches open it
    # (default options; a session for the bench user on the first data site).
    store = ist.InteractionStore.connect(url, finder_cache_ttl=0)
    session = store.session_for_user(user_id, site)
    wsession = store.session_for_user(user_id, wsite)
    astore = await ist.AsyncInteractionStore.connect(url, finder_cache_ttl=0)
    asession = await astore.session_for_user(user_id, site)

    # The deep keyset position: walk the listing in pages of 500 as ops.rs does.
    depth = max(500, min(5000, rows // SITES // 2)) // 500 * 500
    cursor = None
    seen = 0
    last = None
    while seen < depth:
        f = session.finder().limit(500)
        if cursor:
            f = f.after(cursor)
        page = f.fetch()
        seen += len(page.items)
        last = (page.items[-1].start_datetime, page.items[-1].id)
        cursor = page.next_cursor
        if not cursor:
            break
    assert cursor and last
    meta["deep_depth"] = seen

    # psycopg 3: dedicated connections, the library's SQL verbatim ($n placeholders through
    # RawCursor), int4 ids and sites, int8 LIMIT.
    def pg_conn(**kw: Any) -> psycopg.Connection[Any]:
        c = psycopg.connect(url, autocommit=True, row_factory=dict_row, **kw)
        c.cursor_factory = psycopg.RawCursor
        return c

    pc = pg_conn()
    apc = await asyncpg.connect(url)
    # asyncpg always prepares: the Finder peer gets custom plans the way the library's own
    # connections do (plan_cache_mode = force_custom_plan).
    apc_custom = await asyncpg.connect(url, server_settings={"plan_cache_mode": "force_custom_plan"})
    engine = create_engine(
        "postgresql+psycopg://" + url.split("://", 1)[1], pool_size=5, max_overflow=0
    )

    n_lib = [0]
    n_alib = [0]
    n_pc = [0]
    n_apc = [0]
    n_core = [0]
    n_orm = [0]

    def next_id(c: list[int]) -> int:
        c[0] += 1
        return read_ids[c[0] % len(read_ids)]

    # Correctness check of a get: everyone reads the same id on the check call.
    def get_lib() -> list[int]:
        return [session.get_interaction(next_id(n_lib)).id]

    async def get_alib() -> list[int]:
        return [(await asession.get_interaction(next_id(n_alib))).id]

    def get_pc() -> list[int]:
        r = pc.execute(GET_SQL, (Int4(next_id(n_pc)), Int4(site)), prepare=True).fetchone()
        return [r["interaction_id"]]

    async def get_apc() -> list[int]:
        r = await apc.fetchrow(GET_SQL, next_id(n_apc), site)
        return [r["interaction_id"]]

    get_core_stmt = select(*CORE_COLUMNS).where(
        T.c.interaction_id == sqlalchemy.bindparam("id", type_=Integer),
        (T.c.site_id + 0) == sqlalchemy.bindparam("site", type_=Integer),
        T.c.deleted_at.is_(None),
    )

    def get_core() -> list[int]:
        with engine.connect() as c:
            r = c.execute(get_core_stmt, {"id": next_id(n_core), "site": site}).mappings().one()
        return [r["interaction_id"]]

    def get_orm() -> list[int]:
        with Session(engine) as s:
            r = s.scalars(
                select(I).where(
                    I.interaction_id == next_id(n_orm), (I.site_id + 0) == site, I.deleted_at.is_(None)
                )
            ).one()
            return [r.interaction_id]

    # All counters start equal so the check calls read the same id.
    await b.latency(
        "pg_get",
        "get by id (PostgreSQL)",
        "postgres",
        [
            ("psycopg prepared", get_pc),
            ("library sync", get_lib),
            ("library asyncio", get_alib),
            ("asyncpg", get_apc),
            ("SQLAlchemy Core", get_core),
            ("SQLAlchemy ORM", get_orm),
        ],
        sql_same=library_sql_is(admin, lambda: session.get_interaction(read_ids[0]), GET_SQL),
        note="psycopg: one dedicated connection, prepare=True, dict rows; asyncpg: one "
        "connection, statement cache (prepared); SQLAlchemy on psycopg with its pool, one "
        "connection checkout (Core) or Session (ORM) per call.",
    )

    # Finder pages.
    shapes: list[tuple[str, str, Callable[[Any], Any], str, tuple[Any, ...], Any, Any]] = []
    lim = PAGE + 1
    shapes.append(
        (
            "pg_find_text",
            "Finder: free text (common term) by recency, page of 50 (PostgreSQL)",
            lambda s: s.finder().text(COMMON_TERM),
            TEXT_PG,
            (Int4(site), COMMON_TERM, Int8(lim)),
            lambda st: st.where(ts_match(T.c.search_vector, COMMON_TERM)),
            lambda st: st.where(ts_match(I.search_vector, COMMON_TERM)),
        )
    )
    shapes.append(
        (
            "pg_find_type",
            f"Finder: filter type = {FILTER_TYPE}, page of 50 (PostgreSQL)",
            lambda s: s.finder().types([FILTER_TYPE]),
            TYPE_SQL,
            (Int4(site), FILTER_TYPE, Int8(lim)),
            lambda st: st.where(T.c.type.in_([FILTER_TYPE])),
            lambda st: st.where(I.type.in_([FILTER_TYPE])),
        )
    )
    shapes.append(
        (
            "pg_find_keyset",
            f"Finder: keyset page after {seen} rows (PostgreSQL)",
            lambda s: s.finder().after(cursor),
            KEYSET,
            (Int4(site), last[0], Int4(last[1]), Int8(lim)),
            lambda st: st.where(sqlalchemy.tuple_(T.c.start_datetime, T.c.interaction_id) < (last[0], last[1])),
            lambda st: st.where(sqlalchemy.tuple_(I.start_datetime, I.interaction_id) < (last[0], last[1])),
        )
    )
    for gid, title, lib_finder, sql, params, core_where, orm_where in shapes:
        raw_params = tuple(int(p) if isinstance(p, (Int4, Int8)) else p for p in params)

        def f_lib(lf=lib_finder) -> list[int]:
            return [i.id for i in lf(session).fetch().items]

        async def f_alib(lf=lib_finder) -> list[int]:
            return [i.id for i in (await lf(asession).fetch()).items]

        def f_pc(sql=sql, params=params) -> list[int]:
            return ids_of_rows(pc.execute(sql, params, prepare=False).fetchall())

        def f_pc_prep(sql=sql, params=params) -> list[int]:
            return ids_of_rows(pc.execute(sql, params, prepare=True).fetchall())

        async def f_apc(sql=sql, rp=raw_params) -> list[int]:
            return ids_of_rows([dict(r) for r in await apc_custom.fetch(sql, *rp)])

        core_stmt = core_recency(
            core_where(select(*CORE_COLUMNS).where(T.c.site_id == site, T.c.deleted_at.is_(None))), lim
        )

        def f_core(st=core_stmt) -> list[int]:
            with engine.connect() as c:
                return ids_of_rows(list(c.execute(st).mappings()))

        orm_stmt = orm_recency(orm_where(select(I).where(I.site_id == site, I.deleted_at.is_(None))), lim)

        def f_orm(st=orm_stmt) -> list[int]:
            with Session(engine) as s:
                return ids_of_rows(list(s.scalars(st)))

        peers = [
            ("psycopg unprepared", f_pc),
            ("library sync", f_lib),
            ("library asyncio", f_alib),
            ("asyncpg (custom plans)", f_apc),
            ("SQLAlchemy Core", f_core),
            ("SQLAlchemy ORM", f_orm),
        ]
        if gid == "pg_find_text":
            peers.append(("psycopg prepared (generic-plan trap)", f_pc_prep))
        await b.latency(
            gid,
            title,
            "postgres",
            peers,
            sql_same=library_sql_is(admin, f_lib, sql),
            note="psycopg: prepare=False (unnamed statement: a custom plan each call); "
            "asyncpg prepares everything, so its connection sets plan_cache_mode = "
            "force_custom_plan as the library's pool does; SQLAlchemy builds the same "
            "predicates with its expression language.",
        )

    # Creates, with the audit row, in one transaction, as the library writes them.
    await writes(b, url, user_id, wsite, "pg_create", "")
    await writes(b, url, user_id, wsite, "pg_create_nosync", "-c synchronous_commit=off")

    # Throughput: 1, 2, 4 threads sharing one library store vs psycopg_pool.
    if b.wanted("pg_threads"):
        pool = psycopg_pool.ConnectionPool(
            url,
            min_size=4,
            max_size=4,
            open=True,
            kwargs={"autocommit": True, "cursor_factory": psycopg.RawCursor, "row_factory": dict_row},
        )
        pool.wait()
        tl_counter = threading.local()

        def tid() -> int:
            n = getattr(tl_counter, "n", None)
            if n is None:
                n = tl_counter.n = [threading.get_ident() % 1000]
            n[0] += 1
            return read_ids[n[0] % len(read_ids)]

        def t_lib() -> None:
            session.get_interaction(tid())

        def t_pool() -> None:
            with pool.connection() as c:
                c.execute(GET_SQL, (Int4(tid()), Int4(site)), prepare=True).fetchone()

        for threads in (1, 2, 4):
            b.throughput(
                f"pg_threads_{threads}",
                f"get by id, {threads} thread(s), throughput (PostgreSQL)",
                threads,
                [("psycopg_pool", t_pool), ("library sync (one store)", t_lib)],
                calls_per_thread=max(50, b.calls // threads * 2),
                note="psycopg_pool of 4 connections, prepare=True; the library's default pool.",
            )
        pool.close()

    pc.close()
    await apc.close()
    await apc_custom.close()
    engine.dispose()
    store.close()
    await astore.close()
    admin.close()
    return meta


async def writes(b: Bench, url: str, user_id: int, wsite: int, gid: str, options: str) -> None:
    if not b.wanted(gid):
        return
    curl = with_options(url, options) if options else url
    store = ist.InteractionStore.connect(curl, finder_cache_ttl=0)
    wsession = store.session_for_user(user_id, wsite)
    pc = psycopg.connect(curl, autocommit=True, row_factory=dict_row)
    pc.cursor_factory = psycopg.RawCursor
    engine = create_engine(
        "postgresql+psycopg://" + url.split("://", 1)[1],
        pool_size=2,
        max_overflow=0,
        connect_args={"options": options} if options else {},
    )
    setting = pc.execute("SHOW synchronous_commit").fetchone()["synchronous_commit"]
    n = [int(time.time() * 1000) % 1_000_000]

    def c_lib() -> list[int]:
        n[0] += 1
        f = new_fields(n[0])
        return [wsession.create_interaction(**f).id]

    def c_pc() -> list[int]:
        n[0] += 1
        f = new_fields(n[0])
        with pc.transaction():
            r = pc.execute(
                CREATE_SQL,
                (
                    Int4(wsite), f["title"], f["interaction_type"], f["lead"], f["start"], f["end"],
                    f["timezone"], f["location"], f["description"], f["notes"], Int4(user_id),
                    now_us(),
                ),
            ).fetchone()
            pc.execute(
                AUDIT_PG,
                (now_us(), Int4(user_id), Int4(wsite), "create", "interaction",
                 Int8(r["interaction_id"]), audit_changes(f)),
            )
        return [r["interaction_id"]]

    def c_cte() -> list[int]:
        n[0] += 1
        f = new_fields(n[0])
        r = pc.execute(
            CREATE_CTE,
            (
                Int4(wsite), f["title"], f["interaction_type"], f["lead"], f["start"], f["end"],
                f["timezone"], f["location"], f["description"], f["notes"], Int4(user_id),
                now_us(), now_us(), Int4(user_id), Int4(wsite), "create", "interaction",
                audit_changes(f),
            ),
        ).fetchone()
        return [r["interaction_id"]]

    def c_orm() -> list[int]:
        n[0] += 1
        f = new_fields(n[0])
        with Session(engine, expire_on_commit=False) as s, s.begin():
            row = InteractionRow(
                site_id=wsite, title=f["title"], type=f["interaction_type"], lead=f["lead"],
                start_datetime=f["start"], end_datetime=f["end"], timezone=f["timezone"],
                location=f["location"], description=f["description"], notes=f["notes"],
                created_by=user_id, created_at=now_us(), version=1,
            )
            s.add(row)
            s.flush()
            s.add(
                AuditRow(
                    occurred_at=now_us(), actor_id=user_id, site_id=wsite, action="create",
                    entity="interaction", entity_id=row.interaction_id,
                    changes=json.loads(audit_changes(f)),
                )
            )
        return [row.interaction_id]

    def check(name: str, ref: Any, got: Any) -> bool:
        # Each peer wrote its own row: check it and its audit row exist.
        (iid,) = got
        r = pc.execute(
            "SELECT (SELECT count(*) FROM interactions WHERE interaction_id = $1 AND site_id = $2) "
            "AS i, (SELECT count(*) FROM audit_log WHERE entity = 'interaction' AND "
            "action = 'create' AND entity_id = $3) AS a",
            (Int4(iid), Int4(wsite), Int8(iid)),
        ).fetchone()
        return r["i"] == 1 and r["a"] == 1

    await b.latency(
        gid,
        f"create + audit row, one transaction (PostgreSQL, synchronous_commit={setting})",
        "postgres",
        [
            ("psycopg, the library's statement", c_cte),
            ("library sync", c_lib),
            ("psycopg BEGIN + 2 INSERTs + COMMIT", c_pc),
            ("SQLAlchemy ORM", c_orm),
        ],
        check=check,
        sql_same=library_sql_is(pc, c_lib, CREATE_CTE),
        note="The library writes the interaction and its audit row in one statement (a "
        "data-modifying CTE: one round trip, atomic without BEGIN/COMMIT); the baseline sends "
        "that statement through psycopg on one dedicated connection (auto-prepared after 5 runs). "
        "'BEGIN + 2 INSERTs + COMMIT' is the shape most users write (and what benches/src/ops.rs "
        "times): 4 round trips. SQLAlchemy ORM: a Session per call, expire_on_commit=False, "
        "flush for the id, add the audit row, commit."
        + (f" Connections opened with options '{options}'." if options else ""),
        calls=max(30, b.calls // 3),
    )
    pc.close()
    engine.dispose()
    store.close()


# --- SQLite ---------------------------------------------------------------------------------
async def sqlite(b: Bench, path: Path) -> dict[str, Any]:
    if not path.exists():
        raise FileNotFoundError(f"{path}: build it with the Rust generator first")
    meta: dict[str, Any] = {"path": str(path)}
    store = ist.InteractionStore.connect(f"sqlite://{path}", finder_cache_ttl=0)
    raw = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    raw.execute("PRAGMA foreign_keys = ON")
    raw.execute("PRAGMA synchronous = NORMAL")
    raw.execute("PRAGMA busy_timeout = 30000")
    raw.row_factory = sqlite3.Row
    meta["sqlite_version"] = sqlite3.sqlite_version
    user_id = raw.execute("SELECT user_id FROM users WHERE username = ?", (USER,)).fetchone()[0]
    site = raw.execute("SELECT site_id FROM sites WHERE name = 'bench-site-01'").fetchone()[0]
    session = store.session_for_user(user_id, site)
    read_ids = [
        r[0]
        for r in raw.execute(
            "SELECT interaction_id FROM interactions WHERE site_id = ? ORDER BY interaction_id LIMIT 1000",
            (site,),
        )
    ]
    n_lib = [0]
    n_raw = [0]

    def nid(c: list[int]) -> int:
        c[0] += 1
        return read_ids[c[0] % len(read_ids)]

    def g_lib() -> list[int]:
        return [session.get_interaction(nid(n_lib)).id]

    def g_raw() -> list[int]:
        r = raw.execute(GET_SQL, {"1": nid(n_raw), "2": site}).fetchone()
        return [r["interaction_id"]]

    await b.latency(
        "sqlite_get",
        "get by id (SQLite)",
        "sqlite",
        [("sqlite3", g_raw), ("library sync", g_lib)],
        note="Python's sqlite3 on its own connection to the same file (WAL, synchronous=NORMAL), "
        "the library's SQL, sqlite3.Row rows (its statement cache keeps it prepared).",
    )
    lim = PAGE + 1
    fts = f'(("{COMMON_TERM}"))'
    for gid, title, lf, sql, params in [
        ("sqlite_find_text", "Finder: free text (common term) by recency (SQLite)",
         lambda s: s.finder().text(COMMON_TERM), TEXT_SQLITE, {"1": site, "2": fts, "3": lim}),
        ("sqlite_find_type", f"Finder: filter type = {FILTER_TYPE} (SQLite)",
         lambda s: s.finder().types([FILTER_TYPE]), TYPE_SQL, {"1": site, "2": FILTER_TYPE, "3": lim}),
    ]:
        def f_lib(lf=lf) -> list[int]:
            return [i.id for i in lf(session).fetch().items]

        def f_raw(sql=sql, params=params) -> list[int]:
            return [r["interaction_id"] for r in raw.execute(sql, params).fetchall()[:PAGE]]

        await b.latency(gid, title, "sqlite", [("sqlite3", f_raw), ("library sync", f_lib)],
                        note="Python's sqlite3, the library's SQL and binds.")
    raw.close()
    store.close()
    return meta


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=int(os.environ.get("BENCH_ROWS", "100000")))
    ap.add_argument("--calls", type=int, default=int(os.environ.get("BENCH_PEER_CALLS", "300")),
                    help="calls per peer per round (default 300)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=20, help="warm-up calls per peer (default 20)")
    ap.add_argument("--only", default=None, help="comma-separated group id prefixes (pg_get,sqlite,...)")
    ap.add_argument("--sqlite-path", default=None)
    ap.add_argument("--out", default=str(BENCHES / "results" / "python.json"))
    a = ap.parse_args()
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        print(
            "DATABASE_URL is required: the admin URL of the PostgreSQL server holding the bench "
            "database, e.g.\n  DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres "
            "python benches/python/peers.py",
            file=sys.stderr,
        )
        return 2
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    sqlite_path = Path(a.sqlite_path) if a.sqlite_path else target / "bench-data" / f"interaction_bench_{a.rows}.db"
    b = Bench(a.calls, a.rounds, a.warmup, set(a.only.split(",")) if a.only else None)
    started = dt.datetime.now(dt.timezone.utc)
    load0 = os.getloadavg()
    meta: dict[str, Any] = {}
    try:
        meta["postgres"] = await postgres(b, url, a.rows)
    except Exception as e:  # noqa: BLE001
        b.fail("postgres", "setup", e)
    try:
        meta["sqlite"] = await sqlite(b, sqlite_path)
    except Exception as e:  # noqa: BLE001
        b.fail("sqlite", "setup", e)
    from importlib.metadata import version

    doc = {
        "language": "python",
        "started": started.isoformat(timespec="seconds"),
        "finished": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "rows": a.rows,
        "config": {"calls": a.calls, "rounds": a.rounds, "warmup": a.warmup},
        "runtime": f"Python {platform.python_version()}",
        "loadavg_start_end": [[round(x, 2) for x in load0], [round(x, 2) for x in os.getloadavg()]],
        "versions": {
            p: version(p)
            for p in ["interaction-store", "psycopg", "psycopg-binary", "psycopg-pool", "asyncpg", "SQLAlchemy"]
        },
        "meta": meta,
        "groups": b.groups,
        "failures": b.failures,
    }
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=1, default=str) + "\n")
    print(f"wrote {out}", file=sys.stderr)
    return 1 if not b.groups else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
