CREATE TABLE departments (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'utc')
);
CREATE UNIQUE INDEX departments_name_key ON departments (lower(name));

-- Outside tools write rows directly (CONTRACT.md, Storage), so the duplicate guarantee
-- is enforced here and not only by the application: employee_id must already be
-- normalized, and the e-mail is unique whatever its case.
CREATE TABLE employees (
    id BIGSERIAL PRIMARY KEY,
    employee_id TEXT NOT NULL
        CONSTRAINT employees_employee_id_key UNIQUE
        CONSTRAINT employees_employee_id_normalized CHECK (employee_id ~ '^[A-Z0-9][A-Z0-9-]{1,31}$'),
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    -- Printable ASCII, so that lower() folds it exactly as the application does.
    email TEXT NOT NULL CONSTRAINT employees_email_plain CHECK (email ~ '^[!-~]+@[!-~]+$'),
    hire_date DATE NOT NULL,
    phone TEXT,
    date_of_birth DATE,
    department_id BIGINT REFERENCES departments (id) ON DELETE SET NULL,
    job_title TEXT,
    manager_id TEXT REFERENCES employees (employee_id) ON UPDATE CASCADE ON DELETE RESTRICT,
    status TEXT NOT NULL DEFAULT 'active'
        CONSTRAINT employees_status_known CHECK (status IN ('active', 'on_leave', 'terminated')),
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
    updated_at TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'utc')
);
CREATE UNIQUE INDEX employees_email_key ON employees (lower(email));

-- Every change makes a new version, also one by an outside tool or a cascade from a
-- manager's new ID, so an edit form opened before it is refused as stale (no lost
-- updates). The application sets the next version itself; this covers the rest.
CREATE FUNCTION employees_next_version() RETURNS trigger AS $$
BEGIN
    IF NEW.version = OLD.version THEN
        NEW.version := OLD.version + 1;
        NEW.updated_at := now() AT TIME ZONE 'utc';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER employees_next_version BEFORE UPDATE ON employees
    FOR EACH ROW EXECUTE FUNCTION employees_next_version();

-- Prefix search (`q`) on each searchable column, case-insensitively; the unique
-- index serves LIKE on employee_id only under the C collation.
CREATE INDEX employees_employee_id_prefix ON employees (employee_id text_pattern_ops);
CREATE INDEX employees_first_name_prefix ON employees (lower(first_name) text_pattern_ops);
CREATE INDEX employees_last_name_prefix ON employees (lower(last_name) text_pattern_ops);
CREATE INDEX employees_email_prefix ON employees (lower(email) text_pattern_ops);
CREATE INDEX employees_department_id ON employees (department_id);
CREATE INDEX employees_manager_id ON employees (manager_id);
