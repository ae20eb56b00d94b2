//! One integration-test binary: black-box tests over HTTP against the real `roster`
//! process, on SQLite with the in-process index and on PostgreSQL with Valkey. Tests
//! that need the library's internals are in `tests/internals`.

mod support;

mod access;
mod accounts;
mod audit;
mod cli;
mod create;
mod duplicates;
mod edits;
mod invariants;
mod operations;
mod organisation;
mod outage;
mod pages;
mod people;
mod transfer;
