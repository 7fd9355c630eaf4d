-- For several servers sharing this database; SQLite has the same tables.

-- Numbers the store counts up, apart from `settings` (whose values are
-- bytes): the calendar feed's generation and the last health probe.
CREATE TABLE counters (
    name   TEXT    PRIMARY KEY,
    value  BIGINT  NOT NULL
);

-- Work that one server does at a time (the retention purge, releasing
-- unanswered requests): a server holds the lease until it expires.
CREATE TABLE leases (
    name         TEXT    PRIMARY KEY,
    holder       TEXT    NOT NULL,
    expires_at   BIGINT  NOT NULL
);
