use std::sync::Mutex;
use std::time::Duration;

use deadpool_redis::redis::aio::MultiplexedConnection;
use deadpool_redis::redis::{self, AsyncConnectionConfig, Pipeline};
use deadpool_redis::{Manager, Pool, Runtime};

use super::{
    BUILT_MARKER, EMAIL_KEY_PREFIX, ID_KEY_PREFIX, IndexBackend, IndexError, PENDING_PREFIX,
};
use crate::config::ValkeyUrl;

/// Keys per pipeline when publishing the whole index: large enough to amortise the round
/// trip, small enough not to stall Valkey for other clients.
const PUBLISH_CHUNK: usize = 2_000;

/// The shared index of stack mode, on Valkey. Every step is one atomic command per key,
/// so the guarantee holds across any number of app processes.
pub struct ValkeyIndex {
    pool: Pool,
    /// A multiplexed connection taken from the pool and shared by all requests, so that
    /// each step is one round trip: a checkout from the pool costs a PING first.
    /// Dropped on any error, so that the next call gets a checked one from the pool.
    shared: Mutex<Option<MultiplexedConnection>>,
}

impl ValkeyIndex {
    /// Builds the pool without connecting: Valkey may be down at start, and the app
    /// must come up anyway (DESIGN.md, invariant 5). Every wait is bounded by `timeout`,
    /// so that a Valkey that stops answering fails the call (and drops the connection)
    /// instead of holding requests.
    pub fn new(url: &ValkeyUrl, timeout: Duration) -> Result<Self, IndexError> {
        let setup_error = |error: &dyn std::fmt::Display| IndexError::Setup(error.to_string());
        let connection_config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout));
        let manager = Manager::new_with_config(url.as_str(), connection_config)
            .map_err(|error| setup_error(&error))?;
        let pool = Pool::builder(manager)
            // Requests share one multiplexed connection; the pool only replaces it.
            .max_size(2)
            .wait_timeout(Some(timeout))
            .create_timeout(Some(timeout))
            .recycle_timeout(Some(timeout))
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|error| setup_error(&error))?;
        Ok(Self {
            pool,
            shared: Mutex::new(None),
        })
    }

    fn shared(&self) -> std::sync::MutexGuard<'_, Option<MultiplexedConnection>> {
        // The guarded value is replaced whole, never left half-written.
        self.shared
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    async fn connection(&self) -> Result<MultiplexedConnection, IndexError> {
        if let Some(connection) = self.shared().clone() {
            return Ok(connection);
        }
        let pooled = self
            .pool
            .get()
            .await
            .map_err(|error| IndexError::Unavailable(error.to_string()))?;
        let connection = MultiplexedConnection::clone(&pooled);
        *self.shared() = Some(connection.clone());
        Ok(connection)
    }

    /// `SET key value [options]` for each entry, pipelined in chunks.
    async fn set_each(
        &self,
        entries: &[(String, String)],
        options: &[&str],
    ) -> Result<(), IndexError> {
        for chunk in entries.chunks(PUBLISH_CHUNK) {
            let mut pipeline = redis::pipe();
            for (key, value) in chunk {
                pipeline
                    .cmd("SET")
                    .arg(key)
                    .arg(value)
                    .arg(options)
                    .ignore();
            }
            self.run::<()>(&pipeline).await?;
        }
        Ok(())
    }

    async fn run<T: redis::FromRedisValue>(&self, pipeline: &Pipeline) -> Result<T, IndexError> {
        let mut connection = self.connection().await?;
        pipeline
            .query_async(&mut connection)
            .await
            .map_err(|error| {
                self.shared().take();
                IndexError::Unavailable(error.to_string())
            })
    }
}

impl IndexBackend for ValkeyIndex {
    async fn reserve(
        &self,
        keys: &[&str],
        token: &str,
        ttl: Duration,
    ) -> Result<Vec<Option<String>>, IndexError> {
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        let mut pipeline = redis::pipe();
        for key in keys {
            // NX with GET: one command both claims a free key and names the holder
            // of a taken one.
            pipeline
                .cmd("SET")
                .arg(*key)
                .arg(token)
                .arg("NX")
                .arg("GET")
                .arg("PX")
                .arg(ttl_ms);
        }
        self.run(&pipeline).await
    }

