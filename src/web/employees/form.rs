use std::sync::Arc;

use actix_web::{HttpResponse, web};
use actix_web_flash_messages::FlashMessage;
use askama::Template;
use serde::Deserialize;
use serde::de::value::MapDeserializer;

use super::{employee_url, parse_version, path_id};
use crate::domain::{
    Employee, EmployeeForm, EmployeeId, EmploymentStatus, Field, FieldErrors, department_key,
};
use crate::index::Clash;
use crate::registry::{
    ARCHIVED_DEPARTMENT, LikelyMatch, ManagerCandidate, ManagerLookup, OtherProblems, Registry,
    WriteError,
};
use crate::store::{Department, StoreError};
use crate::web::error::{Refusal, render, render_refused};
use crate::web::receipts::Submission;
use crate::web::session::Editor;
use crate::web::{AppState, Layout, MANY_DEPARTMENTS, WebError, see_other};

/// Where a form is sent: a new record, or an existing one at the version it was read.
enum FormTarget {
    Create,
    Edit {
        employee_id: EmployeeId,
        version: i32,
    },
}

#[derive(Template)]
#[template(path = "employees/form.html")]
pub struct FormPage {
    layout: Layout,
    target: FormTarget,
    form: EmployeeForm,
    /// Every problem, taken values and an unknown manager included, by field.
    errors: FieldErrors,
    clashes: Vec<Clash>,
    /// Stored records that look like the same person, not yet confirmed as others.
    likely: Vec<LikelyMatch>,
    /// What the person ticked as "a different person", to keep it ticked.
    confirmed: Vec<EmployeeId>,
    /// Identifies this rendering of a create form (see `receipts`).
    form_id: String,
    stale: bool,
    departments: Arc<Vec<Department>>,
    /// The employees a manager typed by name may mean, offered to choose from.
    manager_candidates: Vec<ManagerCandidate>,
}

impl FormPage {
    fn new(state: &AppState, layout: Layout, target: FormTarget, form: EmployeeForm) -> Self {
        Self {
            layout,
            target,
            form,
            errors: FieldErrors::default(),
            clashes: Vec::new(),
            likely: Vec::new(),
            confirmed: Vec::new(),
            form_id: uuid::Uuid::new_v4().simple().to_string(),
            stale: false,
            departments: state.departments.current(),
            manager_candidates: Vec::new(),
        }
    }

    fn title(&self) -> String {
        match &self.target {
            FormTarget::Create => "Add employee".into(),
            FormTarget::Edit { employee_id, .. } => format!("Edit {employee_id}"),
        }
    }

    fn action(&self) -> String {
        match &self.target {
            FormTarget::Create => "/employees".into(),
            FormTarget::Edit { employee_id, .. } => employee_url(employee_id),
        }
    }

    fn version(&self) -> Option<i32> {
        match &self.target {
            FormTarget::Create => None,
            FormTarget::Edit { version, .. } => Some(*version),
        }
    }

    fn cancel_url(&self) -> String {
        match &self.target {
            FormTarget::Create => "/employees".into(),
            FormTarget::Edit { employee_id, .. } => employee_url(employee_id),
        }
    }

    fn has_problems(&self) -> bool {
        !self.errors.is_empty() || self.stale || !self.likely.is_empty()
    }

    fn is_confirmed(&self, candidate: &LikelyMatch) -> bool {
        self.confirmed.contains(&candidate.employee_id)
    }

