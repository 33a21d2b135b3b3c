//! Interaction CRUD, validation, optimistic concurrency and cancellation safety.

use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDate, Utc};
use interaction_core::{ErrorKind, Interaction, InteractionPatch, NewInteraction, RangeMode, When};

use crate::harness::{meeting, Harness};

async fn create_get_update_with_library_fields(h: Harness) {
    let w = h.world().await;
    let before = Utc::now();
    let i = w
        .a_editor
        .create_interaction(
            meeting("Kickoff", 0)
                .location("Room 1")
                .notes("bring slides"),
        )
        .await
        .unwrap();
    assert_eq!(
        (i.site_id, i.created_by, i.version),
        (w.a.id, w.a_editor.user_id(), 1)
    );
    assert!(i.created_at >= before - chrono::Duration::seconds(1));
    assert_eq!(
        (i.updated_by, i.updated_at, i.deleted_at),
        (None, None, None)
    );
    assert_eq!(i.location.as_deref(), Some("Room 1"));
    assert_eq!(w.a_viewer.get_interaction(i.id).await.unwrap(), i);

    let patch = InteractionPatch {
        title: Some("Kickoff v2".into()),
        location: Some(None),
        ..Default::default()
    };
    let u = w
        .a_editor
        .update_interaction(i.id, patch, Some(1))
        .await
        .unwrap();
    assert_eq!(
        (u.title.as_str(), u.location.as_deref(), u.version),
        ("Kickoff v2", None, 2)
    );
    assert_eq!(u.updated_by, Some(w.a_editor.user_id()));
    assert!(u.updated_at.is_some());
    assert_eq!(
        u.notes.as_deref(),
        Some("bring slides"),
        "untouched fields stay"
    );
    // An empty or no-op patch changes nothing and bumps nothing.
    let same = w
        .a_editor
        .update_interaction(i.id, InteractionPatch::default(), None)
        .await
        .unwrap();
    assert_eq!(same, u);
    let noop = InteractionPatch {
        title: Some("Kickoff v2".into()),
        ..Default::default()
    };
    assert_eq!(
        w.a_editor
            .update_interaction(i.id, noop, Some(2))
            .await
            .unwrap()
            .version,
        2
    );

    // The audit trail holds the change with old and new values.
    let trail = w.a_admin.audit_trail(10, None).await.unwrap();
    let upd = trail.entries.iter().find(|e| e.action == "update").unwrap();
    assert_eq!(upd.entity_id, Some(i.id));
    assert_eq!(upd.actor_id, Some(w.a_editor.user_id()));
    assert_eq!(upd.changes["title"]["old"], "Kickoff");
    assert_eq!(upd.changes["title"]["new"], "Kickoff v2");
    assert_eq!(upd.changes["location"]["old"], "Room 1");
    assert!(upd.changes["location"]["new"].is_null());
    assert!(upd.changes.get("notes").is_none());
}

async fn stale_versions_conflict_and_change_nothing(h: Harness) {
    let w = h.world().await;
    let i = w
        .a_editor
        .create_interaction(meeting("Versioned", 0))
        .await
        .unwrap();
    let p = || InteractionPatch {
        lead: Some("Bob".into()),
        ..Default::default()
    };
    w.a_editor
        .update_interaction(i.id, p(), Some(1))
        .await
        .unwrap();
    let e = w
        .a_editor
        .update_interaction(i.id, p(), Some(1))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    let e = w
        .a_editor
        .delete_interaction(i.id, Some(1))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    let now = w.a_editor.get_interaction(i.id).await.unwrap();
    assert_eq!(now.version, 2);
    assert_eq!(
        h.count("SELECT count(*) FROM audit_log WHERE entity = 'interaction'")
            .await,
        2
    );
    w.a_editor.delete_interaction(i.id, Some(2)).await.unwrap();
}

