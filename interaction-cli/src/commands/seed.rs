//! `interactions seed --sites N --interactions M [--seed S] [--until DATE]`: a realistic,
//! deterministic data set through the public API.
//!
//! Everything comes from one seeded RNG, consumed in a fixed order, and the store runs on
//! a manual clock that the run moves forward: sites and users first (five years before
//! `--until`), then interactions oldest first, with later edits and soft deletions
//! (~5%) at their own times. The same arguments give the same rows (ids, text and
//! timestamps) in any empty database.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::process::ExitCode;
use std::time::Instant;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use interaction_core::{
    Clock, InteractionPatch, InteractionStore, NewInteraction, Role, SiteSession, MAX_CREATE_BATCH,
};
use rand::distributions::WeightedIndex;
use rand::prelude::*;
use rand::rngs::StdRng;

use super::seed_data::*;
use super::Target;
use crate::output::{Failure, Progress};

/// The password of every seeded user unless `INTERACTIONS_SEED_PASSWORD` is set.
pub const DEFAULT_PASSWORD: &str = "interactions-demo";

/// The environment variable that sets the seeded users' password.
pub const PASSWORD_ENV: &str = "INTERACTIONS_SEED_PASSWORD";

/// Options of `seed`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Sites to create (each with an admin, one or two editors and sometimes a viewer)
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=5000))]
    sites: u32,
    /// Interactions to create, spread unevenly over the sites
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(0..=100_000_000))]
    interactions: u64,
    /// The seed: the same seed (and arguments) gives the same data
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The end of the five years the data covers: YYYY-MM-DD (midnight UTC) or an RFC
    /// 3339 instant. Default: today, 00:00 UTC
    #[arg(long, value_parser = parse_until)]
    until: Option<DateTime<Utc>>,
}

fn parse_until(s: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(d) = s.parse::<NaiveDate>() {
        return Ok(d.and_time(NaiveTime::MIN).and_utc());
    }
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| format!("{s:?}: expected YYYY-MM-DD or an RFC 3339 instant"))
}

struct SeedSite {
    city: &'static City,
    /// Users who may create interactions (admin and editors), with their sessions.
    writers: Vec<SiteSession>,
}

/// A later change to a created interaction.
enum Event {
    Update {
        site: usize,
        id: i64,
        notes: Option<String>,
        lang: usize,
    },
    Delete {
        site: usize,
        id: i64,
    },
}

struct Run {
    rng: StdRng,
    store: InteractionStore,
    clock: Clock,
    sites: Vec<SeedSite>,
    /// Pending edits and deletions by time (then creation order).
    events: BinaryHeap<Reverse<(DateTime<Utc>, u64)>>,
    event_data: HashMap<u64, Event>,
    next_event: u64,
    until: DateTime<Utc>,
    /// Picks an index of [`TYPES`] by frequency.
    types: WeightedIndex<u32>,
    updated: u64,
    deleted: u64,
}

/// Creates the sites, users and interactions, and prints a summary with the rate.
pub async fn run(target: &Target, args: Args) -> Result<ExitCode, Failure> {
    let password = std::env::var(PASSWORD_ENV).unwrap_or_else(|_| DEFAULT_PASSWORD.into());
    let until = match args.until {
        Some(t) => t,
        None => Utc::now().date_naive().and_time(NaiveTime::MIN).and_utc(),
    };
    let from = until - Duration::days(5 * 365);
    let clock = Clock::manual(from);
    let store = target.options().clock(clock.clone()).connect().await?;
    let started = Instant::now();
    let mut rng = StdRng::seed_from_u64(args.seed);

    // Sites: distinct names from cities × kinds, in a seeded order.
    let mut names: Vec<(usize, &str)> = (0..CITIES.len())
        .flat_map(|c| SITE_KINDS.iter().map(move |k| (c, *k)))
        .collect();
    names.shuffle(&mut rng);
    let existing: HashSet<String> = store
        .list_sites()
        .await?
        .into_iter()
        .map(|s| s.name)
        .collect();
    let mut sites = Vec::new();
    let mut usernames = HashSet::new();
    let mut users = 0u64;
    for n in 0..args.sites as usize {
        let (c, kind) = names[n % names.len()];
        let city = &CITIES[c];
        let name = match n / names.len() {
            0 => format!("{} {kind}", city.name),
            round => format!("{} {kind} {}", city.name, round + 1),
        };
        if existing.contains(&name) {
            return Err(Failure::Failed(format!(
                "site {name:?} already exists: seed an empty database (or pass another --seed)"
            )));
        }
        clock.set(from + Duration::minutes(n as i64))?;
        let description = format!(
            "{kind} in {}; time zone {}, working language {}.",
            city.name, city.tz, LANGS[city.lang]
        );
        let site = store.create_site(&name, Some(&description)).await?;
        let mut roles = vec![Role::Admin, Role::Editor];
        if rng.gen_bool(0.5) {
            roles.push(Role::Editor);
        }
        if rng.gen_bool(0.4) {
            roles.push(Role::Viewer);
        }
        let mut writers = Vec::new();
        for role in roles {
            let (full, _) = person(&mut rng);
            let base = ascii_fold(&full);
            let mut username = base.clone();
            let mut k = 1;
            while !usernames.insert(username.clone()) {
                k += 1;
                username = format!("{base}{k}");
            }
            let domain = ["example.com", "example.org", "example.net"][rng.gen_range(0..3)];
            let user = store
                .create_user(&username, &format!("{username}@{domain}"), &password)
                .await?;
            store.grant_role(user.id, site.id, role).await?;
            users += 1;
            if role >= Role::Editor {
                writers.push(store.session_for_user(user.id, site.id).await?);
            }
        }
        sites.push(SeedSite { city, writers });
    }

    let mut run = Run {
        rng,
        store,
        clock,
        sites,
        events: BinaryHeap::new(),
        event_data: HashMap::new(),
        next_event: 0,
        until,
        types: WeightedIndex::new(TYPES.iter().map(|t| t.1)).expect("positive weights"),
        updated: 0,
        deleted: 0,
    };
    let rows_started = Instant::now();
    let created = run.interactions(args.interactions, from).await?;
    run.events_until(until).await?;
    run.clock.set(until)?;
    run.store.close().await;
    let rows_secs = rows_started.elapsed().as_secs_f64();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "seed: {} sites, {users} users, {created} interactions ({} edited, {} deleted) from {} to {} \
         in {secs:.1} s ({:.0} interactions/s); seed {}, users' password from {PASSWORD_ENV} or {DEFAULT_PASSWORD:?}",
        run.sites.len(),
        run.updated,
        run.deleted,
        from.date_naive(),
        until.date_naive(),
        created as f64 / rows_secs.max(1e-9),
        args.seed,
    );
    Ok(ExitCode::SUCCESS)
}

