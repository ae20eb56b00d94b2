//! The duplicate protocol (DESIGN.md, invariants 2–5): `reserve` claims both keys
//! atomically with an expiring token; after the insert commits, `confirm` swaps the
//! token for the record's ID; if the insert fails, `release` deletes the keys only if
//! they still hold our token.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::backend::{Confirm, IndexBackend, Reserve};
use super::{DuplicateIndex, EMAIL_KEY_PREFIX, ID_KEY_PREFIX, IndexState, PENDING_PREFIX};
use crate::domain::{EmployeeId, Field, WorkEmail};

/// Long enough for any insert to commit; short enough that a crash between reserve and
/// commit frees the ID soon.
const RESERVATION_TTL: Duration = Duration::from_secs(10);
/// Claims published per call after an import.
const LEARN_CHUNK: usize = 2_000;
/// Chunks sent before the first answers: Valkey works while the next ones travel.
const LEARN_CALLS_IN_FLIGHT: usize = 4;

/// A submission's ID or e-mail that is already taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clash {
    pub field: Field,
    /// The record holding it; `None` while another submission is storing it right now.
    pub holder: Option<EmployeeId>,
}

/// The index keys a record occupies.
pub(super) struct Claims {
    pub(super) keys: [String; 2],
}

impl Claims {
    const FIELDS: [Field; 2] = [Field::EmployeeId, Field::Email];

    pub(super) fn of(id: &str, email: &str) -> Self {
        Self {
            keys: [
                format!("{ID_KEY_PREFIX}{id}"),
                format!("{EMAIL_KEY_PREFIX}{email}"),
            ],
        }
    }

    fn keys(&self) -> [&str; 2] {
        [&self.keys[0], &self.keys[1]]
    }
}

/// What `reserve` hands back, to be confirmed or released after the insert.
pub struct Reservation {
    pub(super) claims: Claims,
    /// `None` when the index was skipped (not ready): nothing to confirm or release.
    pub(super) token: Option<String>,
}

impl DuplicateIndex {
    /// Claims the record's employee ID and e-mail, or names every clash. Rejects only on
    /// a ready index; otherwise the database decides. `owner` is the record being
    /// edited, if any: what it already holds is no clash.
    pub async fn reserve(
        &self,
        id: &EmployeeId,
        email: &WorkEmail,
        owner: Option<&EmployeeId>,
    ) -> Result<Reservation, Vec<Clash>> {
        let claims = Claims::of(id.as_str(), email.as_str());
        let skipped = |claims| Reservation {
            claims,
            token: None,
        };
        if self.state() != IndexState::Ready {
            return Ok(skipped(claims));
        }
        let token = format!("{PENDING_PREFIX}{}", uuid::Uuid::new_v4());
        let owner = owner.map(EmployeeId::as_str);
        let reserved = self
            .call(
                "reserve",
                self.backend.reserve(Reserve {
                    keys: &claims.keys(),
                    token: &token,
                    ttl: RESERVATION_TTL,
                    owner,
                }),
            )
            .await;
        let Some(holders) = reserved else {
            return Ok(skipped(claims));
        };
        let clashes: Vec<Clash> = Claims::FIELDS
            .into_iter()
            .zip(holders)
            .filter_map(|(field, holder)| {
                holder
                    .filter(|holder| Some(holder.as_str()) != owner)
                    .map(|holder| Clash {
                        field,
                        holder: EmployeeId::parse(&holder).ok(),
                    })
            })
            .collect();
        if clashes.is_empty() {
            return Ok(Reservation {
                claims,
                token: Some(token),
            });
        }
        self.rejections.fetch_add(1, Ordering::Relaxed);
        Err(clashes)
    }

    /// After the commit: the keys now name the record, without expiry. `previous` is
    /// the record's ID before an edit: keys it held pass to the new ID.
    pub async fn confirm(
        &self,
        reservation: Reservation,
        id: &EmployeeId,
        previous: Option<&EmployeeId>,
    ) {
        let keys = reservation.claims.keys();
        match (&reservation.token, self.state()) {
            (Some(token), _) => {
                let mut expected = vec![token.as_str()];
                expected.extend(previous.map(EmployeeId::as_str));
                let confirmed = self
                    .call(
                        "confirm",
                        self.backend.confirm(Confirm {
                            keys: &keys,
                            expected: &expected,
                            value: id.as_str(),
                        }),
                    )
                    .await;
                if confirmed.is_none() {
                    self.missed_writes.store(true, Ordering::Release);
                }
            }
            // Stored without a reservation while the index was not ready: a rebuild's
            // snapshot may have been taken before this commit.
            (None, IndexState::Rebuilding | IndexState::Ready) => {
                let entries = keys.map(|key| (key.to_owned(), id.as_str().to_owned()));
                let published = self
                    .call("publish", self.backend.publish_missing(&entries))
                    .await;
                if published.is_none() {
                    self.missed_writes.store(true, Ordering::Release);
                }
            }
            // The rebuild that follows, once Valkey answers, learns it from the database.
            (None, IndexState::Down) => self.missed_writes.store(true, Ordering::Release),
        }
    }

