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

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::Duration;

pub use memory::MemoryIndex;
pub use valkey::ValkeyIndex;

use crate::domain::{EmployeeId, Field, WorkEmail};
use crate::store::Store;

const KEY_PREFIX: &str = "roster:";
/// Present once the index holds every record; an empty or restarted Valkey lacks it.
const BUILT_MARKER: &str = "roster:index:built";
const PENDING_PREFIX: &str = "pending:";
/// Long enough for any insert to commit; short enough that a crash between reserve and
/// commit frees the ID soon.
const RESERVATION_TTL: Duration = Duration::from_secs(10);
/// A backend that does not answer in this time is treated as down for this request; a
/// last guard, as the Valkey client's own timeouts are shorter.
const CALL_TIMEOUT: Duration = Duration::from_millis(300);
const WATCH_INTERVAL: Duration = Duration::from_millis(500);

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
    /// `SET key token NX GET PX ttl` for each key: `None` where claimed, else the holder.
    fn reserve(
        &self,
        keys: &[&str],
        token: &str,
        ttl: Duration,
    ) -> impl Future<Output = Result<Vec<Option<String>>, IndexError>> + Send;
    /// `SET key value IFEQ token` for each key.
    fn confirm(
        &self,
        keys: &[&str],
        token: &str,
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
    fn is_built(&self) -> impl Future<Output = Result<bool, IndexError>> + Send;
    fn mark_built(&self) -> impl Future<Output = Result<(), IndexError>> + Send;
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
    ) -> Result<Vec<Option<String>>, IndexError> {
        dispatch!(self, index => index.reserve(keys, token, ttl))
    }
    async fn confirm(&self, keys: &[&str], token: &str, value: &str) -> Result<(), IndexError> {
        dispatch!(self, index => index.confirm(keys, token, value))
    }
    async fn release(&self, keys: &[&str], token: &str) -> Result<(), IndexError> {
        dispatch!(self, index => index.release(keys, token))
    }
    async fn publish(&self, entries: &[(String, String)]) -> Result<(), IndexError> {
        dispatch!(self, index => index.publish(entries))
    }
    async fn is_built(&self) -> Result<bool, IndexError> {
        dispatch!(self, index => index.is_built())
    }
    async fn mark_built(&self) -> Result<(), IndexError> {
        dispatch!(self, index => index.mark_built())
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
                format!("{KEY_PREFIX}employee_id:{id}"),
                format!("{KEY_PREFIX}email:{email}"),
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
    rejections: AtomicU64,
    rebuilds: AtomicU64,
}

