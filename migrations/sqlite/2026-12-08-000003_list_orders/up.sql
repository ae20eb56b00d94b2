-- The search finds words through employee_words now: the prefix indexes of
-- single columns serve nothing, and cost every write.
DROP INDEX employees_employee_id_prefix;
DROP INDEX employees_first_name_prefix;
DROP INDEX employees_last_name_prefix;
DROP INDEX employees_email_prefix;
-- Each order of the list, with the id that breaks ties last, walked in either
-- direction: a page is an index range, not a sort of every record. (The employee ID's
-- own unique index orders by it.)
CREATE INDEX employees_by_name ON employees (last_name, first_name, id);
CREATE INDEX employees_by_hire_date ON employees (hire_date, id);
CREATE INDEX employees_by_status ON employees (status, id);
DROP INDEX employees_department_id;
CREATE INDEX employees_department_id ON employees (department_id, id);
