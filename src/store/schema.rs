// Kept by hand: `diesel print-schema` differs per backend, and one schema serves both
// through the MultiConnection. Types are those the MultiConnection supports on both.

diesel::table! {
    departments (id) {
        id -> BigInt,
        name -> Text,
        created_at -> Timestamp,
        name_key -> Nullable<Text>,
        archived_at -> Nullable<Timestamp>,
        head_id -> Nullable<Text>,
    }
}

diesel::table! {
    employees (id) {
        id -> BigInt,
        employee_id -> Text,
        first_name -> Text,
        last_name -> Text,
        email -> Text,
        hire_date -> Date,
        phone -> Nullable<Text>,
        date_of_birth -> Nullable<Date>,
        department_id -> Nullable<BigInt>,
        job_title -> Nullable<Text>,
        manager_id -> Nullable<Text>,
        status -> Text,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        person_key -> Nullable<Text>,
        phone_key -> Nullable<Text>,
        merged_into -> Nullable<BigInt>,
        termination_date -> Nullable<Date>,
        termination_reason -> Nullable<Text>,
        search_words -> Nullable<Text>,
        department_sort -> Text,
    }
}

diesel::table! {
    distinct_people (employee_id, other_id) {
        employee_id -> Text,
        other_id -> Text,
        confirmed_by -> Text,
        confirmed_at -> Timestamp,
    }
}

diesel::table! {
    /// The claims of a transaction's rows being imported: a temporary table (see
    /// `store::import`).
    import_rows (line) {
        line -> BigInt,
        employee_id -> Text,
        email -> Text,
        manager_id -> Nullable<Text>,
    }
}

diesel::joinable!(employees -> departments (department_id));
diesel::allow_tables_to_appear_in_same_query!(
    departments,
    employees,
    users,
    audit_events,
    distinct_people
);

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        password_hash -> Text,
        role -> Text,
        enabled -> Bool,
        session_epoch -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    audit_events (id) {
        id -> BigInt,
        occurred_at -> Timestamp,
        actor -> Text,
        action -> Text,
        subject_kind -> Text,
        record_id -> BigInt,
        subject -> Text,
        changes -> Text,
    }
}
