use std::sync::Arc;

use actix_web::web;
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

use super::department_name;
use crate::domain::EmploymentStatus;
use crate::store::{
    Department, EmployeePage, EmployeeRecord, ListQuery, PageSize, SortColumn, SortOrder,
    StatusFilter,
};
use crate::web::{AppState, Layout, MANY_DEPARTMENTS, WebError};

/// The list's query string as sent; every part optional.
#[derive(Debug, Default, Deserialize)]
pub struct ListParams {
    q: Option<String>,
    department: Option<String>,
    status: Option<String>,
    sort: Option<String>,
    per_page: Option<String>,
    page: Option<String>,
}

fn present(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// The view a URL asks for. A part that makes no sense (a hand-edited or old link)
/// falls back to its default, with a notice saying so, instead of refusing the page.
fn read_params(params: &ListParams) -> (ListQuery, Vec<String>) {
    let mut notices = Vec::new();
    let mut understood = |raw: Option<&str>, parse: &dyn Fn(&str) -> bool, notice: &str| {
        let raw = raw?;
        if parse(raw) {
            Some(raw.to_owned())
        } else {
            notices.push(notice.to_owned());
            None
        }
    };
    let department = understood(
        present(&params.department),
        &|raw| raw.parse::<i64>().is_ok(),
        "The department in the link is not one Roster knows; showing every department.",
    )
    .and_then(|raw| raw.parse().ok());
    let status = understood(
        present(&params.status),
        &|raw| StatusFilter::parse(raw).is_some(),
        "The status in the link is not one Roster knows; showing current staff.",
    )
    .and_then(|raw| StatusFilter::parse(&raw))
    .unwrap_or_default();
    let sort = understood(
        present(&params.sort),
        &|raw| SortOrder::parse(raw).is_some(),
        "The order in the link is not one Roster knows; showing the newest first.",
    )
    .and_then(|raw| SortOrder::parse(&raw))
    .unwrap_or_default();
    let page_size = understood(
        present(&params.per_page),
        &|raw| PageSize::parse(raw).is_some(),
        "A page shows 25, 50 or 100 employees; showing 50.",
    )
    .and_then(|raw| PageSize::parse(&raw))
    .unwrap_or_default();
    let page = understood(
        present(&params.page),
        &|raw| raw.parse::<i64>().is_ok_and(|page| page >= 1),
        "The page in the link is not a page number; showing the first page.",
    )
    .and_then(|raw| raw.parse().ok())
    .unwrap_or(1);
    let search = understood(
        present(&params.q),
        &|raw| !raw.chars().any(char::is_control),
        "The search held control characters; showing everyone instead.",
    )
    .map(|q| q.chars().take(100).collect());
    let query = ListQuery {
        search,
        department,
        status,
        sort,
        page_size,
        page,
    };
    (query, notices)
}

#[derive(Template, WebTemplate)]
#[template(path = "employees/list.html")]
pub struct ListPage {
    layout: Layout,
    query: ListQuery,
    result: EmployeePage,
    /// What in the URL was not understood, and what is shown instead.
    notices: Vec<String>,
    departments: Arc<Vec<Department>>,
}

impl ListPage {
    fn search(&self) -> &str {
        self.query.search.as_deref().unwrap_or_default()
    }

    fn is_department(&self, department: &Department) -> bool {
        self.query.department == Some(department.id)
    }

    fn many_departments(&self) -> bool {
        self.departments.len() > MANY_DEPARTMENTS
    }

    /// The department the list is filtered by, when it is one Roster knows.
    fn filtered_department(&self) -> Option<&Department> {
        let id = self.query.department?;
        self.departments
            .iter()
            .find(|department| department.id == id)
    }

    /// The same view without the department filter.
    fn without_department_url(&self) -> String {
        let mut query = self.query.clone();
        query.department = None;
        query.page = 1;
        view_url(&query)
    }

    /// The status filter's choices: value and label.
    fn statuses(&self) -> Vec<(&'static str, &'static str)> {
        let mut choices = vec![("", "Current staff")];
        choices.extend(
            EmploymentStatus::ALL
                .into_iter()
                .map(|status| (status.as_str(), status.label())),
        );
        choices.push(("all", "Everyone, leavers too"));
        choices
    }

    fn is_status(&self, value: &&str) -> bool {
        self.query.status.as_str() == *value
    }

    fn page_sizes(&self) -> [i64; 3] {
        PageSize::CHOICES
    }

    fn is_page_size(&self, size: &i64) -> bool {
        self.query.page_size.get() == *size
    }

    fn headers(&self) -> [SortColumn; 5] {
        SortColumn::HEADERS
    }

    /// How a column header says the list is ordered by it, for `aria-sort`.
    fn aria_sort(&self, column: &SortColumn) -> &'static str {
        match (
            self.query.sort.column == *column,
            self.query.sort.descending,
        ) {
            (false, _) => "none",
            (true, false) => "ascending",
            (true, true) => "descending",
        }
    }

    fn sort_url(&self, column: &SortColumn) -> String {
        let mut query = self.query.clone();
        query.sort = query.sort.toggled(*column);
        query.page = 1;
        view_url(&query)
    }

    fn is_filtered(&self) -> bool {
        self.query.search.is_some()
            || self.query.department.is_some()
            || self.query.status != StatusFilter::Current
    }

    /// The link to another page of the same view.
    fn page_url(&self, page: i64) -> String {
        let mut query = self.query.clone();
        query.page = page;
        view_url(&query)
    }

    fn department_name(&self, employee: &EmployeeRecord) -> String {
        department_name(&self.departments, employee.department_id)
    }

    fn is_sorted_by_added(&self) -> bool {
        self.query.sort.column == SortColumn::Added
    }
}

/// The whole view in a URL (search, filters, order, page size and page), defaults
/// left out, so that a link or bookmark shows the same list again.
fn view_url(query: &ListQuery) -> String {
    let department = query.department.map(|id| id.to_string());
    let sort = query.sort.as_str();
    let per_page = query.page_size.get().to_string();
    let page = query.page.to_string();
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    if let Some(search) = &query.search {
        pairs.push(("q", search));
    }
    if let Some(department) = &department {
        pairs.push(("department", department));
    }
    if query.status != StatusFilter::Current {
        pairs.push(("status", query.status.as_str()));
    }
    if query.sort != SortOrder::default() {
        pairs.push(("sort", &sort));
    }
    if query.page_size != PageSize::default() {
        pairs.push(("per_page", &per_page));
    }
    if query.page != 1 {
        pairs.push(("page", &page));
    }
    let encoded = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    if encoded.is_empty() {
        "/employees".into()
    } else {
        format!("/employees?{encoded}")
    }
}

pub async fn list(
    state: web::Data<AppState>,
    params: web::Query<ListParams>,
    layout: Layout,
) -> Result<ListPage, WebError> {
    let (query, notices) = read_params(&params.into_inner());
    let result = state.store().list_employees(query.clone()).await?;
    Ok(ListPage {
        layout,
        query,
        result,
        notices,
        departments: state.departments.current(),
    })
}
