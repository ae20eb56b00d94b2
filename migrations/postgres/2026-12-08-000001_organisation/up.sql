-- A leaver's record stays (its ID and e-mail stay taken); when and why they left is
-- kept beside it, and cleared when the same record is reactivated.
ALTER TABLE employees ADD COLUMN termination_date DATE;
ALTER TABLE employees ADD COLUMN termination_reason TEXT;

-- Department names are unique ignoring case and spaces ("Field Ops" is "fieldops"):
-- the application writes the key with the name (store/departments.rs).
ALTER TABLE departments ADD COLUMN name_key TEXT;
UPDATE departments SET name_key = lower(regexp_replace(name, '\s', '', 'g'));
DROP INDEX departments_name_key;
CREATE UNIQUE INDEX departments_name_key ON departments (name_key);
-- An archived department takes no new members but keeps its history and its members.
ALTER TABLE departments ADD COLUMN archived_at TIMESTAMP;
ALTER TABLE departments ADD COLUMN head_id TEXT
    REFERENCES employees (employee_id) ON UPDATE CASCADE ON DELETE SET NULL;

-- Departments' changes are audited too.
ALTER TABLE audit_events DROP CONSTRAINT audit_events_subject_kind_known;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_subject_kind_known
    CHECK (subject_kind IN ('employee', 'account', 'department'));
