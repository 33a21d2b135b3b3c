//! Users, login tokens, sessions and the access log.

use interaction_core::{ErrorKind, Role};

use crate::harness::{Harness, PASSWORD};

async fn users_are_unique_and_validated(h: Harness) {
    let u = h.user("alice").await;
    assert_eq!(u.username, "alice");
    assert!(u.is_active && u.last_login.is_none());
    assert_eq!(h.store.get_user(u.id).await.unwrap(), u);
    assert_eq!(h.store.get_user_by_username("alice").await.unwrap(), u);
    // Username unique; email unique case-insensitively.
    let e = h
        .store
        .create_user("alice", "other@example.com", PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    let e = h
        .store
        .create_user("alice2", "ALICE@Example.com", PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    // The password hash is argon2id at OWASP's minimum.
    let n = h
        .count("SELECT count(*) FROM users WHERE password_hash LIKE '$argon2id$v=19$m=19456,t=2,p=1$%'")
        .await;
    assert_eq!(n, 1);
    for (name, email, pw, field) in [
        ("", "a@b.c", PASSWORD, "username"),
        (&"x".repeat(51)[..], "a@b.c", PASSWORD, "username"),
        ("has space", "a@b.c", PASSWORD, "username"),
        ("nul\0", "a@b.c", PASSWORD, "username"),
        ("bob", "not-an-email", PASSWORD, "email"),
        (
            "bob",
            &format!("{}@b.c", "x".repeat(100))[..],
            PASSWORD,
            "email",
        ),
        ("bob", "a@b.c", "short", "password"),
        ("bob", "a@b.c", "long\0enough password", "password"),
    ] {
        let e = h.store.create_user(name, email, pw).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Validation, "{name} {email}");
        assert_eq!(e.field(), Some(field), "{name} {email}");
    }
    assert_eq!(h.count("SELECT count(*) FROM users").await, 1);
    let e = h.store.get_user(999).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    let e = h.store.get_user(-1).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
}

async fn login_logout_and_token_revocation(h: Harness) {
    let site = h.site("Main").await;
    let u = h.user("carol").await;
    h.store
        .grant_role(u.id, site.id, Role::Editor)
        .await
        .unwrap();

    let t = h.store.login("carol", PASSWORD).await.unwrap();
    assert!(t.token.len() >= 43, "at least 256 bits, base64");
    assert!(
        !format!("{t:?}").contains(&t.token),
        "Debug must not leak the token"
    );
    let s = h.store.session(&t.token, site.id).await.unwrap();
    assert_eq!(
        (s.user_id(), s.site_id(), s.role()),
        (u.id, site.id, Role::Editor)
    );
    assert!(h.store.get_user(u.id).await.unwrap().last_login.is_some());
    // Only a hash of the token is stored.
    let stored = h.count("SELECT count(*) FROM auth_sessions").await;
    assert_eq!(stored, 1);

    // Logout revokes; a second logout and a made-up token fail alike.
    h.store.logout(&t.token).await.unwrap();
    for bad in [&t.token[..], "made-up", ""] {
        let e = h.store.session(bad, site.id).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::AuthenticationFailed);
    }
    assert_eq!(
        h.store.logout(&t.token).await.unwrap_err().kind(),
        ErrorKind::AuthenticationFailed
    );

    // A password change revokes every token of the user.
    let t1 = h.store.login("carol", PASSWORD).await.unwrap();
    let t2 = h.store.login("carol", PASSWORD).await.unwrap();
    h.store
        .set_password(u.id, "a brand new password")
        .await
        .unwrap();
    for t in [&t1, &t2] {
        let e = h.store.session(&t.token, site.id).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::AuthenticationFailed);
    }
    assert_eq!(
        h.store.login("carol", PASSWORD).await.unwrap_err().kind(),
        ErrorKind::AuthenticationFailed
    );
    let t3 = h
        .store
        .login("carol", "a brand new password")
        .await
        .unwrap();

    // Deactivation revokes too, and blocks login and sessions.
    h.store.set_user_active(u.id, false).await.unwrap();
    assert_eq!(
        h.store
            .session(&t3.token, site.id)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::AuthenticationFailed
    );
    assert_eq!(
        h.store
            .session_for_user(u.id, site.id)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::PermissionDenied
    );
    h.store.set_user_active(u.id, true).await.unwrap();
    let t4 = h
        .store
        .login("carol", "a brand new password")
        .await
        .unwrap();

    // An expired token is refused.
    h.exec(&if h.is_postgres() {
        "UPDATE auth_sessions SET expires_at = now() - interval '1 second'".to_string()
    } else {
        "UPDATE auth_sessions SET expires_at = 0".to_string()
    })
    .await;
    assert_eq!(
        h.store
            .session(&t4.token, site.id)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::AuthenticationFailed
    );

    // Deactivation and password change are audited admin actions.
    assert_eq!(
        h.count("SELECT count(*) FROM audit_log WHERE entity = 'user' AND action IN ('deactivate', 'activate', 'set_password')").await,
        3
    );
}

