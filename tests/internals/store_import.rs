//! The store's import on its own: over HTTP a file's reader cannot be made to stop
//! half way, so this test feeds the store its batches itself.

use roster::config::{DatabaseUrl, Purpose};
use roster::domain::{Employee, EmployeeForm};
use roster::store::{ImportBatch, ImportRecord, Store};

use crate::support::{Backend, TestDatabase};

crate::on_both_backends!(a_reader_that_stops_without_finishing_leaves_nothing_behind);

/// The store commits an import only when the reader says it read the whole file: a
/// reader that fails half way (its sender dropped) must not leave half a file stored.
async fn a_reader_that_stops_without_finishing_leaves_nothing_behind(backend: Backend) {
    let database = TestDatabase::new(backend);
    let url = DatabaseUrl::parse(database.url()).unwrap();
    let store = tokio::task::spawn_blocking(move || Store::connect(&url, Purpose::Serve))
        .await
        .unwrap()
        .unwrap();
    let row = |n: u64| {
        let form = EmployeeForm {
            employee_id: format!("R-{n}"),
            first_name: "Ann".into(),
            last_name: "Lee".into(),
            email: format!("r{n}@example.com"),
            hire_date: "2024-03-01".into(),
            ..EmployeeForm::default()
        };
        ImportRecord::new(n, &Employee::try_from(&form).unwrap(), None)
    };

    for finished in [false, true] {
        let (batches, received) = std::sync::mpsc::sync_channel(4);
        batches
            .send(ImportBatch::Rows(vec![row(1), row(2)]))
            .unwrap();
        if finished {
            batches.send(ImportBatch::Complete).unwrap();
        }
        drop(batches);
        let findings = store
            .import_employees(received, "test".into(), (true, false))
            .await
            .unwrap();
        assert!(findings.clashes.is_empty() && findings.likely.is_empty());
        let stored = database
            .connect()
            .count("SELECT count(*) AS n FROM employees");
        assert_eq!(stored, if finished { 2 } else { 0 }, "finished: {finished}");
    }
}
