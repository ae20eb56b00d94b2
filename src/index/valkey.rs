use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::ThreadId;
use std::time::Duration;

use deadpool_redis::redis::aio::MultiplexedConnection;
use deadpool_redis::redis::{self, AsyncConnectionConfig, Pipeline};
use deadpool_redis::{Connection, Manager, Pool, Runtime};

use super::backend::{Confirm, IndexBackend, IndexError, Reserve};
use super::{BUILT_MARKER, EMAIL_KEY_PREFIX, ID_KEY_PREFIX, PENDING_PREFIX};
use crate::config::ValkeyUrl;

/// Keys per pipeline when publishing the whole index: large enough to amortise the round
/// trip, small enough not to stall Valkey for other clients.
const PUBLISH_CHUNK: usize = 2_000;

/// Threads that may use the index at once: actix-web's workers (one per core), the
/// thread of the background tasks, and room to spare.
fn max_threads() -> usize {
    std::thread::available_parallelism().map_or(8, usize::from) * 2 + 2
}

/// `reserve` in one atomic step: a clash claims nothing, so it needs no release after.
/// Run by hash (EVALSHA); the client loads it again after Valkey restarts.
const RESERVE_SCRIPT: &str = r"
local token, ttl, owner = ARGV[1], ARGV[2], ARGV[3]
local holders, clash = {}, false
for i, key in ipairs(KEYS) do
  local holder = redis.call('GET', key)
  holders[i] = holder
  if holder and holder ~= owner then clash = true end
end
if not clash then
  for i, key in ipairs(KEYS) do
    if not holders[i] then redis.call('SET', key, token, 'PX', ttl) end
  end
end
return holders
";

/// The shared index of stack mode, on Valkey. Every step is one atomic command per key,
/// so the guarantee holds across any number of app processes.
pub struct ValkeyIndex {
    pool: Pool,
    /// A multiplexed connection per thread, taken from the pool and kept, so that each
    /// step is one round trip (a checkout from the pool costs a PING first), and so
    /// that each of actix-web's single-threaded workers talks to a connection driven on
    /// its own thread: a shared one makes every other worker's call two cross-thread
    /// wake-ups. An error on any of them drops them all (by moving `generation` on):
    /// they lead to the same server, and the next call gets a checked one.
    per_thread: Mutex<HashMap<ThreadId, (u64, Connection)>>,
    generation: AtomicU64,
    reserve_script: redis::Script,
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
            // One multiplexed connection per thread that uses the index: the workers,
            // and the thread of the background tasks.
            .max_size(max_threads())
            .wait_timeout(Some(timeout))
            .create_timeout(Some(timeout))
            .recycle_timeout(Some(timeout))
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|error| setup_error(&error))?;
        Ok(Self {
            pool,
            per_thread: Mutex::new(HashMap::new()),
            generation: AtomicU64::new(0),
            reserve_script: redis::Script::new(RESERVE_SCRIPT),
        })
    }

    fn per_thread(&self) -> std::sync::MutexGuard<'_, HashMap<ThreadId, (u64, Connection)>> {
        // Entries are inserted or removed whole, never left half-written.
        self.per_thread
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    async fn connection(&self) -> Result<MultiplexedConnection, IndexError> {
        let thread = std::thread::current().id();
        let generation = self.generation.load(Ordering::Acquire);
        {
            let mut per_thread = self.per_thread();
            match per_thread.remove(&thread) {
                Some((made_in, connection)) if made_in == generation => {
                    let shared = MultiplexedConnection::clone(&connection);
                    per_thread.insert(thread, (made_in, connection));
                    return Ok(shared);
                }
                Some((_, outdated)) => drop(Connection::take(outdated)),
                None => {}
            }
        }
        let pooled = self
            .pool
            .get()
            .await
            .map_err(|error| IndexError::Unavailable(error.to_string()))?;
        let connection = MultiplexedConnection::clone(&pooled);
        self.per_thread().insert(thread, (generation, pooled));
        Ok(connection)
    }

    /// After an error: no thread's connection is trusted again, nor returned to the
    /// pool.
    fn failed(&self, error: redis::RedisError) -> IndexError {
        self.generation.fetch_add(1, Ordering::AcqRel);
        let thread = std::thread::current().id();
        if let Some((_, broken)) = self.per_thread().remove(&thread) {
            drop(Connection::take(broken));
        }
        IndexError::Unavailable(error.to_string())
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
            .map_err(|error| self.failed(error))
    }
}

impl IndexBackend for ValkeyIndex {
    async fn reserve(&self, request: Reserve<'_>) -> Result<Vec<Option<String>>, IndexError> {
        let ttl_ms = u64::try_from(request.ttl.as_millis()).unwrap_or(u64::MAX);
        let mut invocation = self.reserve_script.prepare_invoke();
        for key in request.keys {
            invocation.key(*key);
        }
        invocation
            .arg(request.token)
            .arg(ttl_ms)
            .arg(request.owner.unwrap_or_default());
        let mut connection = self.connection().await?;
        invocation
            .invoke_async(&mut connection)
            .await
            .map_err(|error| self.failed(error))
    }

    async fn confirm(&self, request: Confirm<'_>) -> Result<(), IndexError> {
        let (value, mut pipeline) = (request.value, redis::pipe());
        for key in request.keys {
            // IFEQ: only our own reservation becomes the record (SET without PX also
            // drops the expiry); NX: if the reservation expired or was flushed meanwhile.
            for previous in request.expected {
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

    /// One MSET per chunk: a tenth of the work of a SET per key for Valkey.
    async fn publish(&self, entries: &[(String, String)]) -> Result<(), IndexError> {
        for chunk in entries.chunks(PUBLISH_CHUNK) {
            let mut pipeline = redis::pipe();
            let mut set_all = redis::cmd("MSET");
            for (key, value) in chunk {
                set_all.arg(key).arg(value);
            }
            pipeline.add_command(set_all).ignore();
            self.run::<()>(&pipeline).await?;
        }
        Ok(())
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
