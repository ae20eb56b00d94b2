//! The duplicate index: answers "already taken" before the database is asked, and
//! reserves a new record's employee ID and e-mail while it is being stored.
//!
//! The protocol (DESIGN.md, invariants 2–5): `reserve` claims both keys atomically with
//! an expiring token; after the insert commits, `confirm` swaps the token for the
//! record's ID; if the insert fails, `release` deletes the keys only if they still hold
//! our token. The index never decides alone that something is *not* a duplicate: the
//! database's unique indexes do. While the index is not ready, requests skip it.

mod memory;
mod valkey;

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::time::Duration;

pub use memory::MemoryIndex;
pub use valkey::ValkeyIndex;

use crate::domain::{EmployeeId, Field, WorkEmail};
use crate::store::{Store, StoreError};

const ID_KEY_PREFIX: &str = "roster:employee_id:";
const EMAIL_KEY_PREFIX: &str = "roster:email:";
/// Present once the index holds every record; an empty or restarted Valkey lacks it.
const BUILT_MARKER: &str = "roster:index:built";
const PENDING_PREFIX: &str = "pending:";
/// Bumped when an account is disabled or its password changes, so that every replica
/// reloads its accounts and ends the revoked sessions (see `auth::AccountDirectory`).
const ACCOUNTS_REVISION: &str = "roster:accounts:revision";
/// Long enough for any insert to commit; short enough that a crash between reserve and
/// commit frees the ID soon.
const RESERVATION_TTL: Duration = Duration::from_secs(10);
const WATCH_INTERVAL: Duration = Duration::from_millis(500);
/// Claims published per call after an import.
const LEARN_CHUNK: usize = 2_000;
/// Chunks sent before the first answers: Valkey works while the next ones travel.
const LEARN_CALLS_IN_FLIGHT: usize = 4;
/// Records read from the database per step of a rebuild.
const REBUILD_PAGE: i64 = 5_000;

/// Where a rebuild reads every record's claims: the database, in id order.
pub trait ClaimSource: Sync {
    /// Up to `limit` records with an id above `after`, as (id, employee ID, e-mail).
    fn claims_after(
        &self,
        after: i64,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<(i64, String, String)>, StoreError>> + Send;
}

impl ClaimSource for Store {
    async fn claims_after(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<(i64, String, String)>, StoreError> {
        Store::claims_after(self, after, limit).await
    }
}

/// A claim's identity in 8 bytes, for comparing a whole index with the database.
fn fingerprint(key: &str, value: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    (key, value).hash(&mut hasher);
    hasher.finish()
}

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("failed to set up the duplicate index: {0}")]
    Setup(String),
    #[error("the duplicate index is unavailable: {0}")]
    Unavailable(String),
}

/// The primitive, atomic operations the protocol is built from; each implementation
/// behaves like the Valkey commands named.
pub trait IndexBackend: Send + Sync {
    /// Atomically, all or nothing: unless a key is held by someone other than `owner`,
    /// each free key is claimed with `token` for `ttl`. Returns each key's holder
    /// before the call (`None` where it was free), so a clash leaves nothing to undo.
    fn reserve(
        &self,
        keys: &[&str],
        token: &str,
        ttl: Duration,
        owner: Option<&str>,
    ) -> impl Future<Output = Result<Vec<Option<String>>, IndexError>> + Send;
    /// `SET key value IFEQ e` for each key and each expected value `e` (our token, or
    /// the record's previous ID after an edit), else `SET key value NX`: a reservation
    /// that expired or was flushed before the commit still leaves the record indexed.
    fn confirm(
        &self,
        keys: &[&str],
        expected: &[&str],
        value: &str,
    ) -> impl Future<Output = Result<(), IndexError>> + Send;
    /// `DELIFEQ key token` for each key.
    fn release(
        &self,
        keys: &[&str],
        token: &str,
    ) -> impl Future<Output = Result<(), IndexError>> + Send;
    /// `SET key value` for each entry, pipelined.
    fn publish(
        &self,
        entries: &[(String, String)],
    ) -> impl Future<Output = Result<(), IndexError>> + Send;
    /// `SET key value NX` for each entry, pipelined.
    fn publish_missing(
        &self,
        entries: &[(String, String)],
    ) -> impl Future<Output = Result<(), IndexError>> + Send;
    /// Calls `visit` with every confirmed claim (key and record), pending reservations
    /// left out; streams, so that a large index is never copied whole.
    fn for_each_confirmed(
        &self,
        visit: &mut (dyn FnMut(&str, &str) + Send),
    ) -> impl Future<Output = Result<(), IndexError>> + Send;
    /// `DELIFEQ key value` for each entry.
    fn remove(
        &self,
        entries: &[(String, String)],
    ) -> impl Future<Output = Result<(), IndexError>> + Send;
    fn is_built(&self) -> impl Future<Output = Result<bool, IndexError>> + Send;
    fn mark_built(&self) -> impl Future<Output = Result<(), IndexError>> + Send;
    /// `GET key` of a counter, 0 when absent.
    fn counter(&self, key: &str) -> impl Future<Output = Result<u64, IndexError>> + Send;
    /// `INCR key`.
    fn increment(&self, key: &str) -> impl Future<Output = Result<(), IndexError>> + Send;
}

