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

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::auth::CurrentUser;
use crate::domain::{
    Employee, EmployeeForm, EmployeeId, EmploymentStatus, Field, FieldErrors, Likeness,
    MatchReason, WorkEmail, is_whole_name, name_matches,
};
use crate::index::{ClaimSource, Clash, DuplicateIndex, StoredClaims};
use crate::store::{
    KeyedPeople, LikelyTwin, ListQuery, PageSize, SortColumn, SortOrder, Store, StoreError,
};

/// Why a write did not happen. Says what went wrong, not what to tell the user: the
/// web layer decides the wording and the status.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// Each taken value, in the form's order; never empty.
    #[error("the {} is already taken", .0[0].field.name())]
    Duplicate(Vec<Clash>),
    /// No exact clash, but stored records that look like the same person, some of
    /// which nobody confirmed are someone else: every one of them; never empty.
    #[error("{} stored records look like the same person", .0.len())]
    Likely(Vec<LikelyMatch>),
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
            StoreError::NotOnStaff(manager) => manager_problem(left_message(&manager)),
            StoreError::ManagementLoop { manager } => manager_problem(format!(
                "{manager} reports to this employee, directly or through others: \
                 choose someone else, or first give {manager} another manager."
            )),
            StoreError::DepartmentArchived => {
                let mut errors = FieldErrors::default();
                errors.add(Field::DepartmentId, ARCHIVED_DEPARTMENT);
                Self::Invalid(errors)
            }
            StoreError::LeavingByForm { terminated } => {
                let mut errors = FieldErrors::default();
                errors.add(Field::Status, status_by_hand(terminated));
                Self::Invalid(errors)
            }
            other => Self::Store(other),
        }
    }
}

/// Whom a manager typed into the form means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManagerLookup {
    /// A record with this ID, or the one current employee of that name.
    Found(EmployeeId),
    /// Several current employees have that name: the form asks which.
    Several(Vec<ManagerCandidate>),
    /// No record has this ID and no current employee this name.
    NoOne,
}

/// A current employee whose name matches what was typed as a manager.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagerCandidate {
    pub employee_id: EmployeeId,
    pub name: String,
    pub job_title: Option<String>,
}

/// Candidates a form lists for a manager typed by a name many people share.
const MANAGER_CANDIDATES: usize = 10;

/// A stored record that looks like the submitted person, and why.
#[derive(Debug, Clone)]
pub struct LikelyMatch {
    pub employee_id: EmployeeId,
    pub name: String,
    pub reason: MatchReason,
}

/// What the likely check found for a submission.
enum Likely {
    /// A twin holds the submission's own ID or e-mail: the write itself refuses it, as
    /// the exact duplicate it is.
    Exact,
    /// Twins, some of which nobody confirmed are other people: all of them.
    Unconfirmed(Vec<LikelyMatch>),
    /// None, or each confirmed: these confirmations are to be recorded.
    Clear(Vec<EmployeeId>),
}

/// Sorts the stored twins of `new` (`owner` is the record being edited, returned
/// among them) against what the person confirmed.
fn judge(
    new: &Employee,
    likeness: &Likeness,
    owner: Option<&EmployeeId>,
    twins: Vec<LikelyTwin>,
    confirmed: &[EmployeeId],
) -> Likely {
    let unchanged = owner.is_some_and(|owner| {
        twins
            .iter()
            .any(|twin| &twin.employee_id == owner && twin.likeness == *likeness)
    });
    if unchanged {
        return Likely::Clear(Vec::new());
    }
    let mut matches = Vec::new();
    for twin in twins {
        if Some(&twin.employee_id) == owner {
            continue;
        }
        if twin.employee_id == new.employee_id || twin.email == new.email {
            return Likely::Exact;
        }
        if let Some(reason) = likeness.reason(&twin.likeness) {
            matches.push(LikelyMatch {
                employee_id: twin.employee_id,
                name: twin.name,
                reason,
            });
        }
    }
    if matches
        .iter()
        .all(|candidate| confirmed.contains(&candidate.employee_id))
    {
        return Likely::Clear(matches.into_iter().map(|m| m.employee_id).collect());
    }
    // Every candidate, the confirmed ones too: the form shows them ticked, so that
    // sending it again keeps what the person already said.
    matches.sort_by(|a, b| (a.reason, &a.employee_id).cmp(&(b.reason, &b.employee_id)));
    Likely::Unconfirmed(matches)
}

