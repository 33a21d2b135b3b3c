"""Values are plain Python citizens: picklable, hashable, copyable, iterable pages, a
one-call JSON form, and pydantic's from_attributes / FastAPI-style encoding."""

from __future__ import annotations

import copy
import json
import pickle
from datetime import datetime

import pytest

import interaction_store as ist
from conftest import T0, World, create


def values(world: World) -> list:
    i = create(world.editor_s, location="Room 1")
    world.editor_s.update_interaction(i.id, title="changed")
    page = world.editor_s.finder().fetch()
    audit = world.admin_s.audit_trail()
    return [
        world.editor_s.get_interaction(i.id),
        page.items[0],
        page,
        audit,
        audit.entries[0],
        world.site,
        world.admin,
        world.admin_s.members()[0],
        world.store.login(world.admin.username, "correct horse battery"),
        world.store.schema_version(),
        world.store.counts(),
        world.store.purge(dry_run=True),
    ]


def test_pickle_copy_hash_round_trip(world: World) -> None:
    for v in values(world):
        back = pickle.loads(pickle.dumps(v))
        assert back == v and type(back) is type(v), v
        assert hash(back) == hash(v), v
        assert copy.copy(v) == v and copy.deepcopy(v) == v
        assert copy.deepcopy({"k": [v]}) == {"k": [v]}
    i = values(world)[1]
    assert len({i, pickle.loads(pickle.dumps(i))}) == 1
    other = world.editor_s.update_interaction(i.id, title="again")
    assert other != i and hash(other) != hash(i)


def test_page_iterates(world: World) -> None:
    made = [create(world.editor_s, title=f"t{n}") for n in range(3)]
    page = world.editor_s.finder().limit(2).fetch()
    assert list(page) == page.items and len(page) == 2
    assert [i.id for i in page] == [i.id for i in page.items]
    assert {i.id for i in world.editor_s.finder()} == {m.id for m in made}
    audit = world.admin_s.audit_trail()
    assert list(audit) == audit.entries


def test_to_json_is_one_call(world: World) -> None:
    i = create(world.editor_s)
    d = json.loads(i.to_json())
    assert d["id"] == i.id and d["start_datetime"] == T0.isoformat()
    assert datetime.fromisoformat(d["created_at"]) == i.created_at
    p = json.loads(world.editor_s.finder().fetch().to_json())
    assert p["items"][0]["title"] == i.title and p["next_cursor"] is None
    assert json.loads(world.store.schema_version().to_json())["major"] >= 1
    e = world.admin_s.audit_trail().entries[0]
    assert json.loads(e.to_json())["changes"] == e.changes


def test_pydantic_from_attributes(world: World) -> None:
    import pydantic
    from typing import List, Optional

    class InteractionOut(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(from_attributes=True)
        id: int
        title: str
        start_datetime: datetime
        location: Optional[str]

    class PageOut(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(from_attributes=True)
        items: List[InteractionOut]
        next_cursor: Optional[str]

    i = create(world.editor_s, location="Room 1")
    out = InteractionOut.model_validate(i)
    assert out.id == i.id and out.start_datetime == i.start_datetime
    page = PageOut.model_validate(world.editor_s.finder().fetch())
    assert page.items[0].title == i.title
    # What FastAPI does with a returned dict: to_dict() is the one-liner.
    assert json.loads(pydantic.TypeAdapter(dict).dump_json(i.to_dict()))["id"] == i.id
