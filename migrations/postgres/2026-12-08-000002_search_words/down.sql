CREATE OR REPLACE FUNCTION employees_next_version() RETURNS trigger AS $$
BEGIN
    IF NEW.version = OLD.version
       AND NEW.person_key IS NOT DISTINCT FROM OLD.person_key
       AND NEW.phone_key IS NOT DISTINCT FROM OLD.phone_key THEN
        NEW.version := OLD.version + 1;
        NEW.updated_at := now() AT TIME ZONE 'utc';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
DROP INDEX employees_unsearchable;
DROP INDEX employees_search_words;
ALTER TABLE employees DROP COLUMN search_words;
