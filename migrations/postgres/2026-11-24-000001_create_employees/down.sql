DROP TABLE employees;
DROP FUNCTION employees_next_version;
DROP TABLE departments;
