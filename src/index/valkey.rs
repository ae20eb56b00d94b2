use std::time::Duration;

use deadpool_redis::redis::{self, Pipeline};
use deadpool_redis::{Config, Connection, Pool, Runtime, Timeouts};

use super::{BUILT_MARKER, IndexBackend, IndexError};
use crate::config::ValkeyUrl;

/// Keys per pipeline when publishing the whole index: large enough to amortise the round
/// trip, small enough not to stall Valkey for other clients.
const PUBLISH_CHUNK: usize = 2_000;

/// The shared index of stack mode, on Valkey. Every step is one atomic command per key,
/// so the guarantee holds across any number of app processes.
pub struct ValkeyIndex {
    pool: Pool,
}

impl ValkeyIndex {
    /// Builds the pool without connecting: Valkey may be down at start, and the app
    /// must come up anyway (DESIGN.md, invariant 5).
    pub fn new(url: &ValkeyUrl, timeout: Duration) -> Result<Self, IndexError> {
        let mut config = Config::from_url(url.as_str());
        let mut pool_config = config.get_pool_config();
        pool_config.max_size = 32;
        pool_config.timeouts = Timeouts {
            wait: Some(timeout),
            create: Some(timeout),
            recycle: Some(timeout),
        };
        config.pool = Some(pool_config);
        let pool = config
            .create_pool(Some(Runtime::Tokio1))
            .map_err(|error| IndexError::Setup(error.to_string()))?;
        Ok(Self { pool })
    }

    async fn connection(&self) -> Result<Connection, IndexError> {
        self.pool
            .get()
            .await
            .map_err(|error| IndexError::Unavailable(error.to_string()))
    }

    async fn run<T: redis::FromRedisValue>(&self, pipeline: &Pipeline) -> Result<T, IndexError> {
        let mut connection = self.connection().await?;
        pipeline
            .query_async(&mut connection)
            .await
            .map_err(|error| IndexError::Unavailable(error.to_string()))
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

    async fn confirm(&self, keys: &[&str], token: &str, value: &str) -> Result<(), IndexError> {
        let mut pipeline = redis::pipe();
        for key in keys {
            // IFEQ: only our own reservation becomes the record; SET without PX also
            // drops the expiry.
            pipeline
                .cmd("SET")
                .arg(*key)
                .arg(value)
                .arg("IFEQ")
                .arg(token)
                .ignore();
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
        for chunk in entries.chunks(PUBLISH_CHUNK) {
            let mut pipeline = redis::pipe();
            for (key, value) in chunk {
                pipeline.cmd("SET").arg(key).arg(value).ignore();
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

    async fn mark_built(&self) -> Result<(), IndexError> {
        let mut pipeline = redis::pipe();
        pipeline.cmd("SET").arg(BUILT_MARKER).arg(1).ignore();
        self.run(&pipeline).await
    }
}
