//! Masked values for reporting: `maskInteraction` and `maskUser` convert a value and apply
//! the core's rule (`Interaction::masked`, `User::masked`); nothing is decided here. A
//! Finder page comes masked with `session.finder().masked()`.

use napi_derive::napi;

use crate::types::{Interaction, User};

/// The interaction as the `interactions_masked` view shows it (the core's rule):
/// `description` and `notes` `null`, `lead` reduced to initials (`'Ana María López'` →
/// `'A. M.'`), everything else kept. No I/O.
#[napi]
pub fn mask_interaction(interaction: Interaction) -> Interaction {
    interaction_core::Interaction::from(interaction)
        .masked()
        .into()
}

/// The user as the `users_masked` view shows it (the core's rule): username and email
/// masked (`a***`, `a***@example.com`), everything else kept. No I/O.
#[napi]
pub fn mask_user(user: User) -> User {
    interaction_core::User::from(user).masked().into()
}
