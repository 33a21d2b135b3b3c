"""The execution options and their failures, seen from Python: timeouts and their
validation, lock waits (TimeoutError), refused connections (UnavailableError), unknown
databases (ConfigurationError), idempotent creates, migrate_to, logging on the stdlib
logger ``interaction_store``, and Ctrl-C of a blocked call."""

from __future__ import annotations

import asyncio
import builtins
import logging
import os
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Tuple
from urllib.parse import urlsplit, urlunsplit

import pytest

import interaction_store as ist
from conftest import World, admin_url, create, db_url, psql

TIMEOUTS = ["connect_timeout", "statement_timeout", "lock_timeout", "call_timeout"]


# SQLite behind the library's back runs in another process: the wheel links its own copy
# of SQLite, and POSIX file locks are per process, so a lock taken (or a file closed) by
# Python's `sqlite3` in this process would be invisible to (or drop the locks of) the
# library's copy.
SQLITE_HELPER = textwrap.dedent(
    """
    import sqlite3, sys
    path, mode, sql = sys.argv[1], sys.argv[2], sys.argv[3]
    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    if mode == "lock":
        conn.execute("BEGIN IMMEDIATE")
        print("locked", flush=True)
        sys.stdin.readline()
        conn.execute("ROLLBACK")
    else:
        print("|".join(str(v) for v in conn.execute(sql).fetchone()))
    """
)


def sqlite_query(path: str, sql: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", SQLITE_HELPER, path, "query", sql],
        check=True, capture_output=True, text=True, timeout=60,
    )
    return out.stdout.strip()


