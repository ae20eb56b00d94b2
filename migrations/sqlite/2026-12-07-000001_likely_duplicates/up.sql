-- What makes two records likely one person (src/domain/likeness.rs), kept by the
-- application beside each record so that a new record's likely twins are one indexed
-- lookup away. NULL means "not computed yet" (a row another tool wrote; the
-- application fills it in), '' means the record has no such key.
ALTER TABLE employees ADD COLUMN person_key TEXT;
ALTER TABLE employees ADD COLUMN phone_key TEXT;
-- Set on a record merged into another: it stays, so its ID and e-mail stay taken (the
-- unique indexes hold them as aliases of the survivor), but no list shows it.
ALTER TABLE employees ADD COLUMN merged_into BIGINT REFERENCES employees (id) ON DELETE CASCADE;
-- Only records with the key: most have neither a birth date nor a phone, and entries
-- for them all would cost every insert. Lookups state the same condition as a literal
-- (store/people.rs), so that the planners use these with a bound key.
CREATE INDEX employees_person_key ON employees (person_key) WHERE person_key <> '';
CREATE INDEX employees_phone_key ON employees (phone_key) WHERE phone_key <> '';
CREATE INDEX employees_unkeyed ON employees (id) WHERE person_key IS NULL OR phone_key IS NULL;
CREATE INDEX employees_merged_into ON employees (merged_into) WHERE merged_into IS NOT NULL;

-- Pairs of records a person said are different people: not asked about again.
CREATE TABLE distinct_people (
    employee_id TEXT NOT NULL REFERENCES employees (employee_id) ON UPDATE CASCADE ON DELETE CASCADE,
    other_id TEXT NOT NULL REFERENCES employees (employee_id) ON UPDATE CASCADE ON DELETE CASCADE,
    confirmed_by TEXT NOT NULL,
    confirmed_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (employee_id, other_id)
);
CREATE INDEX distinct_people_other_id ON distinct_people (other_id);

-- Filling in a row's likeness keys is no change of the person: an edit form opened
-- before stays current. Any other change still makes a new version.
DROP TRIGGER employees_next_version;
CREATE TRIGGER employees_next_version AFTER UPDATE ON employees
WHEN NEW.version = OLD.version
 AND NEW.person_key IS OLD.person_key
 AND NEW.phone_key IS OLD.phone_key
BEGIN
    UPDATE employees SET version = OLD.version + 1, updated_at = CURRENT_TIMESTAMP
    WHERE id = NEW.id;
END;
