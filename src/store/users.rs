use diesel::prelude::*;

use super::audit::{self, AuditAction, FieldChange, Subject};
use super::connection::DbConnection;
use super::schema::users;
use super::{Rule, StoreError};
use crate::auth::Account;
use crate::domain::{Role, Username};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
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

pub(super) fn count(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(users::table.count().get_result(conn)?)
}

pub(super) fn find_by_name(
    conn: &mut DbConnection,
    username: &Username,
) -> Result<Option<UserRecord>, StoreError> {
    Ok(users::table
        .filter(users::username.eq(username.as_str()))
        .select(UserRecord::as_select())
        .first(conn)
        .optional()?)
}

pub(super) fn find(conn: &mut DbConnection, id: i64) -> Result<UserRecord, StoreError> {
    users::table
        .find(id)
        .select(UserRecord::as_select())
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound)
}

pub(super) fn all(conn: &mut DbConnection) -> Result<Vec<UserRecord>, StoreError> {
    Ok(users::table
        .select(UserRecord::as_select())
        .order(users::username.asc())
        .load(conn)?)
}

pub(super) fn insert(
    conn: &mut DbConnection,
    username: &Username,
    password_hash: &str,
    role: Role,
    actor: &str,
) -> Result<UserRecord, StoreError> {
    let inserted = conn.transaction(|conn| {
        let id = diesel::insert_into(users::table)
            .values((
                users::username.eq(username.as_str()),
                users::password_hash.eq(password_hash),
                users::role.eq(role.as_str()),
            ))
            .returning(users::id)
            .get_result::<i64>(conn)?;
        let changes = [
            change("username", None, Some(username.as_str())),
            change("role", None, Some(role.as_str())),
        ];
        let subject = Subject::account(id, username.as_str());
        audit::record(conn, actor, AuditAction::Create, subject, &changes)?;
        find(conn, id)
    });
    match inserted {
        Err(StoreError::Violation {
            rule: Rule::Unique, ..
        }) => Err(StoreError::UsernameTaken),
        other => other,
    }
}

fn change(field: &str, old: Option<&str>, new: Option<&str>) -> FieldChange {
    FieldChange {
        field: field.to_owned(),
        old: old.map(str::to_owned),
        new: new.map(str::to_owned),
    }
}

/// Disabling revokes the account's sessions: its epoch moves on.
pub(super) fn set_enabled(
    conn: &mut DbConnection,
    id: i64,
    enabled: bool,
    actor: &str,
) -> Result<UserRecord, StoreError> {
    let old = find(conn, id)?;
    if old.enabled == enabled {
        return Ok(old);
    }
    conn.transaction(|conn| {
        diesel::update(users::table.find(id))
            .set((
                users::enabled.eq(enabled),
                users::session_epoch.eq(users::session_epoch + i32::from(!enabled)),
                users::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)?;
        let state = |enabled: bool| if enabled { "enabled" } else { "disabled" };
        let changes = [change(
            "state",
            Some(state(old.enabled)),
            Some(state(enabled)),
        )];
        let subject = Subject::account(id, &old.username);
        audit::record(conn, actor, AuditAction::Update, subject, &changes)?;
        find(conn, id)
    })
}

/// A new password revokes the account's existing sessions. The audit notes the reset,
/// never the password or its hash.
pub(super) fn set_password(
    conn: &mut DbConnection,
    id: i64,
    password_hash: &str,
    actor: &str,
) -> Result<UserRecord, StoreError> {
    let old = find(conn, id)?;
    conn.transaction(|conn| {
        diesel::update(users::table.find(id))
            .set((
                users::password_hash.eq(password_hash),
                users::session_epoch.eq(users::session_epoch + 1),
                users::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)?;
        let changes = [change("password", None, Some("reset"))];
        let subject = Subject::account(id, &old.username);
        audit::record(conn, actor, AuditAction::Update, subject, &changes)?;
        find(conn, id)
    })
}