async fn detached<T: Send + 'static>(
    work: impl Future<Output = Result<T, WriteError>> + Send + 'static,
) -> Result<T, WriteError> {
    tokio::spawn(work).await.map_err(WriteError::Interrupted)?
}

/// A create or an edit in the store, answering with the e-mail the record held before.
type StoreWrite = Pin<Box<dyn Future<Output = Result<Option<WorkEmail>, StoreError>> + Send>>;

/// A create or an edit: the store, the record, and the confirmations to record with it.
type WriteStep = Box<dyn FnOnce(Store, Employee, Vec<EmployeeId>) -> StoreWrite + Send>;

#[derive(Clone)]
pub struct Registry {
    pub store: Store,
    pub index: Arc<DuplicateIndex>,
}

impl Registry {
    /// Whom `typed` (an employee ID, or a name or the start of one) means as a
    /// manager. An ID of a stored record means that record, whatever its standing (the
    /// write says why a leaver cannot manage); otherwise the current employees whose
    /// name it matches, the one whose whole name it is first.
    pub async fn find_manager(&self, typed: &str) -> Result<ManagerLookup, StoreError> {
        let typed = typed.trim();
        if let Ok(id) = EmployeeId::parse(typed)
            && self.store.standing(id.clone()).await?.is_some()
        {
            return Ok(ManagerLookup::Found(id));
        }
        let page = self
            .store
            .list_employees(ListQuery {
                search: Some(typed.to_owned()),
                sort: SortOrder {
                    column: SortColumn::Name,
                    descending: false,
                },
                page_size: PageSize::LARGEST,
                page: 1,
                ..ListQuery::default()
            })
            .await?;
        let named: Vec<_> = page
            .employees
            .iter()
            .filter(|record| name_matches(typed, &record.full_name()))
            .collect();
        let whole: Vec<_> = named
            .iter()
            .copied()
            .filter(|record| is_whole_name(typed, &record.full_name()))
            .collect();
        Ok(match (whole.as_slice(), named.as_slice()) {
            ([only], _) | (_, [only]) => ManagerLookup::Found(only.employee_id.clone()),
            (_, []) => ManagerLookup::NoOne,
            (_, several) => ManagerLookup::Several(
                several
                    .iter()
                    .take(MANAGER_CANDIDATES)
                    .map(|record| ManagerCandidate {
                        employee_id: record.employee_id.clone(),
                        name: record.full_name(),
                        job_title: record.job_title.as_deref().map(str::to_owned),
                    })
                    .collect(),
            ),
        })
    }

    fn parts(&self) -> (Store, Arc<DuplicateIndex>) {
        (self.store.clone(), Arc::clone(&self.index))
    }

    /// `confirmed` are the records the person said are someone else.
    pub async fn create(
        &self,
        new: Employee,
        confirmed: Vec<EmployeeId>,
        actor: &CurrentUser,
    ) -> Result<EmployeeId, WriteError> {
        if new.status == EmploymentStatus::Terminated {
            let mut errors = FieldErrors::default();
            errors.add(Field::Status, status_by_hand(false));
            return Err(WriteError::Invalid(errors));
        }
        let actor = actor.username.clone();
        let write: WriteStep = Box::new(move |store, new, confirmed| {
            Box::pin(async move {
                if confirmed.is_empty() {
                    store.insert_employee(new, actor).await?;
                } else {
                    store.insert_confirmed(new, actor, confirmed).await?;
                }
                Ok(None)
            })
        });
        self.write_reserved(new, None, confirmed, write).await
    }

