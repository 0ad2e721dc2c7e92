//! The in-process level alone, for a single instance without Redis: generations and
//! entries in this process's memory.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use moka::sync::Cache as Moka;

use super::{Cached, entry_key};

pub(super) struct Local {
    /// A scope's generation is forgotten only after twice the longest entry lifetime without
    /// use: by then every entry stored under any of its generations has expired, so starting
    /// again from 0 can serve nothing old. Never evicted for size, for the same reason.
    generations: Moka<String, u64>,
    bumping: Mutex<()>,
    entries: Moka<String, Arc<Cached>>,
}

impl Local {
    pub fn new(capacity: u64, ttl: Duration) -> Self {
        Self {
            generations: Moka::builder().time_to_idle(ttl * 2).build(),
            bumping: Mutex::new(()),
            entries: Moka::builder().max_capacity(capacity).time_to_live(ttl).build(),
        }
    }

    fn generation(&self, scope_key: &str) -> u64 {
        self.generations.get(scope_key).unwrap_or(0)
    }

    /// (current generation, the entry if cached under it).
    pub fn lookup(&self, scope_key: &str, entry: &str) -> (u64, Option<Arc<Cached>>) {
        let generation = self.generation(scope_key);
        (generation, self.get(scope_key, generation, entry))
    }

    /// The entry if cached under `generation`.
    pub fn get(&self, scope_key: &str, generation: u64, entry: &str) -> Option<Arc<Cached>> {
        self.entries.get(&entry_key(scope_key, generation, entry))
    }

    /// Stores only if the scope is still at `generation`.
    pub fn store(&self, scope_key: &str, entry: &str, generation: u64, bytes: Vec<u8>, _ttl: Duration) {
        if self.generation(scope_key) == generation {
            self.entries.insert(entry_key(scope_key, generation, entry), Cached::new(bytes));
        }
    }

    pub fn bump(&self, scope_keys: &[String]) {
        let _one_at_a_time = self.bumping.lock();
        for key in scope_keys {
            let next = self.generation(key) + 1;
            self.generations.insert(key.clone(), next);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bump_hides_every_entry_stored_before_it() {
        let local = Local::new(100, Duration::from_secs(60));
        let (g0, none) = local.lookup("p:1", "profile");
        assert!(none.is_none());
        local.store("p:1", "profile", g0, b"old".to_vec(), Duration::from_secs(60));
        assert_eq!(local.lookup("p:1", "profile").1.map(|c| c.bytes().to_vec()), Some(b"old".to_vec()));
        local.bump(&["p:1".to_owned()]);
        let (g1, after) = local.lookup("p:1", "profile");
        assert_eq!((g1, after.is_none()), (g0 + 1, true));
        // A read that started before the bump cannot put its value back.
        local.store("p:1", "profile", g0, b"stale".to_vec(), Duration::from_secs(60));
        assert!(local.lookup("p:1", "profile").1.is_none());
        assert!(local.lookup("p:2", "profile").1.is_none(), "scopes are separate");
    }
}