    fn error(&self, name: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(field, _)| field.name() == name)
            .map(|(_, message)| message)
    }

    /// Name, label, message and (for a taken value) its holder of each problem, in the
    /// form's order, for the summary.
    fn problems(&self) -> Vec<(&'static str, &'static str, &str, Option<&EmployeeId>)> {
        self.errors
            .iter()
            .map(|(field, message)| (field.name(), field.label(), message, self.holder(field)))
            .collect()
    }

    fn holder(&self, field: Field) -> Option<&EmployeeId> {
        self.clashes
            .iter()
            .find(|clash| clash.field == field)
            .and_then(|clash| clash.holder.as_ref())
    }

    /// The one taken value, when that is all that is wrong: the summary says so plainly.
    fn only_clash(&self) -> Option<&Clash> {
        match self.clashes.as_slice() {
            [clash] if self.errors.iter().count() == 1 => Some(clash),
            _ => None,
        }
    }

    /// A status is set here only while the person is on the staff: leaving and
    /// returning have their own actions, which keep the date.
    fn statuses(&self) -> Vec<EmploymentStatus> {
        if self.is_status(&EmploymentStatus::Terminated) {
            vec![EmploymentStatus::Terminated]
        } else {
            vec![EmploymentStatus::Active, EmploymentStatus::OnLeave]
        }
    }

    fn is_status(&self, status: &EmploymentStatus) -> bool {
        EmploymentStatus::parse(&self.form.status).ok() == Some(*status)
    }

    fn is_department(&self, department: &Department) -> bool {
        self.form.department_id.trim() == department.id.to_string()
    }

    fn many_departments(&self) -> bool {
        self.departments.len() > MANY_DEPARTMENTS
    }

    /// The department as the text field shows it: its name, or what was typed.
    fn department_text(&self) -> String {
        let typed = self.form.department_id.trim();
        typed
            .parse::<i64>()
            .ok()
            .and_then(|id| self.departments.iter().find(|d| d.id == id))
            .map_or_else(|| typed.to_owned(), |department| department.name.clone())
    }

    /// A department typed by name (the text field beyond `MANY_DEPARTMENTS`) becomes
    /// its id, ignoring case and spaces as names are unique; anything else is left for
    /// the form's own check to name.
    fn resolve_department(&mut self) {
        let typed = self.form.department_id.trim();
        if typed.is_empty() || typed.parse::<i64>().is_ok() {
            return;
        }
        let key = department_key(typed);
        if let Some(department) = self
            .departments
            .iter()
            .find(|department| department_key(&department.name) == key)
        {
            self.form.department_id = department.id.to_string();
        }
    }

    /// A manager typed by name becomes the employee's ID when one current employee
    /// has that name; the problem with it otherwise, for beside the field. An ID that
    /// names no one and no name is left as typed, for the write to refuse.
    async fn resolve_manager(&mut self, registry: &Registry) -> Result<Option<String>, WebError> {
        let typed = self.form.manager_id.trim().to_owned();
        if typed.is_empty() {
            return Ok(None);
        }
        Ok(match registry.find_manager(&typed).await? {
            ManagerLookup::Found(id) => {
                self.form.manager_id = id.to_string();
                None
            }
            ManagerLookup::NoOne if EmployeeId::parse(&typed).is_ok() => None,
            ManagerLookup::NoOne => Some(format!(
                "No current employee is called “{typed}”: enter their name as on their \
                 record, or their employee ID."
            )),
            ManagerLookup::Several(candidates) => {
                let named: Vec<String> = candidates
                    .iter()
                    .map(|candidate| format!("{} ({})", candidate.name, candidate.employee_id))
                    .collect();
                self.manager_candidates = candidates;
                Some(format!(
                    "“{typed}” could be {}: enter the employee ID of the one you mean.",
                    named.join(", ")
                ))
            }
        })
    }

    /// The form's own problems and the manager's, together.
    fn parsed(&self, manager_problem: Option<String>) -> Result<Employee, FieldErrors> {
        let parsed = Employee::try_from(&self.form);
        let Some(problem) = manager_problem else {
            return parsed;
        };
        let mut errors = FieldErrors::single(Field::ManagerId, problem);
        if let Err(others) = parsed {
            for (field, message) in others.iter() {
                errors.add(field, message);
            }
        }
        Err(errors)
    }

    fn clash_label(&self) -> &'static str {
        match self.only_clash().map(|clash| clash.field) {
            Some(Field::Email) => "e-mail address",
            _ => "employee ID",
        }
    }

    fn add_clashes(&mut self, clashes: Vec<Clash>) {
        for clash in clashes {
            let message = match &clash.holder {
                Some(holder) => format!("It belongs to employee {holder}."),
                None => "Another submission is adding a record with it right now.".to_owned(),
            };
            self.errors.add(clash.field, message);
            self.clashes.push(clash);
        }
    }

    /// The answer to a rejected write: the form again, as typed, with everything that
    /// is wrong with it, not only what refused it. `owner` is the record being edited.
    async fn rejected(
        mut self,
        registry: &Registry,
        owner: Option<&EmployeeId>,
        error: WriteError,
    ) -> Result<HttpResponse, WebError> {
        let Some(refusal) = Refusal::of_write(&error) else {
            return Err(error.into());
        };
        let others = registry
            .other_problems(&self.form, owner, &error)
            .await
            .unwrap_or_else(|failure| {
                log::warn!(
                    "the other problems of a refused form could not be looked up: {failure}"
                );
                OtherProblems::default()
            });
        match error {
            WriteError::Duplicate(clashes) => self.add_clashes(clashes),
            WriteError::Invalid(errors) => self.errors = errors,
            WriteError::Likely(matches) => self.likely = matches,
            WriteError::MissingReference(field) => self.errors.add(field, missing_reference(field)),
            WriteError::Store(StoreError::StaleVersion | StoreError::MergedInto(_)) => {
                self.stale = true;
            }
            other => return Err(other.into()),
        }
        self.add_clashes(others.clashes);
        if others.unknown_manager {
            self.errors
                .add(Field::ManagerId, missing_reference(Field::ManagerId));
        }
        render_refused(&self, refusal)
    }
}

fn missing_reference(field: Field) -> &'static str {
    match field {
        Field::ManagerId => "No employee has this ID.",
        _ => "This department does not exist (any more).",
    }
}

pub async fn new_form(
    state: web::Data<AppState>,
    _: Editor,
    layout: Layout,
) -> Result<HttpResponse, WebError> {
    let page = FormPage::new(&state, layout, FormTarget::Create, EmployeeForm::default());
    render(&page)
}

