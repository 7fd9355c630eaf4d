//! iCalendar (RFC 5545) with the `icalendar` crate, which escapes text and
//! folds long lines: one event for the client (download and email
//! attachment) and the therapist's private feed.

use chrono::{DateTime, Duration, Utc};
use icalendar::{Calendar, Component, Event, EventLike, EventStatus, Property};

use super::store::{Consultation, Status};

/// What the client's calendar entry says.
#[derive(Debug, Clone)]
pub struct ClientEvent<'a> {
    /// The practice's host name, to make the event's UID globally unique.
    pub host: &'a str,
    pub summary: &'a str,
    pub description: &'a str,
    /// The client's private page.
    pub url: &'a str,
    /// The practice's public email: the event's organiser.
    pub organizer: &'a str,
    pub stamp: DateTime<Utc>,
}

fn uid(host: &str, id: i64) -> String {
    format!("consultation-{id}@{host}")
}

fn status(consultation: &Consultation) -> EventStatus {
    match consultation.status {
        Status::Booked => EventStatus::Confirmed,
        // Her feed shows a request as tentative until she answers it.
        Status::Requested => EventStatus::Tentative,
        Status::Cancelled => EventStatus::Cancelled,
    }
}

/// The client's consultation as a one-event calendar. Calendars update the
/// event they already hold rather than add a second one: the same UID, a
/// higher SEQUENCE on every change, and an iTIP method, REQUEST while it
/// stands and CANCEL once it is cancelled, with the organiser and the
/// client as its attendee (both needed for a calendar to take the method).
pub fn client_calendar(consultation: &Consultation, event: &ClientEvent<'_>) -> String {
    let entry = Event::new()
        .uid(&uid(event.host, consultation.id))
        .sequence(consultation.sequence)
        .timestamp(event.stamp)
        .starts(consultation.start)
        .ends(consultation.end)
        .summary(event.summary)
        .description(event.description)
        .url(event.url)
        .status(status(consultation))
        .add_property("ORGANIZER", format!("mailto:{}", event.organizer))
        .append_property(
            Property::new("ATTENDEE", format!("mailto:{}", consultation.client.email))
                .add_parameter("RSVP", "FALSE")
                .done(),
        )
        .done();
    let method = match consultation.status {
        Status::Booked | Status::Requested => "REQUEST",
        Status::Cancelled => "CANCEL",
    };
    let mut calendar = Calendar::new();
    calendar.append_property(Property::new("METHOD", method));
    calendar.push(entry);
    calendar.done().to_string()
}

/// "Jane D.": what the feed shows of a client.
pub fn short_name(name: &str) -> String {
    let mut words = name.split_whitespace();
    let first = words.next().unwrap_or("Client");
    match words.last().and_then(|last| last.chars().next()) {
        Some(initial) => format!("{first} {initial}."),
        None => first.to_string(),
    }
}

/// The therapist's subscription feed: every consultation still in the
/// database, with a short name and a link to its dashboard page only.
pub fn feed(
    host: &str,
    calendar_name: &str,
    admin_url: &dyn Fn(i64) -> String,
    consultations: &[Consultation],
    stamp: DateTime<Utc>,
) -> String {
    let mut calendar = Calendar::new();
    calendar.name(calendar_name).ttl(&Duration::hours(1));
    for consultation in consultations {
        let link = admin_url(consultation.id);
        calendar.push(
            Event::new()
                .uid(&uid(host, consultation.id))
                .sequence(consultation.sequence)
                .timestamp(stamp)
                .starts(consultation.start)
                .ends(consultation.end)
                .summary(&format!(
                    "{}: {}",
                    if consultation.status == Status::Requested {
                        "Consultation request"
                    } else {
                        "Consultation"
                    },
                    short_name(&consultation.client.name)
                ))
                .description(&format!("Details: {link}"))
                .url(&link)
                .status(status(consultation))
                .done(),
        );
    }
    calendar.done().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::booking::form::{ClientDetails, ContactMethod, Topic};

    fn consultation() -> Consultation {
        let at = |s| DateTime::from_timestamp(s, 0).unwrap();
        Consultation {
            id: 7,
            start: at(1_781_020_800),
            end: at(1_781_021_700),
            status: Status::Booked,
            client: ClientDetails {
                name: "Mary Ann O'Neil-Smith".into(),
                email: "m@example.com".into(),
                phone: Some("909 555 0123".into()),
                contact: ContactMethod::Phone,
                topic: Topic::Kap,
                note: Some("private note".into()),
            },
            sequence: 2,
            created_at: at(0),
            cancelled_at: None,
            cancelled_by: None,
            awaiting_until: None,
        }
    }

    #[test]
    fn short_names_keep_first_name_and_last_initial() {
        assert_eq!(short_name("Mary Ann O'Neil-Smith"), "Mary O.");
        assert_eq!(short_name("Cher"), "Cher");
        assert_eq!(short_name("  "), "Client");
    }

    #[test]
    fn client_event_is_escaped_folded_and_in_utc() {
        let text = client_calendar(
            &consultation(),
            &ClientEvent {
                host: "www.example.com",
                summary: "Free consultation with Alicia Taverner, LMFT",
                description: "Line one; with, commas\nand a very long second line that certainly needs folding because it is longer than seventy-five octets",
                url: "https://www.example.com/booking/abc",
                organizer: "office@example.com",
                stamp: DateTime::from_timestamp(0, 0).unwrap(),
            },
        );
        assert!(text.contains("METHOD:REQUEST\r\n"), "{text}");
        assert!(
            text.contains("ORGANIZER:mailto:office@example.com\r\n"),
            "{text}"
        );
        assert!(
            text.contains("ATTENDEE;RSVP=FALSE:mailto:m@example.com\r\n"),
            "{text}"
        );
        assert!(text.starts_with("BEGIN:VCALENDAR\r\n"));
        assert!(text.contains("VERSION:2.0\r\n"));
        assert!(text.contains("PRODID:"));
        assert!(text.contains("UID:consultation-7@www.example.com\r\n"));
        assert!(text.contains("DTSTART:20260609T160000Z\r\n"), "{text}");
        assert!(text.contains("SEQUENCE:2\r\n"));
        assert!(text.contains("SUMMARY:Free consultation with Alicia Taverner\\, LMFT"));
        assert!(text.contains("Line one\\; with\\, commas\\nand"));
        for line in text.split("\r\n") {
            assert!(line.len() <= 75, "unfolded line: {line:?}");
        }
        assert!(!text.replace("\r\n", "").contains('\n'), "bare LF");
    }

    #[test]
    fn the_feed_shows_only_a_short_name_and_a_link() {
        let text = feed(
            "www.example.com",
            "Consultations",
            &|id| format!("https://www.example.com/admin/consultations/{id}"),
            &[consultation()],
            DateTime::from_timestamp(0, 0).unwrap(),
        );
        assert!(text.contains("SUMMARY:Consultation: Mary O."));
        for secret in ["m@example.com", "555", "private note", "Ketamine", "O'Neil"] {
            assert!(!text.contains(secret), "{secret} leaked into the feed");
        }
    }
}
