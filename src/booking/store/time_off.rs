//! The therapist's time off: spans she closed from the dashboard
//! (whole days, or one slot), read with the consultations when times are
//! offered and re-checked inside the booking transaction
//! (`consultations::guard_holds`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{SqlStore, StoreError, from_ts, ts};

/// What a span of time off closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeOffKind {
    /// Whole days, from one local midnight to another.
    Days,
    /// One offered time, which she can reopen.
    Slot,
}

impl TimeOffKind {
    fn code(self) -> &'static str {
        match self {
            Self::Days => "days",
            Self::Slot => "slot",
        }
    }
}

/// A closed span, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeOff {
    pub id: i64,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub kind: TimeOffKind,
}

#[async_trait]
pub trait TimeOffStore: Send + Sync {
    /// Closes `[start, end)`; returns the new span's id.
    async fn add_time_off(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        kind: TimeOffKind,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError>;

    /// Reopens a span. `false` if there was none.
    async fn remove_time_off(&self, id: i64) -> Result<bool, StoreError>;

    /// The spans overlapping `[from, to)`, earliest first.
    async fn time_off_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<TimeOff>, StoreError>;
}

#[async_trait]
impl TimeOffStore for SqlStore {
    async fn add_time_off(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        kind: TimeOffKind,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "INSERT INTO time_off (starts_at, ends_at, kind, created_at)
             VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(ts(start))
        .bind(ts(end))
        .bind(kind.code())
        .bind(ts(now))
        .fetch_one(&self.pool)
        .await?)
    }

    async fn remove_time_off(&self, id: i64) -> Result<bool, StoreError> {
        let removed = sqlx::query("DELETE FROM time_off WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(removed > 0)
    }

    async fn time_off_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<TimeOff>, StoreError> {
        let rows: Vec<(i64, i64, i64, String)> = sqlx::query_as(
            "SELECT id, starts_at, ends_at, kind FROM time_off
             WHERE starts_at < $2 AND ends_at > $1 ORDER BY starts_at, id",
        )
        .bind(ts(from))
        .bind(ts(to))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, start, end, kind)| TimeOff {
                id,
                start: from_ts(start),
                end: from_ts(end),
                kind: if kind == "slot" {
                    TimeOffKind::Slot
                } else {
                    TimeOffKind::Days
                },
            })
            .collect())
    }
}
