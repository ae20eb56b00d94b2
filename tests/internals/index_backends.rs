//! The index backends' contract, run against the in-process index and real Valkey
//! alike: both must behave as the Valkey commands the protocol is built from.

use std::time::Duration;

use deadpool_redis::redis;
use roster::config::ValkeyUrl;
use roster::index::{Confirm, IndexBackend, MemoryIndex, Reserve, ValkeyIndex};

use crate::support::TestValkey;
use crate::wait::eventually;

const TTL: Duration = Duration::from_secs(30);

/// Every confirmed claim, sorted.
async fn confirmed(index: &impl IndexBackend) -> Vec<(String, String)> {
    let mut all = Vec::new();
    index
        .for_each_confirmed(&mut |key, value| all.push((key.to_owned(), value.to_owned())))
        .await
        .unwrap();
    all.sort();
    all
}

async fn reserve(
    index: &impl IndexBackend,
    keys: &[&str],
    token: &str,
    ttl: Duration,
    owner: Option<&str>,
) -> Vec<Option<String>> {
    let request = Reserve {
        keys,
        token,
        ttl,
        owner,
    };
    index.reserve(request).await.unwrap()
}

async fn confirm(index: &impl IndexBackend, keys: &[&str], expected: &[&str], value: &str) {
    let request = Confirm {
        keys,
        expected,
        value,
    };
    index.confirm(request).await.unwrap();
}

fn entries(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
        .collect()
}

async fn reserve_claims_free_keys_and_names_holders(index: &impl IndexBackend) {
    let first = reserve(
        index,
        &["roster:employee_id:A", "roster:email:b@example.com"],
        "pending:1",
        TTL,
        None,
    )
    .await;
    assert_eq!(first, vec![None, None]);
    confirm(index, &["roster:employee_id:A"], &["pending:1"], "A-1").await;

    let second = reserve(
        index,
        &[
            "roster:employee_id:A",
            "roster:email:b@example.com",
            "roster:employee_id:C",
        ],
        "pending:2",
        TTL,
        None,
    )
    .await;
    assert_eq!(
        second,
        vec![Some("A-1".to_owned()), Some("pending:1".to_owned()), None]
    );

    // That clash claimed nothing, not even the free key.
    let owned = reserve(
        index,
        &["roster:employee_id:A", "roster:employee_id:C"],
        "pending:3",
        TTL,
        Some("A-1"),
    )
    .await;
    assert_eq!(owned, vec![Some("A-1".to_owned()), None]);
    // What the owner holds is no clash: its other keys were claimed.
    let after = reserve(index, &["roster:employee_id:C"], "pending:4", TTL, None).await;
    assert_eq!(after, vec![Some("pending:3".to_owned())]);
}

async fn confirm_and_release_touch_only_their_own_reservation(index: &impl IndexBackend) {
    reserve(index, &["roster:employee_id:A"], "pending:mine", TTL, None).await;
    confirm(index, &["roster:employee_id:A"], &["pending:other"], "X-1").await;
    index
        .release(&["roster:employee_id:A"], "pending:other")
        .await
        .unwrap();
    assert_eq!(
        reserve(index, &["roster:employee_id:A"], "pending:3", TTL, None).await,
        vec![Some("pending:mine".to_owned())]
    );

    confirm(index, &["roster:employee_id:A"], &["pending:mine"], "A-1").await;
    index
        .release(&["roster:employee_id:A"], "pending:mine")
        .await
        .unwrap();
    assert_eq!(
        confirmed(index).await,
        entries(&[("roster:employee_id:A", "A-1")])
    );
}

