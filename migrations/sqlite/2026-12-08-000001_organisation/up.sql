-- A leaver's record stays (its ID and e-mail stay taken); when and why they left is
-- kept beside it, and cleared when the same record is reactivated.
ALTER TABLE employees ADD COLUMN termination_date DATE;
ALTER TABLE employees ADD COLUMN termination_reason TEXT;

-- Department names are unique ignoring case and spaces ("Field Ops" is "fieldops"):
-- the application writes the key with the name (store/departments.rs).
ALTER TABLE departments ADD COLUMN name_key TEXT;
UPDATE departments SET name_key =
    lower(replace(replace(replace(replace(name, ' ', ''), char(9), ''), char(10), ''), char(13), ''));
DROP INDEX departments_name_key;
CREATE UNIQUE INDEX departments_name_key ON departments (name_key);
-- An archived department takes no new members but keeps its history and its members.
ALTER TABLE departments ADD COLUMN archived_at TIMESTAMP;
ALTER TABLE departments ADD COLUMN head_id TEXT
    REFERENCES employees (employee_id) ON UPDATE CASCADE ON DELETE SET NULL;

-- Departments' changes are audited too. SQLite cannot change a CHECK constraint: the
-- table is rebuilt with the new rule, its rows, indexes and append-only triggers.
CREATE TABLE audit_events_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    occurred_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    actor TEXT NOT NULL,
    action TEXT NOT NULL CONSTRAINT audit_events_action_known CHECK (action IN ('create', 'update', 'delete')),
    subject_kind TEXT NOT NULL CONSTRAINT audit_events_subject_kind_known CHECK (subject_kind IN ('employee', 'account', 'department')),
    record_id BIGINT NOT NULL,
    subject TEXT NOT NULL,
    changes TEXT NOT NULL
);
INSERT INTO audit_events_rebuilt SELECT * FROM audit_events;
DROP TABLE audit_events;
ALTER TABLE audit_events_rebuilt RENAME TO audit_events;
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
