//! The org chart: the reporting tree, server-rendered as nested lists with `<details>`
//! (no script needed), from the top or from anyone. Deep or wide parts are cut off with
//! a link that opens the chart from there, so that a page stays small at any size.

use std::collections::HashMap;

use actix_web::web;
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

use super::session::Layout;
use super::{AppState, WebError};
use crate::domain::EmployeeId;
use crate::store::{Department, OrgPerson};

/// Levels below the top shown unfolded; deeper ones are folded `<details>`.
const OPEN_DEPTH: usize = 2;
/// Levels rendered at all; someone deeper with reports gets a link instead.
const SHOWN_DEPTH: usize = 5;
/// People on one page at most, however the tree is shaped.
const SHOWN_PEOPLE: usize = 2_000;
/// People at the top (nobody above them) per page.
const ROOTS_PER_PAGE: usize = 100;

#[derive(Debug, Default, Deserialize)]
pub struct OrgParams {
    root: Option<String>,
    page: Option<String>,
}

/// One person of the chart, as the page shows them.
pub struct Card {
    employee_id: EmployeeId,
    name: String,
    job_title: Option<String>,
    department: Option<String>,
    reports: usize,
}

/// The chart as a flat sequence: a person opens an item (and, with reports shown, a
/// nested list), an end closes the latest one still open.
pub enum Line {
    Person {
        card: Card,
        /// Reports follow, nested; `open` unfolds them.
        nested: bool,
        open: bool,
    },
    End {
        nested: bool,
    },
}

#[derive(Template, WebTemplate)]
#[template(path = "org.html")]
pub struct OrgPage {
    layout: Layout,
    /// From the top of the chain down to the person the chart starts at.
    chain: Vec<Card>,
    lines: Vec<Line>,
    staff: usize,
    roots: usize,
    page: usize,
    pages: usize,
    root: Option<EmployeeId>,
    /// Someone had to be left out to keep the page small.
    cut: bool,
}

impl OrgPage {
    fn page_url(&self, page: usize) -> String {
        format!("/org?page={page}")
    }
}

struct Chart<'a> {
    people: &'a [OrgPerson],
    by_id: HashMap<&'a EmployeeId, usize>,
    reports: Vec<Vec<usize>>,
    roots: Vec<usize>,
    departments: HashMap<i64, &'a str>,
}

impl<'a> Chart<'a> {
    /// People whose manager is not on the staff (none, or a leaver) are at the top.
    fn new(people: &'a [OrgPerson], departments: &'a [Department]) -> Self {
        let by_id: HashMap<&EmployeeId, usize> = people
            .iter()
            .enumerate()
            .map(|(index, person)| (&person.employee_id, index))
            .collect();
        let mut reports = vec![Vec::new(); people.len()];
        let mut roots = Vec::new();
        for (index, person) in people.iter().enumerate() {
            match person
                .manager_id
                .as_ref()
                .and_then(|manager| by_id.get(manager))
            {
                Some(&manager) => reports[manager].push(index),
                None => roots.push(index),
            }
        }
        let departments = departments
            .iter()
            .map(|department| (department.id, department.name.as_str()))
            .collect();
        Self {
            people,
            by_id,
            reports,
            roots,
            departments,
        }
    }

    fn card(&self, index: usize) -> Card {
        let person = &self.people[index];
        Card {
            employee_id: person.employee_id.clone(),
            name: person.name.clone(),
            job_title: person.job_title.clone(),
            department: person
                .department_id
                .and_then(|id| self.departments.get(&id))
                .map(|name| (*name).to_owned()),
            reports: self.reports[index].len(),
        }
    }

    /// The managers above `index`, top first (a loop written by another tool ends it).
    fn chain_above(&self, index: usize) -> Vec<Card> {
        let mut chain = Vec::new();
        let mut current = index;
        while let Some(&manager) = self.people[current]
            .manager_id
            .as_ref()
            .and_then(|manager| self.by_id.get(manager))
        {
            if manager == index || chain.len() > self.people.len() {
                break;
            }
            chain.push(self.card(manager));
            current = manager;
        }
        chain.reverse();
        chain
    }

    /// The lines of the subtrees under `tops`, depth first, within the page's limits;
    /// also whether anyone was left out.
    fn lines(&self, tops: &[usize]) -> (Vec<Line>, bool) {
        let mut lines = Vec::new();
        let mut shown = 0;
        let mut cut = false;
        // (person, depth) still to open, or None: close the latest open item.
        let mut stack: Vec<Option<(usize, usize)>> =
            tops.iter().rev().map(|&top| Some((top, 0))).collect();
        let mut nested_open = Vec::new();
        while let Some(next) = stack.pop() {
            let Some((index, depth)) = next else {
                let nested = nested_open.pop().unwrap_or(false);
                lines.push(Line::End { nested });
                continue;
            };
            shown += 1;
            let reports = &self.reports[index];
            let nested = !reports.is_empty() && depth + 1 < SHOWN_DEPTH && shown < SHOWN_PEOPLE;
            if !reports.is_empty() && !nested {
                cut = true;
            }
            lines.push(Line::Person {
                card: self.card(index),
                nested,
                open: depth < OPEN_DEPTH,
            });
            nested_open.push(nested);
            stack.push(None);
            if nested {
                stack.extend(
                    reports
                        .iter()
                        .rev()
                        .map(|&report| Some((report, depth + 1))),
                );
            }
        }
        (lines, cut)
    }
}

pub async fn chart(
    state: web::Data<AppState>,
    params: web::Query<OrgParams>,
    layout: Layout,
) -> Result<OrgPage, WebError> {
    let people = state.store().staff().await?;
    let departments = state.departments.current();
    let chart = Chart::new(&people, &departments);
    let root = match params
        .root
        .as_deref()
        .map(str::trim)
        .filter(|raw| !raw.is_empty())
    {
        Some(raw) => {
            let id = EmployeeId::parse(raw).map_err(|_| WebError::NotFound)?;
            let index = *chart.by_id.get(&id).ok_or(WebError::NotFound)?;
            Some((id, index))
        }
        None => None,
    };
    let pages = chart.roots.len().div_ceil(ROOTS_PER_PAGE).max(1);
    let page = params
        .page
        .as_deref()
        .and_then(|raw| raw.trim().parse::<usize>().ok())
        .unwrap_or(1)
        .clamp(1, pages);
    let (tops, chain) = match &root {
        Some((_, index)) => (vec![*index], chart.chain_above(*index)),
        None => {
            let start = (page - 1) * ROOTS_PER_PAGE;
            let end = (start + ROOTS_PER_PAGE).min(chart.roots.len());
            (chart.roots[start..end].to_vec(), Vec::new())
        }
    };
    let (lines, cut) = chart.lines(&tops);
    Ok(OrgPage {
        layout,
        chain,
        lines,
        staff: people.len(),
        roots: chart.roots.len(),
        page,
        pages,
        root: root.map(|(id, _)| id),
        cut,
    })
}
