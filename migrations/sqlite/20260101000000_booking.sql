-- Consultations booked online, the outbox of mail about them, admin sessions
-- and the server's own settings. Instants are Unix seconds (UTC).

CREATE TABLE consultations (
    id              INTEGER PRIMARY KEY,
    starts_at       INTEGER NOT NULL,
    ends_at         INTEGER NOT NULL CHECK (ends_at > starts_at),
    status          TEXT    NOT NULL DEFAULT 'booked'
                            CHECK (status IN ('booked', 'cancelled')),
    name            TEXT    NOT NULL,
    email           TEXT    NOT NULL,
    phone           TEXT,
    contact_method  TEXT    NOT NULL,
    topic           TEXT    NOT NULL,
    note            TEXT,
    -- SHA-256 of the private link's token; the token itself is never stored.
    manage_hash     TEXT    NOT NULL UNIQUE,
    -- Bumped when the time changes, so calendars update the event.
    sequence        INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    cancelled_at    INTEGER,
    cancelled_by    TEXT CHECK (cancelled_by IN ('client', 'therapist'))
);

-- No double booking, enforced by the database: at most one booked
-- consultation per start time. Cancelling frees the time.
CREATE UNIQUE INDEX consultations_one_per_slot
    ON consultations (starts_at) WHERE status = 'booked';

CREATE INDEX consultations_by_start ON consultations (starts_at);

-- Every email goes through here, written in the same transaction as the
-- change it reports, and delivered by the outbox worker with retries.
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY,
    consultation_id  INTEGER REFERENCES consultations (id) ON DELETE SET NULL,
    kind             TEXT    NOT NULL,
    recipient        TEXT    NOT NULL,
    subject          TEXT    NOT NULL,
    body             TEXT    NOT NULL,
    ics              TEXT,
    status           TEXT    NOT NULL DEFAULT 'pending'
                             CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'cancelled')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    -- While 'sending': until when this attempt owns the row.
    lease_until      INTEGER,
    -- A category such as "connection failed"; never a server's reply text,
    -- which can quote an address.
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    sent_at          INTEGER
);

CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_by_consultation ON outbox (consultation_id);

CREATE TABLE admin_sessions (
    -- SHA-256 of the cookie's token.
    token_hash  TEXT    PRIMARY KEY,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);

CREATE TABLE settings (
    key    TEXT PRIMARY KEY,
    value  BLOB NOT NULL
);
