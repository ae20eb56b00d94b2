//! The list's word search, on each backend's own index: on PostgreSQL a GIN index of
//! the words as lexemes, asked for every word's prefix at once; on SQLite a table of
//! (word, record) kept by triggers, one prefix range per word. And the filling-in of
//! the words of rows another tool wrote or changed, before anyone searches them.

use diesel::expression::{AppearsOnTable, Expression, ValidGrouping, is_aggregate};
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Bool, Text};
use diesel::{BoxableExpression, QueryResult};

use crate::domain::words_of;
use crate::store::StoreError;
use crate::store::connection::{DbConnection, MultiBackend};
use crate::store::schema::employees;

/// Rows read and filled per transaction.
const FILL_BATCH: i64 = 1_000;

type BoxedCondition = Box<dyn BoxableExpression<employees::table, MultiBackend, SqlType = Bool>>;

/// The condition "every word of the search starts a word of the record".
/// `per_record` asks it of each record in turn, for a scan of a few newest records: a
/// `LIKE` on the record's own words costs a fraction of a microsecond, where an index
/// lookup would first collect every match in the table.
pub(in crate::store) fn matches_words(
    words: &[String],
    sqlite: bool,
    per_record: bool,
) -> BoxedCondition {
    if per_record {
        // The words hold letters and digits only: nothing in them is a LIKE wildcard.
        let mut condition: BoxedCondition = Box::new(diesel::dsl::sql::<Bool>("1 = 1"));
        for word in words {
            let starts_a_word = diesel::dsl::sql::<Bool>("(' ' || employees.search_words) LIKE ")
                .bind::<Text, _>(format!("% {word}%"));
            condition = Box::new(condition.and(starts_a_word));
        }
        return condition;
    }
    if !sqlite {
        // Quoted lexemes: the words hold letters and digits only.
        let query = words
            .iter()
            .map(|word| format!("'{word}':*"))
            .collect::<Vec<_>>()
            .join(" & ");
        return Box::new(
            diesel::dsl::sql::<Bool>(
                "array_to_tsvector(string_to_array(employees.search_words, ' ')) @@ CAST(",
            )
            .bind::<Text, _>(query)
            .sql(" AS tsquery)"),
        );
    }
    Box::new(HasEveryWord(
        words
            .iter()
            // Every word with this start sorts at or after it and before it followed
            // by the last code point (SQLite compares UTF-8 bytes).
            .map(|word| (word.clone(), format!("{word}\u{10FFFF}")))
            .collect(),
    ))
}

/// SQLite's `employees.id IN (…)` of the records having a word in each range: the
/// ranges are intersected in the words' own index before a single record is read, so
/// "ann alb" reads the 154 records both find, not the 3,800 the first finds (4 ms
/// against 11). Its text varies only with the number of words, so that the
/// statement cache keeps one statement per number, not one per search.
struct HasEveryWord(Vec<(String, String)>);

impl Expression for HasEveryWord {
    type SqlType = Bool;
}

impl AppearsOnTable<employees::table> for HasEveryWord {}

impl SelectableExpression<employees::table> for HasEveryWord {}

impl ValidGrouping<()> for HasEveryWord {
    type IsAggregate = is_aggregate::Never;
}

impl QueryId for HasEveryWord {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl QueryFragment<MultiBackend> for HasEveryWord {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        out.push_sql("employees.id IN (");
        for (at, (start, end)) in self.0.iter().enumerate() {
            if at > 0 {
                out.push_sql(" INTERSECT ");
            }
            out.push_sql("SELECT employee FROM employee_words WHERE word >= ");
            out.push_bind_param::<Text, _>(start)?;
            out.push_sql(" AND word < ");
            out.push_bind_param::<Text, _>(end)?;
        }
        out.push_sql(")");
        Ok(())
    }
}

/// A row another tool wrote or changed, still without its words.
#[derive(Queryable, QueryableByName, Selectable)]
#[diesel(table_name = employees)]
struct Unfilled {
    id: i64,
    employee_id: String,
    first_name: String,
    last_name: String,
    email: String,
    job_title: Option<String>,
}

/// SQLite is told which index holds the rows without words: statistics taken while
/// it held every row (before the words were first filled) would have its planner scan
/// the whole table instead, 10 ms on every search at 100,000 records.
const UNFILLED_SQLITE: &str = "SELECT id, employee_id, first_name, last_name, email, job_title \
     FROM employees INDEXED BY employees_unsearchable \
     WHERE search_words IS NULL ORDER BY id LIMIT ";

/// The first rows without words, through the partial index that holds only them.
fn unfilled(conn: &mut DbConnection) -> Result<Vec<Unfilled>, StoreError> {
    if matches!(conn, DbConnection::Sqlite(_)) {
        let query = diesel::sql_query(format!("{UNFILLED_SQLITE}{FILL_BATCH}"));
        return Ok(query.load(conn)?);
    }
    Ok(employees::table
        .filter(employees::search_words.is_null())
        .select(Unfilled::as_select())
        .order(employees::id.asc())
        .limit(FILL_BATCH)
        .load(conn)?)
}

/// Computes the words of rows that lack them; returns how many it filled. The
/// check for such rows is one probe of a partial index, so searches call this first.
pub(in crate::store) fn fill_search_words(conn: &mut DbConnection) -> Result<usize, StoreError> {
    let mut filled = 0;
    loop {
        let page = unfilled(conn)?;
        if page.is_empty() {
            return Ok(filled);
        }
        filled += page.len();
        conn.transaction(|conn| {
            for row in &page {
                let words = words_of(
                    &row.employee_id,
                    &format!("{} {}", row.first_name, row.last_name),
                    row.job_title.as_deref(),
                    &row.email,
                );
                // Only while still unfilled: an edit meanwhile wrote words of its own.
                diesel::update(
                    employees::table
                        .find(row.id)
                        .filter(employees::search_words.is_null()),
                )
                .set(employees::search_words.eq(words))
                .execute(conn)?;
            }
            Ok::<_, StoreError>(())
        })?;
    }
}
