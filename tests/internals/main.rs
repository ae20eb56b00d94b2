//! Tests that call the library's internals, kept apart from `tests/api`, which sees
//! the app only as a browser does: the index backends' contract and the store's
//! import. Like those, they need the real PostgreSQL and Valkey.

// Shared with tests/api, which uses all of it (and so checks it for dead code); this
// binary needs only the database and Valkey helpers.
#[allow(dead_code)]
#[path = "../api/support/services.rs"]
mod support;
#[path = "../api/support/wait.rs"]
mod wait;

mod index_backends;
mod store_import;