/// An employee form as posted: its fields, and what comes beside them. Read from the
/// pairs themselves, because `confirm_distinct` may come once per ticked box as well
/// as comma-separated.
struct Posted {
    fields: EmployeeForm,
    version: String,
    form_id: String,
    confirmed: Vec<EmployeeId>,
}

impl Posted {
    fn read(pairs: Vec<(String, String)>) -> Result<Self, WebError> {
        let (mut version, mut form_id, mut confirmed) = (String::new(), String::new(), Vec::new());
        let mut fields = Vec::with_capacity(pairs.len());
        for (name, value) in pairs {
            match name.as_str() {
                "version" => version = value,
                "form_id" => form_id = value,
                "confirm_distinct" => {
                    confirmed.extend(value.split(',').filter_map(|id| EmployeeId::parse(id).ok()))
                }
                _ => fields.push((name, value)),
            }
        }
        let fields = EmployeeForm::deserialize(MapDeserializer::<_, serde::de::value::Error>::new(
            fields.into_iter(),
        ))
        .map_err(|error| WebError::BadRequest(format!("The form could not be read: {error}.")))?;
        Ok(Self {
            fields,
            version,
            form_id,
            confirmed,
        })
    }
}

pub async fn create(
    state: web::Data<AppState>,
    Editor(user): Editor,
    layout: Layout,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    let Posted {
        fields: form,
        form_id,
        confirmed,
        ..
    } = Posted::read(form.into_inner())?;
    let first = match state.receipts.submit(&user.username, &form_id).await {
        Submission::Repeat(id) => return Ok(see_other(&employee_url(&id))),
        Submission::First(first) => first,
    };
    let mut page = FormPage::new(&state, layout, FormTarget::Create, form);
    page.confirmed.clone_from(&confirmed);
    page.resolve_department();
    let manager_problem = page.resolve_manager(&state.registry).await?;
    let new = match page.parsed(manager_problem) {
        Ok(new) => new,
        Err(errors) => {
            return page
                .rejected(&state.registry, None, WriteError::Invalid(errors))
                .await;
        }
    };
    if is_archived(&page.departments, new.department_id) {
        let mut errors = FieldErrors::default();
        errors.add(Field::DepartmentId, ARCHIVED_DEPARTMENT);
        return page
            .rejected(&state.registry, None, WriteError::Invalid(errors))
            .await;
    }
    match state.registry.create(new, confirmed, &user).await {
        Ok(id) => {
            first.created(&id);
            FlashMessage::success(format!("Employee {id} was added.")).send();
            Ok(see_other(&employee_url(&id)))
        }
        Err(error) => page.rejected(&state.registry, None, error).await,
    }
}

/// A new record cannot join an archived department; the departments in memory tell,
/// with no query. (An edit is checked by the store, against the record's own
/// department.)
fn is_archived(departments: &[Department], id: Option<i64>) -> bool {
    id.and_then(|id| departments.iter().find(|department| department.id == id))
        .is_some_and(Department::is_archived)
}

pub async fn edit_form(
    state: web::Data<AppState>,
    _: Editor,
    layout: Layout,
    path: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let record = state.store().find_employee(path_id(path)?).await?;
    let target = FormTarget::Edit {
        employee_id: record.employee_id.clone(),
        version: record.version,
    };
    let page = FormPage::new(&state, layout, target, EmployeeForm::from(&record.employee));
    render(&page)
}

pub async fn update(
    state: web::Data<AppState>,
    Editor(user): Editor,
    layout: Layout,
    path: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    let current = path_id(path)?;
    let Posted {
        fields,
        version,
        confirmed,
        ..
    } = Posted::read(form.into_inner())?;
    let version = parse_version(&version)?;
    let target = FormTarget::Edit {
        employee_id: current.clone(),
        version,
    };
    let mut page = FormPage::new(&state, layout, target, fields);
    page.confirmed.clone_from(&confirmed);
    page.resolve_department();
    let manager_problem = page.resolve_manager(&state.registry).await?;
    let owner = current.clone();
    let new = match page.parsed(manager_problem) {
        Ok(new) => new,
        Err(errors) => {
            return page
                .rejected(&state.registry, Some(&owner), WriteError::Invalid(errors))
                .await;
        }
    };
    match state
        .registry
        .update((current, version), new, confirmed, &user)
        .await
    {
        Ok(id) => {
            // A save that changed nothing leaves the version as the form read it.
            let unchanged = state
                .store()
                .find_employee(id.clone())
                .await
                .is_ok_and(|record| record.version == version);
            if unchanged {
                FlashMessage::info(format!("Nothing changed: {id} is as it was.")).send();
            } else {
                FlashMessage::success(format!("Employee {id} was saved.")).send();
            }
            Ok(see_other(&employee_url(&id)))
        }
        Err(error) => page.rejected(&state.registry, Some(&owner), error).await,
    }
}
