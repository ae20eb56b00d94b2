//! Likely duplicates (one person under two IDs) and merging them: the likeness keys
//! kept beside each record, the pairs people said are different people, and the merge.

use std::collections::HashMap;

use diesel::dsl::{exists, not, sql};
use diesel::expression::SqlLiteral;
use diesel::prelude::*;
use diesel::sql_types::Bool;

use super::audit::{self, AuditAction, FieldChange, Subject, diff};
use super::connection::DbConnection;
use super::employees::{EmployeeRecord, EmployeeRow, audited_fields, chain_reaches, find, now_utc};
use super::schema::{distinct_people, employees};
use super::{Rule, StoreError};
use crate::domain::{Employee, EmployeeId, Likeness, WorkEmail, person_key, phone_key};

/// Stands in for an absent key or owner in a comparison: no stored key or ID is ever
/// `-` (IDs start with a letter or digit; keys hold `|` or start with `+`).
const NO_VALUE: &str = "-";

/// The key indexes hold only records that have the key: most have neither a birth
/// date nor a phone, and an index entry for each of them would cost every insert.
/// The conditions are written out, not bound, so that both planners see they match
/// the indexes' own.
fn has_person_key() -> SqlLiteral<Bool> {
    sql::<Bool>("employees.person_key <> ''")
}

fn has_phone_key() -> SqlLiteral<Bool> {
    sql::<Bool>("employees.phone_key <> ''")
}

/// A stored record that shares a likeness key with a submission.
#[derive(Debug, Clone)]
pub struct LikelyTwin {
    pub employee_id: EmployeeId,
    pub email: WorkEmail,
    pub name: String,
    pub likeness: Likeness,
}

/// Rows read for a likeness comparison: ID, e-mail, first and last name, and the keys.
type TwinRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
);

fn twin((id, email, first, last, person, phone): TwinRow) -> LikelyTwin {
    let key = |key: Option<String>| key.filter(|key| !key.is_empty());
    LikelyTwin {
        employee_id: EmployeeId::from_stored(id),
        email: WorkEmail::from_stored(email),
        name: format!("{first} {last}"),
        likeness: Likeness {
            person: key(person),
            phone: key(phone),
        },
    }
}

/// Records (not merged away) sharing a key with `likeness`, and with them the record
/// `owner` itself when given, so that an edit can tell whether its keys changed: one
/// query, through the key indexes. Pairs already confirmed as different people with
/// `owner` are left out.
pub(super) fn likely_twins(
    conn: &mut DbConnection,
    likeness: &Likeness,
    owner: Option<&EmployeeId>,
) -> Result<Vec<LikelyTwin>, StoreError> {
    let person = likeness.person.as_deref().unwrap_or(NO_VALUE);
    let phone = likeness.phone.as_deref().unwrap_or(NO_VALUE);
    let owner = owner.map_or(NO_VALUE, EmployeeId::as_str);
    let confirmed_distinct = exists(
        distinct_people::table.filter(
            distinct_people::employee_id
                .eq(owner)
                .and(distinct_people::other_id.eq(employees::employee_id))
                .or(distinct_people::other_id
                    .eq(owner)
                    .and(distinct_people::employee_id.eq(employees::employee_id))),
        ),
    );
    let rows: Vec<TwinRow> = employees::table
        .filter(employees::merged_into.is_null())
        .filter(
            employees::person_key
                .eq(person)
                .and(has_person_key())
                .or(employees::phone_key.eq(phone).and(has_phone_key()))
                .or(employees::employee_id.eq(owner)),
        )
        .filter(not(confirmed_distinct))
        .select(twin_columns())
        // The record being edited first: whether its keys changed depends on it.
        .order(employees::employee_id.eq(owner).desc())
        .limit(50)
        .load(conn)?;
    Ok(rows.into_iter().map(twin).collect())
}

