//! `practice-site backup` and `restore`, as the therapist runs them: the real
//! binary against a real server taking bookings over HTTP. A backup taken in
//! the middle of bookings restores every booking confirmed before it
//! started; an encrypted one opens with its key only; a restore waits for
//! the server to stop; pruning keeps its own files and nothing else goes.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use age::secrecy::ExposeSecret as _;
use common::booking_app::form_token_and_slots;
use common::process::{Server, http, open_many_slots, post_booking};
use common::{ContentCopy, fresh_database_path};
use practice_site::booking::store::{Database, SqlStore};

/// Runs `practice-site ARGS --database DATABASE` with `env`, and nothing
/// from the developer's own environment that would change it.
fn cli(args: &[&str], database: &Path, env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_practice-site"));
    command
        .args(args)
        .arg("--database")
        .arg(database)
        .env_remove("DATABASE_URL")
        .env_remove("BACKUP_RECIPIENT")
        .env("RUST_LOG", "warn");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The one file a successful `backup` names on stdout.
fn written(output: &Output) -> PathBuf {
    assert!(output.status.success(), "backup failed: {}", stderr(output));
    PathBuf::from(String::from_utf8_lossy(&output.stdout).trim())
}

/// A failure with one line of explanation on stderr, containing `words`.
fn fails_saying(output: &Output, words: &str) {
    let text = stderr(output);
    assert!(!output.status.success(), "it should have failed");
    assert!(text.contains(words), "{words:?} not in {text:?}");
    assert_eq!(text.trim().lines().count(), 1, "one line: {text:?}");
    assert!(!text.contains("panicked"), "{text}");
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn server_env() -> Vec<(&'static str, String)> {
    vec![
        (
            "SECRET_KEY",
            "a signing key that is long enough for tests".to_string(),
        ),
        ("TRUST_PROXY", "1".to_string()),
    ]
}

/// The booked consultations' names and start times.
fn booked(database: &Path) -> Vec<(String, i64)> {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", database.display()))
            .await
            .unwrap();
        let rows = sqlx::query_as(
            "SELECT name, starts_at FROM consultations WHERE status = 'booked' ORDER BY starts_at",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        pool.close().await;
        rows
    })
}

/// A migrated database holding one booking by `name`.
fn database_with(path: &Path, name: &str) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = SqlStore::open(&Database::Sqlite(path.to_path_buf()))
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO consultations
               (starts_at, ends_at, name, email, contact_method, topic, manage_hash, created_at)
             VALUES (1000, 4000, $1, 'x@example.org', 'email', 'not-sure', $1, 1)",
        )
        .bind(name)
        .execute(store.pool())
        .await
        .unwrap();
        store.close().await;
    });
}

/// The form's token and the open times it offers.
fn form(port: u16, from: &str) -> (String, Vec<String>) {
    let page = http(
        port,
        "GET",
        "/consultation",
        &[("X-Forwarded-For", from)],
        "",
    )
    .unwrap();
    form_token_and_slots(&page.body)
}

/// Books `slot` with a form's `token` as client `i`; its private link.
fn book(port: u16, i: usize, token: &str, slot: &str) -> Option<String> {
    let name = format!("Client {i}");
    let email = format!("client{i}@example.org");
    let from = format!("10.8.{}.{}", i / 200, i % 200 + 1);
    let reply = post_booking(port, &from, (token, slot), (&name, &email))?;
    (reply.status == 303).then(|| reply.header("location").unwrap().to_string())
}

