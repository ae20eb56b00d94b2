use actix_web::web;
use askama::Template;
use askama_web::WebTemplate;

use super::{department_name, path_id};
use crate::domain::EmployeeId;
use crate::store::{AuditEvent, EmployeeRecord};
use crate::web::{AppState, Layout, WebError};

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
