"""The asyncio API: the same names as the blocking API, awaitables, async iteration, and
cancellation that leaves nothing half-written."""

from __future__ import annotations

import asyncio
import inspect
from datetime import timedelta

import pytest

import interaction_store as ist
from conftest import PASSWORD, T0, create

PAIRS = [
    (ist.InteractionStore, ist.AsyncInteractionStore),
    (ist.SiteSession, ist.AsyncSiteSession),
    (ist.Finder, ist.AsyncFinder),
]


def public(cls: type) -> dict:
    return {n: getattr(cls, n) for n in dir(cls) if not n.startswith("_")}


@pytest.mark.parametrize("sync_cls,async_cls", PAIRS)
def test_sync_and_async_apis_are_parallel(sync_cls: type, async_cls: type) -> None:
    s, a = public(sync_cls), public(async_cls)
    assert sorted(s) == sorted(a)
    for name, member in s.items():
        if callable(member):
            assert str(inspect.signature(member)) == str(inspect.signature(a[name])), name


def test_async_end_to_end(url: str) -> None:
    async def main() -> None:
        store = await ist.AsyncInteractionStore.connect(url, max_connections=5)
        assert store.backend in ("sqlite", "postgres")
        assert await store.schema_version() == ist.SCHEMA_VERSION
        await store.check_schema()
        assert await store.migrate() == []
        site = await store.create_site("Async site", "desc")
        admin, viewer = await asyncio.gather(
            store.create_user("asyncadmin", "aa@example.com", PASSWORD),
            store.create_user("asyncviewer", "av@example.com", PASSWORD),
        )
        await store.grant_role(admin.id, site.id, "admin")
        await store.grant_role(viewer.id, site.id, "viewer")
        assert await store.get_user(admin.id) == admin
        assert (await store.get_user_by_username("asyncviewer")).id == viewer.id
        assert await store.get_site(site.id) == site
        assert await store.list_sites() == [site]
        assert await store.user_sites(admin.id) == [(site, "admin")]
        assert (await store.set_site_active(site.id, True)).is_active
        await store.set_password(viewer.id, "another password")
        assert (await store.set_user_active(viewer.id, True)).is_active

        token = await store.login("asyncadmin", PASSWORD)
        s = await store.session(token.token, site.id)
        assert isinstance(s, ist.AsyncSiteSession) and s.role == "admin"
        i = await create(s, location="here")
        assert (await s.get_interaction(i.id)) == i
        u = await s.update_interaction(i.id, expected_version=1, location=None)
        assert u.location is None and u.version == 2
        with pytest.raises(ist.ConflictError):
            await s.update_interaction(i.id, expected_version=1, title="stale")
        for n in range(5):
            await create(s, title=f"Item {n}", start=T0 + timedelta(hours=n),
                         end=T0 + timedelta(hours=n + 1))  # fmt: skip
        f = s.finder().limit(2)
        assert isinstance(f, ist.AsyncFinder)
        page = await f.fetch()
        assert len(page.items) == 2 and page.next_cursor
        assert await f.count() == 6
        assert await f.text("item").count() == 5
        assert isinstance(await f.explain(), str)
        walked = [x.id async for x in f.iter()]
        assert len(walked) == 6 and len(set(walked)) == 6
        assert [x.id async for x in f.text("nothing").iter()] == []
        await s.delete_interaction(i.id, expected_version=2)
        with pytest.raises(ist.NotFoundError):
            await s.get_interaction(i.id)
        assert (await s.restore_interaction(i.id)).version == 4
        await s.set_member_role(viewer.id, "editor")
        assert {m.role for m in await s.members()} == {"admin", "editor"}
        await s.remove_member(viewer.id)
        trail = await s.audit_trail(limit=3)
        assert len(trail.entries) == 3 and trail.next_cursor
        more = await s.audit_trail(3, trail.next_cursor)
        assert more.entries[0].id < trail.entries[-1].id
        viewer_s = await store.session_for_user(admin.id, site.id)
        assert viewer_s.user_id == admin.id
        assert len(await store.access_log(5)) >= 1
        await store.logout(token.token)
        with pytest.raises(ist.AuthenticationError):
            await store.session(token.token, site.id)
        # Errors surface as the same classes, with fields.
        with pytest.raises(ist.ValidationError) as exc:
            await create(s, title="")
        assert exc.value.field == "title"
        with pytest.raises(ist.ValidationError) as exc:
            await s.finder().limit(0).fetch()
        assert exc.value.field == "limit"
        await store.close()
        assert store.closed
        with pytest.raises(ist.UnavailableError, match="the store is closed"):
            await store.list_sites()
        with pytest.raises(ist.UnavailableError, match="the store is closed"):
            await f.fetch()

    asyncio.run(main())


