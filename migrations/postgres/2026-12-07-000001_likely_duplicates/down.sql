CREATE OR REPLACE FUNCTION employees_next_version() RETURNS trigger AS $$
BEGIN
    IF NEW.version = OLD.version THEN
        NEW.version := OLD.version + 1;
        NEW.updated_at := now() AT TIME ZONE 'utc';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
DROP TABLE distinct_people;
DROP INDEX employees_merged_into;
DROP INDEX employees_unkeyed;
DROP INDEX employees_phone_key;
DROP INDEX employees_person_key;
ALTER TABLE employees DROP COLUMN merged_into;
ALTER TABLE employees DROP COLUMN phone_key;
ALTER TABLE employees DROP COLUMN person_key;