    pub async fn update(
        &self,
        (current, version): (EmployeeId, i32),
        new: Employee,
        confirmed: Vec<EmployeeId>,
        actor: &CurrentUser,
    ) -> Result<EmployeeId, WriteError> {
        let actor = actor.username.clone();
        let owner = current.clone();
        let write: WriteStep = Box::new(move |store, new, confirmed| {
            Box::pin(async move {
                let old = store
                    .update_employee((current, version), new, actor, confirmed)
                    .await?;
                Ok(Some(old.employee.email))
            })
        });
        let id = self
            .write_reserved(new, Some(owner.clone()), confirmed, write)
            .await?;
        if id != owner {
            self.republish_aliases(id.clone()).await;
        }
        Ok(id)
    }

    /// After a record that others were merged into got a new ID: their claims name it.
    async fn republish_aliases(&self, survivor: EmployeeId) {
        let (store, index) = self.parts();
        let republished = detached(async move {
            let aliases = store.aliases_of(survivor.clone()).await?;
            if !aliases.is_empty() {
                index.learn_aliases(&aliases, &survivor).await;
            }
            Ok(())
        })
        .await;
        if let Err(error) = republished {
            // The claims still name the old ID, and turn reuses away naming it, until
            // the next rebuild.
            log::warn!("the aliases of a renamed record could not be republished: {error}");
        }
    }

