//! How replicas tell each other that accounts changed (an account disabled, a password
//! reset), so that revoked sessions end everywhere: a counter in the index's Valkey,
//! bumped by the replica that wrote and watched by the others.

use std::sync::Arc;

use crate::index::{AnyIndex, IndexBackend};

/// Bumped when an account is disabled or its password changes, so that every replica
/// reloads its accounts and ends the revoked sessions (see `AccountDirectory`).
const ACCOUNTS_REVISION: &str = "roster:accounts:revision";

pub struct AccountsSignal {
    backend: Arc<AnyIndex>,
}

impl AccountsSignal {
    pub fn new(backend: Arc<AnyIndex>) -> Self {
        Self { backend }
    }

    /// Tells the other replicas that accounts changed. Best effort: with Valkey down,
    /// each replica still ends revoked sessions it learns of through its own writes.
    pub async fn announce(&self) {
        if let Err(error) = self.backend.increment(ACCOUNTS_REVISION).await {
            log::warn!("failed to announce an accounts change: {error}");
        }
    }

    /// The accounts' revision, when Valkey can tell. A failure here says nothing about
    /// duplicate checks, so it leaves the index's state alone.
    pub async fn revision(&self) -> Option<u64> {
        self.backend.counter(ACCOUNTS_REVISION).await.ok()
    }
}
