//! Roster: employee records with a duplicate guarantee. See DESIGN.md for the
//! architecture and the invariants every change keeps.

pub mod auth;
pub mod commands;
pub mod config;
pub mod domain;
pub mod health_check;
pub mod index;
pub mod logging;
pub mod registry;
pub mod startup;
pub mod store;
pub mod transfer;
pub mod web;

/// The release, shown in page footers and used to bust the stylesheet cache.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