    /// Reserves the record's claims, then runs `write` on a task of its own: confirmed
    /// after it commits (and what the record gave up freed), released if it fails.
    /// Between the two, the likely check: only a submission with no exact clash gets
    /// there, and it costs one indexed lookup, none for a record with no keys.
    /// `owner` is the record being edited; `write` returns the e-mail it held before.
    async fn write_reserved(
        &self,
        new: Employee,
        owner: Option<EmployeeId>,
        confirmed: Vec<EmployeeId>,
        write: WriteStep,
    ) -> Result<EmployeeId, WriteError> {
        let reservation = self
            .index
            .reserve(&new.employee_id, &new.email, owner.as_ref())
            .await
            .map_err(WriteError::Duplicate)?;
        let (store, index) = self.parts();
        detached(async move {
            let (id, email) = (new.employee_id.clone(), new.email.clone());
            let checked = match manager_on_staff(&store, &new).await {
                Ok(()) => likely_check(&store, &new, owner.as_ref(), &confirmed).await,
                Err(error) => Err(error),
            };
            let recorded = match checked {
                Ok(recorded) => recorded,
                Err(error) => {
                    index.release(reservation).await;
                    return Err(error);
                }
            };
            match write(store, new, recorded).await {
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

    /// Merges `other` into `survivor`, each at the version the person saw; the index
    /// learns the aliases once the merge committed.
    pub async fn merge(
        &self,
        survivor: (EmployeeId, i32),
        other: (EmployeeId, i32),
        actor: &CurrentUser,
    ) -> Result<EmployeeId, WriteError> {
        let (store, index) = self.parts();
        let actor = actor.username.clone();
        detached(async move {
            let merged = store.merge_employees(survivor, other, actor).await?;
            index.learn_aliases(&merged.aliases, &merged.survivor).await;
            Ok(merged.survivor)
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
            let (removed, aliases) = store.delete_employee(id.clone(), version, actor).await?;
            index.forget(&id, &removed.email, None).await;
            index.forget_aliases(&aliases, &id).await;
            Ok(())
        })
        .await
    }
}

/// A manager must be on the staff: a record merged into another is no manager any more
/// (the form names the record that stayed), and a leaver manages no one. One query,
/// only for a record with a manager; an edit checks again, with the chain of managers,
/// inside its transaction.
async fn manager_on_staff(store: &Store, new: &Employee) -> Result<(), WriteError> {
    let Some(manager) = &new.manager_id else {
        return Ok(());
    };
    let message = match store.standing(manager.clone()).await? {
        // The store's foreign key refuses it, after the version check: a stale form
        // is told it is stale first.
        None => return Ok(()),
        Some((answering, _)) if &answering != manager => {
            format!("{manager} was merged into {answering}: enter {answering}.")
        }
        Some((_, EmploymentStatus::Terminated)) => left_message(manager),
        Some(_) => return Ok(()),
    };
    Err(manager_problem(message))
}

pub const ARCHIVED_DEPARTMENT: &str =
    "This department is archived: it takes no new members. Choose another.";

/// Why the status field does not start or end a termination, and what does.
fn status_by_hand(terminated: bool) -> &'static str {
    if terminated {
        "This employee has left: use Reactivate on their page to rehire them."
    } else {
        "Use Terminate on the employee's page to record a leaver, with the last day."
    }
}

fn left_message(manager: &EmployeeId) -> String {
    format!("{manager} has left (terminated): choose a current employee as manager.")
}

fn manager_problem(message: String) -> WriteError {
    let mut errors = FieldErrors::default();
    errors.add(Field::ManagerId, message);
    WriteError::Invalid(errors)
}

/// The likely check of a submission that passed the exact one: the confirmations to
/// record with it, or the twins nobody confirmed.
async fn likely_check(
    store: &Store,
    new: &Employee,
    owner: Option<&EmployeeId>,
    confirmed: &[EmployeeId],
) -> Result<Vec<EmployeeId>, WriteError> {
    let likeness = Likeness::of(new);
    if likeness.is_empty() {
        return Ok(Vec::new());
    }
    let twins = store.likely_twins(likeness.clone(), owner.cloned()).await?;
    match judge(new, &likeness, owner, twins, confirmed) {
        Likely::Exact => Ok(Vec::new()),
        Likely::Unconfirmed(matches) => Err(WriteError::Likely(matches)),
        Likely::Clear(recorded) => Ok(recorded),
    }
}

/// Records in a likely group beyond this many are not paired up: a number many share
/// (a switchboard) says nothing about who is whom.
const MOST_IN_A_GROUP: usize = 25;

/// Two stored records that look like the same person.
#[derive(Debug, Clone)]
pub struct PossiblePair {
    pub first: (EmployeeId, String),
    pub second: (EmployeeId, String),
    pub reason: MatchReason,
}

/// Every likely pair in the store, strongest first, and how many groups were too
/// large to pair up.
#[derive(Debug, Default)]
pub struct PossibleDuplicates {
    pub pairs: Vec<PossiblePair>,
    pub oversized_groups: usize,
}

impl Registry {
    /// Groups every record by its likeness keys (filling in the keys of rows another
    /// tool wrote first) and pairs up each group, leaving out pairs confirmed as
    /// different people.
    pub async fn possible_duplicates(&self) -> Result<PossibleDuplicates, StoreError> {
        let KeyedPeople { people, distinct } = self.store.keyed_people().await?;
        let distinct: HashSet<(&str, &str)> = distinct
            .iter()
            .flat_map(|(a, b)| [(a.as_str(), b.as_str()), (b.as_str(), a.as_str())])
            .collect();
        let mut groups: HashMap<&str, Vec<usize>> = HashMap::new();
        for (at, person) in people.iter().enumerate() {
            for key in [&person.likeness.person, &person.likeness.phone]
                .into_iter()
                .flatten()
            {
                groups.entry(key.as_str()).or_default().push(at);
            }
        }
        let mut found = PossibleDuplicates::default();
        let mut paired = HashSet::new();
        for members in groups.values().filter(|members| members.len() > 1) {
            if members.len() > MOST_IN_A_GROUP {
                found.oversized_groups += 1;
                continue;
            }
            for (n, &a) in members.iter().enumerate() {
                for &b in &members[n + 1..] {
                    let (a, b) = (&people[a.min(b)], &people[a.max(b)]);
                    let ids = (a.employee_id.as_str(), b.employee_id.as_str());
                    if distinct.contains(&ids) || !paired.insert(ids) {
                        continue;
                    }
                    if let Some(reason) = a.likeness.reason(&b.likeness) {
                        found.pairs.push(PossiblePair {
                            first: (a.employee_id.clone(), a.name.clone()),
                            second: (b.employee_id.clone(), b.name.clone()),
                            reason,
                        });
                    }
                }
            }
        }
        found.pairs.sort_by(|x, y| {
            (x.reason, &x.first.0, &x.second.0).cmp(&(y.reason, &y.first.0, &y.second.0))
        });
        Ok(found)
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