async fn failed_logins_look_the_same_and_are_logged(h: Harness) {
    let u = h.user("dave").await;
    h.user("erin").await;
    h.store.set_user_active(u.id, false).await.unwrap();
    let wrong = h.store.login("erin", "wrong password!").await.unwrap_err();
    let unknown = h.store.login("nobody", PASSWORD).await.unwrap_err();
    let inactive = h.store.login("dave", PASSWORD).await.unwrap_err();
    let long = h.store.login(&"x".repeat(300), PASSWORD).await.unwrap_err();
    for e in [&wrong, &unknown, &inactive, &long] {
        assert_eq!(e.kind(), ErrorKind::AuthenticationFailed);
        assert_eq!(e.to_string(), wrong.to_string());
    }
    h.store.login("erin", PASSWORD).await.unwrap();
    let log = h.store.access_log(10).await.unwrap();
    assert_eq!(log.len(), 5);
    assert!(log[0].success && log[0].username == "erin");
    assert_eq!(log.iter().filter(|e| !e.success).count(), 4);
    assert_eq!(log[3].username, "nobody");
    assert_eq!(log[3].user_id, None);
    assert_eq!(
        h.store.access_log(0).await.unwrap_err().kind(),
        ErrorKind::Validation
    );
}

async fn sessions_need_an_active_membership(h: Harness) {
    let a = h.site("A").await;
    let b = h.site("B").await;
    let u = h.user("frank").await;
    h.store.grant_role(u.id, a.id, Role::Viewer).await.unwrap();
    let t = h.store.login("frank", PASSWORD).await.unwrap();
    assert_eq!(
        h.store.session(&t.token, a.id).await.unwrap().role(),
        Role::Viewer
    );
    for e in [
        h.store.session(&t.token, b.id).await.unwrap_err(),
        h.store.session_for_user(u.id, b.id).await.unwrap_err(),
        h.store.session(&t.token, 4242).await.unwrap_err(),
    ] {
        assert_eq!(e.kind(), ErrorKind::PermissionDenied);
    }
    h.store.set_site_active(a.id, false).await.unwrap();
    assert_eq!(
        h.store.session(&t.token, a.id).await.unwrap_err().kind(),
        ErrorKind::PermissionDenied
    );
    h.store.set_site_active(a.id, true).await.unwrap();
    // Role changes take effect for new sessions.
    h.store.grant_role(u.id, a.id, Role::Admin).await.unwrap();
    assert_eq!(
        h.store.session(&t.token, a.id).await.unwrap().role(),
        Role::Admin
    );
    let sites = h.store.user_sites(u.id).await.unwrap();
    assert_eq!(sites.len(), 1);
    assert_eq!(sites[0].1, Role::Admin);
    assert_eq!(
        h.store
            .session_for_user(999, a.id)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        h.store
            .grant_role(999, a.id, Role::Admin)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        h.store.create_site("A", None).await.unwrap_err().kind(),
        ErrorKind::Conflict
    );
    assert_eq!(
        h.store.create_site("", None).await.unwrap_err().field(),
        Some("name")
    );
    assert_eq!(h.store.list_sites().await.unwrap().len(), 2);
}

async fn members_are_managed_by_site_admins(h: Harness) {
    let w = h.world().await;
    let newcomer = h.user("newcomer").await;
    for s in [&w.a_editor, &w.a_viewer] {
        assert_eq!(
            s.set_member_role(newcomer.id, Role::Viewer)
                .await
                .unwrap_err()
                .kind(),
            ErrorKind::PermissionDenied
        );
        assert_eq!(
            s.members().await.unwrap_err().kind(),
            ErrorKind::PermissionDenied
        );
        assert_eq!(
            s.audit_trail(10, None).await.unwrap_err().kind(),
            ErrorKind::PermissionDenied
        );
    }
    w.a_admin
        .set_member_role(newcomer.id, Role::Editor)
        .await
        .unwrap();
    let members = w.a_admin.members().await.unwrap();
    assert_eq!(members.len(), 4);
    assert!(members
        .iter()
        .any(|m| m.user_id == newcomer.id && m.role == Role::Editor));
    w.a_admin.remove_member(newcomer.id).await.unwrap();
    assert_eq!(
        w.a_admin
            .remove_member(newcomer.id)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        h.store
            .session_for_user(newcomer.id, w.a.id)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::PermissionDenied
    );
    // The trail records both, by the admin, and survives the membership's deletion.
    let trail = w.a_admin.audit_trail(10, None).await.unwrap();
    let actions: Vec<_> = trail.entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(&actions[..2], ["remove_member", "set_role"]);
    assert_eq!(trail.entries[0].actor_id, Some(w.a_admin.user_id()));
    assert_eq!(trail.entries[1].changes["role"]["new"], "editor");
}

/// Password hashing runs on the blocking pool behind a cap: while a flood of logins
/// queues for it, ordinary reads keep completing.
async fn a_login_flood_does_not_starve_reads(h: Harness) {
    let store = interaction_core::StoreOptions::new(&h.url)
        .login_concurrency(1)
        .min_connections(1)
        .connect()
        .await
        .unwrap();
    let w = h.world().await;
    let i = w
        .a_editor
        .create_interaction(crate::harness::meeting("still readable", 0))
        .await
        .unwrap();
    let logins: Vec<_> = (0..24)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.login("a_viewer", PASSWORD).await })
        })
        .collect();
    tokio::task::yield_now().await;
    let s = store
        .session_for_user(w.a_viewer.user_id(), w.a.id)
        .await
        .unwrap();
    for _ in 0..10 {
        assert_eq!(s.get_interaction(i.id).await.unwrap().id, i.id);
    }
    let pending = logins.iter().filter(|l| !l.is_finished()).count();
    assert!(
        pending > 0,
        "reads should finish while logins are still queued"
    );
    for l in logins {
        l.await.unwrap().unwrap();
    }
}

crate::contract!(
    a_login_flood_does_not_starve_reads,
    users_are_unique_and_validated,
    login_logout_and_token_revocation,
    failed_logins_look_the_same_and_are_logged,
    sessions_need_an_active_membership,
    members_are_managed_by_site_admins,
);
