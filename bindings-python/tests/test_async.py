"""The asyncio API: the same names as the blocking API, awaitables, async iteration, and
cancellation that leaves nothing half-written."""

from __future__ import annotations

import asyncio
import collections.abc
import inspect
import os
import sys
import threading
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
        # The open session of the revoked token is refused at its next call too.
        with pytest.raises(ist.AuthenticationError):
            await s.get_interaction(i.id)
        s = await store.session_for_user(admin.id, site.id)
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


# ------------------------------------------------ the bridge: coroutines on the loop's thread


async def _editor_session(url: str, name: str, **options: object) -> tuple:
    store = await ist.AsyncInteractionStore.connect(url, **options)
    site = await store.create_site(f"{name} site")
    u = await store.create_user(name, f"{name}@example.com", PASSWORD)
    await store.grant_role(u.id, site.id, "editor")
    return store, await store.session_for_user(u.id, site.id)


def test_calls_are_coroutines_for_asyncio(url: str) -> None:
    """create_task, TaskGroup, ensure_future, gather and wait_for all take a call."""

    async def main() -> None:
        store, s = await _editor_session(url, "coro")
        i = await create(s)
        call = s.get_interaction(i.id)
        assert asyncio.iscoroutine(call)
        assert isinstance(call, collections.abc.Coroutine)
        assert call.__qualname__ == "AsyncSiteSession.get_interaction"
        assert (await asyncio.create_task(call)) == i
        task = asyncio.ensure_future(s.get_interaction(i.id))
        assert isinstance(task, asyncio.Task) and (await task) == i
        if sys.version_info >= (3, 11):
            async with asyncio.TaskGroup() as tg:
                tasks = [tg.create_task(s.get_interaction(i.id)) for _ in range(3)]
            assert [t.result() for t in tasks] == [i, i, i]
        assert await asyncio.wait_for(s.get_interaction(i.id), timeout=30) == i
        assert await asyncio.gather(s.get_interaction(i.id), store.list_sites()) == [
            i,
            await store.list_sites(),
        ]
        # Builders stay synchronous; fetch/count/anext are coroutines too.
        f = s.finder()
        assert asyncio.iscoroutine(f.count()) is True
        assert await asyncio.create_task(f.count()) == 1
        assert [x.id async for x in f.iter()] == [i.id]
        # A coroutine runs once.
        call = s.get_interaction(i.id)
        await call
        with pytest.raises(RuntimeError, match="already awaited"):
            await call
        await store.close()

    asyncio.run(main())


def test_call_protocol_outside_a_task(url: str) -> None:
    """Nothing runs until awaited; close() and never awaiting are harmless; awaiting
    without a running loop raises RuntimeError."""

    async def main() -> None:
        store, s = await _editor_session(url, "proto", max_connections=1)
        i = await create(s)
        unawaited = [s.get_interaction(i.id) for _ in range(10)]
        closed = s.get_interaction(i.id)
        closed.close()
        with pytest.raises(RuntimeError):
            await closed
        del unawaited
        # The only connection is free: nothing ran, nothing holds it.
        assert await asyncio.wait_for(s.get_interaction(i.id), timeout=10) == i
        await store.close()

    asyncio.run(main())
    store = ist.InteractionStore.connect(url)
    call = ist.AsyncInteractionStore.connect(url)
    with pytest.raises(RuntimeError, match="no running event loop"):
        call.send(None)
    with pytest.raises(RuntimeError, match="already awaited"):
        call.send(None)
    store.close()


def test_cancelling_calls_in_flight_leaves_the_pool_usable(url: str) -> None:
    async def main() -> None:
        store, s = await _editor_session(url, "cancel", max_connections=1)
        made = [await create(s, title=f"Item {n}") for n in range(5)]
        for rounds in range(1, 6):
            tasks = [asyncio.create_task(s.get_interaction(m.id)) for m in made * 4]
            tasks.append(asyncio.create_task(s.finder().limit(500).fetch()))
            tasks.append(asyncio.create_task(s.finder().count()))
            for _ in range(rounds):
                await asyncio.sleep(0)
            for t in tasks:
                t.cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            for r in results:
                assert isinstance(r, (asyncio.CancelledError, ist.Interaction, ist.Page, int)), r
        # The single connection came back to the pool (or was replaced): calls still work.
        got = await asyncio.wait_for(
            asyncio.gather(*(s.get_interaction(m.id) for m in made)), timeout=30
        )
        assert got == made
        await store.close()

    asyncio.run(main())


