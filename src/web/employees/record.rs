use actix_web::web;
use askama::Template;
use askama_web::WebTemplate;

use super::{department_name, path_id};
use crate::domain::EmployeeId;
use std::sync::Arc;

use crate::domain::{EmploymentStatus, Field};
use crate::store::{AuditEvent, Department, EmployeeRecord, FieldChange, StoreError, utc_minute};
use crate::web::{AppState, Layout, WebError};

#[derive(Template, WebTemplate)]
#[template(path = "employees/show.html")]
pub struct ShowPage {
    layout: Layout,
    employee: EmployeeRecord,
    department: String,
    /// The manager's name, when the manager's record can be read.
    manager_name: Option<String>,
    /// Current staff reporting to this employee, up to `REPORTS_SHOWN`.
    reports: Vec<(EmployeeId, String)>,
}

impl ShowPage {
    fn added(&self) -> String {
        utc_minute(self.employee.created_at)
    }

    fn changed(&self) -> String {
        utc_minute(self.employee.updated_at)
    }

    fn more_reports(&self) -> bool {
        self.reports.len() as i64 >= REPORTS_SHOWN
    }
}

/// Direct reports listed on a record's page; the org chart shows them all.
const REPORTS_SHOWN: i64 = 100;

pub async fn show(
    state: web::Data<AppState>,
    path: web::Path<String>,
    layout: Layout,
) -> Result<ShowPage, WebError> {
    let store = state.store();
    let employee = store.find_employee(path_id(path)?).await?;
    let department = department_name(&state.departments.current(), employee.department_id);
    let manager_name = match &employee.manager_id {
        Some(manager) => match store.find_employee(manager.clone()).await {
            Ok(manager) => Some(manager.full_name()),
            Err(StoreError::NotFound | StoreError::MergedInto(_)) => None,
            Err(other) => return Err(other.into()),
        },
        None => None,
    };
    let reports = store
        .direct_reports(employee.employee_id.clone(), REPORTS_SHOWN)
        .await?;
    Ok(ShowPage {
        layout,
        employee,
        department,
        manager_name,
        reports,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "employees/history.html")]
pub struct HistoryPage {
    layout: Layout,
    employee_id: EmployeeId,
    events: Vec<AuditEvent>,
    departments: Arc<Vec<Department>>,
}

/// The history in the words of the form: fields by their labels, values as the form
/// shows them (a status as "On leave", a department by its name).
impl HistoryPage {
    fn action(&self, event: &AuditEvent) -> &'static str {
        match event.action.as_str() {
            "create" => "Added",
            "delete" => "Removed",
            _ => "Changed",
        }
    }

    fn field_label(&self, change: &FieldChange) -> String {
        if let Some(field) = Field::ALL
            .into_iter()
            .find(|field| field.name() == change.field)
        {
            return field.label().to_owned();
        }
        match change.field.as_str() {
            "termination_date" => "Last day".into(),
            "termination_reason" => "Reason for leaving".into(),
            other => {
                let mut label = other.to_owned();
                if let Some(first) = label.get_mut(0..1) {
                    first.make_ascii_uppercase();
                }
                label
            }
        }
    }

    fn value(&self, change: &FieldChange, value: &str) -> String {
        match change.field.as_str() {
            "status" => EmploymentStatus::parse(value)
                .map_or_else(|_| value.to_owned(), |status| status.label().to_owned()),
            "department_id" => value
                .parse::<i64>()
                .ok()
                .and_then(|id| {
                    self.departments
                        .iter()
                        .find(|department| department.id == id)
                })
                .map_or_else(|| value.to_owned(), |department| department.name.clone()),
            _ => value.to_owned(),
        }
    }
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
        departments: state.departments.current(),
    })
}
