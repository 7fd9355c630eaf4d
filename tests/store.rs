//! The store itself, on this run's database (SQLite, or PostgreSQL with
//! `TEST_STORE=postgres`): migrations from empty and from the schema before
//! the last one with data in it, the leases that let one of several servers
//! do shared work, and a race for one slot decided by the database.

mod common;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use common::database::{fresh_database, on_postgres};
use practice_site::booking::availability::{Guard, Slot};
use practice_site::booking::form::{ClientDetails, ContactMethod, Topic};
use practice_site::booking::store::{
    BookingStore, ConsultationStore, Database, Listing, SessionStore, SqlStore,
};

fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap()
}

/// The folder of this run's migrations.
fn migrations() -> std::path::PathBuf {
    common::repo()
        .join("migrations")
        .join(if on_postgres() { "postgres" } else { "sqlite" })
}

/// The tables a migrated database has, whichever it is.
async fn tables(store: &SqlStore) -> Vec<String> {
    let query = match store.database() {
        Database::Sqlite(_) => {
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        }
        Database::Postgres(_) => {
            "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        }
    };
    sqlx::query_scalar(query)
        .fetch_all(store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn an_empty_database_gets_every_table_and_opening_again_changes_nothing() {
    let database = fresh_database();
    let store = SqlStore::open(&database).await.unwrap();
    let expected = [
        "_sqlx_migrations",
        "admin_sessions",
        "consultations",
        "counters",
        "leases",
        "outbox",
        "settings",
        "time_off",
    ];
    assert_eq!(tables(&store).await, expected);
    let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
        .fetch_one(store.pool())
        .await
        .unwrap();
    let files = std::fs::read_dir(migrations()).unwrap().count();
    assert_eq!(applied, i64::try_from(files).unwrap());
    store.close().await;
    let again = SqlStore::open(&database).await.unwrap();
    assert_eq!(tables(&again).await, expected);
}

#[tokio::test]
async fn the_previous_schema_with_data_is_brought_up_to_date_keeping_it() {
    let database = fresh_database();
    // The schema as the release before this one left it: every migration
    // but the newest.
    let mut files: Vec<_> = std::fs::read_dir(migrations())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let newest = files.pop().unwrap();
    let previous = tempfile::tempdir().unwrap();
    for file in &files {
        std::fs::copy(file, previous.path().join(file.file_name().unwrap())).unwrap();
    }
    let store = SqlStore::open_lazy(&database).unwrap();
    sqlx::migrate::Migrator::new(previous.path())
        .await
        .unwrap()
        .run(store.pool())
        .await
        .unwrap();
    assert!(!tables(&store).await.contains(&"counters".to_string()));
    sqlx::query(
        "INSERT INTO consultations
           (starts_at, ends_at, name, email, contact_method, topic, manage_hash, created_at, awaiting_until)
         VALUES (10000, 10900, 'Jane Doe', 'jane@example.org', 'email', 'kap', 'hash', 1, 9000)",
    )
    .execute(store.pool())
    .await
    .unwrap();
    sqlx::query("INSERT INTO settings (key, value) VALUES ('secret_key', $1)")
        .bind(b"the key of the release before".to_vec())
        .execute(store.pool())
        .await
        .unwrap();
    if !on_postgres() {
        // SQLite kept the feed's generation among the settings.
        sqlx::query("INSERT INTO settings (key, value) VALUES ('feed_generation', 3)")
            .execute(store.pool())
            .await
            .unwrap();
    }
    store.close().await;

    let store = SqlStore::open(&database).await.unwrap();
    let kept = store.consultations(Listing::All).await.unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].client.name, "Jane Doe");
    assert_eq!(kept[0].awaiting_until, Some(at(9000)));
    assert_eq!(
        store.secret_key(&|| b"new".to_vec()).await.unwrap(),
        b"the key of the release before"
    );
    let generation = if on_postgres() { 0 } else { 3 };
    assert_eq!(store.feed_generation().await.unwrap(), generation);
    assert_eq!(store.rotate_feed().await.unwrap(), generation + 1);
    let newest: String = newest.file_name().unwrap().to_string_lossy().into();
    let version: i64 = newest.split('_').next().unwrap().parse().unwrap();
    let recorded: i64 = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(recorded, version);
}

#[tokio::test]
async fn a_lease_is_one_holders_until_it_runs_out() {
    let store = SqlStore::open(&fresh_database()).await.unwrap();
    assert!(
        store
            .take_lease("purge", "a", at(0), at(100))
            .await
            .unwrap()
    );
    assert!(
        !store
            .take_lease("purge", "b", at(50), at(150))
            .await
            .unwrap()
    );
    // Another work's lease is its own.
    assert!(
        store
            .take_lease("lapse", "b", at(50), at(150))
            .await
            .unwrap()
    );
    // The holder renews it.
    assert!(
        store
            .take_lease("purge", "a", at(90), at(190))
            .await
            .unwrap()
    );
    assert!(
        !store
            .take_lease("purge", "b", at(150), at(250))
            .await
            .unwrap()
    );
    // Once it runs out, another server takes over.
    assert!(
        store
            .take_lease("purge", "b", at(190), at(290))
            .await
            .unwrap()
    );
    assert!(
        !store
            .take_lease("purge", "a", at(200), at(300))
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn of_twenty_bookings_of_one_slot_at_once_the_database_keeps_one() {
    let store = Arc::new(SqlStore::open(&fresh_database()).await.unwrap());
    let slot = Slot {
        start: at(100_000),
        end: at(100_900),
    };
    let guard = Guard {
        conflict_from: slot.start,
        conflict_to: slot.end,
        day_from: at(90_000),
        day_to: at(110_000),
        daily_maximum: 20,
    };
    let client = ClientDetails {
        name: "Jane Doe".into(),
        email: "jane@example.org".into(),
        phone: None,
        contact: ContactMethod::Email,
        topic: Topic::Individual,
        note: None,
    };
    let tries = (0..20).map(|n| {
        let (store, guard, client) = (Arc::clone(&store), guard, client.clone());
        tokio::spawn(async move {
            let pending = store
                .begin_booking(slot, &client, &format!("link-{n}"), at(1), &guard, None)
                .await
                .unwrap();
            match pending {
                Some(pending) => {
                    pending.commit(&[]).await.unwrap();
                    true
                }
                None => false,
            }
        })
    });
    let mut booked = 0;
    for attempt in tries.collect::<Vec<_>>() {
        booked += usize::from(attempt.await.unwrap());
    }
    assert_eq!(booked, 1);
    assert_eq!(
        store.busy_between(at(0), at(200_000)).await.unwrap().len(),
        1
    );
    let purged = store.purge(at(200_000), at(0), at(200_000)).await.unwrap();
    assert_eq!(purged.consultations, 1);
}
