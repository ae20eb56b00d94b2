CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL CONSTRAINT users_username_key UNIQUE
        CONSTRAINT users_username_normalized CHECK (
            length(username) BETWEEN 3 AND 32
            AND username NOT GLOB '*[^a-z0-9._-]*'
            AND username GLOB '[a-z0-9]*'
        ),
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CONSTRAINT users_role_known CHECK (role IN ('admin', 'hr', 'viewer')),
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    -- Bumped when the password changes or the account is disabled: sessions carry the
    -- epoch they were issued under and stop working when it moves on.
    session_epoch INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- Who changed which record (an employee or an account) when, field by field. The application only ever appends;
-- the triggers make that a property of the table, not just of the code.
CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    occurred_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    actor TEXT NOT NULL,
    action TEXT NOT NULL CONSTRAINT audit_events_action_known CHECK (action IN ('create', 'update', 'delete')),
    subject_kind TEXT NOT NULL CONSTRAINT audit_events_subject_kind_known CHECK (subject_kind IN ('employee', 'account')),
    -- The record's internal id, which survives a change of employee ID.
    record_id BIGINT NOT NULL,
    -- Its employee ID or username at the time.
    subject TEXT NOT NULL,
    -- JSON: [{"field": …, "old": …, "new": …}, …]
    changes TEXT NOT NULL
);
CREATE INDEX audit_events_record_id ON audit_events (subject_kind, record_id, id);
CREATE INDEX audit_events_subject ON audit_events (subject_kind, subject, id);

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
