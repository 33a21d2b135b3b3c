"""Data lifecycle (issue 10): a manual clock, archival (dry run, real, the Finder over
archived rows, read-only archived interactions, unarchive), retention purges, counts, and
bad inputs; blocking and asyncio, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import Dict, List

import pytest

import interaction_store as ist
from conftest import PASSWORD, create, make_world
from test_cache import REPO, readme_block

START = datetime(2020, 1, 1, 9, 0, tzinfo=timezone.utc)
YEAR = timedelta(days=365)
POLICIES = [
    "deleted_interactions",
    "archived_interactions",
    "access_attempts",
    "user_activity",
    "authentication_logs",
    "data_modifications",
    "admin_actions",
    "schema_changes",
]


def rows(report: ist.PurgeReport) -> Dict[str, int]:
    return {o.policy: o.rows for o in report.outcomes}


def titles(page: ist.Page) -> List[str]:
    return sorted(i.title for i in page.items)


def test_clock() -> None:
    clock = ist.Clock.manual(START)
    assert clock.is_manual and clock.now() == START
    assert clock.now().tzinfo is not None
    clock.advance(timedelta(days=1, microseconds=1))
    assert clock.now() == START + timedelta(days=1, microseconds=1)
    clock.advance(60)  # seconds, like every other duration of the package
    clock.set(START)
    assert clock.now() == START
    # Any tzinfo: the instant is what counts.
    clock.set(datetime(2020, 1, 1, 10, 0, tzinfo=timezone(timedelta(hours=1))))
    assert clock.now() == START
    assert repr(clock) == f"Clock.manual({START!r})"
    system = ist.Clock.system()
    assert not system.is_manual and repr(system) == "Clock.system()"
    assert abs(system.now() - datetime.now(timezone.utc)) < timedelta(minutes=1)


def test_clock_bad_inputs() -> None:
    clock = ist.Clock.manual(START)
    for call in (
        lambda: ist.Clock.system().advance(1),
        lambda: ist.Clock.system().set(START),
        lambda: ist.Clock.manual(datetime(2020, 1, 1)),
        lambda: clock.set(datetime(2020, 1, 1)),
        lambda: clock.advance(timedelta(seconds=-1)),
        lambda: clock.advance(-1),
        lambda: clock.advance(timedelta(days=999_999_999)),
    ):
        with pytest.raises(ist.ValidationError) as e:
            call()
        assert e.value.field == "clock" and e.value.code == "VALIDATION"
    assert clock.now() == START
    with pytest.raises(TypeError, match="'start'"):
        ist.Clock.manual("2020-01-01T00:00:00Z")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="'clock'"):
        clock.advance("1d")  # type: ignore[arg-type]


def test_retention_policy_defaults_are_the_cores() -> None:
    p = ist.RetentionPolicy()
    assert p.deleted_interactions == timedelta(days=30)
    assert p.archived_interactions == 5 * YEAR
    assert p.access_attempts == YEAR and p.user_activity == YEAR
    assert p.authentication_logs == 2 * YEAR and p.data_modifications == 2 * YEAR
    assert p.admin_actions == 3 * YEAR and p.schema_changes == 5 * YEAR
    assert list(p.to_dict()) == POLICIES
    q = ist.RetentionPolicy(deleted_interactions=timedelta(days=7), admin_actions=86400 * 10)
    assert q.deleted_interactions == timedelta(days=7) and q.admin_actions == timedelta(days=10)
    assert q.archived_interactions == p.archived_interactions
    assert q != p and ist.RetentionPolicy() == p
    assert ist.RetentionPolicy(deleted_interactions=None) == p
    assert repr(p).startswith("RetentionPolicy(deleted_interactions=datetime.timedelta(days=30), ")


def test_archive_purge_and_counts(url: str) -> None:
    clock = ist.Clock.manual(START)
    with ist.InteractionStore.connect(url, clock=clock, max_connections=5) as store:
        assert store.clock.is_manual and store.clock.now() == START
        assert store.counts().to_dict() == dict(users=0, sites=0, live=0, deleted=0, archived=0)
        w = make_world(store)
        old = create(w.editor_s, title="Old budget review")
        create(w.editor_s, title="Old kickoff")
        assert old.created_at == START
        # The store's clock is shared with the caller's: three years pass at once.
        clock.advance(3 * YEAR)
        fresh = create(w.editor_s, title="Fresh")
        assert fresh.created_at == START + 3 * YEAR

        dry = store.archive(dry_run=True)
        assert dry.dry_run and dry.moved == 2 and dry.sites == {w.site.id: 2}
        assert dry.cutoff == clock.now() - 2 * YEAR  # the core's default: two years
        assert dry.batches == 1 and dry.skipped == 0 and dry.checksum == ""
        assert store.counts().archived == 0
        assert store.archive(older_than=4 * YEAR, dry_run=True).moved == 0

        report = store.archive()
        assert not report.dry_run and report.moved == 2 and report.sites == {w.site.id: 2}
        assert report.batches == 1 and len(report.checksum) == 64
        assert report.to_dict()["sites"] == {w.site.id: 2}
        assert "moved=2" in repr(report)
        assert store.archive(dry_run=True).moved == 0

        # The Finder: live rows by default; archived ones when asked.
        assert titles(w.viewer_s.finder().fetch()) == ["Fresh"]
        assert titles(w.viewer_s.finder().include_archived().fetch()) == [
            "Fresh", "Old budget review", "Old kickoff"]
        archived = w.viewer_s.finder().archived_only().fetch()
        assert titles(archived) == ["Old budget review", "Old kickoff"]
        assert all(i.archived_at == clock.now() for i in archived.items)
        assert w.viewer_s.finder().archived_only().text("budget").count() == 1
        assert titles(w.viewer_s.finder().archived_only().include_archived(False).fetch()) == [
            "Old budget review", "Old kickoff"]
        assert titles(w.viewer_s.finder().archived_only().archived_only(False).fetch()) == ["Fresh"]
        assert w.viewer_s.get_interaction(old.id).archived_at == clock.now()
        assert w.viewer_s.get_interaction(fresh.id).archived_at is None

        # Archived interactions are read-only.
        with pytest.raises(ist.ArchivedError) as e:
            w.editor_s.update_interaction(old.id, title="Edited")
        assert e.value.code == "ARCHIVED" and not e.value.retryable and e.value.field is None
        assert isinstance(e.value, ist.InteractionStoreError)
        with pytest.raises(ist.ArchivedError):
            w.editor_s.delete_interaction(old.id)
        with pytest.raises(ist.PermissionDeniedError):
            w.editor_s.unarchive_interaction(old.id)
        back = w.admin_s.unarchive_interaction(old.id)
        assert back.archived_at is None and back.version == old.version + 1
        assert back.updated_at == clock.now()
        assert w.editor_s.update_interaction(old.id, title="Back again").version == old.version + 2
        with pytest.raises(ist.NotFoundError):
            w.admin_s.unarchive_interaction(old.id)
        assert store.counts().to_dict() == dict(users=4, sites=1, live=2, deleted=0, archived=1)

        # Retention: a soft-deleted interaction is purged 30 days after its deletion.
        w.editor_s.delete_interaction(fresh.id)
        assert rows(store.purge(dry_run=True))["deleted_interactions"] == 0
        clock.advance(timedelta(days=31))
        dry_purge = store.purge(dry_run=True)
        assert dry_purge.dry_run and dry_purge.now == clock.now()
        assert rows(dry_purge)["deleted_interactions"] == 1
        assert set(POLICIES) <= set(rows(dry_purge))
        assert dry_purge.total == sum(o.rows for o in dry_purge.outcomes)
        outcome = next(o for o in dry_purge.outcomes if o.policy == "deleted_interactions")
        assert outcome.table == "interactions" and outcome.action == "delete"
        assert outcome.cutoff == clock.now() - timedelta(days=30)
        assert store.counts().deleted == 1

        purged = store.purge()
        assert not purged.dry_run and rows(purged) == rows(dry_purge)
        assert purged.total == dry_purge.total
        assert purged.to_dict()["outcomes"][0] == purged.outcomes[0].to_dict()
        assert store.counts().to_dict() == dict(users=4, sites=1, live=1, deleted=0, archived=1)
        with pytest.raises(ist.NotFoundError):
            w.admin_s.restore_interaction(fresh.id)
        assert rows(store.purge(dry_run=True))["deleted_interactions"] == 0


def test_configured_retention(url: str) -> None:
    clock = ist.Clock.manual(START)
    policy = ist.RetentionPolicy(deleted_interactions=timedelta(days=7))
    with ist.InteractionStore.connect(url, clock=clock, retention=policy,
                                      access_logging=True) as store:
        w = make_world(store)
        i = create(w.editor_s)
        w.editor_s.delete_interaction(i.id)
        clock.advance(timedelta(days=8))
        assert rows(store.purge())["deleted_interactions"] == 1
        assert store.counts().deleted == 0


def test_bad_inputs(url: str) -> None:
    with ist.InteractionStore.connect(url, max_connections=2) as store:
        for older_than in (timedelta(0), timedelta(minutes=59), 0, 101 * YEAR,
                           timedelta(seconds=-1), -1.0, float("nan")):
            with pytest.raises(ist.ValidationError) as e:
                store.archive(older_than, dry_run=True)
            assert e.value.field == "older_than", older_than
        # A value of the wrong Python type is a TypeError, as for every argument.
        with pytest.raises(TypeError, match="'older_than'"):
            store.archive("2y")  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            store.archive(dry_run="yes")  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            store.purge(True)  # type: ignore[call-arg]
    # Options: each period is checked by the core when the store opens.
    for name in POLICIES:
        with pytest.raises(ist.ValidationError) as e:
            ist.InteractionStore.connect(url, retention=ist.RetentionPolicy(**{name: 60}))
        assert e.value.field == f"retention.{name}"
        with pytest.raises(ist.ValidationError) as e:
            ist.RetentionPolicy(**{name: timedelta(days=-1)})
        assert e.value.field == f"retention.{name}"
        with pytest.raises(TypeError, match=f"'retention.{name}'"):
            ist.RetentionPolicy(**{name: "30d"})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="deleted_interaction"):
        ist.RetentionPolicy(deleted_interaction=timedelta(days=1))  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="'retention'"):
        ist.InteractionStore.connect(url, retention={"deleted_interactions": 86400})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="'clock'"):
        ist.InteractionStore.connect(url, clock=START)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="'access_logging'"):
        ist.InteractionStore.connect(url, access_logging=1)  # type: ignore[arg-type]


def test_async_lifecycle(url: str) -> None:
    async def main() -> None:
        clock = ist.Clock.manual(START)
        store = await ist.AsyncInteractionStore.connect(url, clock=clock, max_connections=5)
        try:
            assert store.clock.now() == START
            site = await store.create_site("Async lifecycle")
            admin = await store.create_user("lcadmin", "lc@example.com", PASSWORD)
            await store.grant_role(admin.id, site.id, "admin")
            s = await store.session_for_user(admin.id, site.id)
            old = await create(s, title="Old")
            clock.advance(3 * YEAR)
            gone = await create(s, title="Gone")

            dry = await store.archive(dry_run=True)
            assert dry.dry_run and dry.moved == 1 and dry.sites == {site.id: 1}
            report = await store.archive(older_than=2 * YEAR)
            assert report.moved == 1 and len(report.checksum) == 64
            assert titles(await s.finder().fetch()) == ["Gone"]
            assert titles(await s.finder().include_archived().fetch()) == ["Gone", "Old"]
            assert titles(await s.finder().archived_only().fetch()) == ["Old"]
            with pytest.raises(ist.ArchivedError) as e:
                await s.update_interaction(old.id, title="Edited")
            assert e.value.code == "ARCHIVED"
            assert (await s.unarchive_interaction(old.id)).archived_at is None

            await s.delete_interaction(gone.id)
            clock.advance(timedelta(days=31))
            dry_purge = await store.purge(dry_run=True)
            assert rows(dry_purge)["deleted_interactions"] == 1
            purged = await store.purge()
            assert rows(purged) == rows(dry_purge)
            counts = await store.counts()
            assert (counts.users, counts.sites, counts.live, counts.deleted, counts.archived) == (
                1, 1, 1, 0, 0)
            with pytest.raises(ist.ValidationError) as v:
                await store.archive(timedelta(0))
            assert v.value.field == "older_than"
        finally:
            await store.close()

    asyncio.run(main())


def test_readme_lifecycle_example_runs(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The README's data-lifecycle block, as written, on the test's database."""
    code = readme_block(REPO / "bindings-python" / "README.md", "## Data lifecycle", "python")
    assert '"sqlite://lifecycle.db"' in code
    code = code.replace('"sqlite://lifecycle.db"', repr(url))
    capsys.readouterr()
    exec(compile(code, "README.md#data-lifecycle", "exec"), {"ist": ist})
    assert capsys.readouterr().out.splitlines() == [
        "1", "1", "Counts(users=1, sites=1, live=0, deleted=0, archived=0)"]


def test_root_readme_carries_the_bindings_lifecycle_examples() -> None:
    """The top-level README's API tours repeat the bindings' data-lifecycle blocks (run
    above and by the Node suite): they must not drift."""
    root = (REPO / "README.md").read_text(encoding="utf-8")
    for path, lang in (
        (REPO / "bindings-python" / "README.md", "python"),
        (REPO / "bindings-node" / "README.md", "js"),
    ):
        block = f"```{lang} scoped\n" + readme_block(path, "## Data lifecycle", lang) + "```"
        assert block in root, f"README.md: the {lang} lifecycle example differs from {path.name}'s"
