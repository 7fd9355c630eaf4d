//! Consultations: booking a time (the guard and the slot's unique index
//! checked inside one write transaction that the service commits with its
//! mail, [`PendingBooking`]), reading them for the pages and the feed,
//! cancelling, moving and deleting.
//!
//! No double booking is the database's job: a partial unique index on the
//! start of booked consultations, and the guard (buffers, daily maximum,
//! time off) re-checked while the write lock is held
//! ([`SqlStore::begin_write`]), whichever server asks.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::outbox::{MailKind, NewMail, insert_mail, withdraw_reminders};
use super::{SqlStore, StoreError, from_ts, is_unique_violation, ts};
use crate::booking::availability::{Busy, Guard, Slot};
use crate::booking::form::{ClientDetails, ContactMethod, Topic};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Waiting for the therapist's approval: it holds its time.
    Requested,
    Booked,
    Cancelled,
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
    /// `None`, and cancelled: a request that lapsed without her answer.
    pub cancelled_by: Option<CancelledBy>,
    /// While a request: when it lapses. Kept after a request is declined
    /// or lapses; cleared when she approves it.
    pub awaiting_until: Option<DateTime<Utc>>,
}

impl Consultation {
    /// Whether it holds its time: booked, or a request awaiting her answer.
    pub fn is_held(&self) -> bool {
        matches!(self.status, Status::Booked | Status::Requested)
    }
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

/// Booking, reading and changing consultations.
#[async_trait]
pub trait ConsultationStore: Send + Sync {
    /// Starts booking `slot` for `client` in one transaction, if `guard`
    /// still holds there (nothing booked too close, the day not full) and
    /// the slot's unique constraint agrees. `Ok(None)` means the time was
    /// taken. The caller writes the mail and commits ([`PendingBooking`]).
    /// With `awaiting_until`, it is a request that lapses then.
    async fn begin_booking(
        &self,
        slot: Slot,
        client: &ClientDetails,
        manage_hash: &str,
        now: DateTime<Utc>,
        guard: &Guard,
        awaiting_until: Option<DateTime<Utc>>,
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

    /// Cancels a booked consultation or a request (declined when she
    /// cancels it), withdraws its unsent reminders and queues `mail`, in
    /// one transaction. `false` if it was not booked.
    async fn cancel(
        &self,
        id: i64,
        by: CancelledBy,
        now: DateTime<Utc>,
        mail: Vec<NewMail>,
    ) -> Result<bool, StoreError>;

    /// Approves a request still within its time to answer at `now`: it is
    /// booked, with a new private link (`manage_hash`; the request's link
    /// keeps working), and `mail` is queued, in one transaction. `false` if
    /// it was not a request any more (answered, withdrawn, lapsed or past
    /// its time).
    async fn approve(
        &self,
        id: i64,
        manage_hash: &str,
        now: DateTime<Utc>,
        mail: Vec<NewMail>,
    ) -> Result<bool, StoreError>;

    /// Releases a request whose time to answer has passed by `now`, and
    /// queues `mail`. `false` if it was answered or withdrawn meanwhile.
    async fn lapse(
        &self,
        id: i64,
        now: DateTime<Utc>,
        mail: Vec<NewMail>,
    ) -> Result<bool, StoreError>;

    /// Moves a booked consultation to `slot` under the same rules as
    /// [`ConsultationStore::begin_booking`] (the guard and the unique index,
    /// in one transaction), withdraws its unsent reminders and queues `mail`.
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
}

const CONSULTATION_COLUMNS: &str = "id, starts_at, ends_at, status, name, email, phone, contact_method, topic, note, sequence, created_at, cancelled_at, cancelled_by, awaiting_until";

fn consultation_from_row(row: &AnyRow) -> Result<Consultation, sqlx::Error> {
    let decode = |column: &str, what: &str| sqlx::Error::ColumnDecode {
        index: column.to_string(),
        source: format!("unknown {what}").into(),
    };
    let status: String = row.try_get("status")?;
    let contact: String = row.try_get("contact_method")?;
    let topic: String = row.try_get("topic")?;
    let cancelled_by: Option<String> = row.try_get("cancelled_by")?;
    let awaiting_until = row
        .try_get::<Option<i64>, _>("awaiting_until")?
        .map(from_ts);
    Ok(Consultation {
        id: row.try_get("id")?,
        start: from_ts(row.try_get("starts_at")?),
        end: from_ts(row.try_get("ends_at")?),
        status: match status.as_str() {
            "booked" if awaiting_until.is_some() => Status::Requested,
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
        awaiting_until,
    })
}

/// Whether `guard` still holds in this transaction (ignoring consultation `except`).
async fn guard_holds(
    tx: &mut Transaction<'_, Any>,
    guard: &Guard,
    except: i64,
) -> Result<bool, sqlx::Error> {
    let clashes: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM consultations
         WHERE status = 'booked' AND id != $1 AND starts_at < $2 AND ends_at > $3",
    )
    .bind(except)
    .bind(ts(guard.conflict_to))
    .bind(ts(guard.conflict_from))
    .fetch_one(&mut **tx)
    .await?;
    if clashes > 0 {
        return Ok(false);
    }
    // Time she closed from the dashboard a moment ago counts as well.
    let closed: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM time_off WHERE starts_at < $1 AND ends_at > $2")
            .bind(ts(guard.conflict_to))
            .bind(ts(guard.conflict_from))
            .fetch_one(&mut **tx)
            .await?;
    if closed > 0 {
        return Ok(false);
    }
    let that_day: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM consultations
         WHERE status = 'booked' AND id != $1 AND starts_at >= $2 AND starts_at < $3",
    )
    .bind(except)
    .bind(ts(guard.day_from))
    .bind(ts(guard.day_to))
    .fetch_one(&mut **tx)
    .await?;
    Ok(that_day < i64::from(guard.daily_maximum))
}

/// A booking inserted in an open transaction.
struct PendingWrite {
    tx: Transaction<'static, Any>,
    id: i64,
    now: DateTime<Utc>,
}

#[async_trait]
impl PendingBooking for PendingWrite {
    fn id(&self) -> i64 {
        self.id
    }

