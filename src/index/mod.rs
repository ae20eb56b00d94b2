//! The duplicate index: answers "already taken" before the database is asked, and
//! reserves a new record's employee ID and e-mail while it is being stored.
//!
//! The index never decides alone that something is *not* a duplicate: the database's
//! unique indexes do. While the index is not ready, requests skip it.
//!
//! `backend` holds the primitive operations and their two implementations (`memory`,
//! `valkey`); `protocol` the reserve / confirm / release steps of a write; `rebuild`
//! how the index is made to match the database, read through `ClaimSource`.

mod backend;
mod memory;
mod protocol;
mod rebuild;
mod valkey;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};

pub use backend::{AnyIndex, Confirm, IndexBackend, IndexError, Reserve};
pub use memory::MemoryIndex;
pub use protocol::{Clash, Reservation};
pub use rebuild::{ClaimSource, StoredClaims};
pub use valkey::ValkeyIndex;

const ID_KEY_PREFIX: &str = "roster:employee_id:";
const EMAIL_KEY_PREFIX: &str = "roster:email:";
/// Present once the index holds every record; an empty or restarted Valkey lacks it.
const BUILT_MARKER: &str = "roster:index:built";
const PENDING_PREFIX: &str = "pending:";

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

#[derive(Debug, Default, Clone, Copy)]
pub struct IndexStats {
    pub rejections: u64,
    pub rebuilds: u64,
}

pub struct DuplicateIndex {
    /// Shared with the accounts signal, which uses the same Valkey for its counter.
    backend: Arc<AnyIndex>,
    state: AtomicU8,
    /// Set when this process stored a record the index may lack; cleared by a rebuild.
    missed_writes: AtomicBool,
    rejections: AtomicU64,
    rebuilds: AtomicU64,
}

impl DuplicateIndex {
    pub fn new(backend: Arc<AnyIndex>) -> Self {
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

    /// For a process that does not maintain the index (a CLI command): takes it as
    /// ready when a server built it. Returns whether it did.
    pub async fn attach(&self) -> bool {
        let built = self.call("check", self.backend.is_built()).await == Some(true);
        if built {
            self.set_state(IndexState::Ready);
        }
        built
    }
}

#[cfg(test)]
mod tests {
    use super::protocol::Claims;
    use super::*;
    use crate::domain::{EmployeeId, Field, WorkEmail};

    /// The database a unit test's rebuild reads: its records, in id order.
    impl ClaimSource for Vec<StoredClaims> {
        async fn claims_after(&self, after: i64, limit: i64) -> anyhow::Result<Vec<StoredClaims>> {
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
        let index = Arc::new(DuplicateIndex::new(Arc::new(AnyIndex::Memory(
            MemoryIndex::default(),
        ))));
        index.set_state(IndexState::Ready);
        index
    }

    /// A ready index holding one record, stored as a write stores it.
    async fn index_holding(id: &str, email: &str) -> (Arc<DuplicateIndex>, EmployeeId, WorkEmail) {
        let index = ready_memory_index();
        let (id, email) = claims(id, email);
        confirmed(&index, &id, &email).await;
        (index, id, email)
    }

    /// A record stored as a write stores it: reserved, then confirmed.
    async fn confirmed(index: &DuplicateIndex, id: &EmployeeId, email: &WorkEmail) {
        let reservation = index.reserve(id, email, None).await.unwrap();
        index.confirm(reservation, id, None).await;
    }

    fn claims(id: &str, email: &str) -> (EmployeeId, WorkEmail) {
        (
            EmployeeId::parse(id).unwrap(),
            WorkEmail::parse(email).unwrap(),
        )
    }

    #[tokio::test]
    async fn a_confirmed_record_rejects_its_id_and_email() {
        let (index, id, email) = index_holding("E-1", "a@x.io").await;

        let (_, other_email) = claims("E-2", "b@x.io");
        let clashes = index.reserve(&id, &other_email, None).await.err().unwrap();
        let [clash] = clashes.as_slice() else {
            panic!("one clash: {clashes:?}")
        };
        assert_eq!(clash.field, Field::EmployeeId);
        assert_eq!(clash.holder, Some(id.clone()));

        let (other_id, _) = claims("E-2", "b@x.io");
        let clashes = index.reserve(&other_id, &email, None).await.err().unwrap();
        let [clash] = clashes.as_slice() else {
            panic!("one clash: {clashes:?}")
        };
        assert_eq!(clash.field, Field::Email);
        assert_eq!(clash.holder, Some(id));
    }

    #[tokio::test]
    async fn a_pending_reservation_rejects_without_naming_a_holder() {
        let index = ready_memory_index();
        let (id, email) = claims("E-1", "a@x.io");
        let _pending = index.reserve(&id, &email, None).await.unwrap();
        let clashes = index.reserve(&id, &email, None).await.err().unwrap();
        assert!(
            clashes.iter().all(|clash| clash.holder.is_none()),
            "{clashes:?}"
        );
    }

    #[tokio::test]
    async fn a_partial_clash_claims_nothing() {
        let (index, _, email) = index_holding("E-1", "a@x.io").await;

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
        let (index, gone, gone_email) = index_holding("E-1", "a@x.io").await;

        let database = vec![(2, "E-2".to_owned(), " B@X.io".to_owned(), "E-2".to_owned())];
        index.rebuild_from(&database).await.unwrap();

        assert!(index.reserve(&gone, &gone_email, None).await.is_ok());
        let (kept, kept_email) = claims("E-2", "b@x.io");
        let clashes = index.reserve(&kept, &kept_email, None).await.err().unwrap();
        assert_eq!(clashes[0].holder, Some(kept));
    }

    #[tokio::test]
    async fn an_edit_keeps_what_the_record_holds_and_frees_what_it_gave_up() {
        let (index, old_id, old_email) = index_holding("E-1", "a@x.io").await;

        let (new_id, _) = claims("E-2", "a@x.io");
        let reservation = index
            .reserve(&new_id, &old_email, Some(&old_id))
            .await
            .unwrap();
        index.confirm(reservation, &new_id, Some(&old_id)).await;
        index
            .forget(&old_id, &old_email, Some((&new_id, &old_email)))
            .await;

        let clash = index
            .reserve(&new_id, &old_email, None)
            .await
            .err()
            .unwrap()
            .remove(0);
        assert_eq!(clash.holder, Some(new_id.clone()));
        let (_, other_email) = claims("XX", "z@x.io");
        let freed = index.reserve(&old_id, &other_email, None).await;
        assert!(freed.is_ok(), "the old ID is free again");
        let clash = index
            .reserve(&claims("E-9", "q@x.io").0, &old_email, None)
            .await
            .err()
            .unwrap()
            .remove(0);
        assert_eq!(
            clash.holder,
            Some(new_id),
            "the e-mail passed to the new ID"
        );
    }

    #[tokio::test]
    async fn an_index_that_is_not_ready_rejects_nothing() {
        let (index, id, email) = index_holding("E-1", "a@x.io").await;
        index.set_state(IndexState::Down);
        assert!(index.reserve(&id, &email, None).await.is_ok());
    }
}
