"""Interaction CRUD, optimistic concurrency, soft delete/restore, members, audit, and
the value objects."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

import interaction_store as ist
from conftest import T0, World, create


def test_create_and_get(world: World) -> None:
    i = create(
        world.editor_s,
        location="Room 4",
        description="Budget planning",
        notes="bring numbers",
    )
    assert i.site_id == world.site.id
    assert (i.title, i.interaction_type, i.lead, i.timezone) == (
        "Weekly sync",
        "meeting",
        "Alice",
        "Europe/Berlin",
    )
    assert i.start_datetime == T0 and i.start_datetime.tzinfo is not None
    assert i.end_datetime == T0 + timedelta(hours=1)
    assert (i.location, i.description, i.notes) == ("Room 4", "Budget planning", "bring numbers")
    assert i.created_by == world.editor.id and i.version == 1
    assert i.updated_by is None and i.deleted_at is None
    assert world.viewer_s.get_interaction(i.id) == i


def test_datetimes_instants_local_times_and_zones(world: World) -> None:
    # An aware datetime in any zone is an instant, stored and returned in UTC.
    ny = datetime(2026, 7, 1, 8, 0, tzinfo=ZoneInfo("America/New_York"))
    i = create(world.editor_s, start=ny, end=ny + timedelta(minutes=30))
    assert i.start_datetime == datetime(2026, 7, 1, 12, 0, tzinfo=timezone.utc)
    assert i.start_datetime.utcoffset() == timedelta(0)
    # A LocalTime is a wall-clock time in the interaction's timezone.
    local = ist.LocalTime(datetime(2026, 7, 1, 12, 0))
    assert local.value == datetime(2026, 7, 1, 12, 0)
    assert local == ist.LocalTime(datetime(2026, 7, 1, 12, 0))
    assert "LocalTime(" in repr(local)
    j = create(world.editor_s, start=local, end=ist.LocalTime(datetime(2026, 7, 1, 13, 0)))
    assert j.start_datetime == datetime(2026, 7, 1, 10, 0, tzinfo=timezone.utc)
    # Bare naive datetimes are refused, naming the field.
    for field, kwargs in (
        ("start_datetime", {"start": datetime(2026, 7, 1, 12, 0)}),
        ("end_datetime", {"end": datetime(2026, 7, 1, 12, 0)}),
    ):
        with pytest.raises(ist.ValidationError) as exc:
            create(world.editor_s, **kwargs)
        assert exc.value.field == field
        assert isinstance(exc.value, ValueError)
    with pytest.raises(ist.ValidationError):
        ist.LocalTime(datetime(2026, 7, 1, tzinfo=timezone.utc))
    # DST gap: 02:30 does not exist in Berlin on 2026-03-29.
    with pytest.raises(ist.ValidationError) as exc:
        create(
            world.editor_s,
            start=ist.LocalTime(datetime(2026, 3, 29, 2, 30)),
            end=ist.LocalTime(datetime(2026, 3, 29, 4, 0)),
        )
    assert exc.value.field == "start_datetime"
    with pytest.raises(ist.ValidationError) as exc:
        create(world.editor_s, timezone="Mars/Olympus")
    assert exc.value.field == "timezone"
    with pytest.raises(ist.ValidationError) as exc:
        create(world.editor_s, end=T0 - timedelta(hours=1))
    assert exc.value.field == "end_datetime"
    # Instants outside years 1..9999 UTC: an aware datetime whose UTC instant Python
    # cannot hold, and a local time that lands in year 0 or 10000 once converted.
    tokyo = timezone(timedelta(hours=9))
    with pytest.raises(ist.ValidationError) as exc:
        create(world.editor_s, start=datetime(1, 1, 1, 0, 0, tzinfo=tokyo))
    assert exc.value.field == "start_datetime"
    with pytest.raises(ist.ValidationError) as exc:
        create(
            world.editor_s,
            timezone="Asia/Tokyo",
            start=ist.LocalTime(datetime(1, 1, 1, 0, 0)),
            end=ist.LocalTime(datetime(1, 1, 1, 10, 0)),
        )
    assert exc.value.field == "start_datetime"
    with pytest.raises(ist.ValidationError) as exc:
        create(
            world.editor_s,
            timezone="America/New_York",
            start=ist.LocalTime(datetime(9999, 12, 31, 12, 0)),
            end=ist.LocalTime(datetime(9999, 12, 31, 22, 0)),
        )
    assert exc.value.field == "end_datetime"


def test_update_partial_clear_and_versions(world: World) -> None:
    i = create(world.editor_s, location="Room 4", notes="n")
    u = world.editor_s.update_interaction(i.id, title="Renamed")
    assert (u.title, u.location, u.notes, u.version) == ("Renamed", "Room 4", "n", 2)
    assert u.updated_by == world.editor.id and u.updated_at is not None
    # Omitted leaves the field; explicit None clears it.
    u = world.editor_s.update_interaction(i.id, expected_version=2, location=None)
    assert (u.location, u.notes, u.version) == (None, "n", 3)
    # Stale version: conflict, nothing changes.
    with pytest.raises(ist.ConflictError):
        world.editor_s.update_interaction(i.id, expected_version=2, lead="Carol")
    assert world.editor_s.get_interaction(i.id).lead == "Alice"
    # Times and zone.
    new_start = T0 + timedelta(days=1)
    u = world.editor_s.update_interaction(
        i.id, start=new_start, end=new_start + timedelta(hours=2), timezone="Asia/Tokyo"
    )
    assert (u.start_datetime, u.timezone) == (new_start, "Asia/Tokyo")
    u = world.editor_s.update_interaction(
        i.id,
        start=ist.LocalTime(datetime(2026, 8, 1, 9, 0)),
        end=ist.LocalTime(datetime(2026, 8, 1, 10, 0)),
    )
    assert u.start_datetime == datetime(2026, 8, 1, 0, 0, tzinfo=timezone.utc)
    # An empty patch returns the record unchanged.
    assert world.editor_s.update_interaction(i.id) == u
    # Bad fields.
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        world.editor_s.update_interaction(i.id, colour="red")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        world.editor_s.update_interaction(i.id, title=None)  # type: ignore[arg-type]
    with pytest.raises(ist.ValidationError) as exc:
        world.editor_s.update_interaction(i.id, title="   ")
    assert exc.value.field == "title"
    with pytest.raises(ist.ValidationError) as exc:
        world.editor_s.update_interaction(i.id, start=datetime(2026, 1, 1))
    assert exc.value.field == "start_datetime"
    with pytest.raises(ist.NotFoundError):
        world.editor_s.update_interaction(999999, title="x")


def test_delete_restore_and_permissions(world: World) -> None:
    i = create(world.editor_s)
    with pytest.raises(ist.PermissionDeniedError):
        create(world.viewer_s)
    with pytest.raises(ist.PermissionDeniedError):
        world.viewer_s.update_interaction(i.id, title="x")
    with pytest.raises(ist.PermissionDeniedError):
        world.viewer_s.delete_interaction(i.id)
    with pytest.raises(ist.ConflictError):
        world.editor_s.delete_interaction(i.id, expected_version=7)
    world.editor_s.delete_interaction(i.id, expected_version=1)
    with pytest.raises(ist.NotFoundError):
        world.editor_s.get_interaction(i.id)
    with pytest.raises(ist.PermissionDeniedError):
        world.editor_s.restore_interaction(i.id)
    r = world.admin_s.restore_interaction(i.id)
    assert r.deleted_at is None and r.version == 3
    assert world.viewer_s.get_interaction(i.id) == r
    with pytest.raises(ist.NotFoundError):
        world.admin_s.restore_interaction(i.id)  # not deleted any more


def test_sites_are_isolated(world: World) -> None:
    from conftest import make_world

    other = make_world(world.store, tag="other")
    i = create(world.editor_s)
    with pytest.raises(ist.NotFoundError):
        other.admin_s.get_interaction(i.id)
    assert other.admin_s.finder().count() == 0


def test_members(world: World) -> None:
    s = world.admin_s
    names = {m.username: m.role for m in s.members()}
    assert names == {
        world.admin.username: "admin",
        world.editor.username: "editor",
        world.viewer.username: "viewer",
    }
    s.set_member_role(world.outsider.id, "editor")
    m = [m for m in s.members() if m.user_id == world.outsider.id][0]
    assert m.role == "editor" and m.assigned_at.tzinfo is not None
    assert m.to_dict()["role"] == "editor"
    s.remove_member(world.outsider.id)
    assert world.outsider.id not in [m.user_id for m in s.members()]
    with pytest.raises(ist.PermissionDeniedError):
        world.editor_s.members()
    with pytest.raises(ist.PermissionDeniedError):
        world.editor_s.set_member_role(world.outsider.id, "viewer")
    with pytest.raises(ist.ValidationError):
        s.set_member_role(world.outsider.id, "root")  # type: ignore[arg-type]


def test_audit_trail_and_paging(world: World) -> None:
    i = create(world.editor_s)
    world.editor_s.update_interaction(i.id, title="Second")
    world.editor_s.delete_interaction(i.id)
    world.admin_s.restore_interaction(i.id)
    page = world.admin_s.audit_trail()
    mine = [
        (e.action, e.entity)
        for e in page.entries
        if e.entity_id == i.id and e.entity == "interaction"
    ]
    assert mine == [
        ("restore", "interaction"),
        ("delete", "interaction"),
        ("update", "interaction"),
        ("create", "interaction"),
    ]
    update = [e for e in page.entries if e.action == "update"][0]
    assert update.changes["title"] == {"old": "Weekly sync", "new": "Second"}
    assert update.actor_id == world.editor.id and update.site_id == world.site.id
    assert update.to_dict()["changes"] == update.changes
    # Paging with cursors walks everything exactly once.
    seen = []
    p = world.admin_s.audit_trail(limit=2)
    while True:
        assert len(p) <= 2
        seen += [e.id for e in p.entries]
        if p.next_cursor is None:
            break
        p = world.admin_s.audit_trail(2, p.next_cursor)
    assert seen == sorted(seen, reverse=True) and len(seen) == len(set(seen))
    assert seen == [e.id for e in world.admin_s.audit_trail(limit=500).entries]
    with pytest.raises(ist.PermissionDeniedError):
        world.editor_s.audit_trail()
    with pytest.raises(ist.ValidationError) as exc:
        world.admin_s.audit_trail(limit=501)
    assert exc.value.field == "limit"
    with pytest.raises(ist.ValidationError) as exc:
        world.admin_s.audit_trail(after="garbage")
    assert exc.value.field == "cursor"
    assert p.to_dict()["next_cursor"] is None


def test_values_are_immutable_comparable_and_dictable(world: World) -> None:
    i = create(world.editor_s)
    again = world.editor_s.get_interaction(i.id)
    assert i == again and i is not again
    assert i != world.editor_s.update_interaction(i.id, title="changed")
    with pytest.raises(AttributeError):
        i.title = "mutated"  # type: ignore[misc]
    assert hash(i) == hash(again) and {i: 1}[again] == 1  # immutable: hashable
    d = i.to_dict()
    assert d["id"] == i.id and d["start_datetime"] == T0 and d["location"] is None
    assert set(d) == {
        "id", "site_id", "title", "interaction_type", "lead", "start_datetime",
        "end_datetime", "timezone", "location", "description", "notes", "created_by",
        "created_at", "updated_by", "updated_at", "deleted_at", "deleted_by", "version",
        "archived_at",
    }  # fmt: skip
    r = repr(i)
    assert r.startswith("Interaction(") and "'Weekly sync'" in r
    assert repr(world.site).startswith("Site(")
    assert repr(world.admin).startswith("User(") and "email=" in repr(world.admin)
    with pytest.raises(TypeError):
        ist.Interaction()  # type: ignore[call-arg]
    page = world.editor_s.finder().fetch()
    assert page == world.editor_s.finder().fetch()
    assert page.to_dict()["items"][0]["id"] == page.items[0].id
    assert "Page(items=<1 interactions>" in repr(page)
    current = world.store.schema_version()
    assert current is not None
    assert ist.SCHEMA_VERSION <= current and not ist.SCHEMA_VERSION < current
    assert hash(ist.SCHEMA_VERSION) == hash(world.store.schema_version())
