//! Where bookings live: the small [`BookingStore`] interface the rest of the
//! site uses, and [`SqliteStore`], its SQLite implementation with sqlx.
//!
//! The interface is written so that a PostgreSQL store can follow for
//! deployments with several servers: every rule that keeps data consistent
//! (one booking per slot, mail written with the change it reports, a mail
//! owned by one sender at a time) is stated per method and enforced by the
//! database, not by this process.

use std::path::{Path, PathBuf};
use std::time::Duration as StdDuration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
};
use sqlx::{Row, Sqlite, Transaction};

use super::availability::{Busy, Guard, Slot};
use super::form::{ClientDetails, ContactMethod, Topic};

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Booked,
    Cancelled,
}

impl Status {
    fn code(self) -> &'static str {
        match self {
            Self::Booked => "booked",
            Self::Cancelled => "cancelled",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelledBy {
    Client,
    Therapist,
}

impl CancelledBy {
    fn code(self) -> &'static str {
        match self {
            Self::Client => "client",
            Self::Therapist => "therapist",
        }
    }
}

/// A consultation as stored: the request's [`ClientDetails`] with its time,
/// state and history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consultation {
    pub id: i64,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub status: Status,
    pub client: ClientDetails,
    pub sequence: u32,
    pub created_at: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancelled_by: Option<CancelledBy>,
}

/// What an email is about; reminders are withdrawn when plans change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    TherapistNew,
    TherapistCancelled,
    TherapistMoved,
    Confirmation,
    Reminder,
    Cancellation,
}

impl MailKind {
    pub fn code(self) -> &'static str {
        match self {
            Self::TherapistNew => "therapist-new",
            Self::TherapistCancelled => "therapist-cancelled",
            Self::TherapistMoved => "therapist-moved",
            Self::Confirmation => "confirmation",
            Self::Reminder => "reminder",
            Self::Cancellation => "cancellation",
        }
    }

    fn from_code(code: &str) -> Option<Self> {
        [
            Self::TherapistNew,
            Self::TherapistCancelled,
            Self::TherapistMoved,
            Self::Confirmation,
            Self::Reminder,
            Self::Cancellation,
        ]
        .into_iter()
        .find(|k| k.code() == code)
    }
}

/// An email to put in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMail {
    pub kind: MailKind,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    /// An iCalendar attachment.
    pub ics: Option<String>,
    /// Not to be sent before this (reminders wait for the day before).
    pub due: DateTime<Utc>,
}

/// An email taken from the outbox to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMail {
    pub id: i64,
    pub kind: MailKind,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub ics: Option<String>,
    /// Attempts so far, this one included once claimed.
    pub attempts: u32,
}

/// How the outbox stands, for the dashboard.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MailCounts {
    pub waiting: i64,
    pub failed: i64,
    pub sent: i64,
}

/// Which consultations to list.
#[derive(Debug, Clone, Copy)]
pub enum Listing {
    /// Ending after this instant, soonest first.
    Upcoming(DateTime<Utc>),
    /// Ended by this instant, most recent first.
    Past(DateTime<Utc>),
    /// Everything, by start.
    All,
}

/// What changing a booking's time did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moved {
    Moved,
    /// The new time is no longer free.
    Taken,
    /// The consultation is not booked (cancelled, or gone).
    NotBooked,
}

/// What a retention purge removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub consultations: u64,
    pub mail: u64,
    pub sessions: u64,
}

/// A booking written but not yet committed: its transaction stays open
/// while the service writes the mail that names its id. Dropped without
/// [`PendingBooking::commit`], nothing is kept.
#[async_trait]
pub trait PendingBooking: Send {
    /// The new consultation's id.
    fn id(&self) -> i64;

    /// Queues `mail` with the booking and commits both at once.
    async fn commit(self: Box<Self>, mail: &[NewMail]) -> Result<(), StoreError>;
}

/// Everything the site keeps, behind one interface.
#[async_trait]
pub trait BookingStore: Send + Sync {
    /// Starts booking `slot` for `client` in one transaction, if `guard`
    /// still holds there (nothing booked too close, the day not full) and
    /// the slot's unique constraint agrees. `Ok(None)` means the time was
    /// taken. The caller writes the mail and commits ([`PendingBooking`]).
    async fn begin_booking(
        &self,
        slot: Slot,
        client: &ClientDetails,
        manage_hash: &str,
        now: DateTime<Utc>,
        guard: &Guard,
    ) -> Result<Option<Box<dyn PendingBooking>>, StoreError>;

