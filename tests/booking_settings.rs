//! The booking settings of a running server follow `site.toml` with no
//! restart, as the rest of the site does: a day she blocks stops being
//! offered, and a setting with an error keeps the last good rules (the site
//! says "degraded" and the error is listed) instead of taking booking down.
//! Against the real binary, on a copy of the content.

mod common;

use std::time::Duration;

use chrono::DateTime;
use common::process::{Server, http};
use common::{ContentCopy, eventually};

/// The times the booking page offers now.
fn offered(port: u16) -> Vec<i64> {
    let page = http(port, "GET", "/consultation", &[], "").unwrap();
    assert_eq!(page.status, 200);
    common::booking_app::form_token_and_slots(&page.body)
        .1
        .iter()
        .map(|s| s.parse().unwrap())
        .collect()
}

/// The practice's calendar day of a slot, as `site.toml` writes dates.
fn day_of(slot: i64) -> String {
    DateTime::from_timestamp(slot, 0)
        .unwrap()
        .with_timezone(&chrono_tz::America::Los_Angeles)
        .format("%Y-%m-%d")
        .to_string()
}

#[test]
fn a_blocked_day_stops_being_offered_without_a_restart_and_a_bad_setting_keeps_the_last_good() {
    let copy = ContentCopy::new();
    let database = common::fresh_database_path();
    let server = Server::start(&copy.root().join("content"), &database, &[]);
    let before = offered(server.port);
    let first_day = day_of(before[0]);
    assert!(before.iter().any(|s| day_of(*s) != first_day));

    // She blocks the first offered day.
    copy.edit(
        "site.toml",
        "blocked_dates = [",
        &format!("blocked_dates = [\"{first_day}\", "),
    );
    let after = eventually(Duration::from_secs(5), Duration::from_millis(50), || {
        let now = offered(server.port);
        now.iter().all(|s| day_of(*s) != first_day).then_some(now)
    })
    .expect("the blocked day is still offered");
    assert!(!after.is_empty(), "the other days stay open");

    // A setting with an error: the site and booking keep the last good.
    copy.edit("site.toml", "buffer_minutes = 15", "buffer_minutes = 9999");
    eventually(Duration::from_secs(5), Duration::from_millis(50), || {
        let health = http(server.port, "GET", "/healthz", &[], "")?;
        health.body.contains("\"degraded\"").then_some(())
    })
    .expect("the error is reported");
    assert_eq!(
        offered(server.port),
        after,
        "booking kept the last good rules"
    );
}
