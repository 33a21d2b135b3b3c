//! Opaque keyset cursors: base64url of a small JSON document holding the sort key of the
//! last row and a fingerprint of the query, so a cursor used with another query (or
//! another site) is refused instead of silently returning the wrong page.

use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

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

pub(crate) fn encode(fingerprint: &str, k: Key, id: i64) -> String {
    let c = Cursor {
        v: 1,
        f: fingerprint.to_string(),
        k,
        id,
    };
    ENGINE.encode(serde_json::to_vec(&c).expect("cursor serialises"))
}

pub(crate) fn decode(cursor: &str, fingerprint: &str) -> Result<Cursor> {
    let bad = |why: &str| Error::validation("cursor", why.to_string());
    if cursor.len() > MAX_CURSOR_LEN {
        return Err(bad("is too long"));
    }
    let bytes = ENGINE
        .decode(cursor.as_bytes())
        .map_err(|_| bad("is malformed"))?;
    let c: Cursor = serde_json::from_slice(&bytes).map_err(|_| bad("is malformed"))?;
    if c.v != 1 {
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
        let f = fingerprint(&serde_json::json!({"q": "x"}));
        let c = encode(&f, Key::Rank(0.123_456_789_012_345), 7);
        let d = decode(&c, &f).unwrap();
        assert_eq!(d.k, Key::Rank(0.123_456_789_012_345));
        assert_eq!(d.id, 7);
        let m = encode(&f, Key::Micros(-5), 9);
        assert_eq!(decode(&m, &f).unwrap().k, Key::Micros(-5));
        let other = fingerprint(&serde_json::json!({"q": "y"}));
        assert!(decode(&c, &other)
            .unwrap_err()
            .to_string()
            .contains("different query"));
        for junk in ["", "!!!", "eyJ2IjoxfQ", &"a".repeat(2000)] {
            let e = decode(junk, &f).unwrap_err();
            assert_eq!(e.field(), Some("cursor"));
        }
    }
}