pub enum AnyIndex {
    Memory(MemoryIndex),
    Valkey(ValkeyIndex),
}

macro_rules! dispatch {
    ($self:ident, $index:ident => $call:expr) => {
        match $self {
            AnyIndex::Memory($index) => $call.await,
            AnyIndex::Valkey($index) => $call.await,
        }
    };
}

impl IndexBackend for AnyIndex {
    async fn reserve(
        &self,
        keys: &[&str],
        token: &str,
        ttl: Duration,
        owner: Option<&str>,
    ) -> Result<Vec<Option<String>>, IndexError> {
        dispatch!(self, index => index.reserve(keys, token, ttl, owner))
    }
    async fn confirm(
        &self,
        keys: &[&str],
        expected: &[&str],
        value: &str,
    ) -> Result<(), IndexError> {
        dispatch!(self, index => index.confirm(keys, expected, value))
    }
    async fn release(&self, keys: &[&str], token: &str) -> Result<(), IndexError> {
        dispatch!(self, index => index.release(keys, token))
    }
    async fn publish(&self, entries: &[(String, String)]) -> Result<(), IndexError> {
        dispatch!(self, index => index.publish(entries))
    }
    async fn publish_missing(&self, entries: &[(String, String)]) -> Result<(), IndexError> {
        dispatch!(self, index => index.publish_missing(entries))
    }
    async fn for_each_confirmed(
        &self,
        visit: &mut (dyn FnMut(&str, &str) + Send),
    ) -> Result<(), IndexError> {
        dispatch!(self, index => index.for_each_confirmed(visit))
    }
    async fn remove(&self, entries: &[(String, String)]) -> Result<(), IndexError> {
        dispatch!(self, index => index.remove(entries))
    }
    async fn is_built(&self) -> Result<bool, IndexError> {
        dispatch!(self, index => index.is_built())
    }
    async fn mark_built(&self) -> Result<(), IndexError> {
        dispatch!(self, index => index.mark_built())
    }
    async fn counter(&self, key: &str) -> Result<u64, IndexError> {
        dispatch!(self, index => index.counter(key))
    }
    async fn increment(&self, key: &str) -> Result<(), IndexError> {
        dispatch!(self, index => index.increment(key))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexState {
    /// Unreachable: requests go to the database alone.
    Down = 0,
    /// Reachable and being filled from the database: new records are published to it,
    /// but its "taken" answers are not trusted yet.
    Rebuilding = 1,
    /// Complete: a taken key rejects a submission without asking the database.
    Ready = 2,
}

impl IndexState {
    fn from_u8(value: u8) -> Self {
        match value {
            2 => Self::Ready,
            1 => Self::Rebuilding,
            _ => Self::Down,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Down => "down",
            Self::Rebuilding => "rebuilding",
            Self::Ready => "ready",
        }
    }
}

/// A submission's ID or e-mail that is already taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clash {
    pub field: Field,
    /// The record holding it; `None` while another submission is storing it right now.
    pub holder: Option<EmployeeId>,
}

/// The index keys a record occupies.
struct Claims {
    keys: [String; 2],
}

impl Claims {
    const FIELDS: [Field; 2] = [Field::EmployeeId, Field::Email];

