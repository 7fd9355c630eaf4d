-- Times the therapist closed from the dashboard: whole days off, or one
-- slot. Only the span is kept, never a reason. Instants are Unix seconds.
CREATE TABLE time_off (
    id          INTEGER PRIMARY KEY,
    starts_at   INTEGER NOT NULL,
    ends_at     INTEGER NOT NULL CHECK (ends_at > starts_at),
    -- 'days': from one local midnight to another; 'slot': one offered time.
    kind        TEXT    NOT NULL CHECK (kind IN ('days', 'slot')),
    created_at  INTEGER NOT NULL
);

CREATE INDEX time_off_by_end ON time_off (ends_at);
