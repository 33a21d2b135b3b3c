"""Privacy and verification (issue 10, second pass): the integrity report, the right to be
forgotten, list_users, pending migrations, bulk creation, masked reads and the access log
of reads; blocking and asyncio, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any, Callable, Dict, List

import pytest

import interaction_store as ist
from conftest import PASSWORD, T0, World, create
from test_cache import REPO, readme_block

ITEM: Dict[str, Any] = dict(
    interaction_type="meeting",
    lead="Ana María López",
    start=T0,
    end=T0 + timedelta(hours=1),
    timezone="Europe/Berlin",
)


def items(n: int, **overrides: Any) -> List[ist.NewInteraction]:
    out: List[ist.NewInteraction] = []
    for i in range(n):
        item: ist.NewInteraction = {"title": f"Bulk {i}", **ITEM}  # type: ignore[typeddict-item]
        out.append(item)
    return out


def test_verify_on_a_fresh_store(store: ist.InteractionStore) -> None:
    report = store.verify()
    assert isinstance(report, ist.IntegrityReport)
    assert report.ok is True and report.problems == [] and report.missing_tables == []
    assert report.schema_version == str(ist.SCHEMA_VERSION)
    assert report.required_version == ist.SCHEMA_VERSION
    assert [m.id for m in report.migrations] == [1, 2, 3, 4]
    assert {m.state for m in report.migrations} == {"applied"}
    assert report.migrations[-1].version == str(ist.SCHEMA_VERSION)
    assert report.counts == store.counts()
    assert report.checks and all(c.failing == 0 for c in report.checks)
    check = report.check("interactions_without_site")
    assert check is not None and check.failing == 0 and check.description
    assert report.check("no_such_check") is None
    users = report.table("users")
    assert users is not None and users.rows == 0 and len(users.digest) == 64
    assert report.table("no_such_table") is None
    assert {t.table for t in report.tables} >= {"interactions", "interactions_archive", "audit_log"}
    # A value: equal for an unchanged database, different after a change.
    assert store.verify() == report
    d = report.to_dict()
    assert d["ok"] is True and d["problems"] == [] and d["counts"]["users"] == 0
    assert d["migrations"][0]["state"] == "applied" and "digest" in d["tables"][0]
    assert repr(report).startswith("IntegrityReport(ok=True, schema_version=")
    store.create_user("verified", "verified@example.com", PASSWORD)
    after = store.verify()
    assert after.ok and after != report and after.counts.users == 1
    changed = after.table("users")
    assert changed is not None and changed.rows == 1 and changed.digest != users.digest


def test_verify_reports_problems_instead_of_raising(fresh_url: Callable[..., str]) -> None:
    empty = ist.InteractionStore.connect(fresh_url(migrated=False), check_schema=False)
    try:
        report = empty.verify()
        assert not report.ok and report.problems
        assert report.schema_version is None
        assert "users" in report.missing_tables
        assert {m.state for m in report.migrations} == {"pending"}
        users_check = report.check("memberships_without_user")
        assert users_check is not None and users_check.failing is None
    finally:
        empty.close()


def test_pending_migrations(fresh_url: Callable[..., str], backend: str) -> None:
    store = ist.InteractionStore.connect(fresh_url(migrated=False), check_schema=False)
    try:
        pending = store.pending_migrations()
        assert [m.id for m in pending] == [1, 2, 3, 4]
        assert all(isinstance(m, ist.PendingMigration) for m in pending)
        assert pending[-1].name == "lifecycle" and pending[-1].version == ist.SCHEMA_VERSION
        assert all("CREATE TABLE" in m.sql.upper() or m.sql.strip() for m in pending)
        assert "interactions_archive" in pending[-1].sql
        assert pending[0].to_dict()["id"] == 1
        assert store.migrate() == [m.version for m in pending]
        assert store.pending_migrations() == []
    finally:
        store.close()


def test_anonymize_user_and_list_users(world: World) -> None:
    store = world.store
    before = store.list_users()
    assert [u.id for u in before] == sorted(u.id for u in before)
    assert world.viewer in before
    old = world.viewer
    store.login(old.username, PASSWORD)
    s = store.session_for_user(old.id, world.site.id)
    create(world.editor_s, title=f"Call with {old.username}", notes=f"mail {old.email}")

    gone = store.anonymize_user(old.id)
    assert gone.id == old.id and not gone.is_active
    assert gone.username != old.username and gone.email != old.email
    with pytest.raises(ist.AuthenticationError) as e:
        store.login(old.username, PASSWORD)
    assert e.value.code == "AUTHENTICATION_FAILED"
    with pytest.raises(ist.NotFoundError):
        store.get_user_by_username(old.username)
    with pytest.raises(ist.PermissionDeniedError):
        s.finder().fetch()  # the open session fails at its next call
    users = store.list_users()
    assert len(users) == len(before)
    assert [u for u in users if u.id == old.id] == [gone]
    page = world.editor_s.finder().fetch()
    assert all(old.username not in (i.title + (i.notes or "")) for i in page.items)
    assert store.verify().ok

    with pytest.raises(ist.NotFoundError):
        store.anonymize_user(999_999)
    with pytest.raises(ist.ValidationError) as v:
        store.anonymize_user(0)
    assert v.value.field == "user_id"
    with pytest.raises(TypeError, match="'user_id'"):
        store.anonymize_user("1")  # type: ignore[arg-type]


def test_create_interactions(world: World) -> None:
    s = world.editor_s
    created = s.create_interactions(items(3))
    assert [i.title for i in created] == ["Bulk 0", "Bulk 1", "Bulk 2"]
    assert len({i.id for i in created}) == 3 and all(i.version == 1 for i in created)
    assert len({i.created_at for i in created}) == 1
    assert s.finder().count() == 3
    assert s.create_interactions([]) == []
    full = items(1)[0]
    full.update({"location": "Room 1", "description": "d", "notes": "n", "idempotency_key": "bulk-key"})
    (one,) = s.create_interactions([full])
    assert (one.location, one.description, one.notes) == ("Room 1", "d", "n")
    assert s.create_interactions((full,)) == [one]  # the idempotency key, as for one create

    # A bad row at index 2: a ValidationError naming it, and nothing written.
    bad = items(4)
    bad[2]["title"] = ""
    with pytest.raises(ist.ValidationError) as e:
        s.create_interactions(bad)
    assert e.value.field == "interactions[2].title" and e.value.code == "VALIDATION"
    late = items(2)
    late[1]["end"] = T0 - timedelta(hours=1)
    with pytest.raises(ist.ValidationError) as e:
        s.create_interactions(late)
    assert e.value.field is not None and e.value.field.startswith("interactions[1].")
    naive = items(3)
    naive[1]["start"] = T0.replace(tzinfo=None)
    with pytest.raises(ist.ValidationError) as e:
        s.create_interactions(naive)
    assert e.value.field == "interactions[1].start_datetime"
    assert s.finder().count() == 4

    # Wrong Python types: TypeError naming the item and key.
    wrong = items(3)
    wrong[2]["title"] = 5  # type: ignore[typeddict-item]
    with pytest.raises(TypeError, match=r"'interactions\[2\]\.title' must be str"):
        s.create_interactions(wrong)
    missing = items(2)
    del missing[1]["lead"]  # type: ignore[misc]
    with pytest.raises(TypeError, match=r"missing required key 'lead' in interactions\[1\]"):
        s.create_interactions(missing)
    unknown = items(1)
    unknown[0]["locaton"] = "x"  # type: ignore[typeddict-unknown-key]
    with pytest.raises(TypeError, match=r"unexpected key 'locaton' in interactions\[0\]"):
        s.create_interactions(unknown)
    with pytest.raises(TypeError, match=r"'interactions\[1\]' must be a dict"):
        s.create_interactions([items(1)[0], "row"])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="'interactions' must be a list of dicts"):
        s.create_interactions(items(1)[0])  # type: ignore[arg-type]
    assert s.finder().count() == 4

    with pytest.raises(ist.PermissionDeniedError):
        world.viewer_s.create_interactions(items(1))
    with pytest.raises(ist.ValidationError) as e:
        s.create_interactions(items(1001))
    assert e.value.field == "interactions"


def test_masked_reads(world: World) -> None:
    s = world.editor_s
    i = create(s, lead="Ana María López", description="secret plan", notes="private notes",
               location="Room 1")
    create(s, title="Other", lead="  ana  ")
    page = s.finder().masked().sort("start_asc").fetch()
    assert len(page) == 2
    for item in page.items:
        assert item.notes is None and item.description is None
    assert sorted(item.lead for item in page.items) == ["A. M.", "a."]
    masked = next(item for item in page.items if item.id == i.id)
    assert masked == i.masked()
    assert (masked.title, masked.location, masked.version) == (i.title, "Room 1", i.version)
    again = s.finder().masked().masked(False).fetch()
    assert next(x for x in again.items if x.id == i.id) == i
    unmasked = s.get_interaction(i.id)
    assert unmasked.notes == "private notes" and unmasked.lead == "Ana María López"
    assert sorted(x.lead for x in s.finder().masked().iter()) == ["A. M.", "a."]

    u = world.store.create_user("ana_lopez", "ana@example.com", PASSWORD)
    mu = u.masked()
    assert (mu.id, mu.username, mu.email, mu.is_active) == (u.id, "a***", "a***@example.com", True)


def test_access_log_of_reads(fresh_url: Callable[..., str]) -> None:
    store = ist.InteractionStore.connect(fresh_url(), access_logging=True, max_connections=5)
    try:
        site = store.create_site("Logged")
        user = store.create_user("reader", "reader@example.com", PASSWORD)
        store.grant_role(user.id, site.id, "editor")
        s = store.session_for_user(user.id, site.id)
        i = create(s)
        got = s.get_interaction(i.id)
        assert got == i
        entry = store.access_log(1)[0]
        assert isinstance(entry, ist.AccessLogEntry)
        assert entry.action == "read" and entry.success is True
        assert entry.resource == f"interaction:{i.id}"
        assert entry.site_id == site.id and entry.user_id == user.id
        assert entry.username == "reader" and entry.detail == "ok"
        d = entry.to_dict()
        assert (d["resource"], d["site_id"], d["detail"]) == (f"interaction:{i.id}", site.id, "ok")
        with pytest.raises(ist.NotFoundError):
            s.get_interaction(i.id + 1000)
        refused = store.access_log(1)[0]
        assert refused.success is False and refused.resource == f"interaction:{i.id + 1000}"
        assert refused.detail is not None and refused.detail != "ok"
        s.finder().fetch()
        assert store.access_log(1)[0].resource == "finder"
        store.login("reader", PASSWORD)
        login = store.access_log(1)[0]
        assert login.action == "login" and login.resource is None and login.site_id is None
    finally:
        store.close()


def test_async_privacy(fresh_url: Callable[..., str]) -> None:
    url, empty = fresh_url(), fresh_url(migrated=False)

    async def main() -> None:
        store = await ist.AsyncInteractionStore.connect(url, access_logging=True, max_connections=5)
        try:
            report = await store.verify()
            assert report.ok and report.problems == []
            site = await store.create_site("Async privacy")
            admin = await store.create_user("asyncadmin", "asyncadmin@example.com", PASSWORD)
            await store.grant_role(admin.id, site.id, "admin")
            s = await store.session_for_user(admin.id, site.id)
            created = await s.create_interactions(items(3))
            assert [i.title for i in created] == ["Bulk 0", "Bulk 1", "Bulk 2"]
            bad = items(3)
            bad[2]["title"] = ""
            with pytest.raises(ist.ValidationError) as e:
                await s.create_interactions(bad)
            assert e.value.field == "interactions[2].title"
            page = await s.finder().masked().fetch()
            assert {i.lead for i in page.items} == {"A. M."}
            await s.get_interaction(created[0].id)
            log = await store.access_log(5)
            assert any(e.resource == f"interaction:{created[0].id}" for e in log)
            other = await store.create_user("forgetme", "forgetme@example.com", PASSWORD)
            gone = await store.anonymize_user(other.id)
            assert gone.username != "forgetme" and not gone.is_active
            assert gone in await store.list_users()
            with pytest.raises(ist.AuthenticationError):
                await store.login("forgetme", PASSWORD)
            assert await store.pending_migrations() == []
        finally:
            await store.close()
        fresh = await ist.AsyncInteractionStore.connect(empty, check_schema=False)
        try:
            assert len(await fresh.pending_migrations()) == 4
        finally:
            await fresh.close()

    asyncio.run(main())


def test_readme_privacy_example_runs(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = readme_block(REPO / "bindings-python" / "README.md", "### Privacy and verification", "python")
    assert '"sqlite://privacy.db", migrate=True' in code
    # The test's database (already migrated: migrate=True is a no-op there).
    code = code.replace('"sqlite://privacy.db"', repr(url))
    capsys.readouterr()
    exec(compile(code, "README.md#privacy-and-verification", "exec"), {"ist": ist})
    assert capsys.readouterr().out.splitlines() == [
        "True", "[]", "True", "A. M. None True", "a***@example.com", "False True"]
