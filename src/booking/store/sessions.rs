//! The therapist's sessions and the signing key, in the database, so a
//! login and a signed link work on every server that shares it. A session is
//! kept only as the hash of its cookie's token, with an expiry; the key
//! signs form tokens and private links, so it is created once and kept.
//! The calendar feed's generation is kept beside it: the feed's secret
//! address is derived from both, so counting it up retires the old one.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{SqlStore, StoreError, ts};

/// Admin sessions and the secret key.
#[async_trait]
pub trait SessionStore: Send + Sync {
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

    /// The calendar feed's generation: 0 until it is first rotated.
    async fn feed_generation(&self) -> Result<u64, StoreError>;

    /// Counts the feed's generation up by one; returns the new one.
    async fn rotate_feed(&self) -> Result<u64, StoreError>;
}

#[async_trait]
impl SessionStore for SqlStore {
    async fn create_session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO admin_sessions (token_hash, created_at, expires_at) VALUES ($1, $2, $3)",
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
            "SELECT 1 FROM admin_sessions WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(ts(now))
        .fetch_optional(&self.pool)
        .await?;
        Ok(found.is_some())
    }

    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM admin_sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn secret_key(
        &self,
        generate: &(dyn Fn() -> Vec<u8> + Send + Sync),
    ) -> Result<Vec<u8>, StoreError> {
        sqlx::query("INSERT INTO settings (key, value) VALUES ('secret_key', $1) ON CONFLICT (key) DO NOTHING")
            .bind(generate())
            .execute(&self.pool)
            .await?;
        Ok(
            sqlx::query_scalar("SELECT value FROM settings WHERE key = 'secret_key'")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    async fn feed_generation(&self) -> Result<u64, StoreError> {
        let stored: Option<i64> =
            sqlx::query_scalar("SELECT value FROM counters WHERE name = 'feed_generation'")
                .fetch_optional(&self.pool)
                .await?;
        Ok(stored.map_or(0, |n| n.unsigned_abs()))
    }

    async fn rotate_feed(&self) -> Result<u64, StoreError> {
        // One statement: two rotations at once both count.
        let next: i64 = sqlx::query_scalar(
            "INSERT INTO counters (name, value) VALUES ('feed_generation', 1) \
             ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 \
             RETURNING value",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(next.unsigned_abs())
    }
}
