//! Writing records under the duplicate guarantee. A new or changed ID or e-mail is
//! reserved in the index, the database write commits (with its audit entry), then the
//! reservation is confirmed, or released on failure; claims a record gave up are freed
//! only after the commit. The index may turn a duplicate away early; only the
//! database's unique indexes decide that something is *not* one.
//!
//! Each sequence runs on a task of its own from the moment its reservation is made: if
//! the browser goes away mid-request, the handler is dropped, but a reservation must
//! still be confirmed or released. (A browser gone during the reservation's own round
//! trip may leave it to expire, as a crash would.) A duplicate is turned away before
//! that, without a task: the common rejection stays cheap.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::auth::CurrentUser;
use crate::domain::{Employee, EmployeeId, Field, FieldErrors, WorkEmail};
use crate::index::{ClaimSource, Clash, DuplicateIndex, StoredClaims};
use crate::store::{Store, StoreError};

/// Why a write did not happen. Says what went wrong, not what to tell the user: the
/// web layer decides the wording and the status.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("the {} is already taken", .0.field.name())]
    Duplicate(Clash),
    #[error("invalid fields: {0}")]
    Invalid(FieldErrors),
    #[error("the {} refers to nothing", .0.name())]
    MissingReference(Field),
    #[error(transparent)]
    Store(StoreError),
    /// The task carrying the write panicked: a bug, answered as an internal error.
    #[error("the write's task ended without an answer")]
    Interrupted(#[source] tokio::task::JoinError),
}

impl From<StoreError> for WriteError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict { field, holder } => Self::Duplicate(Clash { field, holder }),
            StoreError::MissingReference(field) => Self::MissingReference(field),
            other => Self::Store(other),
        }
    }
}

async fn detached<T: Send + 'static>(
    work: impl Future<Output = Result<T, WriteError>> + Send + 'static,
) -> Result<T, WriteError> {
    tokio::spawn(work).await.map_err(WriteError::Interrupted)?
}

/// A create or an edit in the store, answering with the e-mail the record held before.
type StoreWrite = Pin<Box<dyn Future<Output = Result<Option<WorkEmail>, StoreError>> + Send>>;

#[derive(Clone)]
pub struct Registry {
    pub store: Store,
    pub index: Arc<DuplicateIndex>,
}

impl Registry {
    fn parts(&self) -> (Store, Arc<DuplicateIndex>) {
        (self.store.clone(), Arc::clone(&self.index))
    }

    pub async fn create(
        &self,
        new: Employee,
        actor: &CurrentUser,
    ) -> Result<EmployeeId, WriteError> {
        let actor = actor.username.clone();
        self.write_reserved(new, None, move |store, new| {
            Box::pin(async move { store.insert_employee(new, actor).await.map(|()| None) })
        })
        .await
    }

    pub async fn update(
        &self,
        current: EmployeeId,
        version: i32,
        new: Employee,
        actor: &CurrentUser,
    ) -> Result<EmployeeId, WriteError> {
        let actor = actor.username.clone();
        let owner = current.clone();
        self.write_reserved(new, Some(owner), move |store, new| {
            Box::pin(async move {
                let old = store.update_employee(current, version, new, actor).await?;
                Ok(Some(old.employee.email))
            })
        })
        .await
    }

    /// Reserves the record's claims, then runs `write` on a task of its own: confirmed
    /// after it commits (and what the record gave up freed), released if it fails.
    /// `owner` is the record being edited; `write` returns the e-mail it held before.
    async fn write_reserved(
        &self,
        new: Employee,
        owner: Option<EmployeeId>,
        write: impl FnOnce(Store, Employee) -> StoreWrite + Send + 'static,
    ) -> Result<EmployeeId, WriteError> {
        let reservation = self
            .index
            .reserve(&new.employee_id, &new.email, owner.as_ref())
            .await
            .map_err(WriteError::Duplicate)?;
        let (store, index) = self.parts();
        detached(async move {
            let (id, email) = (new.employee_id.clone(), new.email.clone());
            match write(store, new).await {
                Ok(old_email) => {
                    index.confirm(reservation, &id, owner.as_ref()).await;
                    if let (Some(owner), Some(old_email)) = (&owner, old_email) {
                        index.forget(owner, &old_email, Some((&id, &email))).await;
                    }
                    Ok(id)
                }
                Err(error) => {
                    index.release(reservation).await;
                    Err(error.into())
                }
            }
        })
        .await
    }

    pub async fn delete(
        &self,
        id: EmployeeId,
        version: i32,
        actor: &CurrentUser,
    ) -> Result<(), WriteError> {
        let (store, index) = self.parts();
        let actor = actor.username.clone();
        detached(async move {
            let removed = store.delete_employee(id.clone(), version, actor).await?;
            index.forget(&id, &removed.email, None).await;
            Ok(())
        })
        .await
    }
}

/// The index rebuilds itself from the stored records, read here so that neither the
/// index nor the store knows the other.
impl ClaimSource for Store {
    async fn claims_after(&self, after: i64, limit: i64) -> anyhow::Result<Vec<StoredClaims>> {
        Ok(Store::claims_after(self, after, limit).await?)
    }
}