    async fn confirm(
        &self,
        keys: &[&str],
        expected: &[&str],
        value: &str,
    ) -> Result<(), IndexError> {
        let mut pipeline = redis::pipe();
        for key in keys {
            // IFEQ: only our own reservation becomes the record (SET without PX also
            // drops the expiry); NX: if the reservation expired or was flushed meanwhile.
            for previous in expected {
                pipeline
                    .cmd("SET")
                    .arg(*key)
                    .arg(value)
                    .arg("IFEQ")
                    .arg(*previous)
                    .ignore();
            }
            pipeline.cmd("SET").arg(*key).arg(value).arg("NX").ignore();
        }
        self.run(&pipeline).await
    }

    async fn release(&self, keys: &[&str], token: &str) -> Result<(), IndexError> {
        let mut pipeline = redis::pipe();
        for key in keys {
            pipeline.cmd("DELIFEQ").arg(*key).arg(token).ignore();
        }
        self.run(&pipeline).await
    }

    async fn publish(&self, entries: &[(String, String)]) -> Result<(), IndexError> {
        self.set_each(entries, &[]).await
    }

    async fn publish_missing(&self, entries: &[(String, String)]) -> Result<(), IndexError> {
        self.set_each(entries, &["NX"]).await
    }

    async fn for_each_confirmed(
        &self,
        visit: &mut (dyn FnMut(&str, &str) + Send),
    ) -> Result<(), IndexError> {
        for pattern in [format!("{ID_KEY_PREFIX}*"), format!("{EMAIL_KEY_PREFIX}*")] {
            let mut cursor = 0u64;
            loop {
                let mut scan = redis::pipe();
                scan.cmd("SCAN")
                    .arg(cursor)
                    .arg("MATCH")
                    .arg(&pattern)
                    .arg("COUNT")
                    .arg(PUBLISH_CHUNK);
                let ((next, keys),): ((u64, Vec<String>),) = self.run(&scan).await?;
                if !keys.is_empty() {
                    let mut values = redis::pipe();
                    values.cmd("MGET").arg(&keys);
                    let (values,): (Vec<Option<String>>,) = self.run(&values).await?;
                    for (key, value) in keys.iter().zip(values) {
                        if let Some(value) = value.filter(|v| !v.starts_with(PENDING_PREFIX)) {
                            visit(key, &value);
                        }
                    }
                }
                if next == 0 {
                    break;
                }
                cursor = next;
            }
        }
        Ok(())
    }

    async fn remove(&self, entries: &[(String, String)]) -> Result<(), IndexError> {
        for chunk in entries.chunks(PUBLISH_CHUNK) {
            let mut pipeline = redis::pipe();
            for (key, value) in chunk {
                pipeline.cmd("DELIFEQ").arg(key).arg(value).ignore();
            }
            self.run::<()>(&pipeline).await?;
        }
        Ok(())
    }

    async fn is_built(&self) -> Result<bool, IndexError> {
        let mut pipeline = redis::pipe();
        pipeline.cmd("EXISTS").arg(BUILT_MARKER);
        let (exists,): (bool,) = self.run(&pipeline).await?;
        Ok(exists)
    }

    async fn counter(&self, key: &str) -> Result<u64, IndexError> {
        let mut pipeline = redis::pipe();
        pipeline.cmd("GET").arg(key);
        let (value,): (Option<u64>,) = self.run(&pipeline).await?;
        Ok(value.unwrap_or_default())
    }

    async fn increment(&self, key: &str) -> Result<(), IndexError> {
        let mut pipeline = redis::pipe();
        pipeline.cmd("INCR").arg(key).ignore();
        self.run(&pipeline).await
    }

    async fn mark_built(&self) -> Result<(), IndexError> {
        let mut pipeline = redis::pipe();
        pipeline.cmd("SET").arg(BUILT_MARKER).arg(1).ignore();
        self.run(&pipeline).await
    }
}