/// A full name from one of the cultures.
fn person(rng: &mut StdRng) -> (String, usize) {
    let c = rng.gen_range(0..NAMES.len());
    let n = &NAMES[c];
    let first = n.first[rng.gen_range(0..n.first.len())];
    let last = n.last[rng.gen_range(0..n.last.len())];
    (format!("{first} {last}"), c)
}

fn pick<'a>(rng: &mut StdRng, v: &[&'a str]) -> &'a str {
    v[rng.gen_range(0..v.len())]
}

impl Run {
    /// Creates `total` interactions with creation times spread over the five years after
    /// `from`, oldest first, in batches of rows created close together in one site.
    async fn interactions(&mut self, total: u64, from: DateTime<Utc>) -> Result<u64, Failure> {
        if total == 0 {
            return Ok(0);
        }
        let span = (self.until - from).num_seconds() - 7 * 86_400;
        let mut times: Vec<i64> = (0..total)
            .map(|_| 7 * 86_400 + self.rng.gen_range(0..span))
            .collect();
        times.sort_unstable();
        // Skewed site sizes: weights 1/(rank+1)^0.9 over a seeded order of the sites.
        let weights: Vec<f64> = (0..self.sites.len())
            .map(|r| 1.0 / ((r + 1) as f64).powf(0.9))
            .collect();
        let mut rank: Vec<usize> = (0..self.sites.len()).collect();
        rank.shuffle(&mut self.rng);
        let pick_site = WeightedIndex::new(&weights).expect("positive weights");
        // A window gathers rows created close together: about 100 per site per window
        // (fewer calls on large runs), never more than a week.
        let window = (span as f64 * 100.0 * self.sites.len() as f64 / total as f64)
            .clamp(60.0, 7.0 * 86_400.0) as i64;
        let mut progress = Progress::new("interactions", total);
        let mut created = 0u64;
        let mut i = 0usize;
        while i < times.len() {
            let start = times[i];
            let mut groups: Vec<(usize, Vec<i64>)> = Vec::new();
            while i < times.len() && times[i] < start + window {
                let site = rank[pick_site.sample(&mut self.rng)];
                match groups
                    .iter_mut()
                    .find(|(s, v)| *s == site && v.len() < MAX_CREATE_BATCH)
                {
                    Some((_, v)) => v.push(times[i]),
                    None => groups.push((site, vec![times[i]])),
                }
                i += 1;
            }
            for (site, group) in groups {
                let at = from + Duration::seconds(group[0]);
                self.events_until(at).await?;
                self.clock.set(at)?;
                let n = group.len() as u64;
                self.create_batch(site, group.len(), at).await?;
                created += n;
                progress.inc(n);
            }
        }
        progress.finish();
        Ok(created)
    }

    async fn create_batch(
        &mut self,
        site: usize,
        n: usize,
        at: DateTime<Utc>,
    ) -> Result<(), Failure> {
        let writer = self.rng.gen_range(0..self.sites[site].writers.len());
        let mut rows = Vec::with_capacity(n);
        let mut langs = Vec::with_capacity(n);
        for _ in 0..n {
            let (row, lang) = self.interaction(site, at);
            rows.push(row);
            langs.push(lang);
        }
        let made = self.sites[site].writers[writer]
            .create_interactions(rows)
            .await?;
        for (i, lang) in made.into_iter().zip(langs) {
            // ~8% are edited later, ~5% soft-deleted (some after an edit).
            if self.rng.gen_bool(0.08) {
                let when = at + Duration::minutes(self.rng.gen_range(60..120 * 24 * 60));
                self.schedule(
                    when,
                    Event::Update {
                        site,
                        id: i.id,
                        notes: i.notes.clone(),
                        lang,
                    },
                );
            }
            if self.rng.gen_bool(0.05) {
                let when = at + Duration::minutes(self.rng.gen_range(121 * 24 * 60..400 * 24 * 60));
                self.schedule(when, Event::Delete { site, id: i.id });
            }
        }
        Ok(())
    }

