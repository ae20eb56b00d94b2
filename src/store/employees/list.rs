//! The employee list: a page of everyone, or of a search or filter, in one of four
//! orders.

use diesel::prelude::*;

use super::search::{fill_search_words, matches_words};
use super::{EmployeeRecord, StoredRecord, records};
use crate::domain::EmploymentStatus;
use crate::domain::query_words;
use crate::store::StoreError;
use crate::store::connection::{DbConnection, MultiBackend};
use crate::store::schema::employees;

pub const PAGE_SIZE: i64 = 50;

/// The status leavers have: the default list leaves them out.
pub(in crate::store) const TERMINATED: &str = "terminated";

/// The columns a list can be ordered by; `Added` is the order records were stored in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SortColumn {
    #[default]
    Added,
    EmployeeId,
    Name,
    Department,
    HireDate,
    Status,
}

impl SortColumn {
    /// The columns whose header orders the list, in the table's order.
    pub const HEADERS: [SortColumn; 5] = [
        Self::EmployeeId,
        Self::Name,
        Self::Department,
        Self::Status,
        Self::HireDate,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::Added => "added",
            Self::EmployeeId => "employee_id",
            Self::Name => "name",
            Self::Department => "department",
            Self::HireDate => "hire_date",
            Self::Status => "status",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Added => "Added",
            Self::EmployeeId => "Employee ID",
            Self::Name => "Name",
            Self::Department => "Department",
            Self::HireDate => "Hired",
            Self::Status => "Status",
        }
    }
}

/// A column and a direction. In the URL: the column's name for ascending, with a `-`
/// before it for descending; `newest` and `oldest` for the order records were added in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortOrder {
    pub column: SortColumn,
    pub descending: bool,
}

impl Default for SortOrder {
    fn default() -> Self {
        Self {
            column: SortColumn::Added,
            descending: true,
        }
    }
}

impl SortOrder {
    pub fn parse(raw: &str) -> Option<Self> {
        let order = |column, descending| Some(Self { column, descending });
        match raw {
            "newest" => order(SortColumn::Added, true),
            "oldest" => order(SortColumn::Added, false),
            _ => {
                let (name, descending) = match raw.strip_prefix('-') {
                    Some(name) => (name, true),
                    None => (raw, false),
                };
                let column = SortColumn::HEADERS
                    .into_iter()
                    .find(|column| column.name() == name)?;
                order(column, descending)
            }
        }
    }

    pub fn as_str(self) -> String {
        match (self.column, self.descending) {
            (SortColumn::Added, true) => "newest".into(),
            (SortColumn::Added, false) => "oldest".into(),
            (column, true) => format!("-{}", column.name()),
            (column, false) => column.name().into(),
        }
    }

    /// The order a column header's link asks for: this column ascending, or, when the
    /// list is in that order already, the other way round.
    pub fn toggled(self, column: SortColumn) -> Self {
        Self {
            column,
            descending: self.column == column && !self.descending,
        }
    }

    fn by_id(self) -> bool {
        self.column == SortColumn::Added
    }
}

/// How many records a page holds: a choice of three, 50 unless asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageSize(i64);

impl PageSize {
    pub const CHOICES: [i64; 3] = [25, 50, 100];
    pub const LARGEST: Self = Self(100);

    pub fn parse(raw: &str) -> Option<Self> {
        let size = raw.parse().ok()?;
        Self::CHOICES.contains(&size).then_some(Self(size))
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

impl Default for PageSize {
    fn default() -> Self {
        Self(PAGE_SIZE)
    }
}

/// Whose records a list shows: by default the staff (active and on leave), leavers
/// only when asked for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StatusFilter {
    #[default]
    Current,
    Only(EmploymentStatus),
    All,
}

impl StatusFilter {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "" => Some(Self::Current),
            "all" => Some(Self::All),
            other => EmploymentStatus::parse(other).ok().map(Self::Only),
        }
    }

    /// As the list's URL says it; empty for the default.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Current => "",
            Self::Only(status) => status.as_str(),
            Self::All => "all",
        }
    }
}

/// What the employee list asks for: all parts optional, already checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    pub search: Option<String>,
    pub department: Option<i64>,
    pub status: StatusFilter,
    pub sort: SortOrder,
    pub page_size: PageSize,
    /// 1-based; a page past the end shows the last one.
    pub page: i64,
}

