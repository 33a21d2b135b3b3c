"""The exception hierarchy (each kind raised and caught by class, pickling) and bad inputs
of every type."""

from __future__ import annotations

import builtins
import pickle
from datetime import date, timedelta
from typing import Any, Callable

import pytest

import interaction_store as ist
from conftest import PASSWORD, T0, World, create, exec_sql

KINDS = {
    ist.ValidationError: "VALIDATION",
    ist.NotFoundError: "NOT_FOUND",
    ist.PermissionDeniedError: "PERMISSION_DENIED",
    ist.AuthenticationError: "AUTHENTICATION_FAILED",
    ist.ConflictError: "CONFLICT",
    ist.SchemaVersionError: "SCHEMA_VERSION",
    ist.UnavailableError: "UNAVAILABLE",
    ist.TimeoutError: "TIMEOUT",
    ist.ConfigurationError: "CONFIGURATION",
    ist.InternalError: "INTERNAL",
}
RETRYABLE = {ist.UnavailableError, ist.TimeoutError}


def test_hierarchy_declared_once() -> None:
    for cls, code in KINDS.items():
        assert issubclass(cls, ist.InteractionStoreError)
        assert issubclass(cls, Exception)
        assert cls.code == code
        assert cls.__module__ == "interaction_store._errors"
    assert issubclass(ist.ValidationError, ValueError)
    assert not issubclass(ist.NotFoundError, ValueError)
    assert issubclass(ist.TimeoutError, builtins.TimeoutError)
    assert ist.TimeoutError is not builtins.TimeoutError
    assert len(set(KINDS)) == 10


def test_retryable_comes_from_the_core() -> None:
    """`retryable` is set on each class from the core's ErrorKind::is_retryable."""
    for cls in KINDS:
        assert cls.retryable is (cls in RETRYABLE), cls
        assert cls("x").retryable is (cls in RETRYABLE)
    assert ist.InteractionStoreError.retryable is False


@pytest.mark.parametrize("cls", list(KINDS))
def test_pickle_round_trip_keeps_class_message_and_field(cls: type) -> None:
    e = cls("invalid title: must not be empty", field="title")
    back = pickle.loads(pickle.dumps(e))
    assert type(back) is cls
    assert str(back) == str(e) == "invalid title: must not be empty"
    assert back.message == e.message and back.field == "title" and back.code == e.code
    plain = pickle.loads(pickle.dumps(cls("x")))
    assert plain.field is None and plain.cause is None
    caused = pickle.loads(pickle.dumps(cls("x", cause="connection reset by peer")))
    assert caused.cause == "connection reset by peer" and type(caused) is cls


def test_raised_errors_pickle(world: World) -> None:
    with pytest.raises(ist.ValidationError) as exc:
        create(world.editor_s, title="")
    back = pickle.loads(pickle.dumps(exc.value))
    assert type(back) is ist.ValidationError
    assert (back.field, str(back)) == ("title", str(exc.value))


def test_every_kind_is_raised_and_caught_by_class(world: World, url: str) -> None:
    store = world.store
    cases: dict = {
        ist.ValidationError: lambda: create(world.editor_s, title=""),
        ist.NotFoundError: lambda: world.viewer_s.get_interaction(424242),
        ist.PermissionDeniedError: lambda: create(world.viewer_s),
        ist.AuthenticationError: lambda: store.login(world.admin.username, "not the password"),
        ist.ConflictError: lambda: store.create_site(world.site.name),
    }
    for cls, call in cases.items():
        with pytest.raises(cls) as exc:
            call()
        assert type(exc.value) is cls
        assert isinstance(exc.value, ist.InteractionStoreError)
        assert exc.value.code == KINDS[cls]
        if cls is ist.ValidationError:
            assert exc.value.field == "title"
        else:
            assert exc.value.field is None
        assert exc.value.retryable is False
        assert exc.value.cause is None  # no driver error behind these
    # InternalError: a table dropped behind the library's back.
    # (CASCADE on PostgreSQL: the masked reporting view `access_log_masked` depends on it.)
    exec_sql(url, "DROP TABLE access_log" + (" CASCADE" if url.startswith("postgres") else ""))
    with pytest.raises(ist.InternalError) as internal:
        store.access_log()
    assert internal.value.code == "INTERNAL" and internal.value.retryable is False
    assert internal.value.cause  # the driver's error is kept
    # UnavailableError: closed store. (SchemaVersionError: see test_store; TimeoutError,
    # ConfigurationError and UnavailableError from the server: see test_execution.)
    store.close()
    with pytest.raises(ist.UnavailableError):
        store.get_site(world.site.id)


