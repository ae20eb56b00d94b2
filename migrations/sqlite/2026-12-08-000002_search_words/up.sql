-- The list's search: a record's words folded (src/domain/search.rs), space-separated,
-- kept by the application beside the record; NULL means "not computed yet" (a row
-- another tool wrote or changed; the application fills it in before it searches).
ALTER TABLE employees ADD COLUMN search_words TEXT;
CREATE INDEX employees_unsearchable ON employees (id) WHERE search_words IS NULL;

-- Each word of each record, for a prefix range scan per word of a search. The
-- triggers keep it equal to search_words, whoever writes the row (the words hold
-- letters and digits only, so they make a JSON array as they are).
CREATE TABLE employee_words (
    word TEXT NOT NULL,
    employee BIGINT NOT NULL,
    PRIMARY KEY (word, employee)
) WITHOUT ROWID;
CREATE INDEX employee_words_employee ON employee_words (employee, word);

CREATE TRIGGER employee_words_insert AFTER INSERT ON employees
WHEN NEW.search_words IS NOT NULL
BEGIN
    INSERT OR IGNORE INTO employee_words (word, employee)
    SELECT value, NEW.id FROM json_each('["' || replace(NEW.search_words, ' ', '","') || '"]')
    WHERE value <> '';
END;
CREATE TRIGGER employee_words_update AFTER UPDATE OF search_words ON employees
WHEN NEW.search_words IS NOT OLD.search_words
BEGIN
    DELETE FROM employee_words WHERE employee = OLD.id;
    INSERT OR IGNORE INTO employee_words (word, employee)
    SELECT value, NEW.id FROM json_each('["' || replace(coalesce(NEW.search_words, ''), ' ', '","') || '"]')
    WHERE value <> '';
END;
CREATE TRIGGER employee_words_delete AFTER DELETE ON employees
BEGIN
    DELETE FROM employee_words WHERE employee = OLD.id;
END;
-- A change by another tool to what the words come from makes them stale: they are
-- emptied, to be computed again.
CREATE TRIGGER employee_words_stale
AFTER UPDATE OF employee_id, first_name, last_name, email, job_title ON employees
WHEN NEW.search_words IS OLD.search_words AND NEW.search_words IS NOT NULL
BEGIN
    UPDATE employees SET search_words = NULL WHERE id = NEW.id;
END;

-- Filling in a row's words is no change of the person, as filling its likeness keys
-- is not.
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
