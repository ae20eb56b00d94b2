//! Double submissions: every create form carries a fresh `form_id`, and a repeat of
//! one that succeeded (or is still being written) answers with the record the first
//! one created, never with a clash naming the user's own new record.
//!
//! Kept in this process: a double click reaches the same instance unless a proxy
//! spreads one browser's requests over several, and then the repeat meets the exact
//! duplicate guarantee (a `409`), never a second record.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::domain::EmployeeId;

/// How long a form's outcome is remembered: longer than anyone waits to click again.
const REMEMBERED_FOR: Duration = Duration::from_secs(3_600);
/// Forms remembered at most; the oldest go first.
const MOST_REMEMBERED: usize = 10_000;

/// A form's first submission while it runs, then the record it created.
enum Receipt {
    Writing(watch::Receiver<Option<EmployeeId>>),
    Created(EmployeeId, Instant),
}

/// Whose form: the account and the form's id.
type FormKey = (String, String);

#[derive(Default)]
pub struct FormReceipts {
    receipts: Mutex<HashMap<FormKey, Receipt>>,
}

/// What a submission of a form is.
pub enum Submission<'a> {
    /// The first: write it, then say how it went.
    First(FirstSubmission<'a>),
    /// A repeat of one that created this record.
    Repeat(EmployeeId),
}

/// Held by the first submission while it writes; dropped without `created`, the form
/// is forgotten and waiting repeats go on as submissions of their own.
pub struct FirstSubmission<'a> {
    receipts: &'a FormReceipts,
    key: Option<FormKey>,
    outcome: Option<watch::Sender<Option<EmployeeId>>>,
}

impl FirstSubmission<'_> {
    pub fn created(mut self, id: &EmployeeId) {
        let (Some(key), Some(outcome)) = (self.key.take(), self.outcome.take()) else {
            return;
        };
        self.receipts
            .lock()
            .insert(key, Receipt::Created(id.clone(), Instant::now()));
        let _ = outcome.send(Some(id.clone()));
    }
}

impl Drop for FirstSubmission<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.receipts.lock().remove(&key);
        }
    }
}

impl FormReceipts {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<FormKey, Receipt>> {
        self.receipts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Sorts a submission of `form_id` by `username`: the first, or a repeat. A repeat
    /// of one still being written waits for it; if that one fails, the repeat becomes
    /// the first. A form without an id (a script's post) is always a first.
    pub async fn submit(&self, username: &str, form_id: &str) -> Submission<'_> {
        let form_id = form_id.trim();
        if form_id.is_empty() || form_id.len() > 64 {
            return Submission::First(FirstSubmission {
                receipts: self,
                key: None,
                outcome: None,
            });
        }
        let key = (username.to_owned(), form_id.to_owned());
        loop {
            let mut writing = {
                let mut receipts = self.lock();
                match receipts.get(&key) {
                    Some(Receipt::Created(id, _)) => return Submission::Repeat(id.clone()),
                    Some(Receipt::Writing(outcome)) => outcome.clone(),
                    None => {
                        forget_old(&mut receipts);
                        let (sender, receiver) = watch::channel(None);
                        receipts.insert(key.clone(), Receipt::Writing(receiver));
                        return Submission::First(FirstSubmission {
                            receipts: self,
                            key: Some(key),
                            outcome: Some(sender),
                        });
                    }
                }
            };
            if let Ok(created) = writing.wait_for(Option::is_some).await
                && let Some(id) = created.clone()
            {
                return Submission::Repeat(id);
            }
        }
    }
}

fn forget_old(receipts: &mut HashMap<FormKey, Receipt>) {
    let now = Instant::now();
    receipts.retain(|_, receipt| match receipt {
        Receipt::Created(_, at) => now.duration_since(*at) < REMEMBERED_FOR,
        Receipt::Writing(_) => true,
    });
    while receipts.len() >= MOST_REMEMBERED {
        let oldest = receipts
            .iter()
            .filter_map(|(key, receipt)| match receipt {
                Receipt::Created(_, at) => Some((*at, key.clone())),
                Receipt::Writing(_) => None,
            })
            .min();
        match oldest {
            Some((_, key)) => receipts.remove(&key),
            None => break,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(text: &str) -> EmployeeId {
        EmployeeId::parse(text).unwrap()
    }

    #[tokio::test]
    async fn a_repeat_while_the_first_writes_gets_its_record() {
        let receipts = FormReceipts::default();
        let Submission::First(first) = receipts.submit("ann", "f1").await else {
            panic!("the first submission")
        };
        let repeat = receipts.submit("ann", "f1");
        let created = async {
            tokio::task::yield_now().await;
            first.created(&id("E-1"));
        };
        let (repeat, ()) = tokio::join!(repeat, created);
        assert!(matches!(repeat, Submission::Repeat(found) if found == id("E-1")));
        assert!(matches!(
            receipts.submit("ann", "f1").await,
            Submission::Repeat(_)
        ));
        assert!(matches!(
            receipts.submit("bob", "f1").await,
            Submission::First(_)
        ));
    }

    #[tokio::test]
    async fn a_failed_first_lets_the_next_try() {
        let receipts = FormReceipts::default();
        let first = receipts.submit("ann", "f1").await;
        drop(first);
        assert!(matches!(
            receipts.submit("ann", "f1").await,
            Submission::First(_)
        ));
    }
}
