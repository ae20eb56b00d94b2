-- The list in department order: each record keeps its department's name key (empty
-- without a department), kept by triggers, so that an index holds that order and a
-- page is an index range. Renaming a department rewrites its members' keys only.
ALTER TABLE employees ADD COLUMN department_sort TEXT NOT NULL DEFAULT '';
UPDATE employees SET department_sort = coalesce(
    (SELECT name_key FROM departments WHERE departments.id = employees.department_id), '');
CREATE INDEX employees_by_department ON employees (department_sort, id);

-- Only for a record with a department: a create without one pays nothing.
CREATE TRIGGER employees_department_sort_insert AFTER INSERT ON employees
WHEN NEW.department_id IS NOT NULL
BEGIN
    UPDATE employees SET department_sort = coalesce(
        (SELECT name_key FROM departments WHERE id = NEW.department_id), '')
    WHERE id = NEW.id;
END;
CREATE TRIGGER employees_department_sort_update AFTER UPDATE OF department_id ON employees
WHEN NEW.department_id IS NOT OLD.department_id
BEGIN
    UPDATE employees SET department_sort = coalesce(
        (SELECT name_key FROM departments WHERE id = NEW.department_id), '')
    WHERE id = NEW.id;
END;
CREATE TRIGGER departments_renamed AFTER UPDATE OF name_key ON departments
WHEN NEW.name_key IS NOT OLD.name_key
BEGIN
    UPDATE employees SET department_sort = NEW.name_key WHERE department_id = NEW.id;
END;

-- Keeping the department's key is no change of the record: a rename, or the key
-- following a record's new department (whose own change counted already).
DROP TRIGGER employees_next_version;
CREATE TRIGGER employees_next_version AFTER UPDATE ON employees
WHEN NEW.version = OLD.version
 AND NEW.person_key IS OLD.person_key
 AND NEW.phone_key IS OLD.phone_key
 AND NEW.search_words IS OLD.search_words
 AND NEW.department_sort IS OLD.department_sort
BEGIN
    UPDATE employees SET version = OLD.version + 1, updated_at = CURRENT_TIMESTAMP
    WHERE id = NEW.id;
END;
