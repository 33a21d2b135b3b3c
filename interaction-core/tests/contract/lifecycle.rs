//! Soft delete, restore window, audit durability.

use interaction_core::ErrorKind;

use crate::harness::{meeting, Harness};

async fn soft_delete_and_restore(h: Harness) {
    let w = h.world().await;
    let i = w
        .a_editor
        .create_interaction(meeting("to delete", 0))
        .await
        .unwrap();
    w.a_editor.delete_interaction(i.id, Some(1)).await.unwrap();
    assert_eq!(
        w.a_viewer.get_interaction(i.id).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        w.a_editor
            .delete_interaction(i.id, None)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    assert_eq!(w.a_viewer.finder().count().await.unwrap(), 0);
    let with_deleted = w.a_admin.finder().include_deleted(true).await.unwrap();
    assert_eq!(with_deleted.items.len(), 1);
    let d = &with_deleted.items[0];
    assert!(d.deleted_at.is_some());
    assert_eq!(d.deleted_by, Some(w.a_editor.user_id()));
    let r = w.a_admin.restore_interaction(i.id).await.unwrap();
    assert_eq!((r.deleted_at, r.deleted_by, r.version), (None, None, 3));
    assert_eq!(
        w.a_admin
            .restore_interaction(i.id)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    let actions: Vec<_> = w
        .a_admin
        .audit_trail(10, None)
        .await
        .unwrap()
        .entries
        .into_iter()
        .filter(|e| e.entity == "interaction")
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, ["restore", "delete", "create"]);
}

async fn restore_window_is_thirty_days(h: Harness) {
    let w = h.world().await;
    let i = w
        .a_editor
        .create_interaction(meeting("old", 0))
        .await
        .unwrap();
    w.a_editor.delete_interaction(i.id, None).await.unwrap();
    let thirty_one_days_ago = if h.is_postgres() {
        "now() - interval '31 days'".to_string()
    } else {
        format!(
            "{}",
            (chrono::Utc::now() - chrono::Duration::days(31)).timestamp_micros()
        )
    };
    h.exec(&format!(
        "UPDATE interactions SET deleted_at = {thirty_one_days_ago} WHERE interaction_id = {}",
        i.id
    ))
    .await;
    let e = w.a_admin.restore_interaction(i.id).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    assert!(e.to_string().contains("30 days"), "{e}");
}

async fn audit_rows_outlive_their_subject(h: Harness) {
    let w = h.world().await;
    let i = w
        .a_editor
        .create_interaction(meeting("ephemeral", 0))
        .await
        .unwrap();
    // Even a hard delete behind the library's back leaves the trail intact.
    h.exec(&format!(
        "DELETE FROM interactions WHERE interaction_id = {}",
        i.id
    ))
    .await;
    let trail = w.a_admin.audit_trail(50, None).await.unwrap();
    let e = trail
        .entries
        .iter()
        .find(|e| e.entity_id == Some(i.id) && e.entity == "interaction")
        .unwrap();
    assert_eq!(e.changes["title"], "ephemeral");
    // Pagination of the trail.
    let first = w.a_admin.audit_trail(2, None).await.unwrap();
    assert_eq!(first.entries.len(), 2);
    let next = w
        .a_admin
        .audit_trail(2, first.next_cursor.as_deref())
        .await
        .unwrap();
    assert!(next.entries[0].id < first.entries[1].id);
    assert_eq!(
        w.a_admin
            .audit_trail(2, Some("garbage"))
            .await
            .unwrap_err()
            .field(),
        Some("cursor")
    );
    assert_eq!(
        w.a_admin.audit_trail(501, None).await.unwrap_err().field(),
        Some("limit")
    );
}

crate::contract!(
    soft_delete_and_restore,
    restore_window_is_thirty_days,
    audit_rows_outlive_their_subject
);
