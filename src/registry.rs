//! Creating a record under the duplicate guarantee: reserve in the index, insert in the
//! database, then confirm, or release on failure. The index may turn a duplicate away
//! early; only the database's unique indexes decide that something is *not* one.

use std::sync::Arc;

use crate::domain::{EmployeeId, FieldErrors, NewEmployee};
use crate::index::{Clash, DuplicateIndex};
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("the {} is already taken", .0.field.name())]
    Duplicate(Clash),
    #[error("invalid fields: {0}")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for CreateError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict { field, holder } => Self::Duplicate(Clash { field, holder }),
            StoreError::MissingReference(field) => Self::Invalid(FieldErrors::single(
                field,
                match field {
                    crate::domain::Field::ManagerId => "No employee has this ID.",
                    _ => "This department does not exist (any more).",
                },
            )),
            other => Self::Store(other),
        }
    }
}

/// Runs on a task of its own: if the browser goes away mid-request, the handler is
/// dropped, but the reservation must still be confirmed or released.
pub async fn create_employee(
    store: &Store,
    index: &Arc<DuplicateIndex>,
    new: NewEmployee,
) -> Result<EmployeeId, CreateError> {
    let (store, index) = (store.clone(), Arc::clone(index));
    tokio::spawn(async move { reserve_insert_confirm(&store, &index, new).await })
        .await
        .map_err(|error| CreateError::Store(StoreError::Unavailable(error.into())))?
}

async fn reserve_insert_confirm(
    store: &Store,
    index: &DuplicateIndex,
    new: NewEmployee,
) -> Result<EmployeeId, CreateError> {
    let reservation = index
        .reserve(&new.employee_id, &new.email)
        .await
        .map_err(CreateError::Duplicate)?;
    let id = new.employee_id.clone();
    match store.insert_employee(new).await {
        Ok(()) => {
            index.confirm(reservation, &id).await;
            Ok(id)
        }
        Err(error) => {
            index.release(reservation).await;
            Err(error.into())
        }
    }
}
