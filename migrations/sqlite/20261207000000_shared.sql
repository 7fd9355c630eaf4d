-- For several servers sharing one database (PostgreSQL), and kept the same
-- in SQLite so both stores run one set of queries.

-- Numbers the store counts up, apart from `settings` (whose values are
-- bytes): the calendar feed's generation and the last health probe.
CREATE TABLE counters (
    name   TEXT    PRIMARY KEY,
    value  INTEGER NOT NULL
);

INSERT INTO counters (name, value)
    SELECT key, CAST(value AS INTEGER) FROM settings
    WHERE key IN ('feed_generation', 'health_checked_at');

DELETE FROM settings WHERE key IN ('feed_generation', 'health_checked_at');

-- Work that one server does at a time (the retention purge, releasing
-- unanswered requests): a server holds the lease until it expires.
CREATE TABLE leases (
    name         TEXT    PRIMARY KEY,
    holder       TEXT    NOT NULL,
    expires_at   INTEGER NOT NULL
);
