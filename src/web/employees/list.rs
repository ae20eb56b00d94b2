use std::sync::Arc;

use actix_web::web;
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

use super::department_name;
use crate::domain::EmploymentStatus;
use crate::store::{Department, EmployeePage, EmployeeRecord, ListQuery, SortOrder};
use crate::web::{AppState, Layout, WebError};

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
