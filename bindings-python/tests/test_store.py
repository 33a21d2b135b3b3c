"""Store-level API: connect, migrate, schema, users, sites, roles, login, sessions, close."""

from __future__ import annotations

from datetime import timedelta
from typing import Callable

import pytest

import interaction_store as ist
from conftest import PASSWORD, World, make_world


def test_package_is_the_installed_wheel() -> None:
    # The tests must exercise the built wheel, not a source tree on sys.path.
    assert "site-packages" in (ist.__file__ or "")
    assert ist._native.__file__.endswith((".so", ".pyd"))


def test_connect_migrate_and_schema(fresh_url: Callable[..., str], backend: str) -> None:
    url = fresh_url(migrated=False)
    with pytest.raises(ist.SchemaVersionError) as exc:
        ist.InteractionStore.connect(url)
    assert exc.value.code == "SCHEMA_VERSION"
    assert "none" in str(exc.value)

    store = ist.InteractionStore.connect(url, migrate=True)
    assert store.backend == backend
    assert store.schema_version() == ist.SCHEMA_VERSION
    assert str(ist.SCHEMA_VERSION) == "1.3.0"
    assert ist.SCHEMA_VERSION.to_dict() == {"major": 1, "minor": 3, "patch": 0}
    assert store.check_schema() is None
    assert store.migrate() == []  # nothing pending
    store.close()
    # Opening again without migrate now works.
    again = ist.InteractionStore.connect(url)
    assert again.schema_version() == ist.SCHEMA_VERSION
    again.close()


def test_connect_pool_options(url: str) -> None:
    s = ist.InteractionStore.connect(
        url,
        min_connections=1,
        max_connections=3,
        acquire_timeout=timedelta(seconds=5),
        idle_timeout=None,
        max_lifetime=60.5,
        login_concurrency=1,
    )
    assert s.list_sites() == []
    s.close()
    with pytest.raises(TypeError, match="unexpected keyword argument 'pool_size'"):
        ist.InteractionStore.connect(url, pool_size=3)  # type: ignore[call-arg]
    with pytest.raises(ist.ValidationError) as exc:
        ist.InteractionStore.connect(url, acquire_timeout=-1)
    assert exc.value.field == "acquire_timeout"
    with pytest.raises(ist.ValidationError):
        ist.InteractionStore.connect(url, idle_timeout=float("nan"))
    with pytest.raises(TypeError):
        ist.InteractionStore.connect(url, acquire_timeout="5s")  # type: ignore[arg-type]


def test_connect_bad_urls() -> None:
    with pytest.raises(ist.ValidationError) as exc:
        ist.InteractionStore.connect("mysql://localhost/db")
    assert exc.value.field == "url"
    with pytest.raises(ist.ValidationError) as exc:
        ist.InteractionStore.connect("sqlite://x\0.db")
    assert exc.value.field == "url"
    with pytest.raises(TypeError):
        ist.InteractionStore.connect(42)  # type: ignore[arg-type]


def test_unreachable_postgres_is_unavailable() -> None:
    with pytest.raises(ist.UnavailableError) as exc:
        ist.InteractionStore.connect(
            "postgres://postgres@127.0.0.1:1/nothing", acquire_timeout=2
        )
    assert exc.value.code == "UNAVAILABLE"


def test_users(store: ist.InteractionStore) -> None:
    u = store.create_user("alice", "alice@example.com", PASSWORD)
    assert (u.username, u.email, u.is_active, u.last_login) == (
        "alice",
        "alice@example.com",
        True,
        None,
    )
    assert store.get_user(u.id) == u
    assert store.get_user_by_username("alice") == u
    with pytest.raises(ist.ConflictError):
        store.create_user("alice", "other@example.com", PASSWORD)
    with pytest.raises(ist.ConflictError):
        store.create_user("alice2", "ALICE@example.com", PASSWORD)
    with pytest.raises(ist.NotFoundError):
        store.get_user(99999)
    with pytest.raises(ist.NotFoundError):
        store.get_user_by_username("nobody")
    with pytest.raises(ist.ValidationError) as exc:
        store.create_user("bob", "bob@example.com", "short")
    assert exc.value.field == "password"

    inactive = store.set_user_active(u.id, False)
    assert inactive.is_active is False
    with pytest.raises(ist.AuthenticationError):
        store.login("alice", PASSWORD)
    store.set_user_active(u.id, True)

    store.set_password(u.id, "a brand new password")
    with pytest.raises(ist.AuthenticationError):
        store.login("alice", PASSWORD)
    token = store.login("alice", "a brand new password")
    assert token.user_id == u.id
    assert store.get_user(u.id).last_login is not None