def test_async_context_manager(url: str) -> None:
    async def main() -> ist.AsyncInteractionStore:
        async with await ist.AsyncInteractionStore.connect(url) as store:
            assert await store.list_sites() == []
        return store

    store = asyncio.run(main())
    assert store.closed


def test_async_connect_errors(fresh_url: object) -> None:
    async def main() -> None:
        with pytest.raises(ist.ValidationError):
            await ist.AsyncInteractionStore.connect("ftp://nope")
        with pytest.raises(ist.UnavailableError):
            await ist.AsyncInteractionStore.connect(
                "postgres://postgres@127.0.0.1:1/x", acquire_timeout=1
            )

    asyncio.run(main())


def test_cancelled_writes_leave_nothing_half_written(url: str) -> None:
    """Writes cut off by tiny wait_for timeouts either commit whole (row + audit) or not
    at all, and the store stays usable."""

    async def main() -> None:
        store = await ist.AsyncInteractionStore.connect(url)
        site = await store.create_site("Cancel site")
        u = await store.create_user("canceller", "c@example.com", PASSWORD)
        await store.grant_role(u.id, site.id, "admin")
        s = await store.session_for_user(u.id, site.id)
        target = await create(s, title="Target")
        timeouts = cancelled = 0
        for n in range(60):
            timeout = [0.0, 0.0005, 0.001, 0.003][n % 4]
            try:
                await asyncio.wait_for(create(s, title=f"Cancelled {n}"), timeout)
            except asyncio.TimeoutError:
                timeouts += 1
            try:
                await asyncio.wait_for(
                    s.update_interaction(target.id, notes=f"note {n}"), timeout
                )
            except asyncio.TimeoutError:
                cancelled += 1
        assert timeouts > 0 and cancelled > 0
        # Still usable right away.
        after = await create(s, title="After the storm")
        assert (await s.get_interaction(after.id)).title == "After the storm"
        # close() waits for the writes still in flight; then check on a new handle.
        await store.close()

        store = await ist.AsyncInteractionStore.connect(url)
        s = await store.session_for_user(u.id, site.id)
        items = [i async for i in s.finder().limit(500).iter()]
        audit = []
        cursor = None
        while True:
            page = await s.audit_trail(500, cursor)
            audit += page.entries
            cursor = page.next_cursor
            if cursor is None:
                break
        created = {e.entity_id for e in audit if e.entity == "interaction" and e.action == "create"}
        assert created == {i.id for i in items}
        updates = [
            e
            for e in audit
            if e.entity == "interaction" and e.entity_id == target.id and e.action == "update"
        ]
        t = await s.get_interaction(target.id)
        assert t.version == 1 + len(updates)
        if updates:
            assert t.notes == updates[0].changes["notes"]["new"]  # newest update won
        await store.close()

    asyncio.run(main())


def test_cancelled_login_and_reads_are_harmless(url: str) -> None:
    async def main() -> None:
        store = await ist.AsyncInteractionStore.connect(url)
        await store.create_user("slowpoke", "s@example.com", PASSWORD)
        for _ in range(5):
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(store.login("slowpoke", PASSWORD), 0.0001)
            try:
                await asyncio.wait_for(store.list_sites(), 0.0001)
            except asyncio.TimeoutError:
                pass
        token = await store.login("slowpoke", PASSWORD)
        assert token.token
        task = asyncio.ensure_future(store.list_sites())
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await store.list_sites() == []
        await store.close()

    asyncio.run(main())


def test_many_concurrent_awaitables(url: str) -> None:
    async def main() -> None:
        store = await ist.AsyncInteractionStore.connect(url, max_connections=4)
        site = await store.create_site("Busy")
        u = await store.create_user("busy", "b@example.com", PASSWORD)
        await store.grant_role(u.id, site.id, "editor")
        s = await store.session_for_user(u.id, site.id)
        made = await asyncio.gather(*(create(s, title=f"C{n}") for n in range(40)))
        assert len({i.id for i in made}) == 40
        got = await asyncio.gather(*(s.get_interaction(i.id) for i in made))
        assert got == made
        await store.close()

    asyncio.run(main())
