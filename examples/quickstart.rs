//! Quickstart: a site, users and roles, login, then create, search, update, delete and
//! restore interactions.
//!
//! ```text
//! cargo run --example quickstart                    # embedded SQLite: ./interactions.db
//! cargo run --example quickstart -- postgres://...  # or any URL
//! ```

use chrono::{Duration, NaiveDate, Utc};
use interaction_core::{ErrorKind, InteractionPatch, NewInteraction, Role, Sort, StoreOptions};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| interaction_core::DEFAULT_URL.to_string());
    let store = StoreOptions::new(&url).migrate(true).connect().await?;
    println!(
        "opened {url} ({:?}), schema {}",
        store.backend(),
        store.schema_version().await?.expect("migrated")
    );

    // Names are unique; suffix them so the example can run again on the same database.
    let run = Utc::now().timestamp_millis();
    let site = store
        .create_site(&format!("Head office {run}"), Some("Main site"))
        .await?;
    let alice = store
        .create_user(
            &format!("alice{run}"),
            &format!("alice{run}@example.com"),
            "correct horse battery",
        )
        .await?;
    let bob = store
        .create_user(
            &format!("bob{run}"),
            &format!("bob{run}@example.com"),
            "another long secret",
        )
        .await?;
    store.grant_role(alice.id, site.id, Role::Admin).await?;
    store.grant_role(bob.id, site.id, Role::Viewer).await?;
    println!(
        "site {} with admin {} and viewer {}",
        site.name, alice.username, bob.username
    );

    let login = store
        .login(&alice.username, "correct horse battery")
        .await?;
    let alice_s = store.session(&login.token, site.id).await?;
    println!("alice logged in; token valid until {}", login.expires_at);

    let kickoff = alice_s
        .create_interaction(
            NewInteraction::new(
                "Project kickoff",
                "meeting",
                "Alice",
                // A local wall-clock time in the interaction's zone...
                NaiveDate::from_ymd_opt(2026, 12, 1)
                    .unwrap()
                    .and_hms_opt(9, 30, 0)
                    .unwrap(),
                NaiveDate::from_ymd_opt(2026, 12, 1)
                    .unwrap()
                    .and_hms_opt(10, 30, 0)
                    .unwrap(),
                "Europe/Berlin",
            )
            .location("Room 4")
            .description("Kickoff of the budget planning for next year"),
        )
        .await?;
    // ...or an exact instant.
    let start = Utc::now() + Duration::days(2);
    let call = alice_s
        .create_interaction(
            NewInteraction::new(
                "Budget call",
                "call",
                "Bob",
                start,
                start + Duration::minutes(30),
                "America/New_York",
            )
            .notes("Follow-up on the budget numbers"),
        )
        .await?;
    println!(
        "created #{} '{}' starting {}",
        kickoff.id, kickoff.title, kickoff.start_datetime
    );
    println!(
        "created #{} '{}' starting {}",
        call.id, call.title, call.start_datetime
    );

    let page = alice_s
        .finder()
        .text("budget")
        .sort(Sort::Relevance)
        .limit(10)
        .await?;
    println!("search 'budget': {} hits", page.items.len());
    for i in &page.items {
        println!("  #{} {} ({})", i.id, i.title, i.interaction_type);
    }

    let updated = alice_s
        .update_interaction(
            kickoff.id,
            InteractionPatch {
                title: Some("Project kickoff (moved)".into()),
                ..Default::default()
            },
            Some(kickoff.version),
        )
        .await?;
    println!(
        "updated #{} to '{}' (version {})",
        updated.id, updated.title, updated.version
    );
    let stale = alice_s
        .update_interaction(
            kickoff.id,
            InteractionPatch {
                lead: Some("Carol".into()),
                ..Default::default()
            },
            Some(kickoff.version),
        )
        .await;
    println!(
        "a stale update is refused: {:?}",
        stale.map_err(|e| e.kind())
    );

    let bob_s = store.session_for_user(bob.id, site.id).await?;
    let denied = bob_s.delete_interaction(call.id, None).await.unwrap_err();
    assert_eq!(denied.kind(), ErrorKind::PermissionDenied);
    println!("viewer bob cannot delete: {denied}");

    alice_s.delete_interaction(call.id, None).await?;
    println!(
        "deleted #{}; visible count now {}",
        call.id,
        alice_s.finder().count().await?
    );
    let restored = alice_s.restore_interaction(call.id).await?;
    println!("restored #{} (version {})", restored.id, restored.version);

    let trail = alice_s.audit_trail(5, None).await?;
    println!("latest audit entries:");
    for e in &trail.entries {
        println!(
            "  {} {} {} #{}",
            e.occurred_at.format("%H:%M:%S"),
            e.action,
            e.entity,
            e.entity_id.unwrap_or_default()
        );
    }
    store.logout(&login.token).await?;
    store.close().await;
    println!("done");
    Ok(())
}
