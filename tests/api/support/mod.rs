//! Test support: each test starts the real `roster` binary on port 0 against a
//! database of its own, and talks to it over HTTP as a browser would.
//!
//! `services` holds the test's database and Valkey database and `wait` the polling
//! (both shared with `tests/internals`); `proxy` the TCP proxy that takes a service
//! away; `app` the builder and spawning; `browser` the cookie client; `forms` what is
//! filled in and read back; `accounts` the seeded users.

mod accounts;
mod app;
mod browser;
mod forms;
mod proxy;
mod services;
mod wait;

pub use accounts::{PASSWORD, username};
pub use app::{RECOVERY, TestApp, TestEnv};
pub use browser::Browser;
pub use forms::{edit_fields, employee_form, field_value};
pub use services::Backend;
pub use wait::eventually;
