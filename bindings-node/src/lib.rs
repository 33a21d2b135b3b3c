//! Node.js binding of interaction-store (napi-rs 3).
//!
//! Conversion and error mapping only: every rule lives in `interaction-core`. The classes
//! here are exported as `InteractionStore` and `SiteSession`; the package's hand-written
//! `index.js` wraps their async methods so that every rejection is an `Error` with a stable
//! `code` (and `field` for validation errors), and adds the chainable `Finder`.
//!
//! Error mechanism: napi 3 async functions reject with the built-in `Status`, so a core
//! error travels as the reason text `interaction-store-error:{"code":..,"field":..,"message":..}`
//! ([`errors::to_js`]); `index.js` parses it and rethrows. Nothing matches on message text.
//!
//! Logging is opt-in through the `INTERACTION_STORE_LOG` environment variable ([`logging`]).

mod convert;
mod errors;
mod inputs;
mod lifecycle;
mod logging;
mod masking;
mod session;
mod store;
mod types;

pub use inputs::input_shapes;
pub use lifecycle::Clock;
pub use masking::{mask_interaction, mask_user};
pub use session::SiteSession;
pub use store::InteractionStore;
pub use types::*;

/// mimalloc for every Rust allocation of the addon (rows, strings, futures): glibc malloc
/// fragments across the runtime's worker threads and SQLite's connection threads, which
/// allocate and free each other's blocks (see `test/memory.test.js`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
