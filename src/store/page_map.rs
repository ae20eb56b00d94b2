//! The page map: every record's id, newest first, kept in memory so that any page of
//! the whole list is an index range scan and its total needs no `count(*)`. 100,000
//! records take 800 KB.
//!
//! Rebuilt on the next list after a write through this store, or after `MAX_AGE` for
//! writes elsewhere (other replicas, outside tools), by one query that all waiting
//! requests share.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const MAX_AGE: Duration = Duration::from_secs(5);

struct Snapshot {
    ids: Arc<Vec<i64>>,
    generation: u64,
    taken: Instant,
}

#[derive(Default)]
pub(super) struct PageMap {
    snapshot: Mutex<Option<Snapshot>>,
    generation: AtomicU64,
    /// One rebuild at a time; the others wait for it and use its result.
    pub(super) rebuilding: tokio::sync::Mutex<()>,
}

impl PageMap {
    pub(super) fn fresh(&self) -> Option<Arc<Vec<i64>>> {
        let generation = self.generation.load(Ordering::Acquire);
        let snapshot = self.snapshot.lock().unwrap_or_else(|e| e.into_inner());
        snapshot
            .as_ref()
            .filter(|s| s.generation == generation && s.taken.elapsed() < MAX_AGE)
            .map(|s| Arc::clone(&s.ids))
    }

    /// The generation to tag a rebuild with, read before its query: a write that lands
    /// meanwhile makes the result stale at once.
    pub(super) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub(super) fn keep(&self, ids: Arc<Vec<i64>>, generation: u64) {
        *self.snapshot.lock().unwrap_or_else(|e| e.into_inner()) = Some(Snapshot {
            ids,
            generation,
            taken: Instant::now(),
        });
    }

    pub(super) fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_makes_the_map_stale_even_during_its_rebuild() {
        let map = PageMap::default();
        assert!(map.fresh().is_none());
        let generation = map.generation();
        map.invalidate();
        map.keep(Arc::new(vec![3, 2, 1]), generation);
        assert!(map.fresh().is_none(), "built from before the write");
        map.keep(Arc::new(vec![4, 3, 2, 1]), map.generation());
        assert_eq!(map.fresh().unwrap().len(), 4);
    }
}