    fn of(id: &str, email: &str) -> Self {
        Self {
            keys: [
                format!("{ID_KEY_PREFIX}{id}"),
                format!("{EMAIL_KEY_PREFIX}{email}"),
            ],
        }
    }

    fn keys(&self) -> [&str; 2] {
        [&self.keys[0], &self.keys[1]]
    }
}

/// What `reserve` hands back, to be confirmed or released after the insert.
pub struct Reservation {
    claims: Claims,
    /// `None` when the index was skipped (not ready): nothing to confirm or release.
    token: Option<String>,
}

#[derive(Debug, Default, Clone, Copy)]
pub struct IndexStats {
    pub rejections: u64,
    pub rebuilds: u64,
}

pub struct DuplicateIndex {
    backend: AnyIndex,
    state: AtomicU8,
    /// Set when this process stored a record the index may lack; cleared by a rebuild.
    missed_writes: AtomicBool,
    rejections: AtomicU64,
    rebuilds: AtomicU64,
}

impl DuplicateIndex {
    pub fn new(backend: AnyIndex) -> Self {
        Self {
            backend,
            state: AtomicU8::new(IndexState::Down as u8),
            missed_writes: AtomicBool::new(false),
            rejections: AtomicU64::new(0),
            rebuilds: AtomicU64::new(0),
        }
    }

    pub fn state(&self) -> IndexState {
        IndexState::from_u8(self.state.load(Ordering::Acquire))
    }

    pub fn stats(&self) -> IndexStats {
        IndexStats {
            rejections: self.rejections.load(Ordering::Relaxed),
            rebuilds: self.rebuilds.load(Ordering::Relaxed),
        }
    }

    fn set_state(&self, state: IndexState) {
        let previous = IndexState::from_u8(self.state.swap(state as u8, Ordering::AcqRel));
        if previous != state {
            log::info!(
                "duplicate index: {} -> {}",
                previous.as_str(),
                state.as_str()
            );
        }
    }

    /// Runs one index call; a failure marks the index down so that the watcher rebuilds
    /// it, and the request goes on through the database. Every wait is bounded by the
    /// backend itself (the Valkey client's connect, response and pool timeouts), not
    /// by a timer here: one more per call cost a twentieth of a rejection's time.
    async fn call<T>(
        &self,
        what: &str,
        call: impl Future<Output = Result<T, IndexError>>,
    ) -> Option<T> {
        call.await
            .map_err(|error| {
                log::warn!("duplicate index: failed to {what}: {error}");
                self.set_state(IndexState::Down);
            })
            .ok()
    }

    /// Claims the record's employee ID and e-mail, or names the clash. Rejects only on
    /// a ready index; otherwise the database decides. `owner` is the record being
    /// edited, if any: what it already holds is no clash.
    pub async fn reserve(
        &self,
        id: &EmployeeId,
        email: &WorkEmail,
        owner: Option<&EmployeeId>,
    ) -> Result<Reservation, Clash> {
        let claims = Claims::of(id.as_str(), email.as_str());
        let skipped = |claims| Reservation {
            claims,
            token: None,
        };
        if self.state() != IndexState::Ready {
            return Ok(skipped(claims));
        }
        let token = format!("{PENDING_PREFIX}{}", uuid::Uuid::new_v4());
        let owner = owner.map(EmployeeId::as_str);
        let reserved = self
            .call(
                "reserve",
                self.backend
                    .reserve(&claims.keys(), &token, RESERVATION_TTL, owner),
            )
            .await;
        let Some(holders) = reserved else {
            return Ok(skipped(claims));
        };
        let clash = Claims::FIELDS
            .into_iter()
            .zip(holders)
            .find_map(|(field, holder)| {
                holder
                    .filter(|holder| Some(holder.as_str()) != owner)
                    .map(|holder| (field, holder))
            });
        match clash {
            None => Ok(Reservation {
                claims,
                token: Some(token),
            }),
            Some((field, holder)) => {
                self.rejections.fetch_add(1, Ordering::Relaxed);
                Err(Clash {
                    field,
                    holder: EmployeeId::parse(&holder).ok(),
                })
            }
        }
    }

