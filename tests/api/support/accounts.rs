//! The accounts every spawned app starts with, one per role, written as an outside tool
//! would.

use std::sync::OnceLock;

use roster::domain::Role;

use super::services::DirectDb;

/// Every seeded account's password.
pub const PASSWORD: &str = "correct horse battery staple";

/// The seeded account of each role.
pub fn username(role: Role) -> &'static str {
    match role {
        Role::Admin => "admin",
        Role::Hr => "hr-staff",
        Role::Viewer => "viewer",
    }
}

/// Hashed once per test binary: Argon2 is slow on purpose.
fn password_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| roster::auth::password::hash(PASSWORD).unwrap())
}

/// Needs the app's migrations to have run.
pub(super) fn seed(db: &mut DirectDb) {
    let rows: Vec<String> = Role::ALL
        .iter()
        .map(|role| {
            format!(
                "('{}', '{}', '{}')",
                username(*role),
                password_hash(),
                role.as_str()
            )
        })
        .collect();
    db.execute(&format!(
        "INSERT INTO users (username, password_hash, role) VALUES {}",
        rows.join(", ")
    ));
}
