//! Where bookings live: the small [`BookingStore`] interface the rest of the
//! site uses, and [`SqliteStore`], its SQLite implementation with sqlx.
//! This module opens the file (owner-only, WAL, foreign keys, busy
//! timeout, secure delete), runs the embedded migrations and defines the
//! errors; each concern has its own module and trait:
//! [`consultations`], [`outbox`], [`sessions`] and [`time_off`].
//! [`BookingStore`] is all four, plus the retention purge, which crosses them.
//!
//! The interface is written so that a PostgreSQL store can follow for
//! deployments with several servers: every rule that keeps data consistent
//! (one booking per slot, mail written with the change it reports, a mail
//! owned by one sender at a time) is stated per method and enforced by the
//! database, not by this process. SQLite is the only store today.

pub mod consultations;
pub mod outbox;
pub mod sessions;
pub mod time_off;

use std::path::{Path, PathBuf};
use std::time::Duration as StdDuration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

pub use consultations::{
    CancelledBy, Consultation, ConsultationStore, Listing, Moved, PendingBooking, Status,
};
pub use outbox::{MailCounts, MailKind, MailState, NewMail, OutboxMail, OutboxStore};
pub use sessions::SessionStore;
pub use time_off::{TimeOff, TimeOffKind, TimeOffStore};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed. The message names tables and constraints, never
    /// values, so it may be logged.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database file {path}: {source}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What a retention purge removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub consultations: u64,
    pub mail: u64,
    pub sessions: u64,
}

/// Everything the site keeps, behind one interface.
#[async_trait]
pub trait BookingStore: ConsultationStore + OutboxStore + SessionStore + TimeOffStore {
    /// Deletes consultations and time off that ended before `ended_before`,
    /// finished mail older than `mail_before`, and expired sessions.
    async fn purge(
        &self,
        ended_before: DateTime<Utc>,
        mail_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Purged, StoreError>;

    /// Whether the database can take a write now: the file may be written
    /// (asked of the kernel, so a file made read-only or immutable, or a
    /// file system remounted read-only, shows at once, although connections
    /// opened before can still write through their open files), and a real
    /// write succeeds (a full disk, an I/O error).
    async fn probe_write(&self, now: DateTime<Utc>) -> Result<(), StoreError>;
}

/// SQLite through sqlx: one file, WAL mode, readable by its owner only.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    path: PathBuf,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Writers wait this long for another writer to finish.
const BUSY_TIMEOUT: StdDuration = StdDuration::from_secs(5);

impl SqliteStore {
    /// Opens the database file, creating it (owner-only) and bringing its
    /// schema up to date on first run.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        create_private_file(path)?;
        let pool = pool_options().connect_with(connect_options(path)).await?;
        MIGRATOR.run(&pool).await?;
        restrict_permissions(path)?;
        Ok(Self {
            pool,
            path: path.to_path_buf(),
        })
    }

    /// Opens an already migrated database without touching it until the
    /// first query (for callers that cannot wait here, such as test helpers).
    pub fn open_lazy(path: &Path) -> Self {
        Self {
            pool: pool_options().connect_lazy_with(connect_options(path)),
            path: path.to_path_buf(),
        }
    }

    /// Waits for queries in flight and closes every connection, the last one
    /// after folding the write-ahead log into the database file: what a
    /// clean stop leaves on disk is one complete file.
    ///
    /// The last connection is taken out of the pool and closed by hand: a
    /// connection handed back to the pool just as it closes can miss the
    /// pool's own close and be closed only later, on another thread, when
    /// the process may already have ended.
    pub async fn close(&self) {
        let last = self.pool.acquire().await.map(|c| c.detach());
        self.pool.close().await;
        let mut last = match last {
            Ok(last) => last,
            Err(err) => {
                tracing::warn!("could not checkpoint the database before closing: {err}");
                return;
            }
        };
        if let Err(err) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut last)
            .await
        {
            tracing::warn!("could not checkpoint the database before closing: {err}");
        }
        if let Err(err) = sqlx::Connection::close(last).await {
            tracing::warn!("could not close the database: {err}");
        }
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

fn pool_options() -> SqlitePoolOptions {
    SqlitePoolOptions::new()
        .max_connections(8)
        .acquire_timeout(StdDuration::from_secs(10))
}

fn connect_options(path: &Path) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT)
        // Purged consultations are overwritten with zeros, not just unlinked:
        // the privacy page promises that deleted details are gone from the file.
        .pragma("secure_delete", "on")
}

