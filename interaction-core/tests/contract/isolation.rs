//! Cross-site isolation: every operation attempted across the boundary is denied or not
//! found, and changes nothing.

use interaction_core::{ErrorKind, InteractionPatch, Role};

use crate::harness::{meeting, Harness};

async fn no_operation_crosses_sites(h: Harness) {
    let w = h.world().await;
    let in_a = w
        .a_editor
        .create_interaction(meeting("secret of A", 0).notes("alpha"))
        .await
        .unwrap();
    w.a_admin
        .delete_interaction(
            w.a_editor
                .create_interaction(meeting("deleted in A", 1))
                .await
                .unwrap()
                .id,
            None,
        )
        .await
        .unwrap();
    let deleted_a = h
        .count("SELECT CAST(max(interaction_id) AS BIGINT) FROM interactions")
        .await;
    let in_b = w
        .b_editor
        .create_interaction(meeting("secret of B", 0).notes("beta"))
        .await
        .unwrap();
    w.a_editor
        .create_interaction(meeting("also in A", 2))
        .await
        .unwrap();
    let before = h.count("SELECT count(*) FROM audit_log").await;

    for s in [&w.b_admin, &w.b_editor, &w.b_viewer] {
        let e = s.get_interaction(in_a.id).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound, "{s:?}");
        let p = InteractionPatch {
            title: Some("pwned".into()),
            ..Default::default()
        };
        let e = s.update_interaction(in_a.id, p, None).await.unwrap_err();
        assert!(
            matches!(e.kind(), ErrorKind::NotFound | ErrorKind::PermissionDenied),
            "{e}"
        );
        let e = s.delete_interaction(in_a.id, None).await.unwrap_err();
        assert!(
            matches!(e.kind(), ErrorKind::NotFound | ErrorKind::PermissionDenied),
            "{e}"
        );
        let e = s.restore_interaction(deleted_a).await.unwrap_err();
        assert!(
            matches!(e.kind(), ErrorKind::NotFound | ErrorKind::PermissionDenied),
            "{e}"
        );
        // The Finder only ever sees its own site.
        let page = s.finder().text("secret").await.unwrap();
        assert!(page.items.iter().all(|i| i.site_id == w.b.id));
        assert_eq!(page.items.len(), 1);
        assert_eq!(
            s.finder().title_contains("of A").await.unwrap().items.len(),
            0
        );
        assert_eq!(s.finder().count().await.unwrap(), 1);
        assert_eq!(
            s.finder()
                .created_by(w.a_editor.user_id())
                .count()
                .await
                .unwrap(),
            0
        );
    }
    let all_b = w.b_admin.finder().include_deleted(true).await.unwrap();
    assert_eq!(all_b.items.len(), 1);
    // A site admin of B cannot manage A's members or read A's trail through a B session.
    let a_trail = w.a_admin.audit_trail(500, None).await.unwrap();
    let b_trail = w.b_admin.audit_trail(500, None).await.unwrap();
    assert!(a_trail.entries.iter().all(|e| e.site_id == Some(w.a.id)));
    assert!(b_trail.entries.iter().all(|e| e.site_id == Some(w.b.id)));
    // Cursors of one site do not work in another.
    let page = w.a_viewer.finder().limit(1).await.unwrap();
    let cur = page.next_cursor.expect("two live rows in A");
    let e = w.b_viewer.finder().limit(1).after(cur).await.unwrap_err();
    assert_eq!(e.field(), Some("cursor"));
    // Membership in B gives no session in A.
    let b_user = w.b_admin.user_id();
    assert_eq!(
        h.store
            .session_for_user(b_user, w.a.id)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::PermissionDenied
    );
    // Nothing changed.
    assert_eq!(h.count("SELECT count(*) FROM audit_log").await, before);
    assert_eq!(w.a_viewer.get_interaction(in_a.id).await.unwrap(), in_a);
    assert_eq!(w.b_viewer.get_interaction(in_b.id).await.unwrap(), in_b);
}

async fn roles_gate_every_write(h: Harness) {
    let w = h.world().await;
    let i = w
        .a_editor
        .create_interaction(meeting("gated", 0))
        .await
        .unwrap();
    let p = || InteractionPatch {
        title: Some("x".into()),
        ..Default::default()
    };
    let v = &w.a_viewer;
    assert_eq!(
        v.create_interaction(meeting("no", 0))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::PermissionDenied
    );
    assert_eq!(
        v.update_interaction(i.id, p(), None)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::PermissionDenied
    );
    assert_eq!(
        v.delete_interaction(i.id, None).await.unwrap_err().kind(),
        ErrorKind::PermissionDenied
    );
    assert_eq!(
        v.finder().include_deleted(true).await.unwrap_err().kind(),
        ErrorKind::PermissionDenied
    );
    w.a_editor.delete_interaction(i.id, None).await.unwrap();
    assert_eq!(
        w.a_editor
            .restore_interaction(i.id)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::PermissionDenied
    );
    assert_eq!(
        w.a_editor
            .finder()
            .include_deleted(true)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::PermissionDenied
    );
    assert_eq!(
        w.a_admin.restore_interaction(i.id).await.unwrap().version,
        3
    );
    assert_eq!(w.a_admin.role(), Role::Admin);
    assert_eq!(h.count("SELECT count(*) FROM interactions").await, 1);
}

crate::contract!(no_operation_crosses_sites, roles_gate_every_write);
