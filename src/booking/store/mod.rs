//! Where bookings live: the small [`BookingStore`] interface the rest of the
//! site uses, and [`SqlStore`], its implementation with sqlx on SQLite (one
//! file, the default) or PostgreSQL (one database that several servers
//! share). Both run the same queries through sqlx's `Any` driver; where the
//! two databases differ (opening, the write lock, closing) the store asks
//! its [`Database`]. Each concern has its own module and trait:
//! [`consultations`], [`outbox`], [`sessions`] and [`time_off`].
//! [`BookingStore`] is all four, plus the retention purge, which crosses
//! them, and the leases that let one server of several do shared work.
//!
//! Every rule that keeps data consistent (one booking per slot, mail written
//! with the change it reports, a mail owned by one sender at a time) is
//! stated per method and enforced by the database, not by this process, so
//! it holds across any number of servers. Each database has its own
//! migrations (`migrations/sqlite`, `migrations/postgres`), the same in
//! meaning and version, applied at start.

pub mod consultations;
pub mod outbox;
pub mod sessions;
pub mod time_off;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration as StdDuration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{
    Any, AnyConnection, AnyPool, ConnectOptions as _, Connection as _, Executor as _, Transaction,
};

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

    /// Whether the database can take a write now: a real write succeeds (a
    /// full disk, an I/O error, a database gone read-only) and, for a file,
    /// the file may be written (asked of the kernel, so a file made
    /// read-only or immutable shows at once, although connections opened
    /// before can still write through their open files).
    async fn probe_write(&self, now: DateTime<Utc>) -> Result<(), StoreError>;

    /// Takes or renews the lease `name` for `holder` until `until`, if no
    /// other holder has it at `now`. Work that several servers share (the
    /// purge, releasing requests) runs only on the server holding its lease.
    async fn take_lease(
        &self,
        name: &str,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
}

/// Where the bookings are kept: `--database` or `DATABASE_URL`.
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    /// One SQLite file, for one server (the default).
    Sqlite(PathBuf),
    /// A PostgreSQL database that any number of servers share; the URL may
    /// carry a password, so it is never shown ([`Database::describe`]).
    Postgres(String),
}

impl Database {
    /// `postgres://…` or `postgresql://…` is PostgreSQL; anything else is a
    /// SQLite file: a plain path or a `sqlite:` URL (`sqlite://practice.db`,
    /// `sqlite:practice.db?mode=rwc`).
    pub fn parse(url_or_path: &str) -> Self {
        if url_or_path.starts_with("postgres://") || url_or_path.starts_with("postgresql://") {
            return Self::Postgres(url_or_path.to_string());
        }
        Self::Sqlite(database_path(url_or_path))
    }

    /// The SQLite file, if it is one.
    pub fn file(&self) -> Option<&Path> {
        match self {
            Self::Sqlite(path) => Some(path),
            Self::Postgres(_) => None,
        }
    }

    /// How to name it in messages and logs: the file, or the PostgreSQL
    /// server and database without user or password.
    pub fn describe(&self) -> String {
        match self {
            Self::Sqlite(path) => path.display().to_string(),
            Self::Postgres(url) => match PgConnectOptions::from_str(url) {
                Ok(options) => format!(
                    "PostgreSQL database {} on {}:{}",
                    options.get_database().unwrap_or("(default)"),
                    options.get_host(),
                    options.get_port()
                ),
                Err(_) => "PostgreSQL (an unreadable URL)".to_string(),
            },
        }
    }

    fn connect_url(&self) -> Result<String, StoreError> {
        Ok(match self {
            Self::Postgres(url) => url.clone(),
            // The `Any` driver takes a URL: the file's absolute path,
            // percent-encoded by sqlx itself so any name survives.
            Self::Sqlite(path) => {
                let path = std::path::absolute(path).map_err(|source| StoreError::File {
                    path: path.clone(),
                    source,
                })?;
                SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true)
                    .to_url_lossy()
                    .to_string()
            }
        })
    }
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// The bookings on SQLite or PostgreSQL through sqlx's `Any` driver.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pool: AnyPool,
    database: Database,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Writers wait this long for another writer to finish.
const BUSY_TIMEOUT: StdDuration = StdDuration::from_secs(5);

/// The PostgreSQL advisory lock that every write transaction takes: the
/// same one writer at a time that SQLite's `BEGIN IMMEDIATE` gives, across
/// every server, so a booking's checks (buffers, the daily maximum, time
/// off) and its write see no other writer in between. Bookings are few; a
/// short wait is cheaper than a rule that holds on one server only.
const WRITE_LOCK: i64 = 0x7072_6163_7469_6365; // "practice"

fn connect_options(database: &Database) -> Result<AnyConnectOptions, StoreError> {
    sqlx::any::install_default_drivers();
    Ok(AnyConnectOptions::from_str(&database.connect_url()?)?)
}

