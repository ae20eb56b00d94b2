//! What the employee list's search compares: words folded the one way (accents
//! dropped, lower case) on both sides, so that `ada lov` finds Ada Lovelace and
//! `principal cartog` a Principal Cartographer. A record's words are kept beside it by
//! the store; a search matches when every word of it starts one of them.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use super::Employee;

/// Words of a search looked at, at most: more narrow nothing down in practice.
const QUERY_WORDS: usize = 8;

fn folded(text: &str) -> impl Iterator<Item = char> + '_ {
    text.nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
}

/// A value compared from its start only (an employee ID, an e-mail), without the
/// signs between its parts: `E-1001` is `e1001`, so `e-10` and `E10` both find it.
fn joined(text: &str) -> String {
    folded(text).filter(|c| c.is_alphanumeric()).collect()
}

/// The words of free text (a name, a job title): each word whole without its signs
/// (`O'Brien` is `obrien`), and, where signs split it, each part (`brien`).
fn text_words(text: &str, words: &mut Vec<String>) {
    for token in text.split_whitespace() {
        let whole = joined(token);
        if whole.is_empty() {
            continue;
        }
        let folded: String = folded(token).collect();
        let parts: Vec<&str> = folded
            .split(|c: char| !c.is_alphanumeric())
            .filter(|part| !part.is_empty())
            .collect();
        if parts.len() > 1 {
            words.extend(parts.into_iter().map(str::to_owned));
        }
        words.push(whole);
    }
}

/// A record's words, space-separated, each once: what the store keeps and indexes.
pub fn search_words(employee: &Employee) -> String {
    words_of(
        employee.employee_id.as_str(),
        &employee.full_name(),
        employee.job_title.as_deref(),
        employee.email.as_str(),
    )
}

/// The same from a stored row's columns (for rows another tool wrote).
pub fn words_of(
    employee_id: &str,
    full_name: &str,
    job_title: Option<&str>,
    email: &str,
) -> String {
    let mut words = vec![joined(employee_id), joined(email)];
    text_words(full_name, &mut words);
    if let Some(title) = job_title {
        text_words(title, &mut words);
    }
    words.retain(|word| !word.is_empty());
    words.sort();
    words.dedup();
    words.join(" ")
}

/// A name's words, folded and without their signs, in order.
fn name_words(name: &str) -> Vec<String> {
    name.split_whitespace()
        .map(joined)
        .filter(|word| !word.is_empty())
        .collect()
}

/// Whether every word typed starts a word of `full_name` (`ada lov`, `Lovelace`):
/// how a manager typed by name is recognised among a search's matches, which may
/// have matched a job title or an ID instead.
pub fn name_matches(typed: &str, full_name: &str) -> bool {
    let mut words = Vec::new();
    text_words(full_name, &mut words);
    let typed = name_words(typed);
    !typed.is_empty()
        && typed
            .iter()
            .all(|part| words.iter().any(|word| word.starts_with(part.as_str())))
}

/// Whether `typed` is the whole name, word for word, ignoring case and accents: of
/// Ada Lovelace and Ada Lovelace-Byron, `ada lovelace` means the first.
pub fn is_whole_name(typed: &str, full_name: &str) -> bool {
    name_words(typed) == name_words(full_name)
}

/// The words of a search, folded as a record's are; empty when it has none.
pub fn query_words(search: &str) -> Vec<String> {
    let mut words: Vec<String> = search
        .split_whitespace()
        .map(joined)
        .filter(|word| !word.is_empty())
        .collect();
    words.dedup();
    words.truncate(QUERY_WORDS);
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_recognised_by_the_start_of_its_words_or_whole() {
        assert!(name_matches("ada lov", "Ada Lovelace"));
        assert!(name_matches("LOVELACE", "Ada Lovelace"));
        assert!(name_matches("bri", "Seán O'Brien"));
        assert!(!name_matches("ada x", "Ada Lovelace"));
        assert!(!name_matches("-", "Ada Lovelace"));
        assert!(is_whole_name("ada  LOVELACE", "Ada Lovelace"));
        assert!(is_whole_name("Zoe", "Zoë"));
        assert!(!is_whole_name("ada lovelace", "Ada Lovelace-Byron"));
    }

    fn words(name: &str, title: Option<&str>) -> Vec<String> {
        words_of("E-1001", name, title, "Ada.L@Example.com")
            .split(' ')
            .map(str::to_owned)
            .collect()
    }

    fn finds(search: &str, name: &str, title: Option<&str>) -> bool {
        let words = words(name, title);
        query_words(search)
            .iter()
            .all(|query| words.iter().any(|word| word.starts_with(query.as_str())))
    }

    #[test]
    fn every_word_of_a_search_starts_a_word_of_the_name_title_id_or_email() {
        assert!(finds("ada lov", "Ada Lovelace", None));
        assert!(finds("LOVELACE ada", "Ada Lovelace", None));
        assert!(finds(
            "principal cartog",
            "Ann Lee",
            Some("Principal Cartographer")
        ));
        assert!(finds("e-10", "Ann Lee", None));
        assert!(finds("e10", "Ann Lee", None));
        assert!(finds("ada.l@ex", "Ann Lee", None));
        assert!(
            !finds("ada lov", "Ada Byron", None),
            "every word must match"
        );
        assert!(
            !finds("velace", "Ada Lovelace", None),
            "from a word's start only"
        );
        assert!(!finds("1001", "Ann Lee", None), "an ID from its start only");
    }

    #[test]
    fn accents_case_and_signs_inside_words_do_not_count() {
        assert!(finds("zoe", "Zoë Ångström", None));
        assert!(finds("ANGS", "Zoë Ångström", None));
        assert!(finds("obrien", "Seán O'Brien", None));
        assert!(finds("o'bri", "Seán O'Brien", None));
        assert!(finds("brien", "Seán O'Brien", None));
        assert!(finds("luc", "Jean-Luc Picard", None));
        assert!(finds("李", "李 小龙", None));
    }

    #[test]
    fn a_search_of_signs_alone_has_no_words() {
        assert!(query_words(" - @ ").is_empty());
        assert_eq!(query_words("ada ada lov"), ["ada", "lov"]);
    }
}
