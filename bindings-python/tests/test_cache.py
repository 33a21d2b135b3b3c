"""Caching options and statistics: `cache=`, `redis_url=`, `redis_timeout=`,
`cache_stats()`. The behaviour (what is cached, invalidation, Redis outages) is the core's
and tested there; these tests check that the options reach it and what comes back."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable, Dict

import pytest

import interaction_store as ist
from conftest import PASSWORD, Databases, create, make_world, redis_url


def test_default_is_the_memory_cache_and_finder_pages_hit(store: ist.InteractionStore) -> None:
    w = make_world(store)
    create(w.editor_s, title="Budget review")
    stats = store.cache_stats()
    assert isinstance(stats, ist.CacheStats)
    assert (stats.backend, stats.available) == ("memory", True)
    first = w.editor_s.finder().text("budget").fetch()
    hits = store.cache_stats().finder.hits
    again = w.editor_s.finder().text("budget").fetch()
    assert again == first and len(again) == 1
    stats = store.cache_stats()
    assert stats.finder.hits == hits + 1
    assert isinstance(stats.finder, ist.CacheCounts)
    assert stats.permissions.hits > 0  # every session call re-checks the session
    d = stats.to_dict()
    assert d["backend"] == "memory"
    assert d["finder"] == {"hits": stats.finder.hits, "misses": stats.finder.misses}
    assert set(d) == {
        "backend", "available", "auth", "permissions", "finder", "lookup", "bypassed", "outages"
    }
    assert repr(stats).startswith("CacheStats(backend='memory', available=True, auth=CacheCounts(")


def test_cache_off(url: str) -> None:
    with ist.InteractionStore.connect(url, cache=False) as s:
        w = make_world(s)
        w.editor_s.finder().fetch()
        w.editor_s.finder().fetch()
        stats = s.cache_stats()
        assert stats.backend == "off"
        assert (stats.finder.hits, stats.permissions.hits, stats.auth.hits) == (0, 0, 0)
    with pytest.raises(TypeError, match="argument 'cache' must be bool"):
        ist.InteractionStore.connect(url, cache=1)  # type: ignore[arg-type]


def test_bad_cache_options_are_validation_errors(url: str) -> None:
    for bad in ("http://cache:6379/", "cache:6379", ""):
        with pytest.raises(ist.ValidationError) as exc:
            ist.InteractionStore.connect(url, redis_url=bad)
        assert exc.value.field == "redis_url", bad
        assert exc.value.code == "VALIDATION"
    for bad_timeout in (0, timedelta(days=2), -1):
        with pytest.raises(ist.ValidationError) as exc:
            ist.InteractionStore.connect(url, redis_timeout=bad_timeout)
        assert exc.value.field == "redis_timeout", bad_timeout
    with pytest.raises(TypeError, match="argument 'redis_url' must be str"):
        ist.InteractionStore.connect(url, redis_url=6379)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="argument 'redis_timeout' must be seconds"):
        ist.InteractionStore.connect(url, redis_timeout="100ms")  # type: ignore[arg-type]
    # None is the default: no Redis, the in-process cache.
    with ist.InteractionStore.connect(url, redis_url=None, redis_timeout=0.25) as s:
        assert s.cache_stats().backend == "memory"


def test_two_stores_sharing_redis(url: str) -> None:
    """A logout through one store is refused by an open session of the other at its next
    call; a repeated Finder page is a hit; the other store reads the entry too."""
    redis = redis_url()
    one = ist.InteractionStore.connect(url, redis_url=redis, redis_timeout=timedelta(seconds=1))
    two = ist.InteractionStore.connect(url, redis_url=redis, redis_timeout=1)
    try:
        assert one.cache_stats().backend == "redis"
        assert two.cache_stats().backend == "redis"
        assert two.cache_stats().available is True
        w = make_world(one)
        token = one.login(w.editor.username, PASSWORD).token
        s1 = one.session(token, w.site.id)
        s2 = two.session(token, w.site.id)
        create(s1, title="Budget review")
        assert len(s2.finder().fetch()) == 1
        hits = two.cache_stats().finder.hits
        assert len(s2.finder().fetch()) == 1
        assert two.cache_stats().finder.hits == hits + 1
        # Store one reads the page store two put in Redis.
        hits_one = one.cache_stats().finder.hits
        assert len(s1.finder().fetch()) == 1
        assert one.cache_stats().finder.hits == hits_one + 1
        # A write through one invalidates two's cached page.
        create(s1, title="Second")
        assert len(s2.finder().fetch()) == 2

        assert s2.verify() == s2.role
        one.logout(token)
        with pytest.raises(ist.AuthenticationError):
            s2.verify()
        with pytest.raises(ist.AuthenticationError) as exc:
            s2.finder().fetch()
        assert exc.value.code == "AUTHENTICATION_FAILED"
        with pytest.raises(ist.AuthenticationError):
            create(s2, title="Refused")
        with pytest.raises(ist.AuthenticationError):
            two.session(token, w.site.id)
    finally:
        one.close()
        two.close()


def test_two_async_stores_sharing_redis(url: str) -> None:
    redis = redis_url()

    async def main() -> None:
        one = await ist.AsyncInteractionStore.connect(url, redis_url=redis)
        two = await ist.AsyncInteractionStore.connect(url, redis_url=redis)
        try:
            stats = two.cache_stats()  # no I/O: a plain value, not a coroutine
            assert isinstance(stats, ist.CacheStats) and stats.backend == "redis"
            site = await one.create_site("Async cache", None)
            u = await one.create_user("acache", "acache@example.com", PASSWORD)
            await one.grant_role(u.id, site.id, "editor")
            token = (await one.login("acache", PASSWORD)).token
            s2 = await two.session(token, site.id)
            await s2.finder().fetch()
            hits = two.cache_stats().finder.hits
            await s2.finder().fetch()
            assert two.cache_stats().finder.hits == hits + 1
            await one.logout(token)
            with pytest.raises(ist.AuthenticationError):
                await s2.finder().fetch()
        finally:
            await one.close()
            await two.close()

    asyncio.run(main())


REPO = Path(__file__).resolve().parents[2]


def readme_block(path: Path, heading: str, lang: str) -> str:
    text = path.read_text(encoding="utf-8")
    m = re.search(rf"^{re.escape(heading)}\n\n```{lang}[^\n]*\n(.*?)^```", text, re.M | re.S)
    assert m, f"{path}: no ```{lang} block right after {heading!r}"
    return m.group(1)


def test_readme_caching_example_runs(
    databases: Callable[[str], Databases], capsys: pytest.CaptureFixture[str]
) -> None:
    """The README's caching block, as written, with the example URLs replaced by the test's
    (PostgreSQL and REDIS_URL)."""
    code = readme_block(REPO / "bindings-python" / "README.md", "## Caching", "python")
    url = databases("postgres").fresh()
    assert '"postgres://app@db/interactions"' in code and '"redis://cache:6379/0"' in code
    code = code.replace('"postgres://app@db/interactions"', repr(url))
    code = code.replace('"redis://cache:6379/0"', repr(redis_url()))
    with ist.InteractionStore.connect(url) as admin:
        site = admin.create_site("Head office", None)
        alice = admin.create_user("alice", "alice@example.com", PASSWORD)
        admin.grant_role(alice.id, site.id, "editor")
    namespace: Dict[str, Any] = {"ist": ist, "site": site}
    capsys.readouterr()
    exec(compile(code, "README.md#caching", "exec"), namespace)
    assert capsys.readouterr().out.splitlines() == ["redis True 1", "logged out", "off"]
    for name in ("a", "b", "off"):
        namespace[name].close()


def test_root_readme_carries_the_bindings_caching_examples() -> None:
    """The top-level README's API tours repeat the bindings' caching blocks (run above and
    by the Node suite): they must not drift."""
    root = (REPO / "README.md").read_text(encoding="utf-8")
    for path, lang in (
        (REPO / "bindings-python" / "README.md", "python"),
        (REPO / "bindings-node" / "README.md", "js"),
    ):
        block = f"```{lang} scoped\n" + readme_block(path, "## Caching", lang) + "```"
        assert block in root, f"README.md: the {lang} caching example differs from {path.relative_to(REPO)}'s"
