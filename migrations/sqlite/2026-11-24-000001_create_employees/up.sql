CREATE TABLE departments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX departments_name_key ON departments (lower(name));

-- Outside tools write rows directly (CONTRACT.md, Storage), so the duplicate guarantee
-- is enforced here and not only by the application: employee_id must already be
-- normalized, and the e-mail is unique whatever its case.
CREATE TABLE employees (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    employee_id TEXT NOT NULL
        CONSTRAINT employees_employee_id_key UNIQUE
        CONSTRAINT employees_employee_id_normalized CHECK (
            length(employee_id) BETWEEN 2 AND 32
            AND employee_id NOT GLOB '*[^A-Z0-9-]*'
            AND employee_id NOT GLOB '-*'
        ),
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    -- Printable ASCII, so that lower() folds it exactly as the application does.
    email TEXT NOT NULL CONSTRAINT employees_email_plain CHECK (
        email NOT GLOB '*[^!-~]*' AND email GLOB '?*@?*'
    ),
    -- SQLite stores dates as text: only ISO dates, or pages could not read the row.
    hire_date DATE NOT NULL CONSTRAINT employees_hire_date_iso CHECK (hire_date IS date(hire_date)),
    phone TEXT,
    date_of_birth DATE CONSTRAINT employees_date_of_birth_iso CHECK (date_of_birth IS date(date_of_birth)),
    department_id BIGINT REFERENCES departments (id) ON DELETE SET NULL,
    job_title TEXT,
    manager_id TEXT REFERENCES employees (employee_id) ON UPDATE CASCADE ON DELETE RESTRICT,
    status TEXT NOT NULL DEFAULT 'active'
        CONSTRAINT employees_status_known CHECK (status IN ('active', 'on_leave', 'terminated')),
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX employees_email_key ON employees (lower(email));

-- Every change makes a new version, also one by an outside tool or a cascade from a
-- manager's new ID, so an edit form opened before it is refused as stale (no lost
-- updates). The application sets the next version itself; this covers the rest.
CREATE TRIGGER employees_next_version AFTER UPDATE ON employees
WHEN NEW.version = OLD.version
BEGIN
    UPDATE employees SET version = OLD.version + 1, updated_at = CURRENT_TIMESTAMP
    WHERE id = NEW.id;
END;

-- Prefix search (`q`): SQLite's LIKE ignores ASCII case, and uses NOCASE indexes.
CREATE INDEX employees_employee_id_prefix ON employees (employee_id COLLATE NOCASE);
CREATE INDEX employees_first_name_prefix ON employees (first_name COLLATE NOCASE);
CREATE INDEX employees_last_name_prefix ON employees (last_name COLLATE NOCASE);
CREATE INDEX employees_email_prefix ON employees (email COLLATE NOCASE);
CREATE INDEX employees_department_id ON employees (department_id);
CREATE INDEX employees_manager_id ON employees (manager_id);