    /// Booked consultations starting in `[from, to)`.
    async fn busy_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Busy>, StoreError>;

    async fn consultation(&self, id: i64) -> Result<Option<Consultation>, StoreError>;

    /// The consultation whose private link hashes to `manage_hash`.
    async fn consultation_by_link(
        &self,
        manage_hash: &str,
    ) -> Result<Option<Consultation>, StoreError>;

    async fn consultations(&self, listing: Listing) -> Result<Vec<Consultation>, StoreError>;

    /// Cancels a booked consultation, withdraws its unsent reminders and
    /// queues `mail`, in one transaction. `false` if it was not booked.
    async fn cancel(
        &self,
        id: i64,
        by: CancelledBy,
        now: DateTime<Utc>,
        mail: Vec<NewMail>,
    ) -> Result<bool, StoreError>;

    /// Moves a booked consultation to `slot` under the same rules as
    /// [`BookingStore::book`], withdraws its unsent reminders and queues `mail`.
    async fn reschedule(
        &self,
        id: i64,
        slot: Slot,
        guard: &Guard,
        now: DateTime<Utc>,
        mail: Vec<NewMail>,
    ) -> Result<Moved, StoreError>;

    /// Deletes a consultation and its unsent mail, except a cancellation
    /// notice still owed to the client. `false` if there was none.
    async fn delete(&self, id: i64) -> Result<bool, StoreError>;

