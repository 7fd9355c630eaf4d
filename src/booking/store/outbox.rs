//! The outbox: mail is written in the same transaction as the
//! change it reports (`insert_mail`, used by the consultation writes), then
//! claimed, sent and marked by the outbox worker (`notify`).
//!
//! A claim is committed before any SMTP traffic and holds a lease, so two
//! senders never send one mail at once; sent mail keeps no text, and a
//! withdrawn reminder forgets its text too.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Any, Row, Transaction};

use super::{SqlStore, StoreError, from_ts, ts};

/// What an email is about; reminders are withdrawn when plans change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    TherapistNew,
    /// A request awaits her answer (`approve_bookings`).
    TherapistRequest,
    TherapistCancelled,
    TherapistMoved,
    Confirmation,
    /// The client's request is received and awaits her answer.
    RequestReceived,
    Reminder,
    Cancellation,
}

impl MailKind {
    /// What the message is, in the dashboard's words.
    pub fn label(self) -> &'static str {
        match self {
            Self::TherapistNew => "New booking (to you)",
            Self::TherapistRequest => "New request (to you)",
            Self::TherapistCancelled => "Cancellation (to you)",
            Self::TherapistMoved => "Time changed (to you)",
            Self::Confirmation => "Confirmation (to the client)",
            Self::RequestReceived => "Request received (to the client)",
            Self::Reminder => "Reminder (to the client)",
            Self::Cancellation => "Cancellation (to the client)",
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::TherapistNew => "therapist-new",
            Self::TherapistRequest => "therapist-request",
            Self::TherapistCancelled => "therapist-cancelled",
            Self::TherapistMoved => "therapist-moved",
            Self::Confirmation => "confirmation",
            Self::RequestReceived => "request",
            Self::Reminder => "reminder",
            Self::Cancellation => "cancellation",
        }
    }

    fn from_code(code: &str) -> Option<Self> {
        [
            Self::TherapistNew,
            Self::TherapistRequest,
            Self::TherapistCancelled,
            Self::TherapistMoved,
            Self::Confirmation,
            Self::RequestReceived,
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

/// Where one message stands, for the dashboard: no address, no text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailState {
    pub id: i64,
    pub consultation: Option<i64>,
    pub kind: MailKind,
    /// `pending`, `sending`, `sent`, `failed` or `cancelled`.
    pub status: String,
    pub attempts: u32,
    /// The category of the last failure ("the mail server refused the login").
    pub last_error: Option<String>,
    pub next_attempt: Option<DateTime<Utc>>,
    pub created: DateTime<Utc>,
    pub sent: Option<DateTime<Utc>>,
}

/// How the outbox stands, for the dashboard and `/healthz`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MailCounts {
    pub waiting: i64,
    pub failed: i64,
    pub sent: i64,
    /// When the longest-waiting message was queued.
    pub oldest_waiting: Option<DateTime<Utc>>,
}

/// The mail queue.
#[async_trait]
pub trait OutboxStore: Send + Sync {
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
    /// Does nothing on a database that several servers share, where the
    /// claims may be another live sender's: those wait out their lease.
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

    /// The newest `limit` messages, newest first.
    async fn recent_mail(&self, limit: u32) -> Result<Vec<MailState>, StoreError>;
}

pub(super) async fn insert_mail(
    tx: &mut Transaction<'_, Any>,
    consultation: i64,
    mail: &[NewMail],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    for m in mail {
        sqlx::query(
            "INSERT INTO outbox (consultation_id, kind, recipient, subject, body, ics, next_attempt_at, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
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
pub(super) async fn withdraw_reminders(
    tx: &mut Transaction<'_, Any>,
    consultation: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE outbox SET status = 'cancelled', recipient = '', subject = '', body = '', ics = NULL
         WHERE consultation_id = $1 AND kind = $2 AND status = 'pending'",
    )
    .bind(consultation)
    .bind(MailKind::Reminder.code())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[async_trait]
impl OutboxStore for SqlStore {
    async fn due_mail(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM outbox
             WHERE (status = 'pending' AND next_attempt_at <= $1)
                OR (status = 'sending' AND lease_until <= $1)
             ORDER BY next_attempt_at, id LIMIT $2",
        )
        .bind(ts(now))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?)
    }

    async fn release_claims(&self) -> Result<u64, StoreError> {
        // A shared database's claims may be another live server's: they
        // come back to the queue only when their lease runs out.
        if self.is_shared() {
            return Ok(0);
        }
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
            "UPDATE outbox SET status = 'sending', attempts = attempts + 1, lease_until = $3
             WHERE id = $1 AND ((status = 'pending' AND next_attempt_at <= $2)
                             OR (status = 'sending' AND lease_until <= $2))
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
            "UPDATE outbox SET status = 'sent', sent_at = $2, lease_until = NULL, last_error = NULL,
                    recipient = '', subject = '', body = '', ics = NULL
             WHERE id = $1",
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
            "UPDATE outbox SET status = $2, last_error = $3, lease_until = NULL,
                    next_attempt_at = COALESCE($4, next_attempt_at)
             WHERE id = $1",
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
        let (waiting, failed, sent, oldest): (i64, i64, i64, Option<i64>) = sqlx::query_as(
            "SELECT
               COUNT(CASE WHEN status IN ('pending', 'sending') THEN 1 END),
               COUNT(CASE WHEN status = 'failed' THEN 1 END),
               COUNT(CASE WHEN status = 'sent' THEN 1 END),
               MIN(CASE WHEN status IN ('pending', 'sending') THEN created_at END)
             FROM outbox",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(MailCounts {
            waiting,
            failed,
            sent,
            oldest_waiting: oldest.map(from_ts),
        })
    }

    async fn recent_mail(&self, limit: u32) -> Result<Vec<MailState>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, consultation_id, kind, status, attempts, last_error, next_attempt_at,
                    created_at, sent_at
             FROM outbox ORDER BY created_at DESC, id DESC LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .filter_map(|row| {
                let status: String = row.get("status");
                let waiting = matches!(status.as_str(), "pending" | "sending");
                Some(MailState {
                    id: row.get("id"),
                    consultation: row.get("consultation_id"),
                    kind: MailKind::from_code(row.get("kind"))?,
                    attempts: row.get::<i64, _>("attempts").try_into().unwrap_or(0),
                    last_error: row.get("last_error"),
                    next_attempt: waiting.then(|| from_ts(row.get("next_attempt_at"))),
                    created: from_ts(row.get("created_at")),
                    sent: row.get::<Option<i64>, _>("sent_at").map(from_ts),
                    status,
                })
            })
            .collect())
    }
}
