-- The departments' audit entries go: the old rule has no room for them.
ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only;
DELETE FROM audit_events WHERE subject_kind = 'department';
ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only;
ALTER TABLE audit_events DROP CONSTRAINT audit_events_subject_kind_known;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_subject_kind_known
    CHECK (subject_kind IN ('employee', 'account'));
ALTER TABLE departments DROP COLUMN head_id;
ALTER TABLE departments DROP COLUMN archived_at;
DROP INDEX departments_name_key;
ALTER TABLE departments DROP COLUMN name_key;
CREATE UNIQUE INDEX departments_name_key ON departments (lower(name));
ALTER TABLE employees DROP COLUMN termination_reason;
ALTER TABLE employees DROP COLUMN termination_date;
