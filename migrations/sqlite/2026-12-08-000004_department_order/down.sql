DROP TRIGGER employees_next_version;
CREATE TRIGGER employees_next_version AFTER UPDATE ON employees
WHEN NEW.version = OLD.version
 AND NEW.person_key IS OLD.person_key
 AND NEW.phone_key IS OLD.phone_key
 AND NEW.search_words IS OLD.search_words
BEGIN
    UPDATE employees SET version = OLD.version + 1, updated_at = CURRENT_TIMESTAMP
    WHERE id = NEW.id;
END;
DROP TRIGGER departments_renamed;
DROP TRIGGER employees_department_sort_update;
DROP TRIGGER employees_department_sort_insert;
DROP INDEX employees_by_department;
ALTER TABLE employees DROP COLUMN department_sort;