/// Records (not merged away) holding any of these keys, as either key.
pub(super) fn twins_by_keys(
    conn: &mut DbConnection,
    keys: &[&str],
) -> Result<Vec<LikelyTwin>, StoreError> {
    let rows: Vec<TwinRow> = employees::table
        .filter(employees::merged_into.is_null())
        .filter(
            employees::person_key
                .eq_any(keys)
                .and(has_person_key())
                .or(employees::phone_key.eq_any(keys).and(has_phone_key())),
        )
        .select(twin_columns())
        .load(conn)?;
    Ok(rows.into_iter().map(twin).collect())
}

type TwinColumns = (
    employees::employee_id,
    employees::email,
    employees::first_name,
    employees::last_name,
    employees::person_key,
    employees::phone_key,
);

fn twin_columns() -> TwinColumns {
    (
        employees::employee_id,
        employees::email,
        employees::first_name,
        employees::last_name,
        employees::person_key,
        employees::phone_key,
    )
}

/// Computes the keys of rows that lack them (written by another tool, or before the
/// keys existed), a page at a time; returns how many rows it filled.
pub(super) fn fill_keys(conn: &mut DbConnection) -> Result<usize, StoreError> {
    type Unkeyed = (i64, String, String, Option<time::Date>, Option<String>);
    let unkeyed = employees::person_key
        .is_null()
        .or(employees::phone_key.is_null());
    // Most rows have neither a birth date nor a phone: one statement keys them all.
    let mut filled = diesel::update(
        employees::table
            .filter(unkeyed)
            .filter(employees::date_of_birth.is_null())
            .filter(employees::phone.is_null()),
    )
    .set((employees::person_key.eq(""), employees::phone_key.eq("")))
    .execute(conn)?;
    loop {
        let page: Vec<Unkeyed> = employees::table
            .filter(unkeyed)
            .select((
                employees::id,
                employees::first_name,
                employees::last_name,
                employees::date_of_birth,
                employees::phone,
            ))
            .order(employees::id.asc())
            .limit(1_000)
            .load(conn)?;
        if page.is_empty() {
            return Ok(filled);
        }
        filled += page.len();
        conn.transaction(|conn| {
            for (id, first, last, born, phone) in &page {
                let person = person_key(first, last, *born).unwrap_or_default();
                let phone = phone.as_deref().and_then(phone_key).unwrap_or_default();
                // Only while still unkeyed: an edit meanwhile wrote keys of its own.
                diesel::update(employees::table.find(id).filter(unkeyed))
                    .set((
                        employees::person_key.eq(person),
                        employees::phone_key.eq(phone),
                    ))
                    .execute(conn)?;
            }
            Ok::<_, StoreError>(())
        })?;
    }
}

/// Every record (not merged away) with a likeness key, and the pairs confirmed as
/// different people: what the possible-duplicates page groups.
#[derive(Debug, Default)]
pub struct KeyedPeople {
    pub people: Vec<LikelyTwin>,
    /// Pairs of employee IDs, in either order.
    pub distinct: Vec<(String, String)>,
}

pub(super) fn keyed_people(conn: &mut DbConnection) -> Result<KeyedPeople, StoreError> {
    let rows: Vec<TwinRow> = employees::table
        .filter(employees::merged_into.is_null())
        .filter(has_person_key().or(has_phone_key()))
        .select(twin_columns())
        .order(employees::employee_id.asc())
        .load(conn)?;
    let distinct = distinct_people::table
        .select((distinct_people::employee_id, distinct_people::other_id))
        .load(conn)?;
    Ok(KeyedPeople {
        people: rows.into_iter().map(twin).collect(),
        distinct,
    })
}

/// Records that the two are different people; confirming it twice is no error.
pub(super) fn confirm_distinct(
    conn: &mut DbConnection,
    employee_id: &EmployeeId,
    others: &[EmployeeId],
    actor: &str,
) -> Result<(), StoreError> {
    for other in others {
        let known = distinct_people::table
            .filter(
                distinct_people::employee_id
                    .eq(employee_id.as_str())
                    .and(distinct_people::other_id.eq(other.as_str()))
                    .or(distinct_people::employee_id
                        .eq(other.as_str())
                        .and(distinct_people::other_id.eq(employee_id.as_str()))),
            )
            .count()
            .get_result::<i64>(conn)?;
        if known > 0 {
            continue;
        }
        let inserted = diesel::insert_into(distinct_people::table)
            .values((
                distinct_people::employee_id.eq(employee_id.as_str()),
                distinct_people::other_id.eq(other.as_str()),
                distinct_people::confirmed_by.eq(actor),
            ))
            .execute(conn)
            .map_err(StoreError::from);
        match inserted {
            // The same confirmation, sent twice at once (a double click).
            Err(StoreError::Violation {
                rule: Rule::Unique, ..
            }) => {}
            other => {
                other?;
            }
        }
    }
    Ok(())
}

