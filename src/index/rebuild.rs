//! Making the index match the database: at first start, after Valkey restarted empty,
//! and after this process stored records it could not index.

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::backend::IndexBackend;
use super::protocol::Claims;
use super::{DuplicateIndex, IndexState};

const WATCH_INTERVAL: Duration = Duration::from_millis(500);
/// Records read from the database per step of a rebuild.
const REBUILD_PAGE: i64 = 5_000;

/// One stored record's claims, as a rebuild reads them: its row id (the paging
/// position), employee ID and e-mail as stored, and the employee ID holding them (its
/// own, or the survivor's for a record merged into another).
pub type StoredClaims = (i64, String, String, String);

/// Where a rebuild reads every record's claims: the database, in id order. The service
/// layer implements it over the store, so the index never depends on the store.
pub trait ClaimSource: Send + Sync {
    /// Up to `limit` records with an id above `after`.
    fn claims_after(
        &self,
        after: i64,
        limit: i64,
    ) -> impl Future<Output = anyhow::Result<Vec<StoredClaims>>> + Send;
}

/// A claim's identity in 8 bytes, for comparing a whole index with the database.
fn fingerprint(key: &str, value: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    (key, value).hash(&mut hasher);
    hasher.finish()
}

impl DuplicateIndex {
    /// Makes the index match the database, then marks it ready.
    pub async fn rebuild(&self, source: &impl ClaimSource) -> anyhow::Result<usize> {
        self.set_state(IndexState::Rebuilding);
        // The snapshot below covers every write missed so far; later ones are published
        // as they commit (see `confirm`).
        self.missed_writes.store(false, Ordering::Release);
        let count = self.rebuild_from(source).await?;
        self.rebuilds.fetch_add(1, Ordering::Relaxed);
        self.set_state(IndexState::Ready);
        Ok(count)
    }

    /// Publishes every record's claims and removes the claims of records that are gone.
    ///
    /// The index is read before the database: a claim seen confirmed was committed
    /// before the snapshot, so if the snapshot lacks it the record was removed or
    /// changed. The removal compares the value, and a stale key cannot be re-claimed
    /// meanwhile (it reads as taken), so no live claim is ever deleted. Claims are
    /// compared by fingerprint and read in pages, so memory stays small.
    pub(super) async fn rebuild_from(&self, source: &impl ClaimSource) -> anyhow::Result<usize> {
        let mut before = HashSet::new();
        self.backend
            .for_each_confirmed(&mut |key, value| {
                before.insert(fingerprint(key, value));
            })
            .await?;
        let mut current = HashSet::with_capacity(before.len());
        let (mut after, mut count) = (0, 0);
        loop {
            let page = source.claims_after(after, REBUILD_PAGE).await?;
            let Some(last) = page.last() else { break };
            after = last.0;
            count += page.len();
            let entries: Vec<(String, String)> = page
                .iter()
                .flat_map(|(_, id, email, holder)| {
                    Claims::of(id, &email.trim().to_lowercase())
                        .keys
                        .map(|key| (key, holder.clone()))
                })
                .collect();
            current.extend(entries.iter().map(|(key, value)| fingerprint(key, value)));
            self.backend.publish(&entries).await?;
        }
        let gone: HashSet<u64> = before.difference(&current).copied().collect();
        if !gone.is_empty() {
            let mut stale = Vec::new();
            self.backend
                .for_each_confirmed(&mut |key, value| {
                    if gone.contains(&fingerprint(key, value)) {
                        stale.push((key.to_owned(), value.to_owned()));
                    }
                })
                .await?;
            log::info!("duplicate index: removing {} stale claims", stale.len());
            self.backend.remove(&stale).await?;
        }
        self.backend.mark_built().await?;
        Ok(count)
    }

    /// Watches the index for the life of the process: builds it when it is not built
    /// (first start, Valkey restarted empty or flushed) and rebuilds it when this
    /// process stored records it could not index; otherwise trusts it, as every
    /// process keeps it current.
    pub async fn maintain(self: Arc<Self>, source: impl ClaimSource) {
        let mut interval = tokio::time::interval(WATCH_INTERVAL);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            let Some(built) = self.call("check", self.backend.is_built()).await else {
                continue;
            };
            if built && !self.missed_writes.load(Ordering::Acquire) {
                self.set_state(IndexState::Ready);
                continue;
            }
            match self.rebuild(&source).await {
                Ok(count) => log::info!("duplicate index: rebuilt with {count} records"),
                Err(error) => {
                    log::warn!("duplicate index: failed to rebuild: {error:#}");
                    self.set_state(IndexState::Down);
                }
            }
        }
    }
}