    async fn commit(mut self: Box<Self>, mail: &[NewMail]) -> Result<(), StoreError> {
        insert_mail(&mut self.tx, self.id, mail, self.now).await?;
        self.tx.commit().await?;
        Ok(())
    }
}

impl SqlStore {
    /// Cancels consultation `id` while it is booked and `also` (SQL over
    /// `$5`, the instant `now`) holds; withdraws its reminders and queues
    /// `mail`, all in one transaction.
    async fn end_booking(
        &self,
        id: i64,
        by: Option<CancelledBy>,
        also: &str,
        now: DateTime<Utc>,
        mail: Vec<NewMail>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let changed = sqlx::query(&format!(
            "UPDATE consultations SET status = $1, cancelled_at = $2, cancelled_by = $3, sequence = sequence + 1
             WHERE id = $4 AND status = 'booked' {also}"
        ))
        .bind("cancelled")
        .bind(ts(now))
        .bind(by.map(CancelledBy::code))
        .bind(id)
        .bind(ts(now))
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
}

#[async_trait]
impl ConsultationStore for SqlStore {
    async fn begin_booking(
        &self,
        slot: Slot,
        client: &ClientDetails,
        manage_hash: &str,
        now: DateTime<Utc>,
        guard: &Guard,
        awaiting_until: Option<DateTime<Utc>>,
    ) -> Result<Option<Box<dyn PendingBooking>>, StoreError> {
        let mut tx = self.begin_write().await?;
        if !guard_holds(&mut tx, guard, 0).await? {
            return Ok(None);
        }
        let inserted = sqlx::query_scalar::<_, i64>(
            "INSERT INTO consultations
               (starts_at, ends_at, status, name, email, phone, contact_method, topic, note, manage_hash, created_at, awaiting_until)
             VALUES ($1, $2, 'booked', $3, $4, $5, $6, $7, $8, $9, $10, $11)
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
        .bind(awaiting_until.map(ts))
        .fetch_one(&mut *tx)
        .await;
        match inserted {
            Ok(id) => Ok(Some(Box::new(PendingWrite { tx, id, now }))),
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
             WHERE status = 'booked' AND starts_at < $2 AND ends_at > $1
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
            "SELECT {CONSULTATION_COLUMNS} FROM consultations WHERE id = $1"
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
            "SELECT {CONSULTATION_COLUMNS} FROM consultations WHERE manage_hash = $1 OR request_hash = $1"
        ))
        .bind(manage_hash)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(consultation_from_row).transpose()?)
    }

