//! Departments: everyone reads the list with head counts; admins add, rename, archive
//! and set a head. A name taken ignoring case and spaces answers `409` beside the field.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use actix_web_flash_messages::FlashMessage;
use askama::Template;
use serde::Deserialize;

use super::error::{Refusal, render, render_refused};
use super::session::{Admin, Layout};
use super::{AppState, WebError, see_other};
use crate::domain::{DepartmentName, EmployeeId};
use crate::store::{Department, DepartmentChange, StoreError};

#[derive(Template)]
#[template(path = "departments/list.html")]
struct DepartmentsPage {
    layout: Layout,
    departments: Vec<Department>,
    head_counts: HashMap<i64, i64>,
    /// What was typed in the add form (the macro's own parameter is called `name`).
    typed_name: String,
    name_error: Option<String>,
}

impl DepartmentsPage {
    fn head_count(&self, department: &Department) -> i64 {
        self.head_counts.get(&department.id).copied().unwrap_or(0)
    }
}

async fn departments_page(
    state: &AppState,
    layout: Layout,
    name: String,
    name_error: Option<String>,
) -> Result<DepartmentsPage, WebError> {
    let store = state.store();
    Ok(DepartmentsPage {
        layout,
        departments: store.departments().await?,
        head_counts: store.department_head_counts().await?,
        typed_name: name,
        name_error,
    })
}

pub async fn list(state: web::Data<AppState>, layout: Layout) -> Result<HttpResponse, WebError> {
    render(&departments_page(&state, layout, String::new(), None).await?)
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct NameForm {
    name: String,
}

/// What a refused name means for its field, or `None` when it is no fault of the name.
fn name_refusal(error: &StoreError) -> Option<String> {
    match error {
        StoreError::DepartmentTaken(holder) => Some(format!(
            "There is a department called “{holder}” already (names ignore case and spaces)."
        )),
        _ => None,
    }
}

pub async fn add(
    state: web::Data<AppState>,
    Admin(user): Admin,
    layout: Layout,
    form: web::Form<NameForm>,
) -> Result<HttpResponse, WebError> {
    let typed = form.into_inner().name;
    let name = match DepartmentName::parse(&typed) {
        Ok(name) => name,
        Err(message) => {
            let page = departments_page(&state, layout, typed, Some(message)).await?;
            return render_refused(&page, Refusal::Invalid);
        }
    };
    match state
        .store()
        .add_department(name.clone(), user.username)
        .await
    {
        Ok(_) => {
            state.departments.refresh(state.store()).await?;
            FlashMessage::success(format!("Department “{name}” was added.")).send();
            Ok(see_other("/departments"))
        }
        Err(error) => match name_refusal(&error) {
            Some(message) => {
                let page = departments_page(&state, layout, typed, Some(message)).await?;
                render_refused(&page, Refusal::Conflict)
            }
            None => Err(error.into()),
        },
    }
}

#[derive(Template)]
#[template(path = "departments/edit.html")]
struct EditPage {
    layout: Layout,
    department: Department,
    typed_name: String,
    head_id: String,
    name_error: Option<String>,
    head_error: Option<String>,
}

impl EditPage {
    fn has_problems(&self) -> bool {
        self.name_error.is_some() || self.head_error.is_some()
    }
}

fn department_of(state: &AppState, id: i64) -> Result<Department, WebError> {
    state
        .departments
        .current()
        .iter()
        .find(|department| department.id == id)
        .cloned()
        .ok_or(WebError::NotFound)
}

pub async fn edit_form(
    state: web::Data<AppState>,
    _: Admin,
    layout: Layout,
    path: web::Path<i64>,
) -> Result<HttpResponse, WebError> {
    let department = department_of(&state, path.into_inner())?;
    render(&EditPage {
        layout,
        typed_name: department.name.clone(),
        head_id: department.head_id.clone().unwrap_or_default(),
        department,
        name_error: None,
        head_error: None,
    })
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct EditForm {
    name: String,
    head_id: String,
}

/// Renames the department and sets its head, each only if it changed.
pub async fn update(
    state: web::Data<AppState>,
    Admin(user): Admin,
    layout: Layout,
    path: web::Path<i64>,
    form: web::Form<EditForm>,
) -> Result<HttpResponse, WebError> {
    let department = department_of(&state, path.into_inner())?;
    let EditForm { name, head_id } = form.into_inner();
    let mut page = EditPage {
        layout,
        department,
        typed_name: name,
        head_id,
        name_error: None,
        head_error: None,
    };
    let parsed_name =
        DepartmentName::parse(&page.typed_name).map_err(|message| page.name_error = Some(message));
    let head = match page.head_id.trim() {
        "" => Ok(None),
        raw => EmployeeId::parse(raw)
            .map(Some)
            .map_err(|message| page.head_error = Some(message)),
    };
    let (Ok(name), Ok(head)) = (parsed_name, head) else {
        return render_refused(&page, Refusal::Invalid);
    };
    let id = page.department.id;
    let store = state.store();
    let changes = vec![DepartmentChange::Rename(name), DepartmentChange::Head(head)];
    if let Err(error) = store
        .change_department(id, changes, user.username.clone())
        .await
    {
        let refusal = match &error {
            StoreError::NotOnStaff(head) => {
                page.head_error = Some(format!(
                    "{head} is not on the staff: enter the employee ID of a current employee."
                ));
                Refusal::Invalid
            }
            other => match name_refusal(other) {
                Some(message) => {
                    page.name_error = Some(message);
                    Refusal::Conflict
                }
                None => return Err(error.into()),
            },
        };
        return render_refused(&page, refusal);
    }
    state.departments.refresh(store).await?;
    FlashMessage::success(format!(
        "Department “{}” was saved.",
        page.typed_name.trim()
    ))
    .send();
    Ok(see_other("/departments"))
}

#[derive(Deserialize)]
pub struct ArchiveForm {
    #[serde(default)]
    archived: String,
}

pub async fn archive(
    state: web::Data<AppState>,
    Admin(user): Admin,
    path: web::Path<i64>,
    form: web::Form<ArchiveForm>,
) -> Result<HttpResponse, WebError> {
    let department = department_of(&state, path.into_inner())?;
    let archive = match form.archived.as_str() {
        "true" => true,
        "false" => false,
        _ => {
            return Err(WebError::BadRequest(
                "The form must say whether to archive (true) or reopen (false).".into(),
            ));
        }
    };
    let store = state.store();
    store
        .change_department(
            department.id,
            vec![DepartmentChange::Archive(archive)],
            user.username,
        )
        .await?;
    state.departments.refresh(store).await?;
    let done = if archive {
        "archived: it takes no new members and keeps its history"
    } else {
        "open again"
    };
    FlashMessage::success(format!("Department “{}” is {done}.", department.name)).send();
    Ok(see_other("/departments"))
}
