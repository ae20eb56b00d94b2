//! Leavers: the terminate form, and reactivating the same record when someone returns.

use actix_web::{HttpResponse, web};
use actix_web_flash_messages::FlashMessage;
use askama::Template;
use serde::Deserialize;

use super::{employee_url, parse_version, path_id};
use crate::domain::{EmployeeId, Termination, TerminationProblem};
use crate::store::{EmployeeRecord, StoreError};
use crate::web::error::{Refusal, render, render_refused};
use crate::web::session::Editor;
use crate::web::{AppState, Layout, WebError, see_other};

#[derive(Template)]
#[template(path = "employees/terminate.html")]
pub struct TerminatePage {
    layout: Layout,
    employee: EmployeeRecord,
    form: TerminateForm,
    date_error: Option<String>,
    reason_error: Option<String>,
    /// Why the termination was refused as a whole (a stale version).
    problem: Option<&'static str>,
    /// Current staff who still report to the employee: they need another manager first.
    reports: Vec<(EmployeeId, String)>,
}

impl TerminatePage {
    fn date_hint(&self) -> String {
        format!(
            "For example 2026-12-31: on or after the hire date, {}",
            self.employee.hire_date
        )
    }

    fn has_problems(&self) -> bool {
        self.date_error.is_some()
            || self.reason_error.is_some()
            || self.problem.is_some()
            || !self.reports.is_empty()
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TerminateForm {
    termination_date: String,
    termination_reason: String,
    version: String,
}

fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

pub async fn terminate_form(
    state: web::Data<AppState>,
    _: Editor,
    layout: Layout,
    path: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let employee = state.store().find_employee(path_id(path)?).await?;
    if employee.has_left() {
        return Ok(see_other(&employee_url(&employee.employee_id)));
    }
    let form = TerminateForm {
        termination_date: today().to_string(),
        version: employee.version.to_string(),
        ..TerminateForm::default()
    };
    render(&TerminatePage {
        layout,
        employee,
        form,
        date_error: None,
        reason_error: None,
        problem: None,
        reports: Vec::new(),
    })
}

pub async fn terminate(
    state: web::Data<AppState>,
    Editor(user): Editor,
    layout: Layout,
    path: web::Path<String>,
    form: web::Form<TerminateForm>,
) -> Result<HttpResponse, WebError> {
    let id = path_id(path)?;
    let form = form.into_inner();
    let version = parse_version(&form.version)?;
    let employee = state.store().find_employee(id.clone()).await?;
    let mut page = TerminatePage {
        layout,
        employee,
        form,
        date_error: None,
        reason_error: None,
        problem: None,
        reports: Vec::new(),
    };
    let parsed = Termination::parse(
        &page.form.termination_date,
        &page.form.termination_reason,
        page.employee.hire_date,
        today(),
    );
    let termination = match parsed {
        Ok(termination) => termination,
        Err(TerminationProblem::Date(message)) => {
            page.date_error = Some(message);
            return render_refused(&page, Refusal::Invalid);
        }
        Err(TerminationProblem::Reason(message)) => {
            page.reason_error = Some(message);
            return render_refused(&page, Refusal::Invalid);
        }
    };
    let date = termination.date;
    let terminated = state
        .store()
        .terminate_employee((id.clone(), version), termination, user.username.clone())
        .await;
    match terminated {
        Ok(()) => {
            FlashMessage::success(format!(
                "{} ({id}) is recorded as having left on {date}. The record stays, and its \
                 employee ID and e-mail stay reserved.",
                page.employee.full_name()
            ))
            .send();
            Ok(see_other(&employee_url(&id)))
        }
        Err(StoreError::StillManages(reports)) => {
            page.reports = reports;
            render_refused(&page, Refusal::Conflict)
        }
        Err(StoreError::StaleVersion | StoreError::AlreadyIs(_)) => {
            page.problem = Some(
                "The record was changed since you opened this page. Review it below, then confirm again.",
            );
            page.form.version = page.employee.version.to_string();
            render_refused(&page, Refusal::Conflict)
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Deserialize)]
pub struct ReactivateForm {
    #[serde(default)]
    version: String,
}

pub async fn reactivate(
    state: web::Data<AppState>,
    Editor(user): Editor,
    path: web::Path<String>,
    form: web::Form<ReactivateForm>,
) -> Result<HttpResponse, WebError> {
    let id = path_id(path)?;
    let version = parse_version(&form.version)?;
    state
        .store()
        .reactivate_employee((id.clone(), version), user.username.clone())
        .await?;
    FlashMessage::success(format!(
        "{id} is active again: the same record, with its history."
    ))
    .send();
    Ok(see_other(&employee_url(&id)))
}
