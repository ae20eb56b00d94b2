use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::StoreError;
use super::connection::DbConnection;
use super::schema::users;
use crate::auth::Account;
use crate::domain::{Role, Username};

#[derive(Debug, Clone, Queryable)]
pub struct UserRecord {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub role: String,
    pub enabled: bool,
    pub session_epoch: i32,
}

impl UserRecord {
    pub fn account(&self) -> Account {
        Account {
            id: self.id,
            username: self.username.clone(),
            role: Role::parse(&self.role).unwrap_or(Role::Viewer),
            enabled: self.enabled,
            session_epoch: self.session_epoch,
        }
    }
}

const COLUMNS: (
    users::id,
    users::username,
    users::password_hash,
    users::role,
    users::enabled,
    users::session_epoch,
) = (
    users::id,
    users::username,
    users::password_hash,
    users::role,
    users::enabled,
    users::session_epoch,
);

pub(super) fn count(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(users::table.count().get_result(conn)?)
}

pub(super) fn find_by_name(
    conn: &mut DbConnection,
    username: &Username,
) -> Result<Option<UserRecord>, StoreError> {
    Ok(users::table
        .filter(users::username.eq(username.as_str()))
        .select(COLUMNS)
        .first(conn)
        .optional()?)
}

pub(super) fn find(conn: &mut DbConnection, id: i64) -> Result<UserRecord, StoreError> {
    users::table
        .find(id)
        .select(COLUMNS)
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound)
}

pub(super) fn all(conn: &mut DbConnection) -> Result<Vec<UserRecord>, StoreError> {
    Ok(users::table
        .select(COLUMNS)
        .order(users::username.asc())
        .load(conn)?)
}

pub(super) fn insert(
    conn: &mut DbConnection,
    username: &Username,
    password_hash: &str,
    role: Role,
) -> Result<UserRecord, StoreError> {
    let inserted = diesel::insert_into(users::table)
        .values((
            users::username.eq(username.as_str()),
            users::password_hash.eq(password_hash),
            users::role.eq(role.as_str()),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => find_by_name(conn, username)?.ok_or(StoreError::NotFound),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            Err(StoreError::UsernameTaken)
        }
        Err(error) => Err(error.into()),
    }
}

/// Disabling revokes the account's sessions: its epoch moves on.
pub(super) fn set_enabled(
    conn: &mut DbConnection,
    id: i64,
    enabled: bool,
) -> Result<UserRecord, StoreError> {
    let bump = i32::from(!enabled);
    let updated = diesel::update(users::table.find(id))
        .set((
            users::enabled.eq(enabled),
            users::session_epoch.eq(users::session_epoch + bump),
            users::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)?;
    if updated == 0 {
        return Err(StoreError::NotFound);
    }
    find(conn, id)
}

/// A new password revokes the account's existing sessions.
pub(super) fn set_password(
    conn: &mut DbConnection,
    id: i64,
    password_hash: &str,
) -> Result<UserRecord, StoreError> {
    let updated = diesel::update(users::table.find(id))
        .set((
            users::password_hash.eq(password_hash),
            users::session_epoch.eq(users::session_epoch + 1),
            users::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)?;
    if updated == 0 {
        return Err(StoreError::NotFound);
    }
    find(conn, id)
}