def test_exceptions_keep_their_type_and_code(url: str) -> None:
    async def main() -> None:
        store, s = await _editor_session(url, "errs")
        with pytest.raises(ist.NotFoundError) as exc:
            await s.get_interaction(987654321)
        assert exc.value.code == "NOT_FOUND" and not exc.value.retryable
        with pytest.raises(ist.ValidationError) as exc2:
            await asyncio.create_task(create(s, title=""))
        assert exc2.value.code == "VALIDATION" and exc2.value.field == "title"
        with pytest.raises(ist.PermissionDeniedError) as exc3:
            await s.members()
        assert exc3.value.code == "PERMISSION_DENIED"
        r = await asyncio.gather(
            s.get_interaction(987654321), store.list_sites(), return_exceptions=True
        )
        assert isinstance(r[0], ist.NotFoundError) and r[0].code == "NOT_FOUND"
        assert isinstance(r[1], list)
        # A conversion error is raised by the method itself, before any coroutine exists.
        with pytest.raises(TypeError):
            s.get_interaction("one")  # type: ignore[arg-type]
        await store.close()

    asyncio.run(main())


def test_200_concurrent_awaits(url: str) -> None:
    async def main() -> None:
        store, s = await _editor_session(url, "many", max_connections=4)
        made = await asyncio.gather(*(create(s, title=f"M{n}") for n in range(20)))
        ids = [made[n % 20].id for n in range(200)]
        got = await asyncio.gather(*(s.get_interaction(i) for i in ids))
        assert [g.id for g in got] == ids
        counts = await asyncio.gather(*(s.finder().count() for _ in range(200)))
        assert counts == [20] * 200
        await store.close()

    asyncio.run(main())


def test_loops_in_several_threads_and_loops_that_close(url: str) -> None:
    """One store shared by loops in two threads at once, then by a series of loops that
    close (asyncio.run) on one thread."""
    setup = ist.InteractionStore.connect(url)
    site = setup.create_site("Loops")
    u = setup.create_user("loops", "l@example.com", PASSWORD)
    setup.grant_role(u.id, site.id, "editor")
    i = create(setup.session_for_user(u.id, site.id))
    store = asyncio.run(ist.AsyncInteractionStore.connect(url, max_connections=4))
    errors: list = []
    seen: list = []

    def worker() -> None:
        async def main() -> None:
            s = await store.session_for_user(u.id, site.id)
            for _ in range(10):
                got = await asyncio.gather(*(s.get_interaction(i.id) for _ in range(10)))
                seen.extend(g.id for g in got)

        try:
            for _ in range(3):
                asyncio.run(main())
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    assert seen == [i.id] * 600
    # A loop that is not closed and one that never ran a call: both fine.
    loop = asyncio.new_event_loop()
    try:
        assert loop.run_until_complete(store.list_sites()) == [site]
        assert loop.run_until_complete(store.list_sites()) == [site]
    finally:
        loop.close()
    asyncio.run(store.close())
    setup.close()


def test_a_forked_child_fails_fast_from_asyncio(url: str) -> None:
    store = asyncio.run(ist.AsyncInteractionStore.connect(url))
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: the method raises before any coroutine or loop is involved
        os.close(r)
        code = 1
        try:
            store.list_sites()
        except ist.UnavailableError as e:
            code = 0 if "forked child process" in str(e) else 2
        except BaseException:
            code = 3
        os.write(w, bytes([code]))
        os._exit(code)
    os.close(w)
    _, status = os.waitpid(pid, 0)
    assert os.read(r, 1) == b"\x00"
    os.close(r)
    assert os.waitstatus_to_exitcode(status) == 0
    assert asyncio.run(store.list_sites()) == []
    asyncio.run(store.close())
