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
       AND (NEW.search_words IS NOT DISTINCT FROM OLD.search_words OR NEW.search_words IS NULL) THEN
        NEW.version := OLD.version + 1;
        NEW.updated_at := now() AT TIME ZONE 'utc';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
DROP TRIGGER departments_renamed ON departments;
DROP FUNCTION departments_renamed();
DROP TRIGGER employees_department_sort_update ON employees;
DROP TRIGGER employees_department_sort_insert ON employees;
DROP FUNCTION employees_department_sort();
DROP INDEX employees_by_department;
ALTER TABLE employees DROP COLUMN department_sort;
