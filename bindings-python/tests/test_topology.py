"""Replicas and consistency tokens: `replicas=`, `reporting_replica=`,
`replica_max_lag=`, `session.consistency_token`, `consistency_token=` of `session()` /
`session_for_user()`, `replica_status()`. Routing itself (which node served a read,
replay paused, a replica killed) is the core's and tested there.

The replica tests need TOPOLOGY_PRIMARY_URL and TOPOLOGY_REPLICA_URLS (an admin URL of a
primary and comma-separated admin URLs of its streaming replicas; the test command starts
them): without them they FAIL, they are never skipped. Each test creates its own database
on the primary and waits until it has reached the replicas.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
import uuid
from typing import Iterator, List, Tuple
from urllib.parse import urlsplit, urlunsplit

import pytest

import interaction_store as ist
from conftest import PASSWORD, create, make_world, psql

LSN = re.compile(r"^[0-9A-F]{1,8}/[0-9A-F]{1,8}$")
MALFORMED = ["", "nope", "0/", "/0", "1/2/3", "0/XYZ", "123456789/0", "0/0 x"]


def topology() -> Tuple[str, List[str]]:
    primary = os.environ.get("TOPOLOGY_PRIMARY_URL", "")
    replicas = [u for u in os.environ.get("TOPOLOGY_REPLICA_URLS", "").split(",") if u]
    if not primary or not replicas:
        pytest.fail(
            "TOPOLOGY_PRIMARY_URL / TOPOLOGY_REPLICA_URLS are not set: the replica tests "
            "need a PostgreSQL primary and its streaming replicas (scripts/test.sh starts them)"
        )
    return primary, replicas


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


@pytest.fixture
def topo() -> Iterator[Tuple[str, List[str]]]:
    """A fresh migrated database on the primary, and its URLs on every replica (once the
    replicas have replayed its schema)."""
    admin, replica_admins = topology()
    name = f"ispy_topo_{os.getpid()}_{uuid.uuid4().hex[:10]}"
    psql(f"CREATE DATABASE {name}", admin)
    try:
        primary = with_database(admin, name)
        ist.InteractionStore.connect(primary, migrate=True).close()
        replicas = [with_database(r, name) for r in replica_admins]
        for r in replicas:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if psql("SELECT to_regclass('interactions') IS NOT NULL", r).strip() == "t":
                        break
                except Exception:  # the database is not there yet
                    pass
                assert time.monotonic() < deadline, f"{r} never got the database"
                time.sleep(0.1)
        yield primary, replicas
    finally:
        psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", admin)


def test_malformed_consistency_token_is_a_validation_error(
    store: ist.InteractionStore, url: str
) -> None:
    w = make_world(store)
    token = store.login(w.editor.username, PASSWORD).token
    for bad in MALFORMED:
        with pytest.raises(ist.ValidationError) as exc:
            store.session_for_user(w.editor.id, w.site.id, consistency_token=bad)
        assert exc.value.field == "consistency_token", bad
        with pytest.raises(ist.ValidationError) as exc:
            store.session(token, w.site.id, bad)
        assert exc.value.field == "consistency_token", bad
    with pytest.raises(TypeError, match="argument 'consistency_token' must be str"):
        store.session_for_user(w.editor.id, w.site.id, consistency_token=5)  # type: ignore[arg-type]
    # A well-formed token is taken as given; None is no token.
    s = store.session_for_user(w.editor.id, w.site.id, consistency_token="0/16B3748")
    assert s.consistency_token == "0/16B3748"
    assert store.session(token, w.site.id, consistency_token=None).consistency_token is None
    # Without replicas a write leaves no token (every read is consistent).
    create(w.editor_s)
    assert w.editor_s.consistency_token is None
    assert store.replica_status() == []

    async def main() -> None:
        async with await ist.AsyncInteractionStore.connect(url) as a:
            with pytest.raises(ist.ValidationError) as exc:
                await a.session_for_user(w.editor.id, w.site.id, consistency_token="nope")
            assert exc.value.field == "consistency_token"
            with pytest.raises(ist.ValidationError) as exc:
                await a.session(token, w.site.id, "nope")
            assert exc.value.field == "consistency_token"
            s = await a.session(token, w.site.id, consistency_token="1/0")
            assert s.consistency_token == "1/0"
            assert a.replica_status() == []

    asyncio.run(main())


def test_replica_options_are_validated(url: str, backend: str) -> None:
    with pytest.raises(ist.ValidationError) as exc:
        ist.InteractionStore.connect(url, replicas=["mysql://replica/db"])
    assert exc.value.field == "replicas"
    with pytest.raises(ist.ValidationError) as exc:
        ist.InteractionStore.connect(url, replica_max_lag=0)
    assert exc.value.field == "replica_max_lag"
    with pytest.raises(TypeError, match="argument 'replicas' must be a list of str"):
        ist.InteractionStore.connect(url, replicas="postgres://replica/db")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="argument 'replicas' must be str"):
        ist.InteractionStore.connect(url, replicas=[5])  # type: ignore[list-item]
    if backend == "sqlite":
        with pytest.raises(ist.ValidationError) as exc:
            ist.InteractionStore.connect(url, replicas=[url.replace("sqlite", "postgres")])
        assert exc.value.field == "replicas"
    # Empty and None are the defaults: no replicas, no reporting replica.
    with ist.InteractionStore.connect(url, replicas=[], reporting_replica=None) as s:
        assert s.replica_status() == []


def test_consistency_token_carries_writes_to_another_store(topo: Tuple[str, List[str]]) -> None:
    primary, replicas = topo
    options = dict(
        replicas=replicas[:1],
        reporting_replica=replicas[1] if len(replicas) > 1 else None,
        replica_max_lag=5,
        cache=False,
    )
    with ist.InteractionStore.connect(primary, **options) as one:  # type: ignore[arg-type]
        status = one.replica_status()
        assert len(status) == len(replicas)
        assert all(isinstance(r, ist.ReplicaStatus) for r in status)
        assert [r.reporting for r in status].count(True) == (1 if len(replicas) > 1 else 0)
        assert all(LSN.match(r.replayed) for r in status), status
        w = make_world(one)
        s = one.session_for_user(w.editor.id, w.site.id)
        assert s.consistency_token is None
        i = create(s, title="Written through one")
        token = s.consistency_token
        assert isinstance(token, str) and LSN.match(token), token

        # Another store (another process in real life), with the token: it sees the write.
        with ist.InteractionStore.connect(primary, **options) as two:  # type: ignore[arg-type]
            login = two.login(w.editor.username, PASSWORD).token
            for s2 in (
                two.session_for_user(w.editor.id, w.site.id, consistency_token=token),
                two.session(login, w.site.id, token),
            ):
                assert s2.consistency_token == token
                assert s2.get_interaction(i.id) == i
                assert [x.id for x in s2.finder().fetch().items] == [i.id]
                assert s2.finder().count() == 1

        async def main() -> None:
            async with await ist.AsyncInteractionStore.connect(primary, **options) as a:  # type: ignore[arg-type]
                s3 = await a.session_for_user(w.editor.id, w.site.id, consistency_token=token)
                assert s3.consistency_token == token
                assert (await s3.get_interaction(i.id)) == i
                j = await create(s3, title="Written through async")
                later = s3.consistency_token
                assert later is not None and LSN.match(later) and later != token
                s4 = one.session_for_user(w.editor.id, w.site.id, consistency_token=later)
                assert {x.id for x in s4.finder().fetch().items} == {i.id, j.id}

        asyncio.run(main())
