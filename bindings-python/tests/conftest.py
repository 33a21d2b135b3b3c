"""Fixtures: every store test runs on SQLite (a temp file) and on PostgreSQL (a fresh
database created from DATABASE_URL, an admin URL). Without DATABASE_URL the PostgreSQL
half FAILS, it is never skipped; so do the caching tests without REDIS_URL.

Each test gets its own fresh, migrated database, copied from a template migrated once per
run (a file copy on SQLite, CREATE DATABASE ... TEMPLATE on PostgreSQL).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterator, List
from urllib.parse import urlsplit, urlunsplit

import pytest

import interaction_store as ist

BACKENDS = ["sqlite", "postgres"]
PASSWORD = "correct horse battery"


def admin_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        pytest.fail(
            "DATABASE_URL is not set: the PostgreSQL tests need an admin URL of a "
            "throwaway cluster (scripts/test.sh starts one)"
        )
    return url


def redis_url() -> str:
    """REDIS_URL, the Redis the test command starts: without it the tests that need it
    FAIL, they are never skipped."""
    url = os.environ.get("REDIS_URL", "")
    if not url:
        pytest.fail(
            "REDIS_URL is not set: the caching tests need a Redis server "
            "(scripts/test.sh starts one)"
        )
    return url


def db_url(name: str) -> str:
    parts = urlsplit(admin_url())
    return urlunsplit(parts._replace(path="/" + name))


def psql(sql: str, url: str = "") -> str:
    out = subprocess.run(
        ["psql", url or admin_url(), "-v", "ON_ERROR_STOP=1", "-qAtc", sql],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return out.stdout


class Databases:
    """Creates fresh migrated databases of one backend."""

    def __init__(self, backend: str, tmp: Path) -> None:
        self.backend = backend
        self.tmp = tmp
        self.template = ""
        self.created: List[str] = []

    def _template(self) -> str:
        if self.template:
            return self.template
        if self.backend == "sqlite":
            path = self.tmp / "template.db"
            ist.InteractionStore.connect(f"sqlite://{path}", migrate=True).close()
            self.template = str(path)
        else:
            name = f"ispy_tmpl_{os.getpid()}_{uuid.uuid4().hex[:8]}"
            psql(f"CREATE DATABASE {name}")
            self.created.append(name)
            ist.InteractionStore.connect(db_url(name), migrate=True).close()
            self.template = name
        return self.template

    def fresh(self, migrated: bool = True) -> str:
        """The URL of a new database (migrated, or empty)."""
        if self.backend == "sqlite":
            path = self.tmp / f"{uuid.uuid4().hex}.db"
            if migrated:
                src = Path(self._template())
                shutil.copy(src, path)
                for suffix in ("-wal", "-shm"):
                    if Path(str(src) + suffix).exists():
                        shutil.copy(str(src) + suffix, str(path) + suffix)
            return f"sqlite://{path}"
        name = f"ispy_{os.getpid()}_{uuid.uuid4().hex[:12]}"
        if migrated:
            psql(f"CREATE DATABASE {name} TEMPLATE {self._template()}")
        else:
            psql(f"CREATE DATABASE {name}")
        self.created.append(name)
        return db_url(name)

    def drop_all(self) -> None:
        if self.created:
            drops = [f"DROP DATABASE IF EXISTS {n} WITH (FORCE)" for n in reversed(self.created)]
            args = ["psql", admin_url(), "-v", "ON_ERROR_STOP=1", "-qAt"]
            for d in drops:
                args += ["-c", d]
            subprocess.run(args, check=True, capture_output=True, timeout=600)
        self.created.clear()


_DATABASES: dict = {}


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Databases]]:
    def get(backend: str) -> Databases:
        if backend not in _DATABASES:
            _DATABASES[backend] = Databases(backend, tmp_path_factory.mktemp(backend))
        return _DATABASES[backend]

    yield get
    for dbs in _DATABASES.values():
        if dbs.backend == "postgres":
            dbs.drop_all()
    _DATABASES.clear()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def fresh_url(backend: str, databases: Callable[[str], Databases]) -> Callable[..., str]:
    """Makes URLs of new databases of the test's backend."""

    def make(migrated: bool = True) -> str:
        return databases(backend).fresh(migrated)

    return make


@pytest.fixture
def url(fresh_url: Callable[..., str]) -> str:
    """A fresh migrated database of the test's backend."""
    return fresh_url()


@pytest.fixture
def store(url: str) -> Iterator[ist.InteractionStore]:
    s = ist.InteractionStore.connect(url, min_connections=0, max_connections=10)
    yield s
    s.close()


# Python's sqlite3 in another process: the wheel links its own copy of SQLite, and two
# copies in one process do not see each other's POSIX locks (closing the second copy's
# connection drops the first one's: sqlite.org/howtocorrupt.html §2.2.1), so a test must
# never open a store's file with Python's sqlite3 in its own process.
_SQLITE_EXEC = (
    "import sqlite3, sys\n"
    "c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)\n"
    "c.executescript(sys.argv[2])\n"
    "c.close()\n"
)


def exec_sql(url: str, sql: str) -> None:
    """Runs SQL behind the library's back (to break things on purpose); SQLite from
    another process."""
    if url.startswith("sqlite://"):
        subprocess.run(
            [sys.executable, "-c", _SQLITE_EXEC, url[len("sqlite://") :], sql],
            check=True, capture_output=True, text=True, timeout=60,
        )
    else:
        psql(sql, url)


@dataclass
class World:
    """A site with an admin, an editor, a viewer and an outsider."""

    store: ist.InteractionStore
    site: ist.Site
    admin: ist.User
    editor: ist.User
    viewer: ist.User
    outsider: ist.User
    admin_s: ist.SiteSession
    editor_s: ist.SiteSession
    viewer_s: ist.SiteSession


def make_world(store: ist.InteractionStore, tag: str = "") -> World:
    site = store.create_site(f"Site {tag}{uuid.uuid4().hex[:6]}", "test site")
    users = {}
    for name in ("admin", "editor", "viewer", "outsider"):
        uname = f"{name}{tag}{uuid.uuid4().hex[:6]}"
        users[name] = store.create_user(uname, f"{uname}@example.com", PASSWORD)
    store.grant_role(users["admin"].id, site.id, "admin")
    store.grant_role(users["editor"].id, site.id, "editor")
    store.grant_role(users["viewer"].id, site.id, "viewer")
    return World(
        store=store,
        site=site,
        admin=users["admin"],
        editor=users["editor"],
        viewer=users["viewer"],
        outsider=users["outsider"],
        admin_s=store.session_for_user(users["admin"].id, site.id),
        editor_s=store.session_for_user(users["editor"].id, site.id),
        viewer_s=store.session_for_user(users["viewer"].id, site.id),
    )


@pytest.fixture
def world(store: ist.InteractionStore) -> World:
    return make_world(store)


T0 = datetime(2026, 6, 1, 9, 0, tzinfo=timezone.utc)


def create(session: Any, **overrides: Any) -> Any:
    """Creates an interaction with valid defaults (sync or async session)."""
    fields: dict = dict(
        title="Weekly sync",
        interaction_type="meeting",
        lead="Alice",
        start=T0,
        end=T0 + timedelta(hours=1),
        timezone="Europe/Berlin",
    )
    fields.update(overrides)
    return session.create_interaction(**fields)
