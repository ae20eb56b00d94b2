-- The list in department order: each record keeps its department's name key (empty
-- without a department), kept by triggers, so that an index holds that order and a
-- page is an index range. Renaming a department rewrites its members' keys only.
ALTER TABLE employees ADD COLUMN department_sort TEXT NOT NULL DEFAULT '';
UPDATE employees e SET department_sort = d.name_key
FROM departments d WHERE d.id = e.department_id;
CREATE INDEX employees_by_department ON employees (department_sort, id);

CREATE FUNCTION employees_department_sort() RETURNS trigger AS $$
BEGIN
    NEW.department_sort := coalesce(
        (SELECT name_key FROM departments WHERE id = NEW.department_id), '');
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
-- Only for a record with a department: a create without one pays nothing.
CREATE TRIGGER employees_department_sort_insert BEFORE INSERT ON employees
    FOR EACH ROW WHEN (NEW.department_id IS NOT NULL)
    EXECUTE FUNCTION employees_department_sort();
CREATE TRIGGER employees_department_sort_update BEFORE UPDATE OF department_id ON employees
    FOR EACH ROW WHEN (NEW.department_id IS DISTINCT FROM OLD.department_id)
    EXECUTE FUNCTION employees_department_sort();

CREATE FUNCTION departments_renamed() RETURNS trigger AS $$
BEGIN
    UPDATE employees SET department_sort = NEW.name_key WHERE department_id = NEW.id;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER departments_renamed AFTER UPDATE OF name_key ON departments
    FOR EACH ROW WHEN (NEW.name_key IS DISTINCT FROM OLD.name_key)
    EXECUTE FUNCTION departments_renamed();

-- A department renamed is no change of its members' records.
CREATE OR REPLACE FUNCTION employees_next_version() RETURNS trigger AS $$
BEGIN
    IF NEW.search_words IS NOT DISTINCT FROM OLD.search_words
       AND (NEW.employee_id, NEW.first_name, NEW.last_name, NEW.email, NEW.job_title)
           IS DISTINCT FROM (OLD.employee_id, OLD.first_name, OLD.last_name, OLD.email, OLD.job_title) THEN
        NEW.search_words := NULL;
    END IF;
    IF NEW.version = OLD.version
       AND NEW.person_key IS NOT DISTINCT FROM OLD.person_key
       AND NEW.phone_key IS NOT DISTINCT FROM OLD.phone_key
       AND (NEW.search_words IS NOT DISTINCT FROM OLD.search_words OR NEW.search_words IS NULL)
       AND (NEW.department_sort = OLD.department_sort
            OR NEW.department_id IS DISTINCT FROM OLD.department_id) THEN
        NEW.version := OLD.version + 1;
        NEW.updated_at := now() AT TIME ZONE 'utc';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