#[derive(Debug, Clone)]
pub struct EmployeePage {
    pub employees: Vec<EmployeeRecord>,
    pub page: i64,
    pub page_size: i64,
    /// How many match: known for the default list, and for a filtered one when
    /// counting was cheap and stopped before `COUNT_UP_TO`.
    pub total: Option<i64>,
    /// While the total is not known: there are more than this many.
    pub more_than: i64,
    pub has_next: bool,
}

/// A filtered list counts its matches up to this many, past which it says "more than".
pub const COUNT_UP_TO: i64 = 1_000;

impl EmployeePage {
    pub fn page_count(&self) -> Option<i64> {
        self.total
            .map(|total| ((total + self.page_size - 1) / self.page_size).max(1))
    }
}

/// The records the list's search and filters let through. `per_record`: the search is
/// asked of each record in turn (see `search::matches_words`).
fn filtered(
    list: &ListQuery,
    sqlite: bool,
    per_record: bool,
) -> employees::BoxedQuery<'static, MultiBackend> {
    let mut query = employees::table
        .filter(employees::merged_into.is_null())
        .into_boxed();
    if let Some(search) = &list.search {
        let words = query_words(search);
        if words.is_empty() {
            // A search of signs alone (`-`, `@`) has no word to find.
            query = query.filter(diesel::dsl::sql::<diesel::sql_types::Bool>("1 = 0"));
        } else {
            query = query.filter(matches_words(&words, sqlite, per_record));
        }
    }
    if let Some(department) = list.department {
        query = query.filter(employees::department_id.eq(department));
    }
    query = match list.status {
        StatusFilter::Current => query.filter(employees::status.ne(TERMINATED)),
        StatusFilter::Only(status) => query.filter(employees::status.eq(status.as_str())),
        StatusFilter::All => query,
    };
    query
}

impl ListQuery {
    /// Page 1 of a search of one word, newest first: the newest records likely hold a
    /// page of its matches. A search of several words ("ada lov") looks for someone,
    /// and its few matches are found faster through the words' index than by reading
    /// the newest records first in vain (on SQLite, 580 searches a second against 880).
    pub(in crate::store) fn is_first_page_of_newest_search(&self) -> bool {
        self.sort == SortOrder::default()
            && self.page <= 1
            && self
                .search
                .as_deref()
                .is_some_and(|search| query_words(search).len() == 1)
    }

    /// The default list in id order: served from the page map, without OFFSET or count.
    pub(in crate::store) fn is_plain(&self) -> bool {
        self.search.is_none()
            && self.department.is_none()
            && self.status == StatusFilter::Current
            && self.sort.by_id()
    }
}

/// A page of the default list, newest or oldest first, starting at the id the page map
/// says it starts at: an index range scan, however deep the page. `None` when the map
/// misses records added since it was built (by an outside tool, say): one `max(id)`
/// on the primary key tells.
pub(in crate::store) fn plain_page(
    conn: &mut DbConnection,
    list: &ListQuery,
    ids_newest_first: &[i64],
) -> Result<Option<EmployeePage>, StoreError> {
    let newest: Option<i64> = employees::table
        .filter(employees::merged_into.is_null())
        .filter(employees::status.ne(TERMINATED))
        .select(diesel::dsl::max(employees::id))
        .first(conn)?;
    if newest > ids_newest_first.first().copied() {
        return Ok(None);
    }
    let total = ids_newest_first.len() as i64;
    let size = list.page_size.get();
    let last_page = ((total + size - 1) / size).max(1);
    let page = list.page.clamp(1, last_page);
    let skip = (page - 1) * size;
    let mut employees = Vec::new();
    if skip < total {
        let query = employees::table
            .filter(employees::merged_into.is_null())
            .filter(employees::status.ne(TERMINATED))
            .select(StoredRecord::as_select())
            .limit(size)
            .into_boxed();
        let skip = skip as usize;
        employees = if list.sort.descending {
            if page == 1 {
                // Page 1 has no bound, so records newer than the map still show.
                query.order(employees::id.desc()).load(conn)?
            } else {
                query
                    .filter(employees::id.le(ids_newest_first[skip]))
                    .order(employees::id.desc())
                    .load(conn)?
            }
        } else {
            query
                .filter(employees::id.ge(ids_newest_first[ids_newest_first.len() - 1 - skip]))
                .order(employees::id.asc())
                .load(conn)?
        };
    }
    Ok(Some(EmployeePage {
        has_next: skip + size < total,
        employees: records(employees),
        page,
        page_size: size,
        total: Some(total),
        more_than: total,
    }))
}

