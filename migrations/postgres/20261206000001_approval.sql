-- Bookings that wait for the therapist's approval (`approve_bookings`): a
-- request is booked, so it holds its time like any booking, and carries the
-- instant it lapses. Approving clears it. A request declined or lapsed is
-- cancelled and keeps it, so the dashboard can say which it was.
ALTER TABLE consultations ADD COLUMN awaiting_until BIGINT;

-- Approving gives the client a new private link (only a link's hash is
-- kept, so the confirmation cannot repeat the old one); the request's link,
-- already in their inbox, keeps working beside it.
ALTER TABLE consultations ADD COLUMN request_hash TEXT;

CREATE UNIQUE INDEX consultations_by_request_link ON consultations (request_hash)
    WHERE request_hash IS NOT NULL;

CREATE INDEX consultations_awaiting ON consultations (awaiting_until)
    WHERE status = 'booked' AND awaiting_until IS NOT NULL;
