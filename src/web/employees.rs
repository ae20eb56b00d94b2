use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use actix_web_flash_messages::FlashMessage;
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

use super::error::render_with_status;
use super::session::Layout;
use super::{AppState, WebError, see_other};
use crate::auth::CurrentUser;
use crate::domain::{EmployeeForm, EmployeeId, EmploymentStatus, Field, FieldErrors, NewEmployee};
use crate::index::Clash;
use crate::registry::WriteError;
use crate::store::{
    AuditEvent, Department, EmployeePage, EmployeeRecord, ListQuery, SortOrder, StoreError,
};

fn employee_url(id: &EmployeeId) -> String {
    format!("/employees/{id}")
}

/// The list's query string as sent; every part optional.
#[derive(Debug, Default, Deserialize)]
pub struct ListParams {
    q: Option<String>,
    department: Option<String>,
    status: Option<String>,
    sort: Option<String>,
    page: Option<String>,
}

fn present(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl TryFrom<&ListParams> for ListQuery {
    type Error = WebError;

    fn try_from(params: &ListParams) -> Result<Self, WebError> {
        let bad = |message: &str| WebError::BadRequest(message.to_owned());
        let department = present(&params.department)
            .map(|raw| {
                raw.parse::<i64>()
                    .map_err(|_| bad("The department filter must be a department's number."))
            })
            .transpose()?;
        let status = present(&params.status)
            .map(|raw| {
                EmploymentStatus::parse(raw)
                    .map_err(|_| bad("The status filter must be active, on_leave or terminated."))
            })
            .transpose()?;
        let sort = present(&params.sort)
            .map(|raw| {
                SortOrder::parse(raw).ok_or_else(|| {
                    bad("The sort order must be newest, oldest, name or employee_id.")
                })
            })
            .transpose()?
            .unwrap_or_default();
        let page = present(&params.page)
            .map(|raw| match raw.parse::<i64>() {
                Ok(page) if (1..=1_000_000).contains(&page) => Ok(page),
                _ => Err(bad("The page must be a whole number from 1.")),
            })
            .transpose()?
            .unwrap_or(1);
        let search = present(&params.q)
            .map(|q| {
                if q.chars().any(char::is_control) {
                    Err(bad("The search cannot hold control characters."))
                } else {
                    Ok(q.chars().take(100).collect())
                }
            })
            .transpose()?;
        Ok(ListQuery {
            search,
            department,
            status,
            sort,
            page,
        })
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "employees/list.html")]
pub struct ListPage {
    layout: Layout,
    query: ListQuery,
    result: EmployeePage,
    departments: Arc<Vec<Department>>,
}

impl ListPage {
    fn search(&self) -> &str {
        self.query.search.as_deref().unwrap_or_default()
    }

    fn is_department(&self, department: &Department) -> bool {
        self.query.department == Some(department.id)
    }

    fn is_status(&self, status: &EmploymentStatus) -> bool {
        self.query.status == Some(*status)
    }

    fn is_sort(&self, sort: &SortOrder) -> bool {
        self.query.sort == *sort
    }

    fn statuses(&self) -> [EmploymentStatus; 3] {
        EmploymentStatus::ALL
    }

    fn sorts(&self) -> [SortOrder; 4] {
        SortOrder::ALL
    }

    fn is_filtered(&self) -> bool {
        self.query.search.is_some()
            || self.query.department.is_some()
            || self.query.status.is_some()
    }

    /// The link to another page of the same list, keeping search, filters and order.
    fn page_url(&self, page: i64) -> String {
        let department = self.query.department.map(|id| id.to_string());
        let page = page.to_string();
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        if let Some(search) = &self.query.search {
            pairs.push(("q", search));
        }
        if let Some(department) = &department {
            pairs.push(("department", department));
        }
        if let Some(status) = self.query.status {
            pairs.push(("status", status.as_str()));
        }
        if self.query.sort != SortOrder::default() {
            pairs.push(("sort", self.query.sort.as_str()));
        }
        pairs.push(("page", &page));
        let encoded = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        format!("/employees?{encoded}")
    }

    fn department_name(&self, employee: &EmployeeRecord) -> String {
        department_name(&self.departments, employee.department_id)
    }
}

fn department_name(departments: &[Department], id: Option<i64>) -> String {
    id.and_then(|id| departments.iter().find(|d| d.id == id))
        .map(|d| d.name.clone())
        .unwrap_or_default()
}

pub(super) fn require_editor(user: &CurrentUser) -> Result<(), WebError> {
    if user.role.can_edit_employees() {
        Ok(())
    } else {
        Err(WebError::Forbidden(
            "Your account can read records but not change them.",
        ))
    }
}

fn require_admin(user: &CurrentUser) -> Result<(), WebError> {
    if user.role.is_admin() {
        Ok(())
    } else {
        Err(WebError::Forbidden(
            "Only an administrator can remove records.",
        ))
    }
}

/// A path segment that is no valid ID names no employee.
fn path_id(path: web::Path<String>) -> Result<EmployeeId, WebError> {
    EmployeeId::parse(&path.into_inner()).map_err(|_| WebError::NotFound)
}

pub async fn list(
    state: web::Data<AppState>,
    params: web::Query<ListParams>,
    layout: Layout,
) -> Result<ListPage, WebError> {
    let query = ListQuery::try_from(&params.into_inner())?;
    let result = state.store().list_employees(query.clone()).await?;
    Ok(ListPage {
        layout,
        query,
        result,
        departments: state.departments.current(),
    })
}

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
    errors: FieldErrors,
    clash: Option<Clash>,
    stale: bool,
    departments: Arc<Vec<Department>>,
}