def sqlite_lock(path: str) -> "subprocess.Popen[str]":
    """Another process holding the database's write lock until a line on its stdin."""
    p = subprocess.Popen(
        [sys.executable, "-c", SQLITE_HELPER, path, "lock", ""],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert p.stdout is not None and p.stdout.readline().strip() == "locked"
    return p


def audit_and_versions(url: str) -> Tuple[int, int]:
    """(interaction audit rows, sum of interaction versions), read behind the library."""
    sql = (
        "SELECT (SELECT count(*) FROM audit_log WHERE entity = 'interaction'), "
        "(SELECT coalesce(sum(version), 0) FROM interactions)"
    )
    if url.startswith("sqlite://"):
        a, v = sqlite_query(url[len("sqlite://") :], sql).split("|")
    else:
        a, v = psql(sql, url).strip().split("|")
    return int(a), int(v)


def session_on(store: ist.InteractionStore, world: World) -> ist.SiteSession:
    return store.session_for_user(world.editor.id, world.site.id)


# --------------------------------------------------------------------- options


def test_new_options_are_accepted(url: str) -> None:
    with ist.InteractionStore.connect(
        url,
        min_connections=0,
        connect_timeout=5,
        statement_timeout=timedelta(seconds=20),
        lock_timeout=2.5,
        call_timeout=timedelta(minutes=1),
        slow_statement_threshold=None,
        check_schema=True,
    ) as store:
        assert store.schema_version() == ist.SCHEMA_VERSION
    with ist.InteractionStore.connect(url, slow_statement_threshold=0.5) as store:
        store.check_schema()


def test_bad_option_values_raise_validation_error_with_field(url: str) -> None:
    connect: Callable[..., ist.InteractionStore] = ist.InteractionStore.connect
    for name in TIMEOUTS:
        for bad in (0, timedelta(0), 25 * 3600, timedelta(days=2), -1, float("nan")):
            with pytest.raises(ist.ValidationError) as exc:
                connect(url, **{name: bad})
            assert exc.value.field == name, (name, bad, exc.value)
    with pytest.raises(ist.ValidationError) as exc:
        ist.InteractionStore.connect(url, slow_statement_threshold=-0.5)
    assert exc.value.field == "slow_statement_threshold"
    for name in TIMEOUTS + ["slow_statement_threshold"]:
        with pytest.raises(TypeError):
            connect(url, **{name: "10s"})
    with pytest.raises(TypeError):
        connect(url, check_schema=1)
    with pytest.raises(TypeError):
        connect(url, lock_timeout_ms=10)


def test_async_connect_takes_the_same_options(url: str) -> None:
    async def main() -> None:
        store = await ist.AsyncInteractionStore.connect(
            url, lock_timeout=1, call_timeout=30, check_schema=False
        )
        try:
            assert await store.schema_version() == ist.SCHEMA_VERSION
        finally:
            await store.close()
        with pytest.raises(ist.ValidationError) as exc:
            await ist.AsyncInteractionStore.connect(url, call_timeout=0)
        assert exc.value.field == "call_timeout"

    asyncio.run(main())


# ---------------------------------------------------------------- error kinds


def test_lock_wait_raises_timeout_error(world: World, url: str, backend: str) -> None:
    """Another connection holds the lock (the SQLite write lock, or the row FOR UPDATE on
    PostgreSQL, through psql); with lock_timeout=0.5 the write fails with TimeoutError in
    well under the default, writes nothing, and the store works once the lock is gone."""
    i = create(world.editor_s)
    store = ist.InteractionStore.connect(url, min_connections=0, lock_timeout=0.5)
    s = session_on(store, world)
    holder: "Optional[subprocess.Popen[str]]" = None
    try:
        if backend == "sqlite":
            holder = sqlite_lock(url[len("sqlite://") :])
            write: Callable[[], Any] = lambda: create(s, title="blocked")
        else:
            app = f"ispy_locker_{uuid.uuid4().hex[:8]}"
            holder = subprocess.Popen(
                [
                    "psql", url, "-v", "ON_ERROR_STOP=1", "-qAt",
                    "-c", "BEGIN",
                    "-c", f"SELECT 1 FROM interactions WHERE interaction_id = {i.id} FOR UPDATE",
                    "-c", "SELECT pg_sleep(4)",
                    "-c", "COMMIT",
                ],
                env={**os.environ, "PGAPPNAME": app},
                stdout=subprocess.DEVNULL,
                text=True,
            )
            waited = time.monotonic()
            while psql(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                f"'{app}' AND query LIKE '%pg_sleep%'"
            ).strip() != "1":
                assert time.monotonic() - waited < 30, "psql never took the row lock"
                time.sleep(0.05)
            write = lambda: s.update_interaction(i.id, title="blocked")
        t0 = time.monotonic()
        with pytest.raises(ist.TimeoutError) as exc:
            write()
        elapsed = time.monotonic() - t0
        assert elapsed < 5, elapsed
        e = exc.value
        assert e.code == "TIMEOUT" and e.retryable is True
        assert isinstance(e, builtins.TimeoutError) and isinstance(e, ist.InteractionStoreError)
    finally:
        if holder is not None:
            if holder.stdin is not None:
                holder.communicate("release\n", timeout=60)
            holder.wait(timeout=60)
    # Nothing half-written, and the pool heals.
    audit, versions = audit_and_versions(url)
    assert audit == versions
    assert s.get_interaction(i.id).title == i.title
    assert s.update_interaction(i.id, title="after").version == 2
    store.close()


def test_unknown_database_is_configuration_error() -> None:
    url = db_url(f"ispy_missing_{uuid.uuid4().hex[:12]}")
    t0 = time.monotonic()
    with pytest.raises(ist.ConfigurationError) as exc:
        ist.InteractionStore.connect(url)
    assert time.monotonic() - t0 < 5
    e = exc.value
    assert e.code == "CONFIGURATION" and e.retryable is False
    assert not isinstance(e, ist.UnavailableError)
    assert "does not exist" in str(e)
    assert e.cause  # the server's own error is kept


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_refused_connection_is_unavailable_at_once() -> None:
    parts = urlsplit(admin_url())
    user = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    url = urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{free_port()}"))
    t0 = time.monotonic()
    with pytest.raises(ist.UnavailableError) as exc:
        ist.InteractionStore.connect(url, acquire_timeout=30)
    assert time.monotonic() - t0 < 5
    e = exc.value
    assert "refused" in str(e).lower()
    assert e.retryable is True and e.code == "UNAVAILABLE"
    assert e.cause is not None


# ----------------------------------------------------------------- idempotency


def test_idempotent_create(world: World, url: str) -> None:
    s = world.editor_s
    first = create(s, title="Once", idempotency_key="req-1")
    again = create(s, title="Once", idempotency_key="req-1")
    assert again.id == first.id and again == first
    assert s.finder().count() == 1
    assert audit_and_versions(url) == (1, 1)
    with pytest.raises(ist.ConflictError):
        create(s, title="Other content", idempotency_key="req-1")
    other = create(s, title="Once", idempotency_key="req-2")
    assert other.id != first.id
    assert create(s, title="Once").id not in (first.id, other.id)  # no key: a new row
    assert s.finder().count() == 3
    assert audit_and_versions(url) == (3, 3)

    async def from_asyncio() -> int:
        store = await ist.AsyncInteractionStore.connect(url, min_connections=0)
        try:
            a = await store.session_for_user(world.editor.id, world.site.id)
            i = await create(a, title="Once", idempotency_key="req-1")
            return int(i.id)
        finally:
            await store.close()

    assert asyncio.run(from_asyncio()) == first.id
    assert s.finder().count() == 3


# ------------------------------------------------------------------ migrate_to


def test_migrate_to_stages_an_upgrade(fresh_url: Callable[..., str]) -> None:
    url = fresh_url(migrated=False)
    with ist.InteractionStore.connect(url, check_schema=False) as store:
        assert store.schema_version() is None
        applied = store.migrate_to("1.0.0")
        assert [str(v) for v in applied] == ["1.0.0"]
        assert str(store.schema_version()) == "1.0.0"
        assert store.migrate_to("1.0.0") == []
        for bad in ("1.x", "9.9.9"):
            with pytest.raises(ist.ValidationError) as exc:
                store.migrate_to(bad)
            assert exc.value.field == "version"
        with pytest.raises(TypeError):
            store.migrate_to(1)  # type: ignore[arg-type]
    # A library that requires 1.3.0 refuses the 1.0.0 database...
    with pytest.raises(ist.SchemaVersionError):
        ist.InteractionStore.connect(url)
    # ...until it is migrated.
    with ist.InteractionStore.connect(url, check_schema=False) as store:
        assert [str(v) for v in store.migrate()] == ["1.1.0", "1.2.0", "1.3.0"]
    with ist.InteractionStore.connect(url) as store:
        assert store.schema_version() == ist.SCHEMA_VERSION

    async def from_asyncio() -> None:
        store = await ist.AsyncInteractionStore.connect(url)
        try:
            assert await store.migrate_to(str(ist.SCHEMA_VERSION)) == []
        finally:
            await store.close()

    asyncio.run(from_asyncio())


# --------------------------------------------------------------------- logging


@pytest.fixture
def debug_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG, logger="interaction_store")
    yield caplog