/// The audit trail's line for a confirmation: which records the person said are
/// someone else.
pub(super) fn confirmation_change(others: &[EmployeeId]) -> FieldChange {
    let names: Vec<&str> = others.iter().map(EmployeeId::as_str).collect();
    FieldChange {
        field: "confirmed a different person than".into(),
        old: None,
        new: Some(names.join(", ")),
    }
}

/// What a merge did: the survivor as it is now, and the claims (ID and e-mail) that
/// are now its aliases.
#[derive(Debug)]
pub struct Merged {
    pub survivor: EmployeeId,
    pub aliases: Vec<(EmployeeId, WorkEmail)>,
}

/// Merges `other` into `survivor`, each at the version it was read: the survivor
/// keeps its values and takes the other's where its own are empty, the other's
/// reports move to it, and the other stays stored, merged away, so that its ID and
/// e-mail stay taken. One transaction; a stale version on either changes nothing.
pub(super) fn merge(
    conn: &mut DbConnection,
    (survivor_id, version): (&EmployeeId, i32),
    (other_id, other_version): (&EmployeeId, i32),
    actor: &str,
) -> Result<Merged, StoreError> {
    if survivor_id == other_id {
        return Err(StoreError::NotFound);
    }
    let survivor = find(conn, survivor_id)?;
    let other = find(conn, other_id)?;
    if survivor.version != version || other.version != other_version {
        return Err(StoreError::StaleVersion);
    }
    let mut merged = combined(&survivor, &other);
    let leads_back = match &merged.manager_id {
        Some(manager) => chain_reaches(conn, manager, [survivor_id, other_id])?,
        None => false,
    };
    if leads_back {
        // The chosen manager reports, at some remove, to one of the two: kept, the
        // survivor would end up managing itself.
        merged.manager_id = None;
    }
    conn.transaction(|conn| {
        let update_survivor = |conn: &mut DbConnection| {
            diesel::update(at_version(survivor.id, version))
                .set((
                    EmployeeRow::from(&merged),
                    employees::version.eq(version + 1),
                    employees::updated_at.eq(now_utc()),
                ))
                .execute(conn)
        };
        let merge_away = |conn: &mut DbConnection| {
            diesel::update(at_version(other.id, other_version))
                .set((
                    employees::merged_into.eq(survivor.id),
                    employees::manager_id.eq(None::<String>),
                    employees::person_key.eq(""),
                    employees::phone_key.eq(""),
                    employees::version.eq(other_version + 1),
                    employees::updated_at.eq(now_utc()),
                ))
                .execute(conn)
        };
        // Rows locked in id order, so that two merges of the same pair in opposite
        // directions wait for each other instead of deadlocking.
        let (updated, merged_away) = if survivor.id < other.id {
            let updated = update_survivor(conn)?;
            (updated, merge_away(conn)?)
        } else {
            let merged_away = merge_away(conn)?;
            (update_survivor(conn)?, merged_away)
        };
        if updated == 0 || merged_away == 0 {
            return Err(StoreError::StaleVersion);
        }
        let mut changes = diff(&audited_fields(&survivor), &audited_fields(&merged));
        changes.push(FieldChange {
            field: "merged in".into(),
            old: None,
            new: Some(format!("{} ({})", other.employee_id, other.full_name())),
        });
        let subject = Subject::employee(survivor.id, survivor_id.as_str());
        audit::record(conn, actor, AuditAction::Update, subject, &changes)?;
        move_reports(conn, actor, other_id, survivor_id)?;
        let mut aliases = vec![(other.employee_id.clone(), other.email.clone())];
        aliases.extend(move_aliases(conn, other.id, survivor.id)?);
        Ok(Merged {
            survivor: survivor_id.clone(),
            aliases,
        })
    })
}