impl FormPage {
    fn new(state: &AppState, layout: Layout, target: FormTarget, form: EmployeeForm) -> Self {
        Self {
            layout,
            target,
            form,
            errors: FieldErrors::default(),
            clash: None,
            stale: false,
            departments: state.departments.current(),
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
        !self.errors.is_empty() || self.stale
    }

    fn error(&self, name: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(field, _)| field.name() == name)
            .map(|(_, message)| message)
    }

    /// Name, label and message of each invalid field, for the summary.
    fn field_errors(&self) -> Vec<(&'static str, &'static str, &str)> {
        self.errors
            .iter()
            .map(|(field, message)| (field.name(), field.label(), message))
            .collect()
    }

    fn statuses(&self) -> [EmploymentStatus; 3] {
        EmploymentStatus::ALL
    }

    fn is_status(&self, status: &EmploymentStatus) -> bool {
        EmploymentStatus::parse(&self.form.status).ok() == Some(*status)
    }

    fn is_department(&self, department: &Department) -> bool {
        self.form.department_id.trim() == department.id.to_string()
    }

    fn clash_label(&self) -> &'static str {
        match self.clash.as_ref().map(|clash| clash.field) {
            Some(Field::Email) => "e-mail address",
            _ => "employee ID",
        }
    }

    /// The answer to a rejected write: the form again, as typed, with what went wrong.
    fn rejected(mut self, error: WriteError) -> Result<HttpResponse, WebError> {
        let status = match error {
            WriteError::Duplicate(clash) => {
                let message = match &clash.holder {
                    Some(holder) => format!("Already used by employee {holder}."),
                    None => "Being added by another submission right now.".to_owned(),
                };
                self.errors = FieldErrors::single(clash.field, message);
                self.clash = Some(clash);
                StatusCode::CONFLICT
            }
            WriteError::Invalid(errors) => {
                self.errors = errors;
                StatusCode::UNPROCESSABLE_ENTITY
            }
            WriteError::Store(StoreError::StaleVersion) => {
                self.stale = true;
                StatusCode::CONFLICT
            }
            WriteError::Store(error) => return Err(error.into()),
        };
        render_with_status(&self, status)
    }
}

pub async fn new_form(
    state: web::Data<AppState>,
    user: CurrentUser,
    layout: Layout,
) -> Result<HttpResponse, WebError> {
    require_editor(&user)?;
    let page = FormPage::new(&state, layout, FormTarget::Create, EmployeeForm::default());
    render_with_status(&page, StatusCode::OK)
}

pub async fn create(
    state: web::Data<AppState>,
    user: CurrentUser,
    layout: Layout,
    form: web::Form<EmployeeForm>,
) -> Result<HttpResponse, WebError> {
    require_editor(&user)?;
    let form = form.into_inner();
    let page = |form| FormPage::new(&state, layout, FormTarget::Create, form);
    let new = match NewEmployee::try_from(&form) {
        Ok(new) => new,
        Err(errors) => return page(form).rejected(WriteError::Invalid(errors)),
    };
    match state.registry.create(new, &user).await {
        Ok(id) => {
            FlashMessage::success(format!("Employee {id} was added.")).send();
            Ok(see_other(&employee_url(&id)))
        }
        Err(error) => page(form).rejected(error),
    }
}

fn form_of(record: &EmployeeRecord) -> EmployeeForm {
    EmployeeForm {
        employee_id: record.employee_id.clone(),
        first_name: record.first_name.clone(),
        last_name: record.last_name.clone(),
        email: record.email.clone(),
        hire_date: record.hire_date.to_string(),
        phone: record.phone.clone().unwrap_or_default(),
        date_of_birth: record
            .date_of_birth
            .map(|d| d.to_string())
            .unwrap_or_default(),
        department_id: record
            .department_id
            .map(|d| d.to_string())
            .unwrap_or_default(),
        job_title: record.job_title.clone().unwrap_or_default(),
        manager_id: record.manager_id.clone().unwrap_or_default(),
        status: record.status.clone(),
    }
}

