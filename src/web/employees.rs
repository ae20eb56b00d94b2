use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use actix_web_flash_messages::{FlashMessage, IncomingFlashMessages};
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

use super::error::render_with_status;
use super::{AppState, Flash, WebError, flashes, see_other};
use crate::domain::{EmployeeForm, EmployeeId, EmploymentStatus, Field, FieldErrors, NewEmployee};
use crate::index::Clash;
use crate::registry::{self, CreateError};
use crate::store::{Department, EmployeePage, EmployeeRecord, ListQuery, SortOrder};

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
    flashes: Vec<Flash>,
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

pub async fn list(
    state: web::Data<AppState>,
    params: web::Query<ListParams>,
    incoming: IncomingFlashMessages,
) -> Result<ListPage, WebError> {
    let query = ListQuery::try_from(&params.into_inner())?;
    let result = state.store.list_employees(query.clone()).await?;
    Ok(ListPage {
        flashes: flashes(&incoming),
        query,
        result,
        departments: state.departments.current(),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "employees/form.html")]
pub struct FormPage {
    flashes: Vec<Flash>,
    form: EmployeeForm,
    errors: FieldErrors,
    clash: Option<Clash>,
    departments: Arc<Vec<Department>>,
}

impl FormPage {
    fn new(state: &AppState, form: EmployeeForm, errors: FieldErrors) -> Self {
        Self {
            flashes: Vec::new(),
            form,
            errors,
            clash: None,
            departments: state.departments.current(),
        }
    }

    fn error(&self, name: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(field, _)| field.name() == name)
            .map(|(_, message)| message)
    }

    fn field_errors(&self) -> Vec<(&'static str, &str)> {
        self.errors
            .iter()
            .map(|(field, message)| (field.name(), message))
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
}

pub async fn new_form(state: web::Data<AppState>, incoming: IncomingFlashMessages) -> FormPage {
    FormPage {
        flashes: flashes(&incoming),
        ..FormPage::new(&state, EmployeeForm::default(), FieldErrors::default())
    }
}

pub async fn create(
    state: web::Data<AppState>,
    form: web::Form<EmployeeForm>,
) -> Result<HttpResponse, WebError> {
    let form = form.into_inner();
    let new = match NewEmployee::try_from(&form) {
        Ok(new) => new,
        Err(errors) => {
            let page = FormPage::new(&state, form, errors);
            return render_with_status(&page, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    match registry::create_employee(&state.store, &state.index, new).await {
        Ok(id) => {
            FlashMessage::success(format!("Employee {id} was added.")).send();
            Ok(see_other(&employee_url(&id)))
        }
        Err(CreateError::Duplicate(clash)) => {
            let message = match &clash.holder {
                Some(holder) => format!("Already used by employee {holder}."),
                None => "Being added by another submission right now.".to_owned(),
            };
            let page = FormPage {
                clash: Some(clash.clone()),
                ..FormPage::new(&state, form, FieldErrors::single(clash.field, message))
            };
            render_with_status(&page, StatusCode::CONFLICT)
        }
        Err(CreateError::Invalid(errors)) => {
            let page = FormPage::new(&state, form, errors);
            render_with_status(&page, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(CreateError::Store(error)) => Err(error.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "employees/show.html")]
pub struct ShowPage {
    flashes: Vec<Flash>,
    employee: EmployeeRecord,
    department: String,
}

pub async fn show(
    state: web::Data<AppState>,
    path: web::Path<String>,
    incoming: IncomingFlashMessages,
) -> Result<ShowPage, WebError> {
    let id = EmployeeId::parse(&path.into_inner()).map_err(|_| WebError::NotFound)?;
    let employee = state.store.find_employee(id).await?;
    let department = department_name(&state.departments.current(), employee.department_id);
    Ok(ShowPage {
        flashes: flashes(&incoming),
        employee,
        department,
    })
}