type AtVersion = diesel::dsl::Filter<
    diesel::dsl::Filter<employees::table, diesel::dsl::Eq<employees::id, i64>>,
    diesel::dsl::Eq<employees::version, i32>,
>;

/// The record `id` if it is still at `version`: an update of it that matches nothing
/// lost a race with another write.
fn at_version(id: i64, version: i32) -> AtVersion {
    employees::table
        .filter(employees::id.eq(id))
        .filter(employees::version.eq(version))
}

/// The ID and e-mail of every record merged into the record with this employee ID.
pub(super) fn aliases_of_employee(
    conn: &mut DbConnection,
    employee_id: &EmployeeId,
) -> Result<Vec<(EmployeeId, WorkEmail)>, StoreError> {
    let survivor = employees::table
        .filter(employees::employee_id.eq(employee_id.as_str()))
        .select(employees::id)
        .first::<i64>(conn)
        .optional()?;
    match survivor {
        Some(id) => aliases_of(conn, id),
        None => Ok(Vec::new()),
    }
}

/// The survivor's values, with the other's wherever the survivor has none.
fn combined(survivor: &EmployeeRecord, other: &EmployeeRecord) -> Employee {
    let mut merged = survivor.employee.clone();
    if merged.phone.as_deref().is_none() {
        merged.phone = other.phone.clone();
    }
    if merged.job_title.as_deref().is_none() {
        merged.job_title = other.job_title.clone();
    }
    merged.department_id = merged.department_id.or(other.department_id);
    if merged.date_of_birth.is_none() {
        merged.date_of_birth = other.date_of_birth.filter(|born| *born < merged.hire_date);
    }
    let own_manager = |manager: &Option<EmployeeId>| {
        manager
            .clone()
            .filter(|m| m != &survivor.employee_id && m != &other.employee_id)
    };
    merged.manager_id = own_manager(&merged.manager_id).or_else(|| own_manager(&other.manager_id));
    merged
}

/// The other's reports now report to the survivor, each with a line in its history.
fn move_reports(
    conn: &mut DbConnection,
    actor: &str,
    from: &EmployeeId,
    to: &EmployeeId,
) -> Result<(), StoreError> {
    let reports: Vec<(i64, String)> = employees::table
        .filter(employees::manager_id.eq(from.as_str()))
        .select((employees::id, employees::employee_id))
        .load(conn)?;
    diesel::update(employees::table.filter(employees::manager_id.eq(from.as_str())))
        .set(employees::manager_id.eq(to.as_str()))
        .execute(conn)?;
    super::employees::record_manager_change(conn, actor, &reports, from, to)
}

/// Records merged into the other before now belong to the survivor; returns their
/// claims.
fn move_aliases(
    conn: &mut DbConnection,
    from: i64,
    to: i64,
) -> Result<Vec<(EmployeeId, WorkEmail)>, StoreError> {
    let aliases = aliases_of(conn, from)?;
    diesel::update(employees::table.filter(employees::merged_into.eq(from)))
        .set(employees::merged_into.eq(to))
        .execute(conn)?;
    Ok(aliases)
}

/// The ID and e-mail of every record merged into the record `id`.
pub(super) fn aliases_of(
    conn: &mut DbConnection,
    id: i64,
) -> Result<Vec<(EmployeeId, WorkEmail)>, StoreError> {
    let rows: Vec<(String, String)> = employees::table
        .filter(employees::merged_into.eq(id))
        .select((employees::employee_id, employees::email))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, email)| (EmployeeId::from_stored(id), WorkEmail::from_stored(email)))
        .collect())
}

/// The employee ID of each record that these internal ids name.
pub(super) fn employee_ids_of(
    conn: &mut DbConnection,
    ids: Vec<i64>,
) -> Result<HashMap<i64, String>, StoreError> {
    let rows: Vec<(i64, String)> = employees::table
        .filter(employees::id.eq_any(ids))
        .select((employees::id, employees::employee_id))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}