def test_calls_are_logged_without_values(
    world: World, url: str, debug_log: pytest.LogCaptureFixture
) -> None:
    secret_title, secret_lead = f"Secret {uuid.uuid4().hex}", f"Lead {uuid.uuid4().hex}"
    # Levels are read when a store is opened: open one after configuring logging.
    with ist.InteractionStore.connect(url, min_connections=0) as store:
        s = session_on(store, world)
        i = create(s, title=secret_title, lead=secret_lead)
        debug_log.clear()
        s.get_interaction(i.id)
        records = [r for r in debug_log.records if r.name.startswith("interaction_store")]
        assert any("get_interaction" in r.getMessage() for r in records), records
        assert all(r.levelno == logging.DEBUG for r in records)
        text = "\n".join(r.getMessage() for r in debug_log.records)
        assert secret_title not in text and secret_lead not in text
        # The records propagate to the parent logger `interaction_store`.
        assert all(
            r.name == "interaction_store" or r.name.startswith("interaction_store.")
            for r in records
        )


def test_slow_calls_are_warnings(world: World, url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="interaction_store")
    with ist.InteractionStore.connect(
        url, min_connections=0, slow_statement_threshold=0.000001
    ) as store:
        s = session_on(store, world)
        caplog.clear()
        with pytest.raises(ist.NotFoundError):
            s.get_interaction(424242)
        slow = [
            r
            for r in caplog.records
            if r.name.startswith("interaction_store") and r.levelno == logging.WARNING
        ]
        assert slow and "get_interaction" in slow[0].getMessage(), caplog.records
        assert not [r for r in caplog.records if r.levelno < logging.WARNING]