/// Creates the database file with mode 0600 before SQLite does, so it is
/// never readable by others, not even for a moment. SQLite gives its `-wal`
/// and `-shm` files the same mode.
fn create_private_file(path: &Path) -> Result<(), StoreError> {
    if path.exists() {
        return Ok(());
    }
    let file_error = |source| StoreError::File {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(file_error)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(err) => Err(file_error(err)),
    }
}

/// Makes an existing database (and its WAL files) owner-only.
fn restrict_permissions(path: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mut files = vec![path.to_path_buf()];
        for suffix in ["-wal", "-shm"] {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            files.push(PathBuf::from(name));
        }
        for file in files.iter().filter(|f| f.exists()) {
            std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600)).map_err(
                |source| StoreError::File {
                    path: file.clone(),
                    source,
                },
            )?;
        }
    }
    Ok(())
}

/// Accepts a plain path or a `sqlite:` URL (`sqlite://practice.db`,
/// `sqlite:practice.db?mode=rwc`) and returns the file's path.
pub fn database_path(url_or_path: &str) -> PathBuf {
    let rest = url_or_path
        .strip_prefix("sqlite://")
        .or_else(|| url_or_path.strip_prefix("sqlite:"))
        .unwrap_or(url_or_path);
    let rest = rest.split('?').next().unwrap_or(rest);
    PathBuf::from(rest)
}

pub(super) fn ts(instant: DateTime<Utc>) -> i64 {
    instant.timestamp()
}

pub(super) fn from_ts(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap_or_default()
}

pub(super) fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// `BEGIN IMMEDIATE` takes SQLite's write lock at once, so the checks and
/// the write in one transaction see no other writer in between (a plain
/// `BEGIN` would fail with "database is locked" when two upgrade at once).
pub(super) const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

#[async_trait]
impl BookingStore for SqliteStore {
    async fn purge(
        &self,
        ended_before: DateTime<Utc>,
        mail_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Purged, StoreError> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await?;
        let consultations = sqlx::query("DELETE FROM consultations WHERE ends_at < ?1")
            .bind(ts(ended_before))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query("DELETE FROM time_off WHERE ends_at < ?1")
            .bind(ts(ended_before))
            .execute(&mut *tx)
            .await?;
        let mail = sqlx::query(
            "DELETE FROM outbox WHERE created_at < ?1
               AND (status IN ('sent', 'failed', 'cancelled') OR next_attempt_at < ?1)",
        )
        .bind(ts(mail_before))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let sessions = sqlx::query("DELETE FROM admin_sessions WHERE expires_at <= ?1")
            .bind(ts(now))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(Purged {
            consultations,
            mail,
            sessions,
        })
    }

    async fn probe_write(&self, now: DateTime<Utc>) -> Result<(), StoreError> {
        rustix::fs::access(&self.path, rustix::fs::Access::WRITE_OK).map_err(|err| {
            StoreError::File {
                path: self.path.clone(),
                source: err.into(),
            }
        })?;
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ('health_checked_at', ?1) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(ts(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_database_file_is_private_and_the_key_survives() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("private.db");
        let store = SqliteStore::open(&path).await.unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(fk, 1);
        let secure_delete: i64 = sqlx::query_scalar("PRAGMA secure_delete")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(secure_delete, 1, "deleted rows are overwritten");
        let key = store.secret_key(&|| vec![1, 2, 3]).await.unwrap();
        assert_eq!(key, [1, 2, 3]);
        store.close().await;
        let reopened = SqliteStore::open(&path).await.unwrap();
        assert_eq!(reopened.secret_key(&|| vec![9]).await.unwrap(), [1, 2, 3]);
    }

    #[test]
    fn database_urls_and_paths() {
        assert_eq!(database_path("practice.db"), PathBuf::from("practice.db"));
        assert_eq!(
            database_path("sqlite://data/p.db"),
            PathBuf::from("data/p.db")
        );
        assert_eq!(database_path("sqlite:p.db?mode=rwc"), PathBuf::from("p.db"));
    }
}
