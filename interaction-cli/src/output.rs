//! What the commands print: errors as one line, progress (a bar on a terminal, plain
//! lines otherwise), URLs without their password.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Why a command failed: printed as `error: …` on one line, then the exit code.
#[derive(Debug)]
pub enum Failure {
    /// The command line is wrong in a way clap cannot see (exit 2).
    Usage(String),
    /// The operation failed or found a problem (exit 1).
    Failed(String),
}

impl Failure {
    /// The one-line message (no `error: ` prefix).
    pub fn message(&self) -> &str {
        match self {
            Failure::Usage(m) | Failure::Failed(m) => m,
        }
    }

    /// 2 for usage errors, 1 otherwise.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Failure::Usage(_) => ExitCode::from(2),
            Failure::Failed(_) => ExitCode::from(1),
        }
    }
}

impl From<interaction_core::Error> for Failure {
    fn from(e: interaction_core::Error) -> Self {
        Failure::Failed(one_line(&e))
    }
}

/// An error's Display followed by its `source()` chain, on one line (a source whose text
/// the previous one already contains is left out).
pub fn one_line(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(s) = next {
        let text = s.to_string();
        if !text.is_empty() && !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        next = s.source();
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `url` with any password replaced by `***`.
pub fn mask_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// Whether stdout is a terminal (progress bars and colours only then).
pub fn interactive() -> bool {
    std::io::stdout().is_terminal()
}

/// Progress of a long run: an indicatif bar (on stderr) when stdout is a terminal, else
/// a plain line on stderr at every tenth of the way (and at least every 10 s).
pub struct Progress {
    bar: Option<ProgressBar>,
    label: &'static str,
    total: u64,
    done: u64,
    next_line: u64,
    last_line: Instant,
}

impl Progress {
    /// A run of `total` steps, named `label` (`interactions`).
    pub fn new(label: &'static str, total: u64) -> Progress {
        let bar = interactive().then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix} [{bar:40}] {pos}/{len} ({per_sec}, eta {eta})",
                )
                .expect("a valid template")
                .progress_chars("=> "),
            );
            bar.set_prefix(label);
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Progress {
            bar,
            label,
            total,
            done: 0,
            next_line: total.div_ceil(10).max(1),
            last_line: Instant::now(),
        }
    }

    /// `n` more steps done.
    pub fn inc(&mut self, n: u64) {
        self.done += n;
        match &self.bar {
            Some(bar) => bar.inc(n),
            None => {
                if self.done >= self.next_line
                    || self.last_line.elapsed() >= Duration::from_secs(10)
                {
                    eprintln!(
                        "{}: {}/{} ({}%)",
                        self.label,
                        self.done,
                        self.total,
                        self.done * 100 / self.total.max(1)
                    );
                    let step = self.total.div_ceil(10).max(1);
                    self.next_line = (self.done / step + 1) * step;
                    self.last_line = Instant::now();
                }
            }
        }
    }

    /// Removes the bar (the summary line follows).
    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_masked() {
        assert_eq!(
            mask_url("postgres://app:s3cret@db:5432/x?sslmode=require"),
            "postgres://app:***@db:5432/x?sslmode=require"
        );
        assert_eq!(mask_url("postgres://app@db/x"), "postgres://app@db/x");
        assert_eq!(mask_url("sqlite://a.db"), "sqlite://a.db");
        assert_eq!(mask_url("sqlite::memory:"), "sqlite::memory:");
        assert_eq!(mask_url("postgres://u:p@ss@h/db"), "postgres://u:***@h/db");
    }

    #[test]
    fn errors_print_their_causes_on_one_line() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused\nby peer");
        let e = interaction_core::Error::Unavailable {
            message: "cannot connect to 127.0.0.1:1".into(),
            source: Some(Box::new(io)),
        };
        assert_eq!(
            one_line(&e),
            "database unavailable: cannot connect to 127.0.0.1:1: refused by peer"
        );
    }
}