    async fn consultations(&self, listing: Listing) -> Result<Vec<Consultation>, StoreError> {
        let (filter, order, at) = match listing {
            Listing::Upcoming(now) => ("ends_at > $1", "starts_at ASC", ts(now)),
            Listing::Past(now) => ("ends_at <= $1", "starts_at DESC", ts(now)),
            Listing::All => ("$1 = $1", "starts_at ASC", 0),
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
        self.end_booking(id, Some(by), "AND $5 = $5", now, mail)
            .await
    }

    async fn approve(
        &self,
        id: i64,
        manage_hash: &str,
        now: DateTime<Utc>,
        mail: Vec<NewMail>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let changed = sqlx::query(
            "UPDATE consultations
                SET awaiting_until = NULL, request_hash = manage_hash, manage_hash = $1
             WHERE id = $2 AND status = 'booked' AND awaiting_until > $3",
        )
        .bind(manage_hash)
        .bind(id)
        .bind(ts(now))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            return Ok(false);
        }
        insert_mail(&mut tx, id, &mail, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn lapse(
        &self,
        id: i64,
        now: DateTime<Utc>,
        mail: Vec<NewMail>,
    ) -> Result<bool, StoreError> {
        self.end_booking(
            id,
            None,
            "AND awaiting_until IS NOT NULL AND awaiting_until <= $5",
            now,
            mail,
        )
        .await
    }

    async fn reschedule(
        &self,
        id: i64,
        slot: Slot,
        guard: &Guard,
        now: DateTime<Utc>,
        mail: Vec<NewMail>,
    ) -> Result<Moved, StoreError> {
        let mut tx = self.begin_write().await?;
        let booked: Option<i64> =
            // A request is answered, not moved.
            sqlx::query_scalar("SELECT id FROM consultations WHERE id = $1 AND status = 'booked' AND awaiting_until IS NULL")
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
            "UPDATE consultations SET starts_at = $1, ends_at = $2, sequence = sequence + 1
             WHERE id = $3",
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
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "DELETE FROM outbox WHERE consultation_id = $1 AND status != 'sending'
               AND (status != 'pending' OR kind != $2)",
        )
        .bind(id)
        .bind(MailKind::Cancellation.code())
        .execute(&mut *tx)
        .await?;
        let deleted = sqlx::query("DELETE FROM consultations WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(deleted > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::booking::store::{Database, SqlStore};

    fn at(seconds: i64) -> DateTime<Utc> {
        from_ts(seconds)
    }

    async fn store() -> (tempfile::TempDir, SqlStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqlStore::open(&Database::Sqlite(dir.path().join("test.db")))
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
    async fn book(store: &SqlStore, start: i64, hash: &str, guard: &Guard) -> Option<i64> {
        let slot = Slot {
            start: at(start),
            end: at(start + 900),
        };
        let pending = store
            .begin_booking(slot, &jane(), hash, at(0), guard, None)
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
    async fn time_off_entered_a_moment_ago_refuses_the_booking_inside_its_transaction() {
        use crate::booking::store::{TimeOffKind, TimeOffStore};
        let (_dir, store) = store().await;
        let off = store
            .add_time_off(at(10_000), at(10_900), TimeOffKind::Slot, at(0))
            .await
            .unwrap();
        assert_eq!(book(&store, 10_000, "h1", &open_guard(10_000)).await, None);
        // Touching is not overlapping: the next time is still free.
        assert!(
            book(&store, 10_900, "h2", &open_guard(10_900))
                .await
                .is_some()
        );
        assert!(store.remove_time_off(off).await.unwrap());
        assert!(
            book(&store, 10_000, "h3", &open_guard(10_000))
                .await
                .is_some()
        );
    }

    #[tokio::test]
    async fn the_unique_index_refuses_a_second_booking_of_a_slot_by_itself() {
        let (_dir, store) = store().await;
        let insert = |hash: &'static str, status: &'static str| {
            sqlx::query(
                "INSERT INTO consultations (starts_at, ends_at, status, name, email, contact_method, topic, manage_hash, created_at)
                 VALUES (1000, 1900, $2, 'x', 'x@example.com', 'email', 'kap', $1, 0)",
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
            .begin_booking(slot, &jane(), "h1", at(0), &open_guard(10_000), None)
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
}