    /// After the commit: the keys now name the record, without expiry. `previous` is
    /// the record's ID before an edit: keys it held pass to the new ID.
    pub async fn confirm(
        &self,
        reservation: Reservation,
        id: &EmployeeId,
        previous: Option<&EmployeeId>,
    ) {
        let keys = reservation.claims.keys();
        match (&reservation.token, self.state()) {
            (Some(token), _) => {
                let mut expected = vec![token.as_str()];
                expected.extend(previous.map(EmployeeId::as_str));
                let confirmed = self
                    .call(
                        "confirm",
                        self.backend.confirm(&keys, &expected, id.as_str()),
                    )
                    .await;
                if confirmed.is_none() {
                    self.missed_writes.store(true, Ordering::Release);
                }
            }
            // Stored without a reservation while the index was not ready: a rebuild's
            // snapshot may have been taken before this commit.
            (None, IndexState::Rebuilding | IndexState::Ready) => {
                let entries = keys.map(|key| (key.to_owned(), id.as_str().to_owned()));
                let published = self
                    .call("publish", self.backend.publish_missing(&entries))
                    .await;
                if published.is_none() {
                    self.missed_writes.store(true, Ordering::Release);
                }
            }
            // The rebuild that follows, once Valkey answers, learns it from the database.
            (None, IndexState::Down) => self.missed_writes.store(true, Ordering::Release),
        }
    }

    /// After a removal, or an edit that changed them: frees the record's former claims,
    /// where they still name it (compare-and-delete).
    pub async fn forget(
        &self,
        id: &EmployeeId,
        email: &str,
        keep: Option<(&EmployeeId, &WorkEmail)>,
    ) {
        let old = Claims::of(id.as_str(), &email.trim().to_lowercase());
        let kept = keep.map(|(id, email)| Claims::of(id.as_str(), email.as_str()));
        let gone: Vec<(String, String)> = old
            .keys
            .iter()
            .filter(|key| kept.as_ref().is_none_or(|kept| !kept.keys.contains(key)))
            .map(|key| (key.clone(), id.as_str().to_owned()))
            .collect();
        if gone.is_empty() {
            return;
        }
        if self.state() == IndexState::Down {
            // The claims stay until the rebuild that follows the outage clears them.
            self.missed_writes.store(true, Ordering::Release);
            return;
        }
        if self
            .call("forget", self.backend.remove(&gone))
            .await
            .is_none()
        {
            // A stale claim would turn a free ID away; the rebuild clears it.
            self.missed_writes.store(true, Ordering::Release);
        }
    }

    /// After a failed insert: frees what this reservation holds, and nothing else.
    pub async fn release(&self, reservation: Reservation) {
        if let Some(token) = &reservation.token {
            let keys = reservation.claims.keys();
            self.call("release", self.backend.release(&keys, token))
                .await;
        }
    }

