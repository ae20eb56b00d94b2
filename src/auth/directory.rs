use std::collections::HashMap;
use std::sync::RwLock;

use crate::domain::Role;

/// An account as session checks need it; the password hash stays in the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub enabled: bool,
    pub session_epoch: i32,
}

/// The signed-in user of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentUser {
    pub id: i64,
    pub username: String,
    pub role: Role,
}

/// Every account, in memory: accounts are few, and this way a request's session is
/// checked without asking the database. Kept current by the writes of this process
/// and, across replicas, reloaded when another one signals a change.
#[derive(Default)]
pub struct AccountDirectory {
    accounts: RwLock<HashMap<i64, Account>>,
}

impl AccountDirectory {
    pub fn replace_all(&self, accounts: Vec<Account>) {
        let accounts = accounts.into_iter().map(|a| (a.id, a)).collect();
        *self.accounts.write().unwrap_or_else(|e| e.into_inner()) = accounts;
    }

    /// Records what a write or a sign-in read. A reading older than the one held (a
    /// sign-in that read the account before it was disabled) never replaces it: the
    /// session epoch only grows.
    pub fn upsert(&self, account: Account) {
        let mut accounts = self.accounts.write().unwrap_or_else(|e| e.into_inner());
        let newer = accounts
            .get(&account.id)
            .is_none_or(|held| account.session_epoch >= held.session_epoch);
        if newer {
            accounts.insert(account.id, account);
        }
    }

    pub fn knows(&self, id: i64) -> bool {
        self.accounts
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(&id)
    }

    /// The user a session belongs to, if the account is enabled and the session was
    /// issued under its current epoch (no password change or disabling since).
    pub fn current_user(&self, id: i64, epoch: i32) -> Option<CurrentUser> {
        let accounts = self.accounts.read().unwrap_or_else(|e| e.into_inner());
        let account = accounts.get(&id)?;
        (account.enabled && account.session_epoch == epoch).then(|| CurrentUser {
            id: account.id,
            username: account.username.clone(),
            role: account.role,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(epoch: i32, enabled: bool) -> Account {
        Account {
            id: 7,
            username: "ann".into(),
            role: Role::Hr,
            enabled,
            session_epoch: epoch,
        }
    }

    #[test]
    fn a_session_lives_only_under_the_current_epoch_of_an_enabled_account() {
        let directory = AccountDirectory::default();
        assert_eq!(directory.current_user(7, 1), None);
        directory.upsert(account(1, true));
        assert_eq!(directory.current_user(7, 1).unwrap().username, "ann");
        directory.upsert(account(2, true));
        assert_eq!(directory.current_user(7, 1), None, "password changed");
        directory.upsert(account(2, false));
        assert_eq!(directory.current_user(7, 2), None, "disabled");
        directory.upsert(account(1, true));
        assert_eq!(
            directory.current_user(7, 1),
            None,
            "a stale sign-in cannot undo it"
        );
    }
}
