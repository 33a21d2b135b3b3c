//! The in-process cache: entries as the values themselves (no serialisation), generation
//! stamps in a map, both behind one short-held lock.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{Cached, Gen, Key, Stamp, Ticket};

struct Entry {
    stamps: Vec<Stamp>,
    value: Arc<dyn Any + Send + Sync>,
    expires: Instant,
}

#[derive(Default)]
struct State {
    entries: HashMap<Key, Entry>,
    gens: HashMap<Gen, Stamp>,
}

pub(super) struct Memory {
    state: Mutex<State>,
    capacity: usize,
}

impl Memory {
    pub(super) fn new(capacity: usize) -> Memory {
        Memory {
            state: Mutex::new(State::default()),
            capacity: capacity.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic elsewhere while holding the lock leaves maps that are still consistent.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The value if its stamps are current, and the current stamps of `gens`.
    pub(super) fn get<T: Cached>(&self, key: &Key) -> (Option<T>, Vec<Stamp>) {
        let state = self.lock();
        let stamps: Vec<Stamp> = key
            .gens()
            .iter()
            .map(|g| state.gens.get(g).copied().unwrap_or_default())
            .collect();
        let value = state
            .entries
            .get(key)
            .filter(|e| e.stamps == stamps && e.expires > Instant::now())
            .and_then(|e| e.value.downcast_ref::<T>().cloned());
        (value, stamps)
    }

    pub(super) fn put<T: Cached>(&self, ticket: Ticket, value: T, ttl: Duration) {
        let now = Instant::now();
        let mut state = self.lock();
        // Drop the entry if a generation moved since the lookup: it may predate a commit.
        if !ticket_current(&state, &ticket) {
            state.entries.remove(&ticket.key);
            return;
        }
        if state.entries.len() >= self.capacity && !state.entries.contains_key(&ticket.key) {
            state.entries.retain(|_, e| e.expires > now);
            if state.entries.len() >= self.capacity {
                // Still full of live entries: start over rather than track recency on
                // every hit (a miss costs one query).
                state.entries.clear();
            }
        }
        state.entries.insert(
            ticket.key,
            Entry {
                stamps: ticket.stamps,
                value: Arc::new(value),
                expires: now + ttl,
            },
        );
    }

    pub(super) fn bump(&self, gens: &[Gen], lsn: u64) {
        let mut state = self.lock();
        for g in gens {
            let keep = state.gens.get(g).map_or(0, |s| s.lsn);
            state.gens.insert(*g, Stamp::fresh(lsn.max(keep)));
        }
    }
}

/// Whether the generations a ticket was stamped with are still current.
fn ticket_current(state: &State, ticket: &Ticket) -> bool {
    ticket
        .key
        .gens()
        .iter()
        .zip(&ticket.stamps)
        .all(|(g, s)| state.gens.get(g).copied().unwrap_or_default() == *s)
}
