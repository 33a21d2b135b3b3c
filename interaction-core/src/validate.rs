//! Input validation shared by every entry point. Lengths come from spec §2.2 and count
//! characters, as `VARCHAR(n)` does.

use chrono::{DateTime, LocalResult, NaiveDateTime, SubsecRound, TimeZone, Utc};
use chrono_tz::Tz;

use crate::error::{Error, Result};
use crate::model::When;

/// Longest `description` or `notes` accepted, in bytes (1 MiB). Larger text belongs in a
/// document store; this bound keeps a single row (and its full-text vector) cheap.
pub const MAX_LONG_TEXT_BYTES: usize = 1024 * 1024;

/// Checks a required, bounded text field: non-empty after trimming, at most `max` chars,
/// no NUL.
pub(crate) fn required(field: &str, value: &str, max: usize) -> Result<()> {
    if value.trim().is_empty() {
        return Err(Error::validation(field, "must not be empty"));
    }
    optional(field, Some(value), max)
}

/// Checks an optional bounded text field.
pub(crate) fn optional(field: &str, value: Option<&str>, max: usize) -> Result<()> {
    let Some(v) = value else { return Ok(()) };
    no_nul(field, v)?;
    // Cheap byte bound first: a char is at least one byte.
    if v.len() > max && v.chars().count() > max {
        return Err(Error::validation(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(())
}

/// Longest schema name PostgreSQL keeps (`NAMEDATALEN - 1` bytes).
pub(crate) const MAX_SCHEMA_NAME_BYTES: usize = 63;

/// Checks a PostgreSQL schema name (`StoreOptions::schema`): an unquoted identifier as
/// PostgreSQL folds it (`[a-z_][a-z0-9_]*`), at most 63 bytes, not one of the names
/// PostgreSQL reserves (`pg_…`). Such a name needs no quoting anywhere (SQL, the
/// `search_path` setting, `psql`), so it cannot smuggle in SQL or another schema.
pub(crate) fn schema_name(value: &str) -> Result<()> {
    no_nul("schema", value)?;
    let bad = |why: &str| Err(Error::validation("schema", format!("{value:?} {why}")));
    if value.is_empty() {
        return bad("is empty");
    }
    if value.len() > MAX_SCHEMA_NAME_BYTES {
        return bad("is longer than 63 bytes");
    }
    let mut chars = value.chars();
    let first = chars.next().expect("not empty");
    if !(first.is_ascii_lowercase() || first == '_')
        || !chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return bad(
            "is not a lowercase identifier: a letter a-z or `_`, then letters a-z, \
             digits and `_`",
        );
    }
    if value.starts_with("pg_") {
        return bad("starts with `pg_`, which PostgreSQL reserves for its own schemas");
    }
    Ok(())
}

/// Checks an optional long text field (description, notes).
pub(crate) fn long_text(field: &str, value: Option<&str>) -> Result<()> {
    let Some(v) = value else { return Ok(()) };
    if v.len() > MAX_LONG_TEXT_BYTES {
        return Err(Error::validation(
            field,
            format!("must be at most {MAX_LONG_TEXT_BYTES} bytes"),
        ));
    }
    no_nul(field, v)
}

/// PostgreSQL text cannot hold NUL, and C callers would truncate at it: refuse everywhere.
pub(crate) fn no_nul(field: &str, value: &str) -> Result<()> {
    if value.contains('\0') {
        return Err(Error::validation(field, "must not contain NUL characters"));
    }
    Ok(())
}

/// Parses an IANA time zone name known to chrono-tz.
pub(crate) fn timezone(value: &str) -> Result<Tz> {
    optional("timezone", Some(value), 50)?;
    value
        .parse::<Tz>()
        .map_err(|_| Error::validation("timezone", format!("unknown IANA time zone {value:?}")))
}

/// Resolves a [`When`] to a UTC instant, truncated to microseconds (the storage precision).
/// A local time that falls in a DST gap or overlap is an error, never a guess.
pub(crate) fn instant(field: &str, when: &When, tz: Tz) -> Result<DateTime<Utc>> {
    let utc = match when {
        When::Instant(t) => *t,
        When::Local(naive) => resolve_local(field, *naive, tz)?,
    };
    in_range(field, utc.trunc_subsecs(6))
}

/// The instants every backend and binding can store and read back:
/// 0001-01-01T00:00:00Z ..= 9999-12-31T23:59:59.999999Z.
pub(crate) fn instant_bounds() -> (DateTime<Utc>, DateTime<Utc>) {
    let first = NaiveDateTime::parse_from_str("0001-01-01 00:00:00", "%Y-%m-%d %H:%M:%S")
        .expect("valid literal")
        .and_utc();
    let last = NaiveDateTime::parse_from_str("9999-12-31 23:59:59.999999", "%Y-%m-%d %H:%M:%S%.f")
        .expect("valid literal")
        .and_utc();
    (first, last)
}

/// Refuses an instant outside [`instant_bounds`] (after conversion to UTC).
pub(crate) fn in_range(field: &str, t: DateTime<Utc>) -> Result<DateTime<Utc>> {
    let (first, last) = instant_bounds();
    if t < first || t > last {
        return Err(Error::validation(
            field,
            format!("{t} is outside 0001-01-01..9999-12-31 UTC"),
        ));
    }
    Ok(t)
}

fn resolve_local(field: &str, naive: NaiveDateTime, tz: Tz) -> Result<DateTime<Utc>> {
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
        LocalResult::None => Err(Error::validation(
            field,
            format!("{naive} does not exist in {tz} (skipped by a daylight-saving change)"),
        )),
        LocalResult::Ambiguous(a, b) => Err(Error::validation(
            field,
            format!(
                "{naive} is ambiguous in {tz} (it happens twice: {} and {}); give a UTC instant",
                a.with_timezone(&Utc),
                b.with_timezone(&Utc)
            ),
        )),
    }
}

/// Checks `end >= start`.
pub(crate) fn range(start: DateTime<Utc>, end: DateTime<Utc>) -> Result<()> {
    if end < start {
        return Err(Error::validation(
            "end_datetime",
            "must not be before start_datetime",
        ));
    }
    Ok(())
}

/// Checks an id given by a caller.
pub(crate) fn id(field: &str, value: i64) -> Result<i32> {
    i32::try_from(value)
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| Error::validation(field, format!("{value} is not a valid id")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn dst_gap_and_overlap_are_errors() {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        let gap = NaiveDate::from_ymd_opt(2026, 3, 29)
            .unwrap()
            .and_hms_opt(2, 30, 0)
            .unwrap();
        let overlap = NaiveDate::from_ymd_opt(2026, 10, 25)
            .unwrap()
            .and_hms_opt(2, 30, 0)
            .unwrap();
        let e = instant("start_datetime", &When::Local(gap), tz).unwrap_err();
        assert_eq!(e.field(), Some("start_datetime"));
        let e = instant("end_datetime", &When::Local(overlap), tz).unwrap_err();
        assert!(e.to_string().contains("ambiguous"), "{e}");
        let ok = NaiveDate::from_ymd_opt(2026, 7, 1)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap();
        let t = instant("start_datetime", &When::Local(ok), tz).unwrap();
        assert_eq!(t.to_rfc3339(), "2026-07-01T10:00:00+00:00");
    }

    #[test]
    fn instants_outside_years_1_to_9999_are_refused() {
        let tokyo: Tz = "Asia/Tokyo".parse().unwrap();
        let ny: Tz = "America/New_York".parse().unwrap();
        let at = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        // Local times whose UTC instant falls in year 0 or year 10000.
        let e = instant(
            "start_datetime",
            &When::Local(at("0001-01-01 00:00")),
            tokyo,
        );
        assert_eq!(e.unwrap_err().field(), Some("start_datetime"));
        let e = instant("end_datetime", &When::Local(at("9999-12-31 22:00")), ny);
        assert_eq!(e.unwrap_err().field(), Some("end_datetime"));
        let (first, last) = instant_bounds();
        assert!(instant("start_datetime", &When::Instant(first), tokyo).is_ok());
        assert!(instant("start_datetime", &When::Instant(last), tokyo).is_ok());
        let before = first - chrono::Duration::microseconds(1);
        assert!(instant("start_datetime", &When::Instant(before), tokyo).is_err());
    }

    #[test]
    fn lengths_count_characters() {
        let s = "é".repeat(50);
        assert!(optional("username", Some(&s), 50).is_ok());
        let s = "é".repeat(51);
        assert!(optional("username", Some(&s), 50).is_err());
        assert!(required("title", "  ", 10).is_err());
        assert!(no_nul("title", "a\0b").is_err());
        assert!(timezone("Mars/Olympus").is_err());
        assert!(timezone("America/New_York").is_ok());
        assert!(id("id", 0).is_err());
        assert!(id("id", i64::MAX).is_err());
    }
}
