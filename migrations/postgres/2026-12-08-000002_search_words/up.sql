-- The list's search: a record's words folded (src/domain/search.rs), space-separated,
-- kept by the application beside the record; NULL means "not computed yet" (a row
-- another tool wrote or changed; the application fills it in before it searches).
ALTER TABLE employees ADD COLUMN search_words TEXT;
-- Each word a lexeme exactly as written (array_to_tsvector parses nothing, so any
-- script is kept), so that a GIN index answers every word's prefix at once:
-- 'ada':* & 'lov':*.
CREATE INDEX employees_search_words ON employees
    USING gin (array_to_tsvector(string_to_array(search_words, ' ')));
CREATE INDEX employees_unsearchable ON employees (id) WHERE search_words IS NULL;

-- Filling in a row's words is no change of the person, as filling its likeness keys
-- is not. A change by another tool to what the words come from makes them stale:
-- they are emptied, to be computed again.
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
