//! A deterministic generator of realistic interactions.
//!
//! The same seed and row count always give the same rows, so a populated database can be
//! reused across runs and results compared between machines. Free text is drawn from a
//! fixed vocabulary with skewed frequencies; a few marker terms have known frequencies so
//! the benches can pick a very common term ([`COMMON_TERM`], in ~90% of rows) and a rare
//! one ([`RARE_TERM`], ~0.2% of rows).

use chrono::{DateTime, Duration, TimeZone, Utc};

/// Rows generated when `BENCH_ROWS` is not set.
pub const DEFAULT_ROWS: usize = 100_000;
/// Sites the rows are spread over (uniformly).
pub const SITES: usize = 10;
/// The generator's seed.
pub const SEED: u64 = 0x1A7E_4AC7_0000_5EED;
/// Bump when the generator changes, so stale bench databases are rebuilt.
pub const GENERATOR_VERSION: u32 = 1;
/// Days covered by start times, ending at [`epoch`] + `SPAN_DAYS`.
pub const SPAN_DAYS: i64 = 730;

/// A term in the description of ~90% of rows.
pub const COMMON_TERM: &str = "customer";
/// A term in the description of ~0.2% of rows (~20 per site per 100k rows).
pub const RARE_TERM: &str = "arbitration";
/// A title word: one of 40 topics, so ~2.5% of titles contain it.
pub const TITLE_TERM: &str = "pricing";
/// An interaction type held by ~8% of rows.
pub const FILTER_TYPE: &str = "visit";

/// The row count to benchmark: `BENCH_ROWS` (e.g. `1000000`) or [`DEFAULT_ROWS`].
///
/// # Panics
/// If `BENCH_ROWS` is set but is not a positive integer.
pub fn rows_from_env() -> usize {
    match std::env::var("BENCH_ROWS") {
        Ok(v) => match v.trim().replace('_', "").parse::<usize>() {
            Ok(n) if n >= SITES * 100 => n,
            _ => panic!(
                "BENCH_ROWS must be an integer >= {}, got {v:?}",
                SITES * 100
            ),
        },
        Err(_) => DEFAULT_ROWS,
    }
}

/// The earliest start time: 2023-01-01T00:00:00Z.
pub fn epoch() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2023, 1, 1, 0, 0, 0)
        .single()
        .expect("valid date")
}

/// SplitMix64: tiny, fast and fully deterministic.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `[0, n)`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.unit() * n as f64) as usize
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// A uniformly chosen element.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// A skewed choice: low indexes are much more frequent (a rough Zipf curve).
    pub fn skewed<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        let u = self.unit();
        &items[((u * u * u) * items.len() as f64) as usize]
    }
}