async fn parallel_updates_lose_nothing(h: Harness) {
    let w = h.world().await;
    let i = w
        .a_editor
        .create_interaction(meeting("0", 0))
        .await
        .unwrap();
    let s = Arc::new(w.a_editor.clone());
    // 8 workers each add 1 to a counter kept in the title, 5 times, with
    // expected_version and retry on conflict: the total must be exactly 40.
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move {
                let mut conflicts = 0;
                for _ in 0..5 {
                    loop {
                        let cur = s.get_interaction(i.id).await.unwrap();
                        let n: i64 = cur.title.parse().unwrap();
                        let p = InteractionPatch {
                            title: Some((n + 1).to_string()),
                            ..Default::default()
                        };
                        match s.update_interaction(i.id, p, Some(cur.version)).await {
                            Ok(_) => break,
                            Err(e) if e.kind() == ErrorKind::Conflict => conflicts += 1,
                            Err(e) => panic!("{e}"),
                        }
                    }
                }
                conflicts
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let end = s.get_interaction(i.id).await.unwrap();
    assert_eq!(end.title, "40");
    assert_eq!(end.version, 41);
    assert_eq!(
        h.count(
            "SELECT count(*) FROM audit_log WHERE entity = 'interaction' AND action = 'update'"
        )
        .await,
        40
    );
}

async fn bad_input_is_refused_with_the_field(h: Harness) {
    let w = h.world().await;
    let s = &w.a_editor;
    let long = |n: usize| "x".repeat(n);
    let d = |y, m, day, hh, mm| {
        NaiveDate::from_ymd_opt(y, m, day)
            .unwrap()
            .and_hms_opt(hh, mm, 0)
            .unwrap()
    };
    let cases: Vec<(NewInteraction, &str)> = vec![
        (meeting("", 0), "title"),
        (meeting("   ", 0), "title"),
        (meeting(&long(256), 0), "title"),
        (meeting("nul\0", 0), "title"),
        (
            NewInteraction {
                interaction_type: "".into(),
                ..meeting("t", 0)
            },
            "type",
        ),
        (
            NewInteraction {
                interaction_type: long(51),
                ..meeting("t", 0)
            },
            "type",
        ),
        (
            NewInteraction {
                lead: "".into(),
                ..meeting("t", 0)
            },
            "lead",
        ),
        (
            NewInteraction {
                lead: long(101),
                ..meeting("t", 0)
            },
            "lead",
        ),
        (
            NewInteraction {
                timezone: "Mars/Olympus".into(),
                ..meeting("t", 0)
            },
            "timezone",
        ),
        (
            NewInteraction {
                timezone: "".into(),
                ..meeting("t", 0)
            },
            "timezone",
        ),
        (meeting("t", 0).location(long(256)), "location"),
        (meeting("t", 0).description("a\0b"), "description"),
        // 10 MB of notes: above the documented 1 MiB limit.
        (meeting("t", 0).notes(long(10 * 1024 * 1024)), "notes"),
        (
            NewInteraction {
                end: meeting("t", -1).start,
                ..meeting("t", 0)
            },
            "end_datetime",
        ),
        // DST gap (02:30 does not exist) and overlap (02:30 happens twice) in Berlin.
        (
            NewInteraction::new(
                "t",
                "m",
                "l",
                When::Local(d(2026, 3, 29, 2, 30)),
                When::Local(d(2026, 3, 29, 4, 0)),
                "Europe/Berlin",
            ),
            "start_datetime",
        ),
        (
            NewInteraction::new(
                "t",
                "m",
                "l",
                When::Local(d(2026, 10, 25, 1, 0)),
                When::Local(d(2026, 10, 25, 2, 30)),
                "Europe/Berlin",
            ),
            "end_datetime",
        ),
    ];
    for (new, field) in cases {
        let e = s.create_interaction(new).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Validation, "{field}: {e}");
        assert_eq!(e.field(), Some(field), "{e}");
    }
    let ok = s
        .create_interaction(meeting("ok", 0).notes(long(1024 * 1024)))
        .await
        .unwrap();
    assert_eq!(ok.notes.unwrap().len(), 1024 * 1024);
    // Patches are validated too, against the merged record.
    let bad_patches = [
        (
            InteractionPatch {
                title: Some("".into()),
                ..Default::default()
            },
            "title",
        ),
        (
            InteractionPatch {
                timezone: Some("Nowhere/Land".into()),
                ..Default::default()
            },
            "timezone",
        ),
        (
            InteractionPatch {
                end: Some(When::Instant(
                    ok.start_datetime - chrono::Duration::seconds(1),
                )),
                ..Default::default()
            },
            "end_datetime",
        ),
        (
            InteractionPatch {
                notes: Some(Some("\0".into())),
                ..Default::default()
            },
            "notes",
        ),
    ];
    for (p, field) in bad_patches {
        let e = s.update_interaction(ok.id, p, None).await.unwrap_err();
        assert_eq!(e.field(), Some(field), "{e}");
    }
    for id in [0, -5, i64::MAX] {
        assert_eq!(
            s.get_interaction(id).await.unwrap_err().kind(),
            ErrorKind::Validation
        );
    }
    assert_eq!(
        s.get_interaction(987_654).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    // Nothing half-written: one interaction, one audit row for it.
    assert_eq!(h.count("SELECT count(*) FROM interactions").await, 1);
    assert_eq!(
        h.count("SELECT count(*) FROM audit_log WHERE entity = 'interaction'")
            .await,
        1
    );
}

async fn local_times_resolve_in_their_zone(h: Harness) {
    let w = h.world().await;
    let start = NaiveDate::from_ymd_opt(2026, 7, 1)
        .unwrap()
        .and_hms_opt(9, 30, 0)
        .unwrap();
    let i = w
        .a_editor
        .create_interaction(NewInteraction::new(
            "NY",
            "call",
            "Al",
            start,
            start + chrono::Duration::hours(1),
            "America/New_York",
        ))
        .await
        .unwrap();
    assert_eq!(i.start_datetime.to_rfc3339(), "2026-07-01T13:30:00+00:00");
    assert_eq!(i.timezone, "America/New_York");
    // Changing only the zone keeps the instants.
    let p = InteractionPatch {
        timezone: Some("Asia/Tokyo".into()),
        ..Default::default()
    };
    let u = w.a_editor.update_interaction(i.id, p, None).await.unwrap();
    assert_eq!(u.start_datetime, i.start_datetime);
    // A new local start is read in the (new) zone.
    let p = InteractionPatch {
        start: Some(When::Local(start)),
        ..Default::default()
    };
    let u = w.a_editor.update_interaction(i.id, p, None).await.unwrap();
    assert_eq!(u.start_datetime.to_rfc3339(), "2026-07-01T00:30:00+00:00");
    assert_eq!(u.end_datetime, i.end_datetime);
}

async fn metacharacters_and_injection_are_stored_verbatim(h: Harness) {
    let w = h.world().await;
    let nasty = [
        "Robert'); DROP TABLE interactions;--",
        "100% _done_ \\ back\\slash",
        "\" OR 1=1 --",
        "emoji 🎉 ünïcödé",
        "$1 $2 ?1 :name @x",
    ];
    for t in nasty {
        let i = w
            .a_editor
            .create_interaction(NewInteraction {
                lead: t.into(),
                ..meeting(t, 0).notes(t)
            })
            .await
            .unwrap();
        let back = w.a_viewer.get_interaction(i.id).await.unwrap();
        assert_eq!((back.title.as_str(), back.notes.as_deref()), (t, Some(t)));
        let found = w.a_viewer.finder().title_contains(t).await.unwrap();
        assert_eq!(found.items.len(), 1, "title_contains({t:?})");
        assert_eq!(found.items[0].id, i.id);
    }
    // `%` and `_` are literal, not wildcards.
    assert_eq!(
        w.a_viewer
            .finder()
            .title_contains("%")
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    assert_eq!(
        w.a_viewer
            .finder()
            .title_contains("_d")
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    assert_eq!(
        w.a_viewer
            .finder()
            .title_contains("\\")
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    // Free text never errors on syntax.
    for q in [
        "'; DROP",
        "\"unclosed",
        "a & b | !c",
        "NEAR(x y)",
        "title:*",
        "(((",
        "AND OR NOT",
    ] {
        let r = w.a_viewer.finder().text(q).await;
        match r {
            Ok(_) => {}
            Err(e) => assert_eq!(e.kind(), ErrorKind::Validation, "{q}: {e}"),
        }
    }
    assert_eq!(
        h.count("SELECT count(*) FROM interactions").await,
        nasty.len() as i64
    );
}

/// Callers that time out at every possible point never leave a connection inside an open
/// transaction, and never leave a change without its audit row.
async fn cancelled_calls_leave_nothing_half_done(h: Harness) {
    let w = h.world().await;
    let i = w
        .a_editor
        .create_interaction(meeting("cancel me", 0))
        .await
        .unwrap();
    let mut completed = 0;
    for step in 0..150u64 {
        let p = InteractionPatch {
            notes: Some(Some(format!("step {step}"))),
            ..Default::default()
        };
        let call = w.a_editor.update_interaction(i.id, p, None);
        if step % 5 == 0 {
            // Polled once, then dropped: the caller gives up before the write ran.
            let mut call = Box::pin(call);
            let once = std::future::poll_fn(|cx| {
                std::task::Poll::Ready(std::future::Future::poll(call.as_mut(), cx))
            })
            .await;
            if let std::task::Poll::Ready(r) = once {
                r.unwrap();
                completed += 1;
            }
        } else if let Ok(r) = tokio::time::timeout(Duration::from_micros(step * 40), call).await {
            r.unwrap();
            completed += 1;
        }
        if step % 3 == 0 {
            let _ = tokio::time::timeout(
                Duration::from_micros(step * 20),
                w.a_viewer.get_interaction(i.id),
            )
            .await;
            let _ = tokio::time::timeout(
                Duration::from_micros(step * 30),
                w.a_viewer.finder().text("cancel"),
            )
            .await;
        }
    }
    // Let spawned writes that lost their caller finish: until the version stays put for
    // 300 ms (a fixed pause was too short through pgBouncer on a loaded machine).
    let version_sql = format!(
        "SELECT CAST(version AS BIGINT) FROM interactions WHERE interaction_id = {}",
        i.id
    );
    let version = || h.count(&version_sql);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut last = version().await;
    loop {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let now = version().await;
        if now == last || std::time::Instant::now() > deadline {
            break;
        }
        last = now;
    }
    assert!(completed < 150, "some calls must have been cancelled");
    // Every pooled connection is clean: a new write through the pool is visible at once
    // from an outside connection (it would not be if it ran inside a leftover transaction).
    for n in 0..16 {
        let p = InteractionPatch {
            lead: Some(format!("lead {n}")),
            ..Default::default()
        };
        let u = w.a_editor.update_interaction(i.id, p, None).await.unwrap();
        let seen = h
            .count(&format!(
                "SELECT CAST(version AS BIGINT) FROM interactions WHERE interaction_id = {}",
                i.id
            ))
            .await;
        assert_eq!(seen, u.version);
    }
    // Each version bump has exactly one audit row.
    let v = w.a_editor.get_interaction(i.id).await.unwrap().version;
    let audits = h
        .count(&format!(
            "SELECT count(*) FROM audit_log WHERE entity = 'interaction' AND entity_id = {}",
            i.id
        ))
        .await;
    assert_eq!(audits, v);
}

/// Inputs from JSON (serde) behave as the typed ones, and microseconds survive the trip:
/// the instants read back serialize to the same strings and find the row again.
async fn json_inputs_round_trip_through_the_store(h: Harness) {
    let w = h.world().await;
    let new: NewInteraction = serde_json::from_value(serde_json::json!({
        "title": "From JSON", "interaction_type": "call", "lead": "Bob",
        "start": "2026-12-01T08:30:00.123456Z",
        "end": {"local": "2026-12-01T10:00:00.654321"},
        "timezone": "Europe/Berlin", "location": "Room 4",
    }))
    .unwrap();
    let i = w.a_editor.create_interaction(new).await.unwrap();
    let as_json = serde_json::to_value(&i).unwrap();
    assert_eq!(as_json["start_datetime"], "2026-12-01T08:30:00.123456Z");
    assert_eq!(as_json["end_datetime"], "2026-12-01T09:00:00.654321Z");
    let back: Interaction = serde_json::from_value(as_json.clone()).unwrap();
    assert_eq!(back, i);
    // The instants read back, as strings, bound a `contained` range that finds the row.
    let bound = |k: &str| -> chrono::DateTime<chrono::Utc> {
        serde_json::from_value(as_json[k].clone()).unwrap()
    };
    let page = w
        .a_viewer
        .finder()
        .date_range(
            bound("start_datetime"),
            bound("end_datetime"),
            RangeMode::Contained,
        )
        .await
        .unwrap();
    assert_eq!(page.items.iter().map(|x| x.id).collect::<Vec<_>>(), [i.id]);
    let patch: InteractionPatch =
        serde_json::from_value(serde_json::json!({"location": null, "title": "Patched"})).unwrap();
    let u = w
        .a_editor
        .update_interaction(i.id, patch, Some(i.version))
        .await
        .unwrap();
    assert_eq!((u.title.as_str(), u.location.as_deref()), ("Patched", None));
    assert_eq!(u.start_datetime, i.start_datetime);
}

crate::contract!(
    json_inputs_round_trip_through_the_store,
    create_get_update_with_library_fields,
    stale_versions_conflict_and_change_nothing,
    parallel_updates_lose_nothing,
    bad_input_is_refused_with_the_field,
    local_times_resolve_in_their_zone,
    metacharacters_and_injection_are_stored_verbatim,
    cancelled_calls_leave_nothing_half_done,
);
