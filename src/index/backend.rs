//! The primitive, atomic operations the duplicate protocol is built from, and the
//! enum that picks an implementation at start-up.

use std::future::Future;
use std::time::Duration;

use super::{MemoryIndex, ValkeyIndex};

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("failed to set up the duplicate index: {0}")]
    Setup(String),
    #[error("the duplicate index is unavailable: {0}")]
    Unavailable(String),
}

/// What `reserve` asks: claim `keys` with `token` for `ttl`, unless one is held by
/// someone other than `owner`.
#[derive(Debug, Clone, Copy)]
pub struct Reserve<'a> {
    pub keys: &'a [&'a str],
    pub token: &'a str,
    pub ttl: Duration,
    pub owner: Option<&'a str>,
}

/// What `confirm` asks: set `keys` to `value` where they hold one of `expected`, or
/// nothing.
#[derive(Debug, Clone, Copy)]
pub struct Confirm<'a> {
    pub keys: &'a [&'a str],
    pub expected: &'a [&'a str],
    pub value: &'a str,
}

/// The primitive, atomic operations the protocol is built from; each implementation
/// behaves like the Valkey commands named.
pub trait IndexBackend: Send + Sync {
    /// Atomically, all or nothing: unless a key is held by someone other than `owner`,
    /// each free key is claimed with `token` for `ttl`. Returns each key's holder
    /// before the call (`None` where it was free), so a clash leaves nothing to undo.
    fn reserve(
        &self,
        request: Reserve<'_>,
    ) -> impl Future<Output = Result<Vec<Option<String>>, IndexError>> + Send;
    /// `SET key value IFEQ e` for each key and each expected value `e` (our token, or
    /// the record's previous ID after an edit), else `SET key value NX`: a reservation
    /// that expired or was flushed before the commit still leaves the record indexed.
    fn confirm(&self, request: Confirm<'_>) -> impl Future<Output = Result<(), IndexError>> + Send;
    /// `DELIFEQ key token` for each key.
    fn release(
        &self,
        keys: &[&str],
        token: &str,
    ) -> impl Future<Output = Result<(), IndexError>> + Send;
    /// `SET key value` for each entry, pipelined.
    fn publish(
        &self,
        entries: &[(String, String)],
    ) -> impl Future<Output = Result<(), IndexError>> + Send;
    /// `SET key value NX` for each entry, pipelined.
    fn publish_missing(
        &self,
        entries: &[(String, String)],
    ) -> impl Future<Output = Result<(), IndexError>> + Send;
    /// Calls `visit` with every confirmed claim (key and record), pending reservations
    /// left out; streams, so that a large index is never copied whole.
    fn for_each_confirmed(
        &self,
        visit: &mut (dyn FnMut(&str, &str) + Send),
    ) -> impl Future<Output = Result<(), IndexError>> + Send;
    /// `DELIFEQ key value` for each entry.
    fn remove(
        &self,
        entries: &[(String, String)],
    ) -> impl Future<Output = Result<(), IndexError>> + Send;
    fn is_built(&self) -> impl Future<Output = Result<bool, IndexError>> + Send;
    fn mark_built(&self) -> impl Future<Output = Result<(), IndexError>> + Send;
    /// `GET key` of a counter, 0 when absent.
    fn counter(&self, key: &str) -> impl Future<Output = Result<u64, IndexError>> + Send;
    /// `INCR key`.
    fn increment(&self, key: &str) -> impl Future<Output = Result<(), IndexError>> + Send;
}

pub enum AnyIndex {
    Memory(MemoryIndex),
    Valkey(ValkeyIndex),
}

macro_rules! dispatch {
    ($self:ident, $index:ident => $call:expr) => {
        match $self {
            AnyIndex::Memory($index) => $call.await,
            AnyIndex::Valkey($index) => $call.await,
        }
    };
}

impl IndexBackend for AnyIndex {
    async fn reserve(&self, request: Reserve<'_>) -> Result<Vec<Option<String>>, IndexError> {
        dispatch!(self, index => index.reserve(request))
    }
    async fn confirm(&self, request: Confirm<'_>) -> Result<(), IndexError> {
        dispatch!(self, index => index.confirm(request))
    }
    async fn release(&self, keys: &[&str], token: &str) -> Result<(), IndexError> {
        dispatch!(self, index => index.release(keys, token))
    }
    async fn publish(&self, entries: &[(String, String)]) -> Result<(), IndexError> {
        dispatch!(self, index => index.publish(entries))
    }
    async fn publish_missing(&self, entries: &[(String, String)]) -> Result<(), IndexError> {
        dispatch!(self, index => index.publish_missing(entries))
    }
    async fn for_each_confirmed(
        &self,
        visit: &mut (dyn FnMut(&str, &str) + Send),
    ) -> Result<(), IndexError> {
        dispatch!(self, index => index.for_each_confirmed(visit))
    }
    async fn remove(&self, entries: &[(String, String)]) -> Result<(), IndexError> {
        dispatch!(self, index => index.remove(entries))
    }
    async fn is_built(&self) -> Result<bool, IndexError> {
        dispatch!(self, index => index.is_built())
    }
    async fn mark_built(&self) -> Result<(), IndexError> {
        dispatch!(self, index => index.mark_built())
    }
    async fn counter(&self, key: &str) -> Result<u64, IndexError> {
        dispatch!(self, index => index.counter(key))
    }
    async fn increment(&self, key: &str) -> Result<(), IndexError> {
        dispatch!(self, index => index.increment(key))
    }
}
