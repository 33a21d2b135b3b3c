"""The Finder builder: filters, sorts, paging, count, explain, iteration."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

import interaction_store as ist
from conftest import T0, World, create


def seed(world: World) -> list:
    s = world.editor_s
    items = [
        create(s, title="Budget review", interaction_type="meeting", lead="Alice Smith",
               start=T0, end=T0 + timedelta(hours=1), description="annual budget"),
        create(s, title="Client call", interaction_type="call", lead="Bob Jones",
               start=T0 + timedelta(days=1), end=T0 + timedelta(days=1, hours=1),
               notes="budget numbers follow-up"),
        create(s, title="Site visit", interaction_type="visit", lead="Carol 100%_Sure",
               start=T0 + timedelta(days=2), end=T0 + timedelta(days=4)),
        create(world.admin_s, title="Planning", interaction_type="meeting", lead="Alice",
               start=T0 - timedelta(days=3), end=T0 - timedelta(days=3) + timedelta(hours=2)),
    ]  # fmt: skip
    return items


def ids(page: ist.Page) -> list:
    return [i.id for i in page.items]


def test_filters(world: World) -> None:
    a, b, c, d = seed(world)
    f = world.viewer_s.finder()
    assert ids(f.fetch()) == [c.id, b.id, a.id, d.id]  # start_desc default
    assert set(ids(f.text("budget").fetch())) == {a.id, b.id}
    assert ids(f.text("budget -numbers").fetch()) == [a.id]
    assert set(ids(f.text('"annual budget" or visit').fetch())) == {a.id, c.id}
    assert ids(f.types(["meeting"]).fetch()) == [a.id, d.id]
    assert set(ids(f.types(["call", "visit"]).fetch())) == {b.id, c.id}
    assert ids(f.title_contains("CLIENT").fetch()) == [b.id]
    assert ids(f.lead_contains("100%_").fetch()) == [c.id]  # LIKE metacharacters escaped
    assert ids(f.lead_contains("%").fetch()) == [c.id]
    assert ids(f.created_by(world.admin.id).fetch()) == [d.id]
    window = (T0 + timedelta(days=1, minutes=30), T0 + timedelta(days=3))
    assert ids(f.date_range(*window).fetch()) == [c.id, b.id]
    assert ids(f.date_range(*window, mode="overlap").fetch()) == [c.id, b.id]
    assert ids(f.date_range(T0, T0 + timedelta(days=5), "contained").fetch()) == [c.id, b.id, a.id]
    # Chaining combines filters; each builder call returns a new Finder.
    base = f.types(["meeting"])
    narrowed = base.lead_contains("smith")
    assert ids(narrowed.fetch()) == [a.id]
    assert ids(base.fetch()) == [a.id, d.id]
    assert f.count() == 4 and base.count() == 2 and f.text("budget").count() == 2


def test_sorts_and_relevance(world: World) -> None:
    a, b, c, d = seed(world)
    f = world.viewer_s.finder()
    assert ids(f.sort("start_asc").fetch()) == [d.id, a.id, b.id, c.id]
    assert ids(f.sort("start_desc").fetch()) == [c.id, b.id, a.id, d.id]
    assert ids(f.sort("created_desc").fetch()) == [d.id, c.id, b.id, a.id]
    rel = f.text("budget").sort("relevance").fetch()
    assert ids(rel)[0] == a.id  # title match ranks first
    with pytest.raises(ist.ValidationError) as exc:
        f.sort("relevance").fetch()
    assert exc.value.field == "sort"
    with pytest.raises(ist.ValidationError) as exc:
        f.sort("newest")  # type: ignore[arg-type]
    assert exc.value.field == "sort"
    with pytest.raises(ist.ValidationError) as exc:
        f.date_range(T0, T0, "inside")  # type: ignore[arg-type]
    assert exc.value.field == "date_range"


def test_paging_cursors_and_iter(world: World) -> None:
    made = [
        create(world.editor_s, title=f"Item {n}", start=T0 + timedelta(hours=n),
               end=T0 + timedelta(hours=n + 1))
        for n in range(7)
    ]  # fmt: skip
    f = world.viewer_s.finder().limit(3)
    p1 = f.fetch()
    assert len(p1.items) == 3 and p1.next_cursor is not None
    p2 = f.after(p1.next_cursor).fetch()
    p3 = f.after(p2.next_cursor or "").fetch()
    assert p3.next_cursor is None and len(p3.items) == 1
    walked = ids(p1) + ids(p2) + ids(p3)
    assert walked == [i.id for i in reversed(made)]
    assert [i.id for i in f.iter()] == walked
    assert [i.id for i in f.sort("start_asc").iter()] == [i.id for i in made]
    assert list(world.viewer_s.finder().text("nothingmatches").iter()) == []
    it = f.iter()
    assert iter(it) is it
    # A cursor belongs to its query.
    with pytest.raises(ist.ValidationError) as exc:
        f.types(["call"]).after(p1.next_cursor).fetch()
    assert exc.value.field == "cursor"
    with pytest.raises(ist.ValidationError):
        f.after("!!!").fetch()
    for bad in (0, 501, -1, 2**70):
        with pytest.raises(ist.ValidationError) as exc:
            f.limit(bad).fetch()
        assert exc.value.field == "limit"


def test_include_deleted_and_explain(world: World) -> None:
    a, b, c, d = seed(world)
    world.editor_s.delete_interaction(b.id)
    assert b.id not in ids(world.admin_s.finder().fetch())
    with_deleted = world.admin_s.finder().include_deleted().fetch()
    assert b.id in ids(with_deleted)
    deleted = [i for i in with_deleted.items if i.id == b.id][0]
    assert deleted.deleted_at is not None and deleted.deleted_by == world.editor.id
    assert world.admin_s.finder().include_deleted(False).count() == 3
    with pytest.raises(ist.PermissionDeniedError):
        world.editor_s.finder().include_deleted().fetch()
    plan = world.viewer_s.finder().explain()
    assert isinstance(plan, str) and plan
    assert "Finder" in repr(world.viewer_s.finder())


def test_finder_input_validation(world: World) -> None:
    f = world.viewer_s.finder()
    with pytest.raises(ist.ValidationError) as exc:
        f.text("").fetch()
    assert exc.value.field == "text"
    with pytest.raises(ist.ValidationError) as exc:
        f.text("-excluded").fetch()
    assert exc.value.field == "text"
    with pytest.raises(ist.ValidationError) as exc:
        f.text("x" * 1001).fetch()
    assert exc.value.field == "text"
    with pytest.raises(ist.ValidationError) as exc:
        f.types([f"t{n}" for n in range(51)]).fetch()
    assert exc.value.field == "types"
    with pytest.raises(ist.ValidationError) as exc:
        f.date_range(T0, T0 - timedelta(days=1)).fetch()
    assert exc.value.field == "date_range"
    with pytest.raises(ist.ValidationError) as exc:
        f.date_range(datetime(2026, 1, 1), datetime(2026, 2, 1, tzinfo=timezone.utc))
    assert exc.value.field == "date_range"
    with pytest.raises(ist.ValidationError) as exc:
        f.title_contains("a\0b").fetch()
    assert exc.value.field == "title_contains"
    with pytest.raises(ist.ValidationError) as exc:
        f.created_by(0).fetch()
    assert exc.value.field == "created_by"
    with pytest.raises(TypeError):
        f.types("meeting")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        f.types([1, 2])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        f.limit("10")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        f.limit(1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        f.date_range("2026-01-01", "2026-02-01")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        f.text(None)  # type: ignore[arg-type]