/// `query` in the list's order, the internal id last so that equal keys keep one order
/// from page to page.
fn ordered(
    query: employees::BoxedQuery<'static, MultiBackend>,
    sort: SortOrder,
    searching: bool,
) -> employees::BoxedQuery<'static, MultiBackend> {
    // For a search, `id + 0` keeps the planners from walking the id index and
    // filtering row by row: they expect a match every few rows, but matches can sit
    // far from the newest records, and then that walk reads most of the table. The
    // search's indexes find the matches; a top-N sort orders them.
    macro_rules! by {
        ($($key:expr),+) => {
            if sort.descending {
                query.order(($($key.desc()),+, employees::id.desc()))
            } else {
                query.order(($($key.asc()),+, employees::id.asc()))
            }
        };
    }
    match sort.column {
        SortColumn::Added if searching => {
            let order_key = employees::id + 0;
            if sort.descending {
                query.order(order_key.desc())
            } else {
                query.order(order_key.asc())
            }
        }
        SortColumn::Added if sort.descending => query.order(employees::id.desc()),
        SortColumn::Added => query.order(employees::id.asc()),
        // Unique: its own index orders the list, with no tie to break.
        SortColumn::EmployeeId if sort.descending => query.order(employees::employee_id.desc()),
        SortColumn::EmployeeId => query.order(employees::employee_id.asc()),
        SortColumn::Name => by!(employees::last_name, employees::first_name),
        // The department's name key, kept with each record by triggers (records
        // without a department first, under the empty key).
        SortColumn::Department => by!(employees::department_sort),
        SortColumn::HireDate => by!(employees::hire_date),
        SortColumn::Status => by!(employees::status),
    }
}

/// A page of a filtered or otherwise sorted list: one row more than a page tells
/// whether another follows; past the end, the last page. The matches are counted only
/// when there is a next page, and then only up to `COUNT_UP_TO`: for these views
/// (a rare search, a filter, another order) that reads at most as many index entries.
pub(in crate::store) fn filtered_page(
    conn: &mut DbConnection,
    list: &ListQuery,
) -> Result<EmployeePage, StoreError> {
    let size = list.page_size.get();
    let page = list.page.max(1);
    if page * size <= COUNT_UP_TO {
        return counted_page(conn, list, page);
    }
    let (mut employees, has_next) = window(conn, list, page)?;
    let seen = (page - 1) * size + employees.len() as i64;
    if !has_next && !employees.is_empty() {
        return Ok(EmployeePage {
            employees,
            page,
            page_size: size,
            total: Some(seen),
            more_than: seen,
            has_next,
        });
    }
    let total = count_up_to(conn, list)?;
    let last_page = total.map_or(page, |total| ((total + size - 1) / size).max(1));
    if employees.is_empty() && page > last_page {
        employees = window(conn, list, last_page)?.0;
        return Ok(EmployeePage {
            employees,
            page: last_page,
            page_size: size,
            total,
            more_than: COUNT_UP_TO,
            has_next: false,
        });
    }
    Ok(EmployeePage {
        employees,
        page,
        page_size: size,
        total,
        more_than: COUNT_UP_TO.max(seen),
        has_next,
    })
}

/// A page within the first `COUNT_UP_TO` matches: one query takes the ids of up to
/// that many in order (the order and the count at once), then the page's rows are read
/// by id; past the end, the last page.
fn counted_page(
    conn: &mut DbConnection,
    list: &ListQuery,
    page: i64,
) -> Result<EmployeePage, StoreError> {
    let sqlite = matches!(conn, DbConnection::Sqlite(_));
    let size = list.page_size.get();
    let ids: Vec<i64> = ordered(
        filtered(list, sqlite, false),
        list.sort,
        list.search.is_some(),
    )
    .select(employees::id)
    .limit(COUNT_UP_TO + 1)
    .load(conn)?;
    let found = ids.len() as i64;
    let total = (found <= COUNT_UP_TO).then_some(found);
    let last_page = ((found.min(COUNT_UP_TO) + size - 1) / size).max(1);
    let page = page.min(last_page);
    let start = ((page - 1) * size) as usize;
    let page_ids = &ids[start.min(ids.len())..(start + size as usize).min(ids.len())];
    let mut rows: Vec<StoredRecord> = employees::table
        .filter(employees::id.eq_any(page_ids))
        .select(StoredRecord::as_select())
        .load(conn)?;
    rows.sort_by_key(|row| page_ids.iter().position(|id| *id == row.id));
    Ok(EmployeePage {
        employees: records(rows),
        page,
        page_size: size,
        total,
        more_than: COUNT_UP_TO,
        has_next: (page * size) < found,
    })
}