def test_wrong_python_types_raise_type_error(world: World) -> None:
    s, store = world.editor_s, world.store
    bad_calls: list[Callable[[], Any]] = [
        lambda: store.get_user("1"),
        lambda: store.get_user(1.0),
        lambda: store.get_user(None),
        lambda: store.create_user(1, "e@example.com", PASSWORD),
        lambda: store.create_site(["name"]),
        lambda: store.grant_role(world.outsider.id, world.site.id, 1),
        lambda: store.set_user_active(world.admin.id, 1),
        lambda: store.set_site_active(world.site.id, "yes"),
        lambda: store.access_log("10"),
        lambda: store.session(b"token", world.site.id),
        lambda: create(s, title=123),
        lambda: create(s, location=5),
        lambda: create(s, start="2026-06-01T09:00:00Z"),
        lambda: create(s, start=date(2026, 6, 1)),
        lambda: create(s, start=T0.timestamp()),
        lambda: s.get_interaction("1"),
        lambda: s.delete_interaction(1, expected_version="1"),
        lambda: s.update_interaction(1, notes=7),
        lambda: s.update_interaction(1, start="tomorrow"),
        lambda: s.audit_trail(limit=2.5),
        lambda: ist.LocalTime("2026-01-01"),
    ]
    for call in bad_calls:
        with pytest.raises(TypeError):
            call()
    with pytest.raises(TypeError):
        s.create_interaction(title="only a title")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        s.create_interaction("positional", "args")  # type: ignore[misc]


def test_bad_values_raise_validation_error(world: World) -> None:
    s, store = world.editor_s, world.store
    ten_mb = "x" * (10 * 1024 * 1024)
    cases = [
        ("notes", lambda: create(s, notes=ten_mb)),
        ("description", lambda: create(s, description=ten_mb)),
        ("description", lambda: store.create_site("big", ten_mb)),
        ("title", lambda: create(s, title="t" * 256)),
        ("title", lambda: create(s, title="nul\0byte")),
        ("type", lambda: create(s, interaction_type="  ")),
        ("lead", lambda: create(s, lead="l" * 101)),
        ("location", lambda: create(s, location="loc\0")),
        ("notes", lambda: create(s, notes="a\0b")),
        ("timezone", lambda: create(s, timezone="Not/AZone")),
        ("id", lambda: s.get_interaction(0)),
        ("id", lambda: s.get_interaction(-5)),
        ("id", lambda: s.get_interaction(2**31)),
        ("id", lambda: s.get_interaction(2**200)),
        ("id", lambda: s.get_interaction(-(2**200))),
        ("user_id", lambda: store.get_user(2**64)),
        ("site_id", lambda: store.get_site(0)),
        ("username", lambda: store.create_user("u" * 51, "u@example.com", PASSWORD)),
        ("username", lambda: store.create_user("nul\0", "u@example.com", PASSWORD)),
        ("email", lambda: store.create_user("valid", "not-an-email", PASSWORD)),
        ("password", lambda: store.create_user("valid", "v@example.com", "p" * 5000)),
        ("name", lambda: store.create_site("")),
        ("role", lambda: store.grant_role(world.outsider.id, world.site.id, "Admin")),
        ("limit", lambda: store.access_log(-1)),
        ("limit", lambda: s.finder().limit(-(2**80)).fetch()),
        ("token", lambda: store.session("tok\0en", world.site.id)),
        ("cursor", lambda: world.admin_s.audit_trail(after="x" * 5000)),
    ]
    for field, call in cases:
        with pytest.raises(ist.ValidationError) as exc:
            call()
        assert exc.value.field == field, (field, exc.value)
        assert isinstance(exc.value, ValueError)
    # Nothing was written by any of them.
    assert s.finder().count() == 0
    # Strings that are not valid Unicode (lone surrogates) cannot cross into Rust: a
    # ValueError (UnicodeEncodeError) from the conversion.
    with pytest.raises(ValueError):
        create(s, title="\ud800")


def test_unicode_round_trips(world: World) -> None:
    title = "Réunion 会議 🚀 " + "é" * 200
    i = create(world.editor_s, title=title, notes="ünïcødé\n\ttabs")
    assert world.editor_s.get_interaction(i.id).title == title
    assert world.editor_s.finder().text("réunion").count() == 1


def test_long_text_limits_are_bytes(world: World) -> None:
    one_mib = 1024 * 1024
    i = create(world.editor_s, notes="n" * one_mib)
    assert len(world.editor_s.get_interaction(i.id).notes or "") == one_mib
    with pytest.raises(ist.ValidationError):
        world.editor_s.update_interaction(i.id, notes="n" * (one_mib + 1))
    assert world.editor_s.update_interaction(i.id, notes=None).notes is None
    assert (T0 + timedelta(0)).tzinfo is not None
