DROP INDEX employees_department_id;
CREATE INDEX employees_department_id ON employees (department_id);
DROP INDEX employees_by_status;
DROP INDEX employees_by_hire_date;
DROP INDEX employees_by_name;
CREATE INDEX employees_employee_id_prefix ON employees (employee_id text_pattern_ops);
CREATE INDEX employees_first_name_prefix ON employees (lower(first_name) text_pattern_ops);
CREATE INDEX employees_last_name_prefix ON employees (lower(last_name) text_pattern_ops);
CREATE INDEX employees_email_prefix ON employees (lower(email) text_pattern_ops);