/// The records of one page, and whether another follows.
fn window(
    conn: &mut DbConnection,
    list: &ListQuery,
    page: i64,
) -> Result<(Vec<EmployeeRecord>, bool), StoreError> {
    let sqlite = matches!(conn, DbConnection::Sqlite(_));
    let size = list.page_size.get();
    let window = ordered(
        filtered(list, sqlite, false),
        list.sort,
        list.search.is_some(),
    )
    .limit(size + 1)
    .offset((page - 1) * size);
    let mut employees: Vec<StoredRecord> = if sqlite && list.search.is_some() && list.sort.by_id() {
        // SQLite sorts what it selects: ids straight from the words' index sort in
        // a fraction of the time whole rows take (1.1 against 8.4 ms for 3,800
        // matches); then the page's rows are read by id.
        let ids: Vec<i64> = window.select(employees::id).load(conn)?;
        let mut rows: Vec<StoredRecord> = employees::table
            .filter(employees::id.eq_any(&ids))
            .select(StoredRecord::as_select())
            .load(conn)?;
        rows.sort_by_key(|row| ids.iter().position(|id| *id == row.id));
        rows
    } else {
        window.select(StoredRecord::as_select()).load(conn)?
    };
    let has_next = employees.len() as i64 > size;
    employees.truncate(size as usize);
    Ok((records(employees), has_next))
}

/// How many match, when it is at most `COUNT_UP_TO`: the count stops there.
fn count_up_to(conn: &mut DbConnection, list: &ListQuery) -> Result<Option<i64>, StoreError> {
    let sqlite = matches!(conn, DbConnection::Sqlite(_));
    let ids: Vec<i64> = filtered(list, sqlite, false)
        .select(employees::id)
        .limit(COUNT_UP_TO + 1)
        .load(conn)?;
    let found = ids.len() as i64;
    Ok((found <= COUNT_UP_TO).then_some(found))
}

/// A page of a search. The words of rows another tool wrote come first; then page 1
/// of a newest-first search is looked for among the newest records (see
/// `search_newest_window`), and any other page, or a search whose matches are rare,
/// through the words' index.
pub(in crate::store) fn search_page(
    conn: &mut DbConnection,
    list: &ListQuery,
    window: (usize, Option<i64>),
) -> Result<EmployeePage, StoreError> {
    fill_search_words(conn)?;
    if list.is_first_page_of_newest_search()
        && let Some(page) = search_newest_window(conn, list, window)?
    {
        return Ok(page);
    }
    filtered_page(conn, list)
}

/// Page 1 of a newest-first search, looked for among the newest `window.0` records
/// only (an index range scan, cheap when matches are common), from the id `window.1`
/// when the caller knows where that window starts; `None` when there are fewer records
/// than that, or that window holds fewer than a page of matches, and the search must
/// go through the words' index.
fn search_newest_window(
    conn: &mut DbConnection,
    list: &ListQuery,
    (window, known_floor): (usize, Option<i64>),
) -> Result<Option<EmployeePage>, StoreError> {
    let floor = match known_floor {
        Some(floor) => Some(floor),
        None => employees::table
            .select(employees::id)
            .order(employees::id.desc())
            .offset(window as i64)
            .first(conn)
            .optional()?,
    };
    let Some(floor) = floor else {
        return Ok(None);
    };
    let sqlite = matches!(conn, DbConnection::Sqlite(_));
    let size = list.page_size.get();
    let mut employees: Vec<StoredRecord> = filtered(list, sqlite, true)
        .filter(employees::id.ge(floor))
        .order(employees::id.desc())
        .limit(size + 1)
        .select(StoredRecord::as_select())
        .load(conn)?;
    if (employees.len() as i64) <= size {
        return Ok(None);
    }
    employees.truncate(size as usize);
    // Matches are common here: counting them would cost more than finding the page.
    Ok(Some(EmployeePage {
        employees: records(employees),
        page: 1,
        page_size: size,
        total: None,
        more_than: size,
        has_next: true,
    }))
}