const ADJECTIVES: &[&str] = &[
    "Quarterly",
    "Weekly",
    "Annual",
    "Initial",
    "Follow-up",
    "Urgent",
    "Monthly",
    "Final",
    "Internal",
    "Joint",
    "Regional",
    "Strategic",
];
const TOPICS: &[&str] = &[
    "budget",
    "pricing",
    "roadmap",
    "hiring",
    "onboarding",
    "security",
    "compliance",
    "marketing",
    "sales",
    "supply",
    "logistics",
    "procurement",
    "training",
    "quality",
    "support",
    "billing",
    "contract",
    "renewal",
    "migration",
    "integration",
    "audit",
    "forecast",
    "inventory",
    "partnership",
    "launch",
    "design",
    "research",
    "analytics",
    "staffing",
    "facilities",
    "legal",
    "finance",
    "operations",
    "product",
    "platform",
    "retention",
    "outreach",
    "sponsorship",
    "tender",
    "warranty",
];
const KINDS: &[&str] = &[
    "review",
    "sync",
    "planning",
    "workshop",
    "kickoff",
    "debrief",
    "check-in",
    "briefing",
    "session",
    "discussion",
];
/// Interaction types with cumulative weights (percent).
const TYPES: &[(&str, u32)] = &[
    ("meeting", 35),
    ("call", 60),
    ("email", 80),
    ("visit", 88),
    ("workshop", 95),
    ("review", 100),
];
const FIRST_NAMES: &[&str] = &[
    "Alice", "Bruno", "Chen", "Dana", "Emeka", "Fatima", "Giulia", "Hiro", "Ines", "Jonas",
];
const LAST_NAMES: &[&str] = &["Martin", "Okafor", "Novak", "Silva", "Tanaka", "Weber"];
const TIMEZONES: &[&str] = &[
    "Europe/Berlin",
    "America/New_York",
    "Asia/Tokyo",
    "UTC",
    "Europe/London",
];
const LOCATIONS: &[&str] = &[
    "Room 101",
    "Room 204",
    "Board room",
    "Lisbon office",
    "Berlin office",
    "Client site",
    "Video call",
    "Cafeteria",
];
/// Filler vocabulary, most frequent first (see [`Rng::skewed`]). Contains none of the
/// marker terms.
const WORDS: &[&str] = &[
    "team",
    "project",
    "update",
    "plan",
    "status",
    "discussed",
    "agreed",
    "next",
    "steps",
    "week",
    "issue",
    "review",
    "meeting",
    "report",
    "timeline",
    "goals",
    "feedback",
    "risk",
    "action",
    "items",
    "schedule",
    "deadline",
    "resources",
    "scope",
    "proposal",
    "options",
    "decision",
    "priority",
    "metrics",
    "progress",
    "delivery",
    "requirements",
    "vendor",
    "account",
    "service",
    "order",
    "invoice",
    "shipment",
    "delay",
    "estimate",
    "cost",
    "revenue",
    "margin",
    "target",
    "region",
    "market",
    "campaign",
    "survey",
    "results",
    "analysis",
    "dashboard",
    "system",
    "release",
    "feature",
    "defect",
    "testing",
    "rollout",
    "training",
    "documentation",
    "policy",
    "approval",
    "signoff",
    "stakeholder",
    "sponsor",
    "escalated",
    "resolved",
    "pending",
    "blocked",
    "confirmed",
    "cancelled",
    "rescheduled",
    "workshop",
    "demo",
    "prototype",
    "pilot",
    "contract",
    "renewal",
    "negotiation",
    "discount",
    "quote",
    "forecast",
    "headcount",
    "interview",
    "candidate",
    "offer",
    "onboarding",
    "handover",
    "transition",
    "warehouse",
    "inventory",
    "supplier",
    "logistics",
    "freight",
    "customs",
    "tariff",
    "regulation",
    "license",
    "permit",
    "inspection",
    "certificate",
    "warranty",
    "maintenance",
    "outage",
    "incident",
    "postmortem",
    "root",
    "cause",
    "mitigation",
    "backlog",
    "sprint",
    "retrospective",
    "capacity",
    "allocation",
    "quarter",
    "fiscal",
    "board",
    "investor",
    "partner",
    "alliance",
    "merger",
    "acquisition",
    "integration",
    "migration",
    "database",
    "network",
    "server",
    "cloud",
    "latency",
    "throughput",
    "benchmark",
    "evaluation",
    "criteria",
    "scorecard",
    "benchmarking",
    "sustainability",
    "emissions",
    "recycling",
    "facility",
    "lease",
    "relocation",
    "parking",
    "catering",
    "travel",
    "visa",
    "expense",
    "reimbursement",
    "payroll",
    "benefits",
    "pension",
    "volunteer",
    "charity",
    "sponsorship",
    "conference",
    "exhibition",
    "booth",
    "brochure",
    "webinar",
    "newsletter",
    "podcast",
    "interviewee",
    "translation",
    "localisation",
    "accessibility",
    "usability",
    "ergonomics",
    "wellbeing",
    "mentoring",
    "apprenticeship",
    "scholarship",
    "patent",
    "trademark",
    "litigation",
    "settlement",
    "subpoena",
];

