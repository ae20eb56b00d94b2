DROP TRIGGER employees_next_version;
CREATE TRIGGER employees_next_version AFTER UPDATE ON employees
WHEN NEW.version = OLD.version
 AND NEW.person_key IS OLD.person_key
 AND NEW.phone_key IS OLD.phone_key
BEGIN
    UPDATE employees SET version = OLD.version + 1, updated_at = CURRENT_TIMESTAMP
    WHERE id = NEW.id;
END;
DROP TRIGGER employee_words_stale;
DROP TRIGGER employee_words_delete;
DROP TRIGGER employee_words_update;
DROP TRIGGER employee_words_insert;
DROP TABLE employee_words;
DROP INDEX employees_unsearchable;
ALTER TABLE employees DROP COLUMN search_words;
