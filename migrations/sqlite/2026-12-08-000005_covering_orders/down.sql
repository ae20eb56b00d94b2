DROP INDEX employees_by_employee_id;
DROP INDEX employees_by_name;
CREATE INDEX employees_by_name ON employees (last_name, first_name, id);
DROP INDEX employees_by_hire_date;
CREATE INDEX employees_by_hire_date ON employees (hire_date, id);
DROP INDEX employees_by_status;
CREATE INDEX employees_by_status ON employees (status, id);
DROP INDEX employees_by_department;
CREATE INDEX employees_by_department ON employees (department_sort, id);