    /// After records were stored in bulk (an import): their claims. The database holds
    /// these records now, so whatever a key held before (a stale claim, or a pending
    /// reservation bound to fail at the database) gives way. A claim that fails to land
    /// costs only speed (the database still refuses the duplicate), and the next
    /// rebuild adds it.
    pub async fn learn(&self, records: &[(EmployeeId, WorkEmail)]) {
        if self.state() == IndexState::Down {
            self.missed_writes.store(true, Ordering::Release);
            return;
        }
        let entries: Vec<(String, String)> = records
            .iter()
            .flat_map(|(id, email)| {
                Claims::of(id.as_str(), email.as_str())
                    .keys
                    .map(|key| (key, id.to_string()))
            })
            .collect();
        for wave in entries.chunks(LEARN_CHUNK * LEARN_CALLS_IN_FLIGHT) {
            let mut calls = Vec::with_capacity(LEARN_CALLS_IN_FLIGHT);
            for chunk in wave.chunks(LEARN_CHUNK) {
                calls.push(self.call("publish", self.backend.publish(chunk)));
            }
            let published = futures_util::future::join_all(calls).await;
            if published.iter().any(Option::is_none) {
                self.missed_writes.store(true, Ordering::Release);
                return;
            }
        }
    }

    /// For a process that does not maintain the index (a CLI command): takes it as
    /// ready when a server built it. Returns whether it did.
    pub async fn attach(&self) -> bool {
        let built = self.call("check", self.backend.is_built()).await == Some(true);
        if built {
            self.set_state(IndexState::Ready);
        }
        built
    }

    /// Tells the other replicas that accounts changed. Best effort: with Valkey down,
    /// each replica still ends revoked sessions it learns of through its own writes.
    pub async fn announce_accounts_changed(&self) {
        if let Err(error) = self.backend.increment(ACCOUNTS_REVISION).await {
            log::warn!("failed to announce an accounts change: {error}");
        }
    }

