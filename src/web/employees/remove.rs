use actix_web::{HttpResponse, web};
use actix_web_flash_messages::FlashMessage;
use askama::Template;
use serde::Deserialize;

use super::{parse_version, path_id};
use crate::registry::WriteError;
use crate::store::{EmployeeRecord, StoreError};
use crate::web::error::{Refusal, render, render_refused};
use crate::web::session::Admin;
use crate::web::{AppState, Layout, WebError, see_other};

#[derive(Template)]
#[template(path = "employees/delete.html")]
pub struct DeletePage {
    layout: Layout,
    employee: EmployeeRecord,
    problem: Option<&'static str>,
}

pub async fn confirm_delete(
    state: web::Data<AppState>,
    _: Admin,
    layout: Layout,
    path: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let employee = state.store().find_employee(path_id(path)?).await?;
    let page = DeletePage {
        layout,
        employee,
        problem: None,
    };
    render(&page)
}

#[derive(Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    version: String,
}

pub async fn delete(
    state: web::Data<AppState>,
    Admin(user): Admin,
    layout: Layout,
    path: web::Path<String>,
    form: web::Form<DeleteForm>,
) -> Result<HttpResponse, WebError> {
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
        Err(other) => return Err(other.into()),
    };
    let employee = state.store().find_employee(id).await?;
    let page = DeletePage {
        layout,
        employee,
        problem: Some(problem),
    };
    render_refused(&page, Refusal::Conflict)
}