/// One generated interaction, ready to insert.
#[derive(Debug, Clone, PartialEq)]
pub struct GenRow {
    /// Index of its site in `0..SITES`.
    pub site_index: usize,
    /// Title, e.g. `Quarterly pricing review`.
    pub title: String,
    /// Type, e.g. `meeting`.
    pub interaction_type: &'static str,
    /// Lead, e.g. `Alice Martin`.
    pub lead: String,
    /// Start instant.
    pub start: DateTime<Utc>,
    /// End instant (15 minutes to 4 hours after the start).
    pub end: DateTime<Utc>,
    /// IANA zone.
    pub timezone: &'static str,
    /// Optional location.
    pub location: Option<&'static str>,
    /// Description (10-30 words; [`COMMON_TERM`] in ~90%, [`RARE_TERM`] in ~0.2%).
    pub description: Option<String>,
    /// Notes (~60% of rows).
    pub notes: Option<String>,
    /// Creation instant (up to 30 days before the start).
    pub created_at: DateTime<Utc>,
}

/// An iterator over `rows` deterministic [`GenRow`]s.
#[derive(Debug, Clone)]
pub struct Generator {
    rng: Rng,
    left: usize,
}

impl Generator {
    /// `rows` rows from [`SEED`].
    pub fn new(rows: usize) -> Self {
        Generator {
            rng: Rng::new(SEED),
            left: rows,
        }
    }
}

fn sentence(rng: &mut Rng, words: usize, extra: &[&str]) -> String {
    let mut out: Vec<&str> = (0..words).map(|_| *rng.skewed(WORDS)).collect();
    for e in extra {
        let at = rng.below(out.len() + 1);
        out.insert(at, e);
    }
    let mut s = out.join(" ");
    if let Some(first) = s.get(..1) {
        s.replace_range(..1, &first.to_uppercase());
    }
    s.push('.');
    s
}

impl Iterator for Generator {
    type Item = GenRow;

    fn next(&mut self) -> Option<GenRow> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let r = &mut self.rng;
        let site_index = r.below(SITES);
        let title = format!(
            "{} {} {}",
            r.pick(ADJECTIVES),
            r.pick(TOPICS),
            r.pick(KINDS)
        );
        let t = (r.below(100) + 1) as u32;
        let interaction_type = TYPES.iter().find(|(_, w)| t <= *w).expect("weights").0;
        let lead = format!("{} {}", r.pick(FIRST_NAMES), r.pick(LAST_NAMES));
        let start = epoch() + Duration::minutes(r.below(SPAN_DAYS as usize * 24 * 4) as i64 * 15);
        let end = start + Duration::minutes((r.below(16) as i64 + 1) * 15);
        let timezone = *r.pick(TIMEZONES);
        let location = r.chance(0.7).then(|| *r.pick(LOCATIONS));
        let mut extra = Vec::new();
        if r.chance(0.9) {
            extra.push(COMMON_TERM);
        }
        if r.chance(0.002) {
            extra.push(RARE_TERM);
        }
        let n = 10 + r.below(21);
        let description = Some(sentence(r, n, &extra));
        let notes = r.chance(0.6).then(|| {
            let n = 5 + r.below(11);
            sentence(r, n, &[])
        });
        let created_at = start - Duration::minutes(r.below(30 * 24 * 60) as i64);
        Some(GenRow {
            site_index,
            title,
            interaction_type,
            lead,
            start,
            end,
            timezone,
            location,
            description,
            notes,
            created_at,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generator_is_deterministic_and_has_the_advertised_frequencies() {
        let a: Vec<_> = Generator::new(20_000).collect();
        let b: Vec<_> = Generator::new(20_000).collect();
        assert_eq!(a, b);
        let has = |t: &str| {
            a.iter()
                .filter(|r| r.description.as_deref().unwrap_or("").contains(t))
                .count()
        };
        let common = has(COMMON_TERM) as f64 / a.len() as f64;
        assert!((0.85..0.95).contains(&common), "{common}");
        let rare = has(RARE_TERM);
        assert!((10..100).contains(&rare), "{rare}");
        assert!(a.iter().all(|r| r.end >= r.start && r.site_index < SITES));
        for w in WORDS {
            assert!(![COMMON_TERM, RARE_TERM, TITLE_TERM].contains(w), "{w}");
        }
    }
}
