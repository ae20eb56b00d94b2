//! The list's word search, on each backend's own index: on PostgreSQL a GIN index of
//! the words as lexemes, asked for every word's prefix at once; on SQLite a table of
//! (word, record) kept by triggers, one prefix range per word. And the filling-in of
//! the words of rows another tool wrote or changed, before anyone searches them.

use diesel::BoxableExpression;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};

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
    let mut condition: BoxedCondition = Box::new(diesel::dsl::sql::<Bool>("1 = 1"));
    for word in words {
        // Every word with this start sorts at or after it and before it followed by
        // the last code point (SQLite compares UTF-8 bytes).
        let this_word = diesel::dsl::sql::<Bool>(
            "employees.id IN (SELECT employee FROM employee_words WHERE word >= ",
        )
        .bind::<Text, _>(word.clone())
        .sql(" AND word < ")
        .bind::<Text, _>(format!("{word}\u{10FFFF}"))
        .sql(")");
        condition = Box::new(condition.and(this_word));
    }
    condition
}

/// Computes the words of rows that lack them; returns how many it filled. The
/// check for such rows is one probe of a partial index, so searches call this first.
pub(in crate::store) fn fill_search_words(conn: &mut DbConnection) -> Result<usize, StoreError> {
    type Unfilled = (i64, String, String, String, String, Option<String>);
    let mut filled = 0;
    loop {
        let page: Vec<Unfilled> = employees::table
            .filter(employees::search_words.is_null())
            .select((
                employees::id,
                employees::employee_id,
                employees::first_name,
                employees::last_name,
                employees::email,
                employees::job_title,
            ))
            .order(employees::id.asc())
            .limit(FILL_BATCH)
            .load(conn)?;
        if page.is_empty() {
            return Ok(filled);
        }
        filled += page.len();
        conn.transaction(|conn| {
            for (id, employee_id, first, last, email, title) in &page {
                let words = words_of(
                    employee_id,
                    &format!("{first} {last}"),
                    title.as_deref(),
                    email,
                );
                // Only while still unfilled: an edit meanwhile wrote words of its own.
                diesel::update(
                    employees::table
                        .find(id)
                        .filter(employees::search_words.is_null()),
                )
                .set(employees::search_words.eq(words))
                .execute(conn)?;
            }
            Ok::<_, StoreError>(())
        })?;
    }
}
