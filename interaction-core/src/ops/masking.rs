//! Masked reads for reporting (spec §6.3, "View-based masking for sensitive fields").
//!
//! The same rules as the database views `interactions_masked` and `users_masked`
//! (migration 0004), computed here for reads through the API
//! ([`Interaction::masked`], [`User::masked`], `Finder::masked`):
//! - `description` and `notes` are hidden (`None`);
//! - `lead` is reduced to initials: spaces (U+0020 only) are trimmed from both ends;
//!   an empty result stays empty; else the first character followed by `.`, and, when
//!   a space follows the first word, a space, the first character after that run of
//!   spaces and `.` ("Ana María López" → "A. M.", "  ana  " → "a.", "Ana María" →
//!   "A. M."). Characters are kept as written (no case change) and counted as Unicode
//!   code points, as SQLite's `substr` and PostgreSQL's `substr` count them, so both
//!   engines' views and this function agree byte for byte without custom functions;
//! - title, type, location and every other column are kept (a location names a place,
//!   not a person: deployments that store addresses there can leave it out of their
//!   reports);
//! - a user's username becomes its first character and `***`; an email its first
//!   character, `***` and everything from the `@` on (`a***@example.com`); the password
//!   hash is never part of a user.

use crate::model::{Interaction, User};

/// The initials of a lead, by the rule in the [module documentation](self).
pub fn initials(lead: &str) -> String {
    let t = lead.trim_matches(' ');
    let Some(first) = t.chars().next() else {
        return String::new();
    };
    match t.find(' ') {
        None => format!("{first}."),
        Some(i) => {
            let second = t[i + 1..]
                .trim_start_matches(' ')
                .chars()
                .next()
                .expect("text trimmed of spaces ends with a non-space");
            format!("{first}. {second}.")
        }
    }
}

/// An email masked as `a***@example.com` (everything from the first `@` kept).
pub fn mask_email(email: &str) -> String {
    let first: String = email.chars().take(1).collect();
    match email.find('@') {
        Some(i) => format!("{first}***{}", &email[i..]),
        None => format!("{first}***"),
    }
}

/// A username masked as its first character and `***`.
pub fn mask_username(username: &str) -> String {
    let first: String = username.chars().take(1).collect();
    format!("{first}***")
}

impl Interaction {
    /// This interaction as the `interactions_masked` view shows it: description and
    /// notes hidden, lead reduced to [`initials`], everything else kept.
    pub fn masked(&self) -> Interaction {
        Interaction {
            lead: initials(&self.lead),
            description: None,
            notes: None,
            ..self.clone()
        }
    }
}

impl User {
    /// This user as the `users_masked` view shows it: username and email masked
    /// ([`mask_username`], [`mask_email`]).
    pub fn masked(&self) -> User {
        User {
            username: mask_username(&self.username),
            email: mask_email(&self.email),
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_follow_the_documented_rule() {
        for (lead, want) in [
            ("Ana María López", "A. M."),
            ("ana", "a."),
            ("  Ana    María  ", "A. M."),
            ("Émile Zola", "É. Z."),
            ("   ", ""),
            ("", ""),
            ("X", "X."),
            ("Dr.\tNo", "D."),
            ("李 小龍", "李. 小."),
        ] {
            assert_eq!(initials(lead), want, "{lead:?}");
        }
    }

    #[test]
    fn users_are_masked() {
        assert_eq!(mask_email("ana@example.com"), "a***@example.com");
        assert_eq!(mask_email("Ünal@x.de"), "Ü***@x.de");
        assert_eq!(mask_username("ana_lopez"), "a***");
        assert_eq!(mask_username(""), "***");
    }
}
