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
use crate::domain::{Employee, EmployeeForm, EmployeeId, Field, FieldErrors, WorkEmail};
use crate::index::{ClaimSource, Clash, DuplicateIndex, StoredClaims};
use crate::store::{Store, StoreError};

/// Why a write did not happen. Says what went wrong, not what to tell the user: the
/// web layer decides the wording and the status.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// Each taken value, in the form's order; never empty.
    #[error("the {} is already taken", .0[0].field.name())]
    Duplicate(Vec<Clash>),
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
            StoreError::Conflict { field, holder } => {
                Self::Duplicate(vec![Clash { field, holder }])
            }
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

/// What else is wrong with a refused submission, found in the store.
#[derive(Debug, Default)]
pub struct OtherProblems {
    /// Stored records holding its ID or e-mail, in the form's order.
    pub clashes: Vec<Clash>,
    pub unknown_manager: bool,
}

impl Registry {
    /// Every problem of a refused submission beside the one it was refused for: which
    /// stored records hold its ID or e-mail and whether its manager exists, so that one
    /// answer names them all. One store query at most, and none when there is nothing
    /// left to ask: an index clash already names both keys' holders, so a duplicate
    /// naming no manager stays as cheap as it was. `owner` is the record being edited.
    pub async fn other_problems(
        &self,
        form: &EmployeeForm,
        owner: Option<&EmployeeId>,
        refusal: &WriteError,
    ) -> Result<OtherProblems, StoreError> {
        let (id, email) = match refusal {
            WriteError::Invalid(errors) => (
                parsed_if_valid(errors, Field::EmployeeId, || {
                    EmployeeId::parse(&form.employee_id)
                }),
                parsed_if_valid(errors, Field::Email, || WorkEmail::parse(&form.email)),
            ),
            _ => (None, None),
        };
        let manager = match refusal {
            WriteError::Invalid(errors) if errors.get(Field::ManagerId).is_some() => None,
            WriteError::Invalid(_) | WriteError::Duplicate(_)
                if !form.manager_id.trim().is_empty() =>
            {
                EmployeeId::parse(&form.manager_id).ok()
            }
            _ => None,
        };
        if id.is_none() && email.is_none() && manager.is_none() {
            return Ok(OtherProblems::default());
        }
        let ids = id.iter().chain(manager.iter()).cloned().collect();
        let holders = self.store.holders(ids, email.clone()).await?;
        let mut problems = OtherProblems {
            unknown_manager: manager
                .as_ref()
                .is_some_and(|manager| !holders.iter().any(|(held, _)| held == manager)),
            ..OtherProblems::default()
        };
        for (holder, held_email) in holders {
            if owner == Some(&holder) {
                continue;
            }
            if id.as_ref() == Some(&holder) {
                problems.clashes.push(Clash {
                    field: Field::EmployeeId,
                    holder: Some(holder.clone()),
                });
            }
            if email.as_ref() == Some(&held_email) {
                problems.clashes.push(Clash {
                    field: Field::Email,
                    holder: Some(holder),
                });
            }
        }
        problems.clashes.sort_by_key(|clash| clash.field);
        Ok(problems)
    }
}

/// A field's value, parsed, when the form's rules found nothing wrong with it.
fn parsed_if_valid<T>(
    errors: &FieldErrors,
    field: Field,
    parse: impl FnOnce() -> Result<T, String>,
) -> Option<T> {
    errors.get(field).is_none().then(parse).and_then(Result::ok)
}

/// The index rebuilds itself from the stored records, read here so that neither the
/// index nor the store knows the other.
impl ClaimSource for Store {
    async fn claims_after(&self, after: i64, limit: i64) -> anyhow::Result<Vec<StoredClaims>> {
        Ok(Store::claims_after(self, after, limit).await?)
    }
}
