"""Quickstart (Python): a site, users and roles, login, then create, search, update,
delete and restore interactions. Mirrors examples/quickstart.rs.

    python examples/quickstart.py                    # embedded SQLite: ./interactions.db
    python examples/quickstart.py postgres://...     # or any URL
"""

from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta, timezone

import interaction_store as ist


def main() -> None:
    url = sys.argv[1] if len(sys.argv) > 1 else ist.DEFAULT_URL
    store = ist.InteractionStore.connect(url, migrate=True)
    print(f"opened {url} ({store.backend}), schema {store.schema_version()}")

    # Names are unique; suffix them so the example can run again on the same database.
    run = int(time.time() * 1000)
    site = store.create_site(f"Head office {run}", "Main site")
    alice = store.create_user(f"alice{run}", f"alice{run}@example.com", "correct horse battery")
    bob = store.create_user(f"bob{run}", f"bob{run}@example.com", "another long secret")
    store.grant_role(alice.id, site.id, "admin")
    store.grant_role(bob.id, site.id, "viewer")
    print(f"site {site.name} with admin {alice.username} and viewer {bob.username}")

    login = store.login(alice.username, "correct horse battery")
    alice_s = store.session(login.token, site.id)
    print(f"alice logged in; token valid until {login.expires_at}")

    kickoff = alice_s.create_interaction(
        title="Project kickoff",
        interaction_type="meeting",
        lead="Alice",
        # A local wall-clock time in the interaction's zone...
        start=ist.LocalTime(datetime(2026, 12, 1, 9, 30)),
        end=ist.LocalTime(datetime(2026, 12, 1, 10, 30)),
        timezone="Europe/Berlin",
        location="Room 4",
        description="Kickoff of the budget planning for next year",
    )
    # ...or an exact instant (an aware datetime).
    start = datetime.now(timezone.utc) + timedelta(days=2)
    call = alice_s.create_interaction(
        title="Budget call",
        interaction_type="call",
        lead="Bob",
        start=start,
        end=start + timedelta(minutes=30),
        timezone="America/New_York",
        notes="Follow-up on the budget numbers",
    )
    print(f"created #{kickoff.id} '{kickoff.title}' starting {kickoff.start_datetime}")
    print(f"created #{call.id} '{call.title}' starting {call.start_datetime}")

    page = alice_s.finder().text("budget").sort("relevance").limit(10).fetch()
    print(f"search 'budget': {len(page.items)} hits")
    for i in page.items:
        print(f"  #{i.id} {i.title} ({i.interaction_type})")

    updated = alice_s.update_interaction(
        kickoff.id, expected_version=kickoff.version, title="Project kickoff (moved)"
    )
    print(f"updated #{updated.id} to '{updated.title}' (version {updated.version})")
    try:
        alice_s.update_interaction(kickoff.id, expected_version=kickoff.version, lead="Carol")
    except ist.ConflictError as stale:
        print(f"a stale update is refused: {stale.code}")

    bob_s = store.session_for_user(bob.id, site.id)
    try:
        bob_s.delete_interaction(call.id)
        raise SystemExit("viewer bob should not be able to delete")
    except ist.PermissionDeniedError as denied:
        print(f"viewer bob cannot delete: {denied}")

    alice_s.delete_interaction(call.id)
    print(f"deleted #{call.id}; visible count now {alice_s.finder().count()}")
    restored = alice_s.restore_interaction(call.id)
    print(f"restored #{restored.id} (version {restored.version})")

    trail = alice_s.audit_trail(5)
    print("latest audit entries:")
    for entry in trail.entries:
        print(
            f"  {entry.occurred_at:%H:%M:%S} {entry.action} {entry.entity} "
            f"#{entry.entity_id or 0}"
        )
    store.logout(login.token)
    store.close()
    print("done")


if __name__ == "__main__":
    main()
