//! Ages on the command line (`archive --older-than 2y`): a whole number and a unit.

use std::time::Duration;

const HOUR: u64 = 3600;
const DAY: u64 = 24 * HOUR;

/// Parses `2y`, `18mo`, `6w`, `90d`, `12h`: a positive whole number and one of `y`
/// (365 days), `mo` (30 days), `w`, `d`, `h`. Anything else (no unit, `m`, a fraction,
/// zero, a sign) is an error that says what is accepted.
pub fn parse_age(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let expected = "expected a whole number and a unit: y (365 days), mo (30 days), w, d or h, \
                    e.g. 2y, 18mo, 90d, 12h";
    if number.is_empty() {
        return Err(format!("{s:?}: {expected}"));
    }
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{s:?}: the number is too large"))?;
    if n == 0 {
        return Err(format!("{s:?}: must be longer than zero"));
    }
    let unit_secs = match unit.to_ascii_lowercase().as_str() {
        "y" => 365 * DAY,
        "mo" => 30 * DAY,
        "w" => 7 * DAY,
        "d" => DAY,
        "h" => HOUR,
        "m" => {
            return Err(format!(
                "{s:?}: `m` is ambiguous; write `mo` for months (minutes are not a unit here)"
            ))
        }
        "" => return Err(format!("{s:?}: no unit; {expected}")),
        other => return Err(format!("{s:?}: unknown unit {other:?}; {expected}")),
    };
    let secs = n
        .checked_mul(unit_secs)
        .filter(|&secs| secs <= 1000 * 365 * DAY)
        .ok_or_else(|| format!("{s:?}: longer than 1000 years"))?;
    Ok(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_forms_parse() {
        assert_eq!(parse_age("2y"), Ok(Duration::from_secs(2 * 365 * DAY)));
        assert_eq!(parse_age("18mo"), Ok(Duration::from_secs(18 * 30 * DAY)));
        assert_eq!(parse_age("90d"), Ok(Duration::from_secs(90 * DAY)));
        assert_eq!(parse_age("12h"), Ok(Duration::from_secs(12 * HOUR)));
        assert_eq!(parse_age("6w"), Ok(Duration::from_secs(42 * DAY)));
        assert_eq!(parse_age(" 3Y "), Ok(Duration::from_secs(3 * 365 * DAY)));
    }

    #[test]
    fn anything_else_is_a_clear_error() {
        for (bad, says) in [
            ("", "whole number"),
            ("y", "whole number"),
            ("2", "no unit"),
            ("2 y", "unknown unit"),
            ("1.5y", "unknown unit"),
            ("-2y", "whole number"),
            ("+2y", "whole number"),
            ("0d", "longer than zero"),
            ("3m", "ambiguous"),
            ("2yr", "unknown unit"),
            ("5s", "unknown unit"),
            ("1001y", "1000 years"),
            ("99999999999999999999999d", "too large"),
        ] {
            let e = parse_age(bad).unwrap_err();
            assert!(e.contains(says), "{bad:?}: {e}");
        }
    }
}