#[test]
fn a_backup_taken_while_bookings_arrive_restores_every_booking_confirmed_before_it() {
    const BOOKINGS: usize = 50;
    let started = Instant::now();
    let copy = ContentCopy::new();
    open_many_slots(&copy);
    let content = copy.root().join("content");
    let database = copy.root().join("practice.db");
    let backups = copy.root().join("backups");
    let env = server_env();
    let server = Server::start(&content, &database, &env);
    let port = server.port;

    let forms: Vec<(String, String)> = (0..BOOKINGS)
        .map(|i| {
            let (token, slots) = form(port, &format!("10.8.{}.{}", i / 200, i % 200 + 1));
            assert!(slots.len() > BOOKINGS, "enough open times");
            (token, slots[i].clone())
        })
        .collect();
    // Kept: the server refuses a form sent sooner than 3 s after it was
    // given out; a person takes that long.
    std::thread::sleep(Duration::from_millis(3_200));

    // Confirmations in the order the clients saw them.
    let confirmed: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let done = Arc::new(AtomicBool::new(false));
    // Backups one after another, each with how many bookings were confirmed
    // when it started.
    let backing_up = {
        let (confirmed, done, backups, database) = (
            confirmed.clone(),
            done.clone(),
            backups.clone(),
            database.clone(),
        );
        std::thread::spawn(move || {
            let mut runs: Vec<(usize, PathBuf)> = Vec::new();
            loop {
                // Read before the flag: a last run starts after every booking.
                let finished = done.load(Ordering::SeqCst);
                let before = confirmed.lock().unwrap().len();
                let keep = ["backup", backups.to_str().unwrap(), "--keep", "3"];
                runs.push((before, written(&cli(&keep, &database, &[]))));
                if finished {
                    return runs;
                }
            }
        })
    };
    let next = Arc::new(AtomicUsize::new(0));
    let forms = Arc::new(forms);
    let posters: Vec<_> = (0..4)
        .map(|_| {
            let (confirmed, next, forms) = (confirmed.clone(), next.clone(), forms.clone());
            std::thread::spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some((token, slot)) = forms.get(i) else {
                        return;
                    };
                    let link = book(port, i, token, slot);
                    let link = link.unwrap_or_else(|| panic!("booking {i} was refused"));
                    confirmed.lock().unwrap().push((slot.clone(), link));
                    // People arrive over time, so backups fall among them.
                    std::thread::sleep(Duration::from_millis(30));
                }
            })
        })
        .collect();
    for poster in posters {
        poster.join().unwrap();
    }
    done.store(true, Ordering::SeqCst);
    let runs = backing_up.join().unwrap();
    let confirmed = confirmed.lock().unwrap().clone();
    assert_eq!(confirmed.len(), BOOKINGS);
    assert!(
        runs.iter().filter(|(before, _)| *before < BOOKINGS).count() >= 2,
        "backups ran while bookings arrived: {:?}",
        runs.iter().map(|(n, _)| n).collect::<Vec<_>>()
    );

    // The backup folder: owner-only, and pruned to 3 while it ran.
    let listed = practice_site::backup::backups_in(&backups).unwrap();
    assert!(listed.len() <= 3, "{listed:?}");
    #[cfg(unix)]
    {
        assert_eq!(mode(&backups), 0o700);
        for file in &listed {
            assert_eq!(mode(file), 0o600, "{}", file.display());
        }
    }

    // Every backup that ran mid-stream holds what was confirmed before it;
    // the last one taken during bookings is restored and served.
    let (before, last) = runs
        .iter()
        .rev()
        .find(|(before, path)| *before < BOOKINGS && path.exists())
        .or_else(|| runs.last())
        .cloned()
        .unwrap();
    let restored = fresh_database_path();
    let output = cli(&["restore", last.to_str().unwrap()], &restored, &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    drop(server);
    let fresh = Server::start(&content, &restored, &env);
    for (slot, link) in &confirmed[..before] {
        let path = link.split('?').next().unwrap();
        let page = http(fresh.port, "GET", path, &[], "").unwrap();
        assert_eq!(page.status, 200, "the booking at {slot} is in the backup");
    }
    drop(fresh);
    let starts: Vec<i64> = booked(&restored).into_iter().map(|(_, s)| s).collect();
    for (slot, _) in &confirmed[..before] {
        assert!(starts.contains(&slot.parse().unwrap()), "booking at {slot}");
    }
    // And the final backup, after the stream, holds all of them.
    let all = fresh_database_path();
    let (_, final_backup) = runs.last().unwrap();
    let output = cli(&["restore", final_backup.to_str().unwrap()], &all, &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(booked(&all).len(), BOOKINGS);
    eprintln!(
        "backup test: {BOOKINGS} bookings, {} backups during them, the restored one held {before}; {:.1} s",
        runs.len(),
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn an_encrypted_backup_opens_with_its_key_and_with_no_other() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("practice.db");
    database_with(&database, "Jane Quinn-Doe");
    let key = age::x25519::Identity::generate();
    let key_file = dir.path().join("backup-key.txt");
    std::fs::write(&key_file, key.to_string().expose_secret()).unwrap();
    let wrong_file = dir.path().join("other-key.txt");
    let wrong = age::x25519::Identity::generate();
    std::fs::write(&wrong_file, wrong.to_string().expose_secret()).unwrap();
    let backups = dir.path().join("offsite");

    let recipient = key.to_public().to_string();
    let output = cli(
        &["backup", backups.to_str().unwrap()],
        &database,
        &[("BACKUP_RECIPIENT", &recipient)],
    );
    let encrypted = written(&output);
    assert!(encrypted.to_str().unwrap().ends_with(".db.age"));
    let bytes = std::fs::read(&encrypted).unwrap();
    assert!(bytes.starts_with(b"age-encryption.org/v1"));
    let plain = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    assert!(!plain(b"Jane Quinn-Doe") && !plain(b"SQLite format 3"));
    // No plain copy is left anywhere.
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.contains("tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");

    // A restore over another database: without the right key nothing changes.
    let target = dir.path().join("restored.db");
    database_with(&target, "Someone Else");
    let before = std::fs::read(&target).unwrap();
    let files_before = std::fs::read_dir(dir.path()).unwrap().count();
    let file = encrypted.to_str().unwrap();
    fails_saying(&cli(&["restore", file], &target, &[]), "--identity");
    let wrong_key = ["restore", file, "--identity", wrong_file.to_str().unwrap()];
    fails_saying(&cli(&wrong_key, &target, &[]), "does not open");
    let not_a_key = ["restore", file, "--identity", database.to_str().unwrap()];
    fails_saying(&cli(&not_a_key, &target, &[]), "cannot read the key");
    assert_eq!(std::fs::read(&target).unwrap(), before, "nothing changed");
    // The lock file is the only new file (a restore takes the server's lock).
    assert!(std::fs::read_dir(dir.path()).unwrap().count() <= files_before + 1);

    let right = ["restore", file, "--identity", key_file.to_str().unwrap()];
    let output = cli(&right, &target, &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(booked(&target), [("Jane Quinn-Doe".to_string(), 1000)]);
    // The replaced database is kept aside, whole.
    let aside: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_str().unwrap();
            name.starts_with("restored.db.before-restore-") && !name.ends_with("-wal")
        })
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert_eq!(booked(&aside[0]), [("Someone Else".to_string(), 1000)]);
    #[cfg(unix)]
    assert_eq!(mode(&target), 0o600);
}

#[test]
fn what_is_not_a_backup_is_refused_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("practice.db");
    database_with(&target, "Kept Client");
    let before = std::fs::read(&target).unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not a database, just notes\n".repeat(100)).unwrap();
    let other = dir.path().join("other.db");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=rwc", other.display()))
            .await
            .unwrap();
        sqlx::query("CREATE TABLE recipes (name TEXT)")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    });
    for file in [&text, &other] {
        let output = cli(&["restore", file.to_str().unwrap()], &target, &[]);
        fails_saying(&output, "is not a backup");
    }
    let missing = dir.path().join("missing.db");
    fails_saying(
        &cli(&["restore", missing.to_str().unwrap()], &target, &[]),
        "cannot read",
    );
    assert_eq!(std::fs::read(&target).unwrap(), before);
    // A folder that cannot be made: a file stands where its parent would be.
    let output = cli(
        &["backup", text.join("backups").to_str().unwrap()],
        &target,
        &[],
    );
    fails_saying(&output, "cannot write backups to");
    // No database: no empty one is made.
    let output = cli(
        &["backup", dir.path().join("b").to_str().unwrap()],
        &missing,
        &[],
    );
    fails_saying(&output, "no database at");
    assert!(!missing.exists());
    // A public key that is not one.
    let output = cli(
        &[
            "backup",
            dir.path().join("b").to_str().unwrap(),
            "--recipient",
            "age1nope",
        ],
        &target,
        &[],
    );
    fails_saying(&output, "is not an age public key");
}

