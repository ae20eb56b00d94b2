CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    username TEXT NOT NULL CONSTRAINT users_username_key UNIQUE
        CONSTRAINT users_username_normalized CHECK (username ~ '^[a-z0-9][a-z0-9._-]{2,31}$'),
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CONSTRAINT users_role_known CHECK (role IN ('admin', 'hr', 'viewer')),
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    -- Bumped when the password changes or the account is disabled: sessions carry the
    -- epoch they were issued under and stop working when it moves on.
    session_epoch INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
    updated_at TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'utc')
);

-- Who changed which record (an employee or an account) when, field by field. The application only ever appends;
-- the trigger makes that a property of the table, not just of the code.
CREATE TABLE audit_events (
    id BIGSERIAL PRIMARY KEY,
    occurred_at TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
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

CREATE FUNCTION audit_events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
