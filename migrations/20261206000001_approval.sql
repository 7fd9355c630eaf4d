-- Bookings that wait for the therapist's approval (`approve_bookings`): a
-- request is booked, so it holds its time like any booking, and carries the
-- instant it lapses. Approving clears it. A request declined or lapsed is
-- cancelled and keeps it, so the dashboard can say which it was.
ALTER TABLE consultations ADD COLUMN awaiting_until INTEGER;

CREATE INDEX consultations_awaiting ON consultations (awaiting_until)
    WHERE status = 'booked' AND awaiting_until IS NOT NULL;