# ---------------------------------------------------------------------- Ctrl-C

CTRL_C_SCRIPT = textwrap.dedent(
    """
    import os, signal, subprocess, sys, threading, time
    from datetime import datetime, timedelta, timezone
    import interaction_store as ist

    path, helper = sys.argv[1], sys.argv[2]
    # A process started in the background inherits SIGINT ignored, and Python then
    # installs no KeyboardInterrupt handler: install it, as in a terminal.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    def query(sql):
        out = subprocess.run([sys.executable, "-c", helper, path, "query", sql],
                             check=True, capture_output=True, text=True, timeout=60)
        return out.stdout.strip()

    store = ist.InteractionStore.connect(
        "sqlite://" + path, migrate=True, lock_timeout=30, call_timeout=60
    )
    site = store.create_site("Ctrl-C")
    user = store.create_user("ctrlc", "ctrlc@example.com", "correct horse battery")
    store.grant_role(user.id, site.id, "editor")
    s = store.session_for_user(user.id, site.id)
    t0 = datetime(2026, 6, 1, 9, tzinfo=timezone.utc)
    fields = dict(title="t", interaction_type="call", lead="l", start=t0,
                  end=t0 + timedelta(hours=1), timezone="UTC")
    s.create_interaction(**fields)

    # Another process holds the write lock: the next create blocks (lock_timeout=30).
    locker = subprocess.Popen([sys.executable, "-c", helper, path, "lock", ""],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert locker.stdout.readline().strip() == "locked"
    threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()
    started = time.monotonic()
    try:
        s.create_interaction(**fields)
        print("NOT INTERRUPTED")
        sys.exit(1)
    except KeyboardInterrupt:
        took = time.monotonic() - started
        print("interrupted after %.2f s" % took)
        assert 0.4 < took < 5, took
    locker.communicate("release\\n", timeout=60)

    # The abandoned create commits or rolls back whole: wait for it to settle.
    sql = ("SELECT (SELECT count(*) FROM audit_log WHERE entity = 'interaction'), "
           "(SELECT coalesce(sum(version), 0) FROM interactions)")
    deadline = time.monotonic() + 30
    while True:
        audit, versions = map(int, query(sql).split("|"))
        if audit == versions == 2 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    print("audit", audit, "versions", versions)
    assert audit == versions and versions in (1, 2), (audit, versions)
    # The store still works.
    i = s.create_interaction(**fields)
    assert s.get_interaction(i.id) == i
    store.close()
    print("OK")
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT via os.kill is POSIX")
def test_ctrl_c_interrupts_a_blocked_call(tmp_path: Path) -> None:
    script = tmp_path / "ctrl_c.py"
    script.write_text(CTRL_C_SCRIPT)
    t0 = time.monotonic()
    out = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "ctrl_c.db"), SQLITE_HELPER],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert out.returncode == 0, (out.stdout, out.stderr)
    assert "interrupted after" in out.stdout and "OK" in out.stdout, out.stdout
    assert time.monotonic() - t0 < 60