    /// After a removal, or an edit that changed them: frees the record's former claims,
    /// where they still name it (compare-and-delete).
    pub async fn forget(
        &self,
        id: &EmployeeId,
        email: &WorkEmail,
        keep: Option<(&EmployeeId, &WorkEmail)>,
    ) {
        let old = Claims::of(id.as_str(), email.as_str());
        let kept = keep.map(|(id, email)| Claims::of(id.as_str(), email.as_str()));
        let gone: Vec<(String, String)> = old
            .keys
            .iter()
            .filter(|key| kept.as_ref().is_none_or(|kept| !kept.keys.contains(key)))
            .map(|key| (key.clone(), id.as_str().to_owned()))
            .collect();
        self.remove_claims(&gone).await;
    }

    /// Frees these claims where they still name `holder`.
    async fn forget_held(&self, claims: Claims, holder: &EmployeeId) {
        let gone: Vec<(String, String)> = claims
            .keys
            .into_iter()
            .map(|key| (key, holder.to_string()))
            .collect();
        self.remove_claims(&gone).await;
    }

    async fn remove_claims(&self, gone: &[(String, String)]) {
        if gone.is_empty() {
            return;
        }
        if self.state() == IndexState::Down {
            // The claims stay until the rebuild that follows the outage clears them.
            self.missed_writes.store(true, Ordering::Release);
            return;
        }
        if self
            .call("forget", self.backend.remove(gone))
            .await
            .is_none()
        {
            // A stale claim would turn a free ID away; the rebuild clears it.
            self.missed_writes.store(true, Ordering::Release);
        }
    }

    /// After a failed insert: frees what this reservation holds, and nothing else.
    pub async fn release(&self, reservation: Reservation) {
        if let Some(token) = &reservation.token {
            let keys = reservation.claims.keys();
            self.call("release", self.backend.release(&keys, token))
                .await;
        }
    }

    /// After records were stored in bulk (an import): their claims. The database holds
    /// these records now, so whatever a key held before (a stale claim, or a pending
    /// reservation bound to fail at the database) gives way. A claim that fails to land
    /// costs only speed (the database still refuses the duplicate), and the next
    /// rebuild adds it.
    pub async fn learn(&self, records: &[(EmployeeId, WorkEmail)]) {
        let entries: Vec<(String, String)> = records
            .iter()
            .flat_map(|(id, email)| {
                Claims::of(id.as_str(), email.as_str())
                    .keys
                    .map(|key| (key, id.to_string()))
            })
            .collect();
        self.publish_claims(&entries).await;
    }

    /// After a merge committed: the merged-away records' IDs and e-mails are held by
    /// the survivor, so a reuse is turned away naming it.
    pub async fn learn_aliases(&self, aliases: &[(EmployeeId, WorkEmail)], survivor: &EmployeeId) {
        let entries: Vec<(String, String)> = aliases
            .iter()
            .flat_map(|(id, email)| {
                Claims::of(id.as_str(), email.as_str())
                    .keys
                    .map(|key| (key, survivor.to_string()))
            })
            .collect();
        self.publish_claims(&entries).await;
    }

    /// After a survivor was removed with its aliases: frees what they held.
    pub async fn forget_aliases(&self, aliases: &[(EmployeeId, WorkEmail)], survivor: &EmployeeId) {
        for (id, email) in aliases {
            self.forget_held(Claims::of(id.as_str(), email.as_str()), survivor)
                .await;
        }
    }

    async fn publish_claims(&self, entries: &[(String, String)]) {
        if self.state() == IndexState::Down {
            self.missed_writes.store(true, Ordering::Release);
            return;
        }
        for wave in entries.chunks(LEARN_CHUNK * LEARN_CALLS_IN_FLIGHT) {
            let mut calls = Vec::with_capacity(LEARN_CALLS_IN_FLIGHT);
            for chunk in wave.chunks(LEARN_CHUNK) {
                calls.push(self.call("publish", self.backend.publish(chunk)));
            }
            let published = futures_util::future::join_all(calls).await;
            if published.iter().any(Option::is_none) {
                self.missed_writes.store(true, Ordering::Release);
                return;
            }
        }
    }
}