    fn schedule(&mut self, when: DateTime<Utc>, e: Event) {
        if when < self.until {
            self.events.push(Reverse((when, self.next_event)));
            self.event_data.insert(self.next_event, e);
            self.next_event += 1;
        }
    }

    /// Applies the edits and deletions due by `t`, each at its own time.
    async fn events_until(&mut self, t: DateTime<Utc>) -> Result<(), Failure> {
        while let Some(Reverse((when, n))) = self.events.peek().copied() {
            if when > t {
                break;
            }
            self.events.pop();
            self.clock.set(when)?;
            let Some(e) = self.event_data.remove(&n) else {
                continue;
            };
            match e {
                Event::Update {
                    site,
                    id,
                    notes,
                    lang,
                } => {
                    let line = UPDATES[lang];
                    let notes = match notes {
                        Some(n) => format!("{n}\n\n{line}"),
                        None => line.to_string(),
                    };
                    let patch = InteractionPatch {
                        notes: Some(Some(notes)),
                        ..Default::default()
                    };
                    self.sites[site].writers[0]
                        .update_interaction(id, patch, None)
                        .await?;
                    self.updated += 1;
                }
                Event::Delete { site, id } => {
                    self.sites[site].writers[0]
                        .delete_interaction(id, None)
                        .await?;
                    self.deleted += 1;
                }
            }
        }
        Ok(())
    }

    /// One interaction of `site` created at `at`, and its language.
    fn interaction(&mut self, site: usize, at: DateTime<Utc>) -> (NewInteraction, usize) {
        let rng = &mut self.rng;
        let city = self.sites[site].city;
        let lang = if rng.gen_bool(0.75) {
            city.lang
        } else {
            rng.gen_range(0..LANGS.len())
        };
        let remote = rng.gen_bool(0.15);
        let tz = if remote {
            CITIES[rng.gen_range(0..CITIES.len())].tz
        } else {
            city.tz
        };
        let (kind, _, shortest, longest) = TYPES[self.types.sample(rng)];
        let topic = pick(rng, TOPICS[lang]);
        let title = pick(rng, TITLES[lang]).replace("{T}", topic);
        let title = capitalise(&title);
        let (lead, _) = person(rng);
        // Local business hours, from a month before creation to two months after.
        let day = (at + Duration::days(rng.gen_range(-30..60))).date_naive();
        let start_local = day.and_time(
            NaiveTime::from_hms_opt(
                rng.gen_range(8..17),
                [0, 15, 30, 45][rng.gen_range(0..4)],
                0,
            )
            .expect("a valid time"),
        );
        let minutes = rng.gen_range(shortest..=longest) / 15 * 15;
        let end_local = start_local + Duration::minutes(i64::from(minutes.max(15)));
        let mut new = NewInteraction::new(title, kind, lead.clone(), start_local, end_local, tz);
        if remote {
            new = new.location(if rng.gen_bool(0.7) {
                "Video call"
            } else {
                "Phone"
            });
        } else if rng.gen_bool(0.88) {
            new = new.location(pick(rng, LOCATIONS).replace("{C}", city.name));
        }
        if rng.gen_bool(0.85) {
            new = new.description(paragraphs(rng, lang, topic, &lead, 1..=2));
        }
        if rng.gen_bool(0.75) {
            new = new.notes(paragraphs(rng, lang, topic, &lead, 1..=4));
        }
        (new, lang)
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// `count` paragraphs of two to four sentences in `lang`.
fn paragraphs(
    rng: &mut StdRng,
    lang: usize,
    topic: &str,
    lead: &str,
    count: std::ops::RangeInclusive<usize>,
) -> String {
    let n = rng.gen_range(count);
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let k = rng.gen_range(2..=4);
        let p: Vec<String> = (0..k)
            .map(|_| {
                capitalise(
                    &pick(rng, SENTENCES[lang])
                        .replace("{T}", topic)
                        .replace("{L}", lead),
                )
            })
            .collect();
        out.push(p.join(" "));
    }
    out.join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn until_takes_a_date_or_an_instant() {
        assert_eq!(
            parse_until("2025-06-01").unwrap().to_rfc3339(),
            "2025-06-01T00:00:00+00:00"
        );
        assert_eq!(
            parse_until("2025-06-01T12:30:00+02:00")
                .unwrap()
                .to_rfc3339(),
            "2025-06-01T10:30:00+00:00"
        );
        assert!(parse_until("yesterday").unwrap_err().contains("YYYY-MM-DD"));
    }
}
