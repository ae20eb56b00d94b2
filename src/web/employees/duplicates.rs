//! Likely duplicates already stored: the page that lists them, "not the same person",
//! and merging two records into one.

use actix_web::{HttpResponse, web};
use actix_web_flash_messages::FlashMessage;
use askama::Template;
use serde::Deserialize;

use super::{department_name, employee_url, parse_version, path_id};
use crate::domain::EmployeeId;
use crate::registry::{PossibleDuplicates, WriteError};
use crate::store::{EmployeeRecord, StoreError};
use crate::web::error::{Refusal, render, render_refused};
use crate::web::session::Editor;
use crate::web::{AppState, Layout, WebError, see_other};

/// Pairs shown at once; the strongest come first.
const PAIRS_SHOWN: usize = 500;

#[derive(Template)]
#[template(path = "employees/duplicates.html")]
pub struct DuplicatesPage {
    layout: Layout,
    found: PossibleDuplicates,
}

impl DuplicatesPage {
    fn shown(&self) -> &[crate::registry::PossiblePair] {
        &self.found.pairs[..self.found.pairs.len().min(PAIRS_SHOWN)]
    }
}

pub async fn duplicates(
    state: web::Data<AppState>,
    _: Editor,
    layout: Layout,
) -> Result<HttpResponse, WebError> {
    let found = state.registry.possible_duplicates().await?;
    render(&DuplicatesPage { layout, found })
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct PairForm {
    employee_id: String,
    other: String,
}

fn pair_ids(form: &PairForm) -> Result<(EmployeeId, EmployeeId), WebError> {
    let parse = |raw: &str| {
        EmployeeId::parse(raw)
            .map_err(|_| WebError::BadRequest("The form names no pair of records.".into()))
    };
    Ok((parse(&form.employee_id)?, parse(&form.other)?))
}

/// "Not the same person": the pair is remembered and not shown again.
pub async fn not_the_same_person(
    state: web::Data<AppState>,
    Editor(user): Editor,
    form: web::Form<PairForm>,
) -> Result<HttpResponse, WebError> {
    let (first, second) = pair_ids(&form)?;
    if first == second {
        return Err(WebError::BadRequest(
            "A record is always the same person as itself.".into(),
        ));
    }
    let message = format!("{first} and {second} are kept as different people.");
    state
        .store()
        .confirm_distinct(first, second, user.username)
        .await
        .map_err(|error| match error {
            StoreError::Violation { .. } => WebError::NotFound,
            other => other.into(),
        })?;
    FlashMessage::success(message).send();
    Ok(see_other("/duplicates"))
}

#[derive(Template)]
#[template(path = "employees/merge.html")]
pub struct MergePage {
    layout: Layout,
    survivor: EmployeeRecord,
    other: EmployeeRecord,
    survivor_department: String,
    other_department: String,
    problem: Option<&'static str>,
}

impl MergePage {
    fn sides(&self) -> [(&'static str, &EmployeeRecord, &str); 2] {
        [
            ("Stays", &self.survivor, &self.survivor_department),
            ("Merged in", &self.other, &self.other_department),
        ]
    }
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct MergeQuery {
    other: String,
}

async fn merge_page(
    state: &AppState,
    layout: Layout,
    survivor: EmployeeId,
    other: EmployeeId,
    problem: Option<&'static str>,
) -> Result<MergePage, WebError> {
    if survivor == other {
        return Err(WebError::BadRequest(
            "A record cannot be merged into itself.".into(),
        ));
    }
    let survivor = state.store().find_employee(survivor).await?;
    let other = state.store().find_employee(other).await?;
    let departments = state.departments.current();
    Ok(MergePage {
        layout,
        survivor_department: department_name(&departments, survivor.department_id),
        other_department: department_name(&departments, other.department_id),
        survivor,
        other,
        problem,
    })
}

/// The two records side by side, before the merge is confirmed.
pub async fn confirm_merge(
    state: web::Data<AppState>,
    _: Editor,
    layout: Layout,
    path: web::Path<String>,
    query: web::Query<MergeQuery>,
) -> Result<HttpResponse, WebError> {
    let survivor = path_id(path)?;
    let other = EmployeeId::parse(&query.other).map_err(|_| WebError::NotFound)?;
    render(&merge_page(&state, layout, survivor, other, None).await?)
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct MergeForm {
    other: String,
    version: String,
    other_version: String,
}

pub async fn merge(
    state: web::Data<AppState>,
    Editor(user): Editor,
    layout: Layout,
    path: web::Path<String>,
    form: web::Form<MergeForm>,
) -> Result<HttpResponse, WebError> {
    let survivor = path_id(path)?;
    let other = EmployeeId::parse(&form.other)
        .map_err(|_| WebError::BadRequest("The form names no record to merge.".into()))?;
    let versions = (
        parse_version(&form.version)?,
        parse_version(&form.other_version)?,
    );
    let merged = state
        .registry
        .merge(
            (survivor.clone(), versions.0),
            (other.clone(), versions.1),
            &user,
        )
        .await;
    match merged {
        Ok(id) => {
            FlashMessage::success(format!(
                "{other} was merged into {id}. Its ID and e-mail now lead here."
            ))
            .send();
            Ok(see_other(&employee_url(&id)))
        }
        Err(WriteError::Store(StoreError::StaleVersion)) => {
            let problem = "One of the records was changed since you opened this page. Nothing was merged; review them below, then confirm again.";
            let page = merge_page(&state, layout, survivor, other, Some(problem)).await?;
            render_refused(&page, Refusal::Conflict)
        }
        Err(error) => Err(error.into()),
    }
}