/// What every new connection runs before its first use.
async fn prepare(connection: &mut AnyConnection, sqlite: bool) -> Result<(), sqlx::Error> {
    if sqlite {
        // Purged consultations are overwritten with zeros, not just
        // unlinked: the privacy page promises that deleted details are gone
        // from the file.
        connection
            .execute(
                format!(
                    "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; \
                     PRAGMA busy_timeout = {}; PRAGMA secure_delete = ON;",
                    BUSY_TIMEOUT.as_millis()
                )
                .as_str(),
            )
            .await?;
    }
    Ok(())
}

impl SqlStore {
    /// Opens the database, bringing its schema up to date. A SQLite file is
    /// created (owner-only) on first run; a PostgreSQL database must exist.
    pub async fn open(database: &Database) -> Result<Self, StoreError> {
        if let Database::Sqlite(path) = database {
            create_private_file(path)?;
        }
        // A first connection outside the pool, so a wrong URL or password,
        // or a file that is not a database, fails here with its own error:
        // the pool would retry a failed setup until its timeout and report
        // only that.
        let mut first = AnyConnection::connect_with(&connect_options(database)?).await?;
        prepare(&mut first, database.file().is_some()).await?;
        first.close().await?;
        let store = Self::open_lazy(database)?;
        let migrations = match database {
            Database::Sqlite(_) => &SQLITE_MIGRATIONS,
            Database::Postgres(_) => &POSTGRES_MIGRATIONS,
        };
        migrations.run(&store.pool).await?;
        if let Database::Sqlite(path) = database {
            restrict_permissions(path)?;
        }
        Ok(store)
    }

    /// Opens an already migrated database without touching it until the
    /// first query (for callers that cannot wait here, such as test helpers).
    pub fn open_lazy(database: &Database) -> Result<Self, StoreError> {
        let options = connect_options(database)?;
        let sqlite = database.file().is_some();
        let pool = AnyPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(StdDuration::from_secs(10))
            .after_connect(move |connection, _| Box::pin(prepare(connection, sqlite)))
            .connect_lazy_with(options);
        Ok(Self {
            pool,
            database: database.clone(),
        })
    }

    /// Waits for queries in flight and closes every connection. For SQLite
    /// the last one first folds the write-ahead log into the database file:
    /// what a clean stop leaves on disk is one complete file.
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
        if self.database.file().is_some()
            && let Err(err) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&mut last)
                .await
        {
            tracing::warn!("could not checkpoint the database before closing: {err}");
        }
        if let Err(err) = sqlx::Connection::close(last).await {
            tracing::warn!("could not close the database: {err}");
        }
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn database(&self) -> &Database {
        &self.database
    }

    /// Whether other servers may share this database (PostgreSQL).
    pub fn is_shared(&self) -> bool {
        self.database.file().is_none()
    }

    /// A transaction that writes, holding the one write lock from its first
    /// statement: SQLite's `BEGIN IMMEDIATE` (a plain `BEGIN` would fail
    /// with "database is locked" when two upgrade at once), PostgreSQL's
    /// [`WRITE_LOCK`].
    pub(super) async fn begin_write(&self) -> Result<Transaction<'static, Any>, sqlx::Error> {
        match self.database {
            Database::Sqlite(_) => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Database::Postgres(_) => {
                let mut tx = self.pool.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(WRITE_LOCK)
                    .execute(&mut *tx)
                    .await?;
                Ok(tx)
            }
        }
    }
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

#[async_trait]
impl BookingStore for SqlStore {
    async fn purge(
        &self,
        ended_before: DateTime<Utc>,
        mail_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Purged, StoreError> {
        let mut tx = self.begin_write().await?;
        let consultations = sqlx::query("DELETE FROM consultations WHERE ends_at < $1")
            .bind(ts(ended_before))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query("DELETE FROM time_off WHERE ends_at < $1")
            .bind(ts(ended_before))
            .execute(&mut *tx)
            .await?;
        let mail = sqlx::query(
            "DELETE FROM outbox WHERE created_at < $1
               AND (status IN ('sent', 'failed', 'cancelled') OR next_attempt_at < $1)",
        )
        .bind(ts(mail_before))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let sessions = sqlx::query("DELETE FROM admin_sessions WHERE expires_at <= $1")
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
        if let Some(path) = self.database.file() {
            rustix::fs::access(path, rustix::fs::Access::WRITE_OK).map_err(|err| {
                StoreError::File {
                    path: path.to_path_buf(),
                    source: err.into(),
                }
            })?;
        }
        sqlx::query(
            "INSERT INTO counters (name, value) VALUES ('health_checked_at', $1) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        )
        .bind(ts(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn take_lease(
        &self,
        name: &str,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        // One statement: of two servers asking at once, one gets it.
        let taken: Option<String> = sqlx::query_scalar(
            "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $4)
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
             WHERE leases.holder = excluded.holder OR leases.expires_at <= $3
             RETURNING name",
        )
        .bind(name)
        .bind(holder)
        .bind(ts(now))
        .bind(ts(until))
        .fetch_optional(&self.pool)
        .await?;
        Ok(taken.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_database_file_is_private_and_the_key_survives() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("private.db");
        let store = SqlStore::open(&Database::Sqlite(path.clone()))
            .await
            .unwrap();
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
        let reopened = SqlStore::open(&Database::Sqlite(path.clone()))
            .await
            .unwrap();
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
