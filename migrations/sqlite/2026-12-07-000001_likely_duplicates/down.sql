DROP TRIGGER employees_next_version;
CREATE TRIGGER employees_next_version AFTER UPDATE ON employees
WHEN NEW.version = OLD.version
BEGIN
    UPDATE employees SET version = OLD.version + 1, updated_at = CURRENT_TIMESTAMP
    WHERE id = NEW.id;
END;
DROP TABLE distinct_people;
DROP INDEX employees_merged_into;
DROP INDEX employees_unkeyed;
DROP INDEX employees_phone_key;
DROP INDEX employees_person_key;
-- SQLite cannot drop a column that is part of a foreign key: merged_into stays,
-- unused, with every value NULL once no merge is left.
UPDATE employees SET merged_into = NULL;
ALTER TABLE employees DROP COLUMN phone_key;
ALTER TABLE employees DROP COLUMN person_key;
