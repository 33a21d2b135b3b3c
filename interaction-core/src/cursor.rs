//! Opaque keyset cursors: base64url of a small JSON document holding the sort key of the
//! last row and a fingerprint of the query, so a cursor used with another query (or
//! another site) is refused instead of silently returning the wrong page, followed by a
//! MAC (HMAC-SHA256, truncated to 128 bits) under the deployment's `cursor_mac` secret
//! (table `store_secrets`): every process of a deployment accepts the others' cursors,
//! and a forged or altered one is refused before any SQL runs.

use base64::Engine;
use hmac::{KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

type HmacSha256 = hmac::Hmac<Sha256>;

/// Bytes of the MAC kept in a cursor.
const MAC_LEN: usize = 16;

/// The key cursors are authenticated with.
#[derive(Clone)]
pub(crate) struct CursorKey(Vec<u8>);

impl CursorKey {
    pub(crate) fn new(secret: Vec<u8>) -> CursorKey {
        CursorKey(secret)
    }

    fn mac(&self) -> HmacSha256 {
        <HmacSha256 as KeyInit>::new_from_slice(&self.0).expect("HMAC takes any key length")
    }
}

const ENGINE: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Longest cursor accepted; real ones are well under 200 bytes.
const MAX_CURSOR_LEN: usize = 1024;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Cursor {
    /// Format version.
    v: u8,
    /// Fingerprint of the query the cursor belongs to.
    f: String,
    /// Sort key of the last row: instant in microseconds or rank.
    pub k: Key,
    /// Tie breaker: id of the last row.
    pub id: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub(crate) enum Key {
    Micros(i64),
    Rank(f64),
}

/// A stable fingerprint of a query's canonical description.
pub(crate) fn fingerprint(canonical: &serde_json::Value) -> String {
    let digest = Sha256::digest(canonical.to_string().as_bytes());
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// Cursor format version (2: authenticated).
const VERSION: u8 = 2;

pub(crate) fn encode(key: &CursorKey, fingerprint: &str, k: Key, id: i64) -> String {
    let c = Cursor {
        v: VERSION,
        f: fingerprint.to_string(),
        k,
        id,
    };
    let mut bytes = serde_json::to_vec(&c).expect("cursor serialises");
    let mut mac = key.mac();
    mac.update(&bytes);
    bytes.extend_from_slice(&mac.finalize().into_bytes()[..MAC_LEN]);
    ENGINE.encode(bytes)
}

pub(crate) fn decode(key: &CursorKey, cursor: &str, fingerprint: &str) -> Result<Cursor> {
    let bad = |why: &str| Error::validation("cursor", why.to_string());
    if cursor.len() > MAX_CURSOR_LEN {
        return Err(bad("is too long"));
    }
    let bytes = ENGINE
        .decode(cursor.as_bytes())
        .map_err(|_| bad("is malformed"))?;
    if bytes.len() <= MAC_LEN {
        return Err(bad("is malformed"));
    }
    let (doc, tag) = bytes.split_at(bytes.len() - MAC_LEN);
    let mut mac = key.mac();
    mac.update(doc);
    // Constant-time comparison of the truncated tag.
    mac.verify_truncated_left(tag).map_err(|_| {
        bad("is not one this deployment issued (forged, altered or from another database)")
    })?;
    let c: Cursor = serde_json::from_slice(doc).map_err(|_| bad("is malformed"))?;
    if c.v != VERSION {
        return Err(bad("has an unknown format version"));
    }
    if c.f != fingerprint {
        return Err(bad("belongs to a different query"));
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejections() {
        let key = CursorKey::new(vec![7; 32]);
        let f = fingerprint(&serde_json::json!({"q": "x"}));
        let c = encode(&key, &f, Key::Rank(0.123_456_789_012_345), 7);
        let d = decode(&key, &c, &f).unwrap();
        assert_eq!(d.k, Key::Rank(0.123_456_789_012_345));
        assert_eq!(d.id, 7);
        let m = encode(&key, &f, Key::Micros(-5), 9);
        assert_eq!(decode(&key, &m, &f).unwrap().k, Key::Micros(-5));
        let other = fingerprint(&serde_json::json!({"q": "y"}));
        assert!(decode(&key, &c, &other)
            .unwrap_err()
            .to_string()
            .contains("different query"));
        for junk in ["", "!!!", "eyJ2IjoxfQ", &"a".repeat(2000)] {
            let e = decode(&key, junk, &f).unwrap_err();
            assert_eq!(e.field(), Some("cursor"));
        }
    }

    #[test]
    fn forged_altered_and_foreign_cursors_are_refused() {
        let key = CursorKey::new(vec![7; 32]);
        let f = fingerprint(&serde_json::json!({"q": "x"}));
        let c = encode(&key, &f, Key::Micros(1_000), 5);
        // Another deployment's key.
        let e = decode(&CursorKey::new(vec![8; 32]), &c, &f).unwrap_err();
        assert!(
            e.to_string().contains("not one this deployment issued"),
            "{e}"
        );
        // Any altered byte.
        let mut bytes = ENGINE.decode(&c).unwrap();
        for i in 0..bytes.len() {
            bytes[i] ^= 1;
            assert!(
                decode(&key, &ENGINE.encode(&bytes), &f).is_err(),
                "byte {i}"
            );
            bytes[i] ^= 1;
        }
        // An unauthenticated (version 1) cursor with a valid fingerprint.
        let v1 = ENGINE.encode(format!(r#"{{"v":1,"f":"{f}","k":1000,"id":5}}"#));
        assert_eq!(decode(&key, &v1, &f).unwrap_err().field(), Some("cursor"));
    }
}