async fn a_reservation_expires_and_a_late_confirm_still_indexes_the_record(
    index: &impl IndexBackend,
) {
    let short = Duration::from_millis(50);
    reserve(
        index,
        &["roster:employee_id:LATE"],
        "pending:slow",
        short,
        None,
    )
    .await;
    assert!(
        confirmed(index).await.is_empty(),
        "pending is not confirmed"
    );

    eventually(
        "the reservation to expire",
        Duration::from_secs(5),
        || async {
            let holders = reserve(
                index,
                &["roster:employee_id:LATE"],
                "pending:next",
                short,
                None,
            )
            .await;
            (holders == vec![None]).then_some(())
        },
    )
    .await;
    index
        .release(&["roster:employee_id:LATE"], "pending:next")
        .await
        .unwrap();

    confirm(
        index,
        &["roster:employee_id:LATE"],
        &["pending:slow"],
        "L-1",
    )
    .await;
    assert_eq!(
        confirmed(index).await,
        entries(&[("roster:employee_id:LATE", "L-1")])
    );
}

async fn publishing_missing_keys_never_overwrites(index: &impl IndexBackend) {
    index
        .publish(&entries(&[("roster:employee_id:A", "A-1")]))
        .await
        .unwrap();
    reserve(
        index,
        &["roster:email:b@example.com"],
        "pending:1",
        TTL,
        None,
    )
    .await;

    index
        .publish_missing(&entries(&[
            ("roster:employee_id:A", "X"),
            ("roster:email:b@example.com", "X"),
            ("roster:employee_id:C", "C-1"),
        ]))
        .await
        .unwrap();

    let confirmed = confirmed(index).await;
    assert_eq!(
        confirmed,
        entries(&[
            ("roster:employee_id:A", "A-1"),
            ("roster:employee_id:C", "C-1")
        ])
    );
}

async fn remove_deletes_only_a_matching_value(index: &impl IndexBackend) {
    index
        .publish(&entries(&[
            ("roster:employee_id:A", "A-1"),
            ("roster:email:b@example.com", "B-1"),
        ]))
        .await
        .unwrap();

    index
        .remove(&entries(&[
            ("roster:employee_id:A", "A-1"),
            ("roster:email:b@example.com", "someone-else"),
        ]))
        .await
        .unwrap();

    assert_eq!(
        confirmed(index).await,
        entries(&[("roster:email:b@example.com", "B-1")])
    );
}

async fn the_built_marker_is_set_once_built(index: &impl IndexBackend) {
    assert!(!index.is_built().await.unwrap());
    index.mark_built().await.unwrap();
    assert!(index.is_built().await.unwrap());
}

macro_rules! on_both_indexes {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                use super::*;

                #[tokio::test]
                async fn in_process() {
                    super::$name(&MemoryIndex::default()).await
                }

                #[tokio::test]
                async fn valkey() {
                    let valkey = TestValkey::fresh();
                    let url = ValkeyUrl::parse(&valkey.url).unwrap();
                    let index = ValkeyIndex::new(&url, Duration::from_secs(2)).unwrap();
                    super::$name(&index).await
                }
            }
        )*
    };
}

on_both_indexes!(
    reserve_claims_free_keys_and_names_holders,
    confirm_and_release_touch_only_their_own_reservation,
    a_reservation_expires_and_a_late_confirm_still_indexes_the_record,
    publishing_missing_keys_never_overwrites,
    remove_deletes_only_a_matching_value,
    the_built_marker_is_set_once_built,
);

/// Reserving runs a script by its hash; a restarted Valkey has forgotten it, and the
/// next reservation must load it again rather than fail (and mark the index down).
#[tokio::test]
async fn reserving_survives_valkey_forgetting_its_scripts() {
    let valkey = TestValkey::fresh();
    let url = ValkeyUrl::parse(&valkey.url).unwrap();
    let index = ValkeyIndex::new(&url, Duration::from_secs(2)).unwrap();
    let first = reserve(&index, &["roster:employee_id:A"], "pending:1", TTL, None).await;
    assert_eq!(first, vec![None]);

    // As a restarted Valkey has.
    let _: () = valkey.query(redis::cmd("SCRIPT").arg("FLUSH"));
    let second = reserve(&index, &["roster:employee_id:B"], "pending:2", TTL, None).await;
    assert_eq!(second, vec![None]);
    assert_eq!(
        valkey.get("roster:employee_id:B").as_deref(),
        Some("pending:2")
    );
}
