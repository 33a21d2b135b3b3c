"""``schema=``: the store in a PostgreSQL schema of its own, beside a host application's
own ``users`` and Rails-style ``schema_migrations`` in ``public``."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Callable

import pytest

import interaction_store as ist
from conftest import PASSWORD, Databases, psql

HOST_TABLES = """
CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE);
INSERT INTO users (email) VALUES ('host@example.com');
CREATE TABLE schema_migrations (version varchar PRIMARY KEY);
INSERT INTO schema_migrations VALUES ('20240101000000'), ('20240202000000');
"""

HOST_STATE = """
SELECT (SELECT string_agg(table_name || '.' || column_name, ',' ORDER BY table_name, ordinal_position)
          FROM information_schema.columns WHERE table_schema = 'public')
    || '|' || (SELECT count(*) FROM public.users)
    || '|' || (SELECT string_agg(version, ',' ORDER BY version) FROM public.schema_migrations)
"""


def test_schema_beside_host_tables(databases: Callable[[str], Databases]) -> None:
    url = databases("postgres").fresh(migrated=False)
    psql(HOST_TABLES, url)
    host = psql(HOST_STATE, url)
    clock = ist.Clock.manual(datetime(2026, 1, 1, tzinfo=timezone.utc))
    store = ist.InteractionStore.connect(
        url, schema="interactions", migrate=True, clock=clock, min_connections=1
    )
    try:
        assert store.schema == "interactions"
        assert store.pending_migrations() == []
        alice = store.create_user("alice", "alice@example.com", PASSWORD)
        token = store.login("alice", PASSWORD)
        site = store.create_site("Site A")
        store.grant_role(alice.id, site.id, "admin")
        s = store.session(token.token, site.id)
        start = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
        created = s.create_interaction(
            title="budget review",
            interaction_type="meeting",
            lead="Alice",
            start=start,
            end=start + timedelta(hours=1),
            timezone="UTC",
        )
        page = s.finder().title_contains("budget").fetch()
        assert [i.id for i in page.items] == [created.id]
        clock.advance(timedelta(days=3 * 366))
        assert store.archive().moved == 1
        assert store.counts().archived == 1
        report = store.verify()
        assert report.ok, report.problems
        assert {t.table for t in report.tables} >= {"users", "schema_migrations", "interactions_archive"}
        # The store's tables are in its schema; the host's are unchanged.
        assert psql(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'interactions' AND tablename = 'users'", url
        ).strip() == "1"
        assert psql("SELECT count(*) FROM interactions.schema_migrations", url).strip() == "4"
        assert psql(HOST_STATE, url) == host
    finally:
        store.close()


def test_two_schemas_are_isolated(databases: Callable[[str], Databases]) -> None:
    url = databases("postgres").fresh(migrated=False)
    a = ist.InteractionStore.connect(url, schema="tenant_a", migrate=True, min_connections=1)
    b = ist.InteractionStore.connect(url, schema="tenant_b", migrate=True, min_connections=1)
    try:
        a.create_user("alice", "alice@example.com", PASSWORD)
        b.create_user("alice", "alice@example.com", PASSWORD)
        b.create_user("bob", "bob@example.com", PASSWORD)
        assert (a.counts().users, b.counts().users) == (1, 2)
    finally:
        a.close()
        b.close()


@pytest.mark.parametrize("bad", ["", "Interactions", "a-b", 'a"b', "pg_x", "1a", "s" * 64])
def test_bad_schema_names(bad: str) -> None:
    with pytest.raises(ist.ValidationError) as exc:
        ist.InteractionStore.connect("postgres://nobody@127.0.0.1:1/x", schema=bad)
    assert exc.value.field == "schema"


def test_sqlite_has_only_main(databases: Callable[[str], Databases]) -> None:
    url = databases("sqlite").fresh(migrated=False)
    with pytest.raises(ist.ValidationError) as exc:
        ist.InteractionStore.connect(url, schema="interactions", migrate=True)
    assert exc.value.field == "schema"
    store = ist.InteractionStore.connect(url, schema="main", migrate=True)
    assert store.schema is None
    store.close()