def test_sites_and_roles(store: ist.InteractionStore) -> None:
    a = store.create_site("Alpha", "first")
    b = store.create_site("Beta")
    assert (a.name, a.description, a.is_active) == ("Alpha", "first", True)
    assert b.description is None
    assert store.get_site(a.id) == a
    assert store.list_sites() == [a, b]
    with pytest.raises(ist.ConflictError):
        store.create_site("Alpha")
    with pytest.raises(ist.NotFoundError):
        store.get_site(4242)
    u = store.create_user("carol", "carol@example.com", PASSWORD)
    store.grant_role(u.id, a.id, "editor")
    store.grant_role(u.id, b.id, "viewer")
    assert store.user_sites(u.id) == [(a, "editor"), (b, "viewer")]
    store.grant_role(u.id, b.id, "admin")  # replaces
    assert store.user_sites(u.id)[1] == (b, "admin")
    with pytest.raises(ist.ValidationError) as exc:
        store.grant_role(u.id, a.id, "owner")  # type: ignore[arg-type]
    assert exc.value.field == "role"

    off = store.set_site_active(b.id, False)
    assert off.is_active is False
    with pytest.raises(ist.PermissionDeniedError):
        store.session_for_user(u.id, b.id)
    assert store.set_site_active(b.id, True).is_active


def test_login_logout_sessions_and_access_log(world: World) -> None:
    store = world.store
    token = store.login(world.editor.username, PASSWORD)
    assert token.expires_at.tzinfo is not None
    assert token.token not in repr(token)  # credential hidden
    s = store.session(token.token, world.site.id)
    assert (s.user_id, s.site_id, s.role) == (world.editor.id, world.site.id, "editor")
    assert "editor" in repr(s)
    with pytest.raises(ist.PermissionDeniedError):
        store.session(store.login(world.outsider.username, PASSWORD).token, world.site.id)
    store.logout(token.token)
    with pytest.raises(ist.AuthenticationError):
        store.session(token.token, world.site.id)
    with pytest.raises(ist.AuthenticationError):
        store.logout(token.token)
    with pytest.raises(ist.AuthenticationError):
        store.login(world.editor.username, "wrong password!")
    with pytest.raises(ist.AuthenticationError):
        store.login("no-such-user", PASSWORD)
    with pytest.raises(ist.NotFoundError):
        store.session_for_user(987654, world.site.id)

    log = store.access_log()
    assert 1 <= len(log) <= 50
    newest = log[0]
    assert (newest.username, newest.action, newest.success) == ("no-such-user", "login", False)
    assert newest.user_id is None
    actions = [(e.action, e.success) for e in store.access_log(limit=500)]
    assert ("logout", True) in actions and ("login", True) in actions
    assert len(store.access_log(2)) == 2
    with pytest.raises(ist.ValidationError) as exc:
        store.access_log(0)
    assert exc.value.field == "limit"
    assert newest.to_dict()["username"] == "no-such-user"


def test_close_then_calls_fail_clearly(url: str) -> None:
    store = ist.InteractionStore.connect(url)
    w = make_world(store)
    finder = w.admin_s.finder()
    assert not store.closed
    store.close()
    assert store.closed
    assert "closed=True" in repr(store)
    for call in (
        store.list_sites,
        lambda: store.get_user(w.admin.id),
        lambda: store.create_user("zed", "zed@example.com", PASSWORD),
        lambda: store.login(w.admin.username, PASSWORD),
        lambda: w.admin_s.get_interaction(1),
        finder.fetch,
        finder.count,
        lambda: next(finder.iter()),
    ):
        with pytest.raises(ist.UnavailableError, match="the store is closed"):
            call()
    store.close()  # closing twice is fine


def test_context_manager_closes(url: str) -> None:
    with ist.InteractionStore.connect(url) as store:
        assert store.list_sites() == []
    assert store.closed
    with pytest.raises(ist.UnavailableError):
        store.list_sites()