impl DuplicateIndex {
    pub fn new(backend: AnyIndex) -> Self {
        Self {
            backend,
            state: AtomicU8::new(IndexState::Down as u8),
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

    /// Runs one index call under the deadline; a failure marks the index down so that
    /// the watcher rebuilds it, and the request goes on through the database.
    async fn call<T>(
        &self,
        what: &str,
        call: impl Future<Output = Result<T, IndexError>>,
    ) -> Option<T> {
        let outcome = match tokio::time::timeout(CALL_TIMEOUT, call).await {
            Ok(outcome) => outcome,
            Err(_) => Err(IndexError::Unavailable(format!(
                "no answer within {CALL_TIMEOUT:?}"
            ))),
        };
        outcome
            .map_err(|error| {
                log::warn!("duplicate index: failed to {what}: {error}");
                self.set_state(IndexState::Down);
            })
            .ok()
    }

    /// Claims the record's employee ID and e-mail, or names the clash. Rejects only on
    /// a ready index; otherwise the database decides.
    pub async fn reserve(&self, id: &EmployeeId, email: &WorkEmail) -> Result<Reservation, Clash> {
        let claims = Claims::of(id.as_str(), email.as_str());
        if self.state() != IndexState::Ready {
            return Ok(Reservation {
                claims,
                token: None,
            });
        }
        let token = format!("{PENDING_PREFIX}{}", uuid::Uuid::new_v4());
        let keys = claims.keys();
        let Some(holders) = self
            .call(
                "reserve",
                self.backend.reserve(&keys, &token, RESERVATION_TTL),
            )
            .await
        else {
            return Ok(Reservation {
                claims,
                token: None,
            });
        };
        let clash = Claims::FIELDS
            .into_iter()
            .zip(&holders)
            .find_map(|(field, holder)| holder.as_ref().map(|holder| (field, holder)));
        let Some((field, holder)) = clash else {
            return Ok(Reservation {
                claims,
                token: Some(token),
            });
        };
        let claimed: Vec<&str> = keys
            .iter()
            .zip(&holders)
            .filter(|(_, holder)| holder.is_none())
            .map(|(key, _)| *key)
            .collect();
        if !claimed.is_empty() {
            self.call("release", self.backend.release(&claimed, &token))
                .await;
        }
        self.rejections.fetch_add(1, Ordering::Relaxed);
        Err(Clash {
            field,
            holder: EmployeeId::parse(holder).ok(),
        })
    }

    /// After the commit: the keys now name the record, without expiry.
    pub async fn confirm(&self, reservation: Reservation, id: &EmployeeId) {
        let keys = reservation.claims.keys();
        match (&reservation.token, self.state()) {
            (Some(token), _) => {
                self.call("confirm", self.backend.confirm(&keys, token, id.as_str()))
                    .await;
            }
            // Made while the index was being rebuilt from an older snapshot.
            (None, IndexState::Rebuilding) => {
                let entries = keys.map(|key| (key.to_owned(), id.as_str().to_owned()));
                self.call("publish", self.backend.publish(&entries)).await;
            }
            (None, _) => {}
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

    /// Fills the index from the database, then marks it ready.
    pub async fn rebuild(&self, store: &Store) -> anyhow::Result<usize> {
        self.set_state(IndexState::Rebuilding);
        let claims = store.all_claims().await?;
        let entries: Vec<(String, String)> = claims
            .iter()
            .flat_map(|(id, email)| {
                let normalized_email = email.trim().to_lowercase();
                let claims = Claims::of(id, &normalized_email);
                claims.keys.map(|key| (key, id.clone()))
            })
            .collect();
        self.backend.publish(&entries).await?;
        self.backend.mark_built().await?;
        self.rebuilds.fetch_add(1, Ordering::Relaxed);
        self.set_state(IndexState::Ready);
        Ok(claims.len())
    }

    /// Watches the index for the life of the process: rebuilds it at start, after
    /// Valkey comes back, and when Valkey lost it (restarted empty, flushed).
    pub async fn maintain(self: Arc<Self>, store: Store) {
        let mut interval = tokio::time::interval(WATCH_INTERVAL);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            let Some(built) = self.call("check", self.backend.is_built()).await else {
                continue;
            };
            if built && self.state() == IndexState::Ready {
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

    fn ready_memory_index() -> DuplicateIndex {
        let index = DuplicateIndex::new(AnyIndex::Memory(MemoryIndex::default()));
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
        let reservation = index.reserve(&id, &email).await.unwrap();
        index.confirm(reservation, &id).await;

        let (_, other_email) = claims("E-2", "b@x.io");
        let clash = index.reserve(&id, &other_email).await.err().unwrap();
        assert_eq!(clash.field, Field::EmployeeId);
        assert_eq!(clash.holder, Some(id.clone()));

        let (other_id, _) = claims("E-2", "b@x.io");
        let clash = index.reserve(&other_id, &email).await.err().unwrap();
        assert_eq!(clash.field, Field::Email);
        assert_eq!(clash.holder, Some(id));
    }

    #[tokio::test]
    async fn a_pending_reservation_rejects_without_naming_a_holder() {
        let index = ready_memory_index();
        let (id, email) = claims("E-1", "a@x.io");
        let _pending = index.reserve(&id, &email).await.unwrap();
        let clash = index.reserve(&id, &email).await.err().unwrap();
        assert_eq!(clash.holder, None);
    }

    #[tokio::test]
    async fn a_partial_clash_releases_the_key_it_did_claim() {
        let index = ready_memory_index();
        let (id, email) = claims("E-1", "a@x.io");
        let reservation = index.reserve(&id, &email).await.unwrap();
        index.confirm(reservation, &id).await;

        let (new_id, _) = claims("E-2", "x@x.io");
        assert!(index.reserve(&new_id, &email).await.is_err());
        let (_, new_email) = claims("E-9", "new@x.io");
        assert!(index.reserve(&new_id, &new_email).await.is_ok());
    }

    #[tokio::test]
    async fn release_frees_only_its_own_reservation() {
        let index = ready_memory_index();
        let (id, email) = claims("E-1", "a@x.io");
        let first = index.reserve(&id, &email).await.unwrap();
        index.release(first).await;
        let second = index.reserve(&id, &email).await.unwrap();
        let stale = Reservation {
            claims: Claims::of(id.as_str(), email.as_str()),
            token: Some("pending:someone-else".into()),
        };
        index.release(stale).await;
        assert!(index.reserve(&id, &email).await.is_err());
        index.confirm(second, &id).await;
    }

    #[tokio::test]
    async fn an_index_that_is_not_ready_rejects_nothing() {
        let index = ready_memory_index();
        let (id, email) = claims("E-1", "a@x.io");
        let reservation = index.reserve(&id, &email).await.unwrap();
        index.confirm(reservation, &id).await;
        index.set_state(IndexState::Down);
        assert!(index.reserve(&id, &email).await.is_ok());
    }
}