    /// Deletes consultations that ended before `ended_before`, finished mail
    /// older than `mail_before`, and expired sessions.
    async fn purge(
        &self,
        ended_before: DateTime<Utc>,
        mail_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Purged, StoreError>;

    /// Ids of mail due at `now`: waiting and due, or abandoned mid-send
    /// (its lease expired).
    async fn due_mail(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<i64>, StoreError>;

    /// Takes one mail for sending until `lease_until`, counting an attempt.
    /// `None` if another sender has it or it is no longer due. The claim is
    /// committed before any SMTP traffic, so two senders never send one mail
    /// at the same time.
    async fn claim_mail(
        &self,
        id: i64,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<OutboxMail>, StoreError>;

    /// Returns every mail claimed by an earlier run of the server (it died
    /// mid-send) to the queue at once, instead of waiting out its lease.
    /// Only for a store that one server uses: another live sender's claims
    /// would be taken too.
    async fn release_claims(&self) -> Result<u64, StoreError>;

    /// Marks a mail sent and forgets its contents.
    async fn mail_sent(&self, id: i64, now: DateTime<Utc>) -> Result<(), StoreError>;

    /// Records a failed attempt: retry at `retry_at`, or give up when `None`.
    async fn mail_failed(
        &self,
        id: i64,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError>;

    async fn mail_counts(&self) -> Result<MailCounts, StoreError>;

    async fn create_session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Whether an unexpired session has this hash.
    async fn session_valid(&self, token_hash: &str, now: DateTime<Utc>)
    -> Result<bool, StoreError>;

    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError>;

    /// The signing key kept in the database, created with `generate` the
    /// first time, so tokens and links survive restarts.
    async fn secret_key(
        &self,
        generate: &(dyn Fn() -> Vec<u8> + Send + Sync),
    ) -> Result<Vec<u8>, StoreError>;
}

/// SQLite through sqlx: one file, WAL mode, readable by its owner only.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
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
        Ok(Self { pool })
    }

    /// Opens an already migrated database without touching it until the
    /// first query (for callers that cannot wait here, such as test helpers).
    pub fn open_lazy(path: &Path) -> Self {
        Self {
            pool: pool_options().connect_lazy_with(connect_options(path)),
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

fn ts(instant: DateTime<Utc>) -> i64 {
    instant.timestamp()
}

fn from_ts(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap_or_default()
}

const CONSULTATION_COLUMNS: &str = "id, starts_at, ends_at, status, name, email, phone, contact_method, topic, note, sequence, created_at, cancelled_at, cancelled_by";

fn consultation_from_row(row: &SqliteRow) -> Result<Consultation, sqlx::Error> {
    let decode = |column: &str, what: &str| sqlx::Error::ColumnDecode {
        index: column.to_string(),
        source: format!("unknown {what}").into(),
    };
    let status: String = row.try_get("status")?;
    let contact: String = row.try_get("contact_method")?;
    let topic: String = row.try_get("topic")?;
    let cancelled_by: Option<String> = row.try_get("cancelled_by")?;
    Ok(Consultation {
        id: row.try_get("id")?,
        start: from_ts(row.try_get("starts_at")?),
        end: from_ts(row.try_get("ends_at")?),
        status: match status.as_str() {
            "booked" => Status::Booked,
            "cancelled" => Status::Cancelled,
            _ => return Err(decode("status", "status")),
        },
        client: ClientDetails {
            name: row.try_get("name")?,
            email: row.try_get("email")?,
            phone: row.try_get("phone")?,
            contact: ContactMethod::from_code(&contact)
                .ok_or_else(|| decode("contact_method", "contact method"))?,
            topic: Topic::from_code(&topic).ok_or_else(|| decode("topic", "topic"))?,
            note: row.try_get("note")?,
        },
        sequence: row.try_get::<i64, _>("sequence")?.try_into().unwrap_or(0),
        created_at: from_ts(row.try_get("created_at")?),
        cancelled_at: row.try_get::<Option<i64>, _>("cancelled_at")?.map(from_ts),
        cancelled_by: match cancelled_by.as_deref() {
            Some("client") => Some(CancelledBy::Client),
            Some("therapist") => Some(CancelledBy::Therapist),
            _ => None,
        },
    })
}

fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Whether `guard` still holds in this transaction (ignoring consultation `except`).
async fn guard_holds(
    tx: &mut Transaction<'_, Sqlite>,
    guard: &Guard,
    except: i64,
) -> Result<bool, sqlx::Error> {
    let clashes: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM consultations
         WHERE status = 'booked' AND id != ?1 AND starts_at < ?2 AND ends_at > ?3",
    )
    .bind(except)
    .bind(ts(guard.conflict_to))
    .bind(ts(guard.conflict_from))
    .fetch_one(&mut **tx)
    .await?;
    if clashes > 0 {
        return Ok(false);
    }
    let that_day: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM consultations
         WHERE status = 'booked' AND id != ?1 AND starts_at >= ?2 AND starts_at < ?3",
    )
    .bind(except)
    .bind(ts(guard.day_from))
    .bind(ts(guard.day_to))
    .fetch_one(&mut **tx)
    .await?;
    Ok(that_day < i64::from(guard.daily_maximum))
}

async fn insert_mail(
    tx: &mut Transaction<'_, Sqlite>,
    consultation: i64,
    mail: &[NewMail],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    for m in mail {
        sqlx::query(
            "INSERT INTO outbox (consultation_id, kind, recipient, subject, body, ics, next_attempt_at, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )
        .bind(consultation)
        .bind(m.kind.code())
        .bind(&m.recipient)
        .bind(&m.subject)
        .bind(&m.body)
        .bind(&m.ics)
        .bind(ts(m.due))
        .bind(ts(now))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Withdraws a consultation's unsent reminders (and forgets their text).
async fn withdraw_reminders(
    tx: &mut Transaction<'_, Sqlite>,
    consultation: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE outbox SET status = 'cancelled', recipient = '', subject = '', body = '', ics = NULL
         WHERE consultation_id = ?1 AND kind = ?2 AND status = 'pending'",
    )
    .bind(consultation)
    .bind(MailKind::Reminder.code())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A booking inserted in an open SQLite transaction.
struct SqlitePending {
    tx: Transaction<'static, Sqlite>,
    id: i64,
    now: DateTime<Utc>,
}

#[async_trait]
impl PendingBooking for SqlitePending {
    fn id(&self) -> i64 {
        self.id
    }

    async fn commit(mut self: Box<Self>, mail: &[NewMail]) -> Result<(), StoreError> {
        insert_mail(&mut self.tx, self.id, mail, self.now).await?;
        self.tx.commit().await?;
        Ok(())
    }
}

/// `BEGIN IMMEDIATE` takes SQLite's write lock at once, so the checks and
/// the write in one transaction see no other writer in between (a plain
/// `BEGIN` would fail with "database is locked" when two upgrade at once).
const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

#[async_trait]
impl BookingStore for SqliteStore {
    async fn begin_booking(
        &self,
        slot: Slot,
        client: &ClientDetails,
        manage_hash: &str,
        now: DateTime<Utc>,
        guard: &Guard,
    ) -> Result<Option<Box<dyn PendingBooking>>, StoreError> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await?;
        if !guard_holds(&mut tx, guard, 0).await? {
            return Ok(None);
        }
        let inserted = sqlx::query_scalar::<_, i64>(
            "INSERT INTO consultations
               (starts_at, ends_at, status, name, email, phone, contact_method, topic, note, manage_hash, created_at)
             VALUES (?1, ?2, 'booked', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
             RETURNING id",
        )
        .bind(ts(slot.start))
        .bind(ts(slot.end))
        .bind(&client.name)
        .bind(&client.email)
        .bind(&client.phone)
        .bind(client.contact.code())
        .bind(client.topic.code())
        .bind(&client.note)
        .bind(manage_hash)
        .bind(ts(now))
        .fetch_one(&mut *tx)
        .await;
        match inserted {
            Ok(id) => Ok(Some(Box::new(SqlitePending { tx, id, now }))),
            // The database's own guarantee: the slot's unique index.
            Err(err) if is_unique_violation(&err) => Ok(None),
            Err(err) => Err(err.into()),
        }
    }

    async fn busy_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Busy>, StoreError> {
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT starts_at, ends_at FROM consultations
             WHERE status = 'booked' AND starts_at < ?2 AND ends_at > ?1
             ORDER BY starts_at",
        )
        .bind(ts(from))
        .bind(ts(to))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(start, end)| Busy {
                start: from_ts(start),
                end: from_ts(end),
            })
            .collect())
    }

    async fn consultation(&self, id: i64) -> Result<Option<Consultation>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {CONSULTATION_COLUMNS} FROM consultations WHERE id = ?1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(consultation_from_row).transpose()?)
    }

    async fn consultation_by_link(
        &self,
        manage_hash: &str,
    ) -> Result<Option<Consultation>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {CONSULTATION_COLUMNS} FROM consultations WHERE manage_hash = ?1"
        ))
        .bind(manage_hash)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(consultation_from_row).transpose()?)
    }

    async fn consultations(&self, listing: Listing) -> Result<Vec<Consultation>, StoreError> {
        let (filter, order, at) = match listing {
            Listing::Upcoming(now) => ("ends_at > ?1", "starts_at ASC", ts(now)),
            Listing::Past(now) => ("ends_at <= ?1", "starts_at DESC", ts(now)),
            Listing::All => ("?1 = ?1", "starts_at ASC", 0),
        };
        let rows = sqlx::query(&format!(
            "SELECT {CONSULTATION_COLUMNS} FROM consultations WHERE {filter} ORDER BY {order}, id"
        ))
        .bind(at)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(consultation_from_row)
            .collect::<Result<_, _>>()?)
    }

    async fn cancel(
        &self,
        id: i64,
        by: CancelledBy,
        now: DateTime<Utc>,
        mail: Vec<NewMail>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await?;
        let changed = sqlx::query(
            "UPDATE consultations SET status = ?1, cancelled_at = ?2, cancelled_by = ?3, sequence = sequence + 1
             WHERE id = ?4 AND status = 'booked'",
        )
        .bind(Status::Cancelled.code())
        .bind(ts(now))
        .bind(by.code())
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            return Ok(false);
        }
        withdraw_reminders(&mut tx, id).await?;
        insert_mail(&mut tx, id, &mail, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn reschedule(
        &self,
        id: i64,
        slot: Slot,
        guard: &Guard,
        now: DateTime<Utc>,
        mail: Vec<NewMail>,
    ) -> Result<Moved, StoreError> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await?;
        let booked: Option<i64> =
            sqlx::query_scalar("SELECT id FROM consultations WHERE id = ?1 AND status = 'booked'")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        if booked.is_none() {
            return Ok(Moved::NotBooked);
        }
        if !guard_holds(&mut tx, guard, id).await? {
            return Ok(Moved::Taken);
        }
        let updated = sqlx::query(
            "UPDATE consultations SET starts_at = ?1, ends_at = ?2, sequence = sequence + 1
             WHERE id = ?3",
        )
        .bind(ts(slot.start))
        .bind(ts(slot.end))
        .bind(id)
        .execute(&mut *tx)
        .await;
        match updated {
            Ok(_) => {}
            Err(err) if is_unique_violation(&err) => return Ok(Moved::Taken),
            Err(err) => return Err(err.into()),
        }
        withdraw_reminders(&mut tx, id).await?;
        insert_mail(&mut tx, id, &mail, now).await?;
        tx.commit().await?;
        Ok(Moved::Moved)
    }

    async fn delete(&self, id: i64) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await?;
        sqlx::query(
            "DELETE FROM outbox WHERE consultation_id = ?1 AND status != 'sending'
               AND (status != 'pending' OR kind != ?2)",
        )
        .bind(id)
        .bind(MailKind::Cancellation.code())
        .execute(&mut *tx)
        .await?;
        let deleted = sqlx::query("DELETE FROM consultations WHERE id = ?1")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(deleted > 0)
    }

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

    async fn due_mail(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM outbox
             WHERE (status = 'pending' AND next_attempt_at <= ?1)
                OR (status = 'sending' AND lease_until <= ?1)
             ORDER BY next_attempt_at, id LIMIT ?2",
        )
        .bind(ts(now))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?)
    }

    async fn release_claims(&self) -> Result<u64, StoreError> {
        Ok(
            sqlx::query("UPDATE outbox SET status = 'pending' WHERE status = 'sending'")
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
    }

    async fn claim_mail(
        &self,
        id: i64,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<OutboxMail>, StoreError> {
        let row = sqlx::query(
            "UPDATE outbox SET status = 'sending', attempts = attempts + 1, lease_until = ?3
             WHERE id = ?1 AND ((status = 'pending' AND next_attempt_at <= ?2)
                             OR (status = 'sending' AND lease_until <= ?2))
             RETURNING id, kind, recipient, subject, body, ics, attempts",
        )
        .bind(id)
        .bind(ts(now))
        .bind(ts(lease_until))
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let kind: String = row.try_get("kind")?;
        Ok(Some(OutboxMail {
            id: row.try_get("id")?,
            kind: MailKind::from_code(&kind).ok_or_else(|| sqlx::Error::ColumnDecode {
                index: "kind".into(),
                source: "unknown mail kind".into(),
            })?,
            recipient: row.try_get("recipient")?,
            subject: row.try_get("subject")?,
            body: row.try_get("body")?,
            ics: row.try_get("ics")?,
            attempts: row
                .try_get::<i64, _>("attempts")?
                .try_into()
                .unwrap_or(u32::MAX),
        }))
    }

    async fn mail_sent(&self, id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox SET status = 'sent', sent_at = ?2, lease_until = NULL, last_error = NULL,
                    recipient = '', subject = '', body = '', ics = NULL
             WHERE id = ?1",
        )
        .bind(id)
        .bind(ts(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn mail_failed(
        &self,
        id: i64,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        let (status, next) = match retry_at {
            Some(at) => ("pending", Some(ts(at))),
            None => ("failed", None),
        };
        sqlx::query(
            "UPDATE outbox SET status = ?2, last_error = ?3, lease_until = NULL,
                    next_attempt_at = COALESCE(?4, next_attempt_at)
             WHERE id = ?1",
        )
        .bind(id)
        .bind(status)
        .bind(error)
        .bind(next)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn mail_counts(&self) -> Result<MailCounts, StoreError> {
        let (waiting, failed, sent): (i64, i64, i64) = sqlx::query_as(
            "SELECT
               COALESCE(SUM(status IN ('pending', 'sending')), 0),
               COALESCE(SUM(status = 'failed'), 0),
               COALESCE(SUM(status = 'sent'), 0)
             FROM outbox",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(MailCounts {
            waiting,
            failed,
            sent,
        })
    }

    async fn create_session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO admin_sessions (token_hash, created_at, expires_at) VALUES (?1, ?2, ?3)",
        )
        .bind(token_hash)
        .bind(ts(now))
        .bind(ts(expires))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn session_valid(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM admin_sessions WHERE token_hash = ?1 AND expires_at > ?2",
        )
        .bind(token_hash)
        .bind(ts(now))
        .fetch_optional(&self.pool)
        .await?;
        Ok(found.is_some())
    }

    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM admin_sessions WHERE token_hash = ?1")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn secret_key(
        &self,
        generate: &(dyn Fn() -> Vec<u8> + Send + Sync),
    ) -> Result<Vec<u8>, StoreError> {
        sqlx::query("INSERT OR IGNORE INTO settings (key, value) VALUES ('secret_key', ?1)")
            .bind(generate())
            .execute(&self.pool)
            .await?;
        Ok(
            sqlx::query_scalar("SELECT value FROM settings WHERE key = 'secret_key'")
                .fetch_one(&self.pool)
                .await?,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        from_ts(seconds)
    }

    async fn store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("test.db"))
            .await
            .unwrap();
        (dir, store)
    }

    fn jane() -> ClientDetails {
        ClientDetails {
            name: "Jane Doe".into(),
            email: "jane@example.com".into(),
            phone: None,
            contact: ContactMethod::Email,
            topic: Topic::Individual,
            note: None,
        }
    }

    /// Books a 15-minute slot at `start` with no mail, committing at once.
    async fn book(store: &SqliteStore, start: i64, hash: &str, guard: &Guard) -> Option<i64> {
        let slot = Slot {
            start: at(start),
            end: at(start + 900),
        };
        let pending = store
            .begin_booking(slot, &jane(), hash, at(0), guard)
            .await
            .unwrap()?;
        let id = pending.id();
        pending.commit(&[]).await.unwrap();
        Some(id)
    }

    fn open_guard(start: i64) -> Guard {
        Guard {
            conflict_from: at(start),
            conflict_to: at(start + 900),
            day_from: at(start - 3600),
            day_to: at(start + 3600),
            daily_maximum: 10,
        }
    }

    #[tokio::test]
    async fn the_unique_index_refuses_a_second_booking_of_a_slot_by_itself() {
        let (_dir, store) = store().await;
        let insert = |hash: &'static str, status: &'static str| {
            sqlx::query(
                "INSERT INTO consultations (starts_at, ends_at, status, name, email, contact_method, topic, manage_hash, created_at)
                 VALUES (1000, 1900, ?2, 'x', 'x@example.com', 'email', 'kap', ?1, 0)",
            )
            .bind(hash)
            .bind(status)
            .execute(store.pool())
        };
        insert("a", "booked").await.unwrap();
        let err = insert("b", "booked").await.unwrap_err();
        assert!(is_unique_violation(&err), "{err}");
        // A cancelled one at the same time is fine: cancelling frees the slot.
        insert("c", "cancelled").await.unwrap();
    }

    #[tokio::test]
    async fn booking_checks_the_guard_inside_the_transaction() {
        let (_dir, store) = store().await;
        let first = book(&store, 10_000, "h1", &open_guard(10_000)).await;
        assert!(first.is_some());
        let again = book(&store, 10_000, "h2", &open_guard(10_000)).await;
        assert_eq!(again, None, "taken");
        // An overlapping, different start is refused by the guard.
        let mut overlapping = open_guard(10_300);
        overlapping.conflict_to = at(11_200);
        let clash = book(&store, 10_300, "h3", &overlapping).await;
        assert_eq!(clash, None);
        // The daily maximum counts booked consultations of the day.
        let mut full = open_guard(20_000);
        full.day_from = at(0);
        full.day_to = at(30_000);
        full.daily_maximum = 1;
        assert_eq!(book(&store, 20_000, "h4", &full).await, None);
        // Cancelling frees the slot.
        let id = first.unwrap();
        assert!(
            store
                .cancel(id, CancelledBy::Client, at(1), Vec::new())
                .await
                .unwrap()
        );
        assert!(
            !store
                .cancel(id, CancelledBy::Client, at(1), Vec::new())
                .await
                .unwrap()
        );
        assert!(
            book(&store, 10_000, "h5", &open_guard(10_000))
                .await
                .is_some()
        );
    }

    #[tokio::test]
    async fn a_booking_never_committed_keeps_nothing() {
        let (_dir, store) = store().await;
        let slot = Slot {
            start: at(10_000),
            end: at(10_900),
        };
        let pending = store
            .begin_booking(slot, &jane(), "h1", at(0), &open_guard(10_000))
            .await
            .unwrap()
            .unwrap();
        drop(pending);
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM consultations")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(count, 0);
        assert!(
            book(&store, 10_000, "h2", &open_guard(10_000))
                .await
                .is_some()
        );
    }

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