#[test]
fn a_restore_waits_for_the_server_to_stop() {
    let copy = ContentCopy::new();
    let content = copy.root().join("content");
    let database = copy.root().join("practice.db");
    let backups = copy.root().join("backups");
    let mut server = Server::start(&content, &database, &server_env());
    let backup = written(&cli(&["backup", backups.to_str().unwrap()], &database, &[]));
    // The server is idle: in WAL mode it holds no SQLite lock a restore
    // would meet, so this is the server's own lock at work.
    std::thread::sleep(Duration::from_millis(200));
    let before = std::fs::read(&database).unwrap();
    let output = cli(&["restore", backup.to_str().unwrap()], &database, &[]);
    fails_saying(&output, "in use by a running server");
    assert_eq!(std::fs::read(&database).unwrap(), before);
    assert!(
        http(server.port, "GET", "/consultation", &[], "").is_some_and(|r| r.status == 200),
        "the server goes on"
    );
    // Killed, even without a clean stop, the lock goes with the process.
    server.kill();
    let output = cli(&["restore", backup.to_str().unwrap()], &database, &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    // And a server starts on the restored database.
    drop(Server::start(&content, &database, &server_env()));
}

#[test]
fn pruning_keeps_its_newest_files_and_touches_no_other() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("practice.db");
    database_with(&database, "Pat Client");
    let backups = dir.path().join("backups");
    std::fs::create_dir(&backups).unwrap();
    let old: Vec<String> = (1..=5)
        .map(|day| format!("practice-2020-01-0{day}T000000Z.db"))
        .collect();
    let others = [
        "notes.txt",
        "practice.db",
        "practice-2020-01-01T000000Z.txt",
        "practice-final.db",
        "other-2020-01-01T000000Z.db",
        "practice-2020-01-01T000000Z.db.bak",
    ];
    for name in old.iter().map(String::as_str).chain(others) {
        std::fs::write(backups.join(name), "kept by someone").unwrap();
    }
    let new = written(&cli(
        &["backup", backups.to_str().unwrap(), "--keep", "3"],
        &database,
        &[],
    ));
    let mut kept: Vec<String> = practice_site::backup::backups_in(&backups)
        .unwrap()
        .iter()
        .map(|p| p.file_name().unwrap().to_str().unwrap().to_string())
        .collect();
    kept.sort();
    let new_name = new.file_name().unwrap().to_str().unwrap().to_string();
    assert_eq!(kept, [old[3].clone(), old[4].clone(), new_name]);
    for name in others {
        assert!(backups.join(name).exists(), "{name} left alone");
    }
    assert_eq!(
        std::fs::read_dir(&backups).unwrap().count(),
        3 + others.len(),
        "no temporary file is left"
    );
    #[cfg(unix)]
    assert_eq!(mode(&new), 0o600);
    // The backup is a whole database: it restores.
    let restored = dir.path().join("restored.db");
    let output = cli(&["restore", new.to_str().unwrap()], &restored, &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(booked(&restored), [("Pat Client".to_string(), 1000)]);
}