pub async fn edit_form(
    state: web::Data<AppState>,
    user: CurrentUser,
    layout: Layout,
    path: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    require_editor(&user)?;
    let record = state.store().find_employee(path_id(path)?).await?;
    let target = FormTarget::Edit {
        employee_id: EmployeeId::parse(&record.employee_id).map_err(|_| WebError::NotFound)?,
        version: record.version,
    };
    let page = FormPage::new(&state, layout, target, form_of(&record));
    render_with_status(&page, StatusCode::OK)
}

/// An edit form: the record's fields plus the version it was read at.
#[derive(Deserialize)]
pub struct EditForm {
    #[serde(flatten)]
    fields: EmployeeForm,
    #[serde(default)]
    version: String,
}

fn parse_version(raw: &str) -> Result<i32, WebError> {
    raw.trim().parse().map_err(|_| {
        WebError::BadRequest(
            "The form lacks the record's version; open the edit page again.".into(),
        )
    })
}

pub async fn update(
    state: web::Data<AppState>,
    user: CurrentUser,
    layout: Layout,
    path: web::Path<String>,
    form: web::Form<EditForm>,
) -> Result<HttpResponse, WebError> {
    require_editor(&user)?;
    let current = path_id(path)?;
    let EditForm { fields, version } = form.into_inner();
    let version = parse_version(&version)?;
    let target = FormTarget::Edit {
        employee_id: current.clone(),
        version,
    };
    let page = |fields| FormPage::new(&state, layout, target, fields);
    let new = match NewEmployee::try_from(&fields) {
        Ok(new) => new,
        Err(errors) => return page(fields).rejected(WriteError::Invalid(errors)),
    };
    match state.registry.update(current, version, new, &user).await {
        Ok(id) => {
            FlashMessage::success(format!("Employee {id} was saved.")).send();
            Ok(see_other(&employee_url(&id)))
        }
        Err(WriteError::Store(StoreError::NotFound)) => Err(WebError::NotFound),
        Err(error) => page(fields).rejected(error),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "employees/show.html")]
pub struct ShowPage {
    layout: Layout,
    employee: EmployeeRecord,
    department: String,
}

pub async fn show(
    state: web::Data<AppState>,
    path: web::Path<String>,
    layout: Layout,
) -> Result<ShowPage, WebError> {
    let employee = state.store().find_employee(path_id(path)?).await?;
    let department = department_name(&state.departments.current(), employee.department_id);
    Ok(ShowPage {
        layout,
        employee,
        department,
    })
}

#[derive(Template)]
#[template(path = "employees/delete.html")]
pub struct DeletePage {
    layout: Layout,
    employee: EmployeeRecord,
    problem: Option<&'static str>,
}

pub async fn confirm_delete(
    state: web::Data<AppState>,
    user: CurrentUser,
    layout: Layout,
    path: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    require_admin(&user)?;
    let employee = state.store().find_employee(path_id(path)?).await?;
    let page = DeletePage {
        layout,
        employee,
        problem: None,
    };
    render_with_status(&page, StatusCode::OK)
}

#[derive(Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    version: String,
}

pub async fn delete(
    state: web::Data<AppState>,
    user: CurrentUser,
    layout: Layout,
    path: web::Path<String>,
    form: web::Form<DeleteForm>,
) -> Result<HttpResponse, WebError> {
    require_admin(&user)?;
    let id = path_id(path)?;
    let version = parse_version(&form.version)?;
    let problem = match state.registry.delete(id.clone(), version, &user).await {
        Ok(()) => {
            FlashMessage::success(format!(
                "Employee {id} was removed. The history keeps what it held."
            ))
            .send();
            return Ok(see_other("/employees"));
        }
        Err(WriteError::Store(StoreError::StaleVersion)) => {
            "The record was changed since you opened this page. Review it below, then confirm again."
        }
        Err(WriteError::Store(StoreError::StillManaging)) => {
            "This employee is the manager of others. Give them another manager first."
        }
        Err(WriteError::Store(error)) => return Err(error.into()),
        Err(other) => return Err(WebError::Internal(other.into())),
    };
    let employee = state.store().find_employee(id).await?;
    let page = DeletePage {
        layout,
        employee,
        problem: Some(problem),
    };
    render_with_status(&page, StatusCode::CONFLICT)
}

#[derive(Template, WebTemplate)]
#[template(path = "employees/history.html")]
pub struct HistoryPage {
    layout: Layout,
    employee_id: EmployeeId,
    events: Vec<AuditEvent>,
}

pub async fn history(
    state: web::Data<AppState>,
    path: web::Path<String>,
    layout: Layout,
) -> Result<HistoryPage, WebError> {
    let employee_id = path_id(path)?;
    let events = state.store().employee_history(employee_id.clone()).await?;
    if events.is_empty() {
        state.store().find_employee(employee_id.clone()).await?;
    }
    Ok(HistoryPage {
        layout,
        employee_id,
        events,
    })
}
