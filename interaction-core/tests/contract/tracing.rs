//! Each call is traced with its operation, site and outcome; values never appear.

use std::io::Write;
use std::sync::{Arc, Mutex};

use interaction_core::{Role, StoreOptions};

use crate::harness::{meeting, Harness, PASSWORD};

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// One runtime thread, so the thread-local subscriber sees the spawned write tasks too.
#[tokio::test(flavor = "current_thread")]
async fn calls_are_traced_without_values() {
    let buf = Buf::default();
    let sub = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer({
            let buf = buf.clone();
            move || buf.clone()
        })
        .finish();
    let _guard = tracing::subscriber::set_default(sub);
    let h = Harness::sqlite().await;
    let site = h.site("Traced").await;
    let s = h.member("tracer", &site, Role::Editor).await;
    let secret_title = "Quarterly-secret-title-8841";
    let i = s
        .create_interaction(meeting(secret_title, 1))
        .await
        .unwrap();
    s.get_interaction(i.id).await.unwrap();
    s.finder().fetch().await.unwrap();
    s.finder().fetch().await.unwrap();
    h.store.login("tracer", PASSWORD).await.unwrap();
    let slow = StoreOptions::new(&h.url)
        .slow_statement_threshold(Some(std::time::Duration::from_nanos(1)))
        .connect()
        .await
        .unwrap();
    slow.get_site(site.id).await.unwrap();
    let out = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    for needle in [
        "op=\"create_interaction\"",
        "op=\"get_interaction\"",
        &format!("site={}", site.id),
        "backend=\"sqlite\"",
        "rows=1",
        "duration_us=",
        // Cache lookups, in the call's span.
        "op=\"finder\"",
        "cache=\"finder\" outcome=\"miss\"",
        "cache=\"finder\" outcome=\"hit\"",
        "cache=\"permissions\" outcome=\"hit\"",
    ] {
        assert!(out.contains(needle), "{needle} missing in:\n{out}");
    }
    assert!(
        out.lines()
            .any(|l| l.contains("WARN") && l.contains("slow call: get_site")),
        "{out}"
    );
    for secret in [secret_title, PASSWORD] {
        assert!(!out.contains(secret), "{secret} leaked:\n{out}");
    }
}