    /// The accounts' revision, when the index can tell. A failure here says nothing
    /// about duplicate checks, so it leaves the index's state alone.
    pub async fn accounts_revision(&self) -> Option<u64> {
        self.backend.counter(ACCOUNTS_REVISION).await.ok()
    }

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
    async fn rebuild_from(&self, source: &impl ClaimSource) -> anyhow::Result<usize> {
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
                .flat_map(|(_, id, email)| {
                    Claims::of(id, &email.trim().to_lowercase())
                        .keys
                        .map(|key| (key, id.clone()))
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
    pub async fn maintain(self: Arc<Self>, store: Store) {
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
            match self.rebuild(&store).await {
                Ok(count) => log::info!("duplicate index: rebuilt with {count} records"),
                Err(error) => {
                    log::warn!("duplicate index: failed to rebuild: {error:#}");
                    self.set_state(IndexState::Down);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The database a unit test's rebuild reads: its records, in id order.
    impl ClaimSource for Vec<(i64, String, String)> {
        async fn claims_after(
            &self,
            after: i64,
            limit: i64,
        ) -> Result<Vec<(i64, String, String)>, StoreError> {
            let limit = usize::try_from(limit).unwrap_or(usize::MAX);
            Ok(self
                .iter()
                .filter(|c| c.0 > after)
                .take(limit)
                .cloned()
                .collect())
        }
    }

    fn ready_memory_index() -> Arc<DuplicateIndex> {
        let index = Arc::new(DuplicateIndex::new(
            AnyIndex::Memory(MemoryIndex::default()),
        ));
        index.set_state(IndexState::Ready);
        index
    }

    fn claims(id: &str, email: &str) -> (EmployeeId, WorkEmail) {
        (
            EmployeeId::parse(id).unwrap(),
            WorkEmail::parse(email).unwrap(),
        )
    }

    #[tokio::test]
    async fn a_confirmed_record_rejects_its_id_and_email() {
        let index = ready_memory_index();
        let (id, email) = claims("E-1", "a@x.io");
        let reservation = index.reserve(&id, &email, None).await.unwrap();
        index.confirm(reservation, &id, None).await;

        let (_, other_email) = claims("E-2", "b@x.io");
        let clash = index.reserve(&id, &other_email, None).await.err().unwrap();
        assert_eq!(clash.field, Field::EmployeeId);
        assert_eq!(clash.holder, Some(id.clone()));

        let (other_id, _) = claims("E-2", "b@x.io");
        let clash = index.reserve(&other_id, &email, None).await.err().unwrap();
        assert_eq!(clash.field, Field::Email);
        assert_eq!(clash.holder, Some(id));
    }

    #[tokio::test]
    async fn a_pending_reservation_rejects_without_naming_a_holder() {
        let index = ready_memory_index();
        let (id, email) = claims("E-1", "a@x.io");
        let _pending = index.reserve(&id, &email, None).await.unwrap();
        let clash = index.reserve(&id, &email, None).await.err().unwrap();
        assert_eq!(clash.holder, None);
    }

    #[tokio::test]
    async fn a_partial_clash_claims_nothing() {
        let index = ready_memory_index();
        let (id, email) = claims("E-1", "a@x.io");
        let reservation = index.reserve(&id, &email, None).await.unwrap();
        index.confirm(reservation, &id, None).await;

        let (new_id, _) = claims("E-2", "x@x.io");
        assert!(index.reserve(&new_id, &email, None).await.is_err());
        let (_, new_email) = claims("E-9", "new@x.io");
        assert!(index.reserve(&new_id, &new_email, None).await.is_ok());
    }

    #[tokio::test]
    async fn release_frees_only_its_own_reservation() {
        let index = ready_memory_index();
        let (id, email) = claims("E-1", "a@x.io");
        let first = index.reserve(&id, &email, None).await.unwrap();
        index.release(first).await;
        let second = index.reserve(&id, &email, None).await.unwrap();
        let stale = Reservation {
            claims: Claims::of(id.as_str(), email.as_str()),
            token: Some("pending:someone-else".into()),
        };
        index.release(stale).await;
        assert!(index.reserve(&id, &email, None).await.is_err());
        index.confirm(second, &id, None).await;
    }

    #[tokio::test]
    async fn a_rebuild_forgets_the_claims_of_records_that_are_gone() {
        let index = ready_memory_index();
        let (gone, gone_email) = claims("E-1", "a@x.io");
        let reservation = index.reserve(&gone, &gone_email, None).await.unwrap();
        index.confirm(reservation, &gone, None).await;

        let database = vec![(2, "E-2".to_owned(), " B@X.io".to_owned())];
        index.rebuild_from(&database).await.unwrap();

        assert!(index.reserve(&gone, &gone_email, None).await.is_ok());
        let (kept, kept_email) = claims("E-2", "b@x.io");
        let clash = index.reserve(&kept, &kept_email, None).await.err().unwrap();
        assert_eq!(clash.holder, Some(kept));
    }

    #[tokio::test]
    async fn an_edit_keeps_what_the_record_holds_and_frees_what_it_gave_up() {
        let index = ready_memory_index();
        let (old_id, old_email) = claims("E-1", "a@x.io");
        let reservation = index.reserve(&old_id, &old_email, None).await.unwrap();
        index.confirm(reservation, &old_id, None).await;

        let (new_id, _) = claims("E-2", "a@x.io");
        let reservation = index
            .reserve(&new_id, &old_email, Some(&old_id))
            .await
            .unwrap();
        index.confirm(reservation, &new_id, Some(&old_id)).await;
        index
            .forget(&old_id, old_email.as_str(), Some((&new_id, &old_email)))
            .await;

        let clash = index
            .reserve(&new_id, &old_email, None)
            .await
            .err()
            .unwrap();
        assert_eq!(clash.holder, Some(new_id.clone()));
        let (_, other_email) = claims("XX", "z@x.io");
        let freed = index.reserve(&old_id, &other_email, None).await;
        assert!(freed.is_ok(), "the old ID is free again");
        let clash = index
            .reserve(&claims("E-9", "q@x.io").0, &old_email, None)
            .await
            .err()
            .unwrap();
        assert_eq!(
            clash.holder,
            Some(new_id),
            "the e-mail passed to the new ID"
        );
    }

    #[tokio::test]
    async fn an_index_that_is_not_ready_rejects_nothing() {
        let index = ready_memory_index();
        let (id, email) = claims("E-1", "a@x.io");
        let reservation = index.reserve(&id, &email, None).await.unwrap();
        index.confirm(reservation, &id, None).await;
        index.set_state(IndexState::Down);
        assert!(index.reserve(&id, &email, None).await.is_ok());
    }
}
