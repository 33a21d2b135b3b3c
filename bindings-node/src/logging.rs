//! Opt-in logging: `INTERACTION_STORE_LOG` (read once, when the addon loads) installs a
//! `tracing-subscriber` fmt layer writing the core's events (target `interaction_core`)
//! to stderr. Without it nothing is installed and the core's events cost next to nothing.
//!
//! The value is a level (`debug`, `warn`, ...), applied to the library's target only, or
//! a full `EnvFilter` directive string (`interaction_core=debug,sqlx=warn`).

use tracing_subscriber::EnvFilter;

/// The environment variable that turns logging on.
const VAR: &str = "INTERACTION_STORE_LOG";

/// The level names a bare value may be; anything else is an `EnvFilter` string.
const LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];

fn filter(value: &str) -> Result<EnvFilter, String> {
    let value = value.trim();
    let directives = if LEVELS.contains(&value.to_ascii_lowercase().as_str()) {
        format!("interaction_core={value}")
    } else {
        value.to_string()
    };
    EnvFilter::builder()
        .parse(&directives)
        .map_err(|e| format!("{VAR}={value:?} is not a level or an EnvFilter string: {e}"))
}

/// Installs the stderr subscriber if `INTERACTION_STORE_LOG` is set and non-empty. A
/// process that already installed a global subscriber keeps its own.
#[napi_derive::module_init]
#[allow(unsafe_code)] // the constructor glue that `module_init` generates
fn init() {
    let Ok(value) = std::env::var(VAR) else {
        return;
    };
    if value.trim().is_empty() {
        return;
    }
    match filter(&value) {
        Ok(f) => {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(f)
                .with_writer(std::io::stderr)
                .with_ansi(false)
                .try_init();
        }
        Err(message) => eprintln!("interaction-store: {message}; logging stays off"),
    }
}
