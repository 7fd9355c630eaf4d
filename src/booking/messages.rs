//! The words of every email, composed when the change happens and queued in
//! the outbox. Mail to the therapist never names the client or carries the
//! note: only the date and a link to the dashboard, which is behind a login.

use chrono::{DateTime, Duration, Utc};

use super::availability;
use super::ics::{self, ClientEvent};
use super::rules::BookingRules;
use super::store::{CancelledBy, Consultation, MailKind, NewMail};

/// The practice's facts that mail needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Practice {
    pub name: String,
    /// "Alicia Taverner, LMFT"
    pub therapist: String,
    /// The licence line every email signs with, as an advertisement must
    /// show it: "Licensed Marriage and Family Therapist, LMFT 123456".
    pub license: String,
    pub phone: String,
    /// The practice's public email, for clients.
    pub email: String,
    /// Where the therapist's notices go.
    pub therapist_email: String,
    /// `https://www.example.com`, no trailing slash.
    pub base_url: String,
    pub minutes: u32,
}

impl Practice {
    /// The host part of the public address (for UIDs and Message-IDs).
    pub fn host(&self) -> &str {
        let rest = self
            .base_url
            .split_once("://")
            .map_or(self.base_url.as_str(), |(_, rest)| rest);
        rest.split(['/', ':']).next().unwrap_or(rest)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    pub fn manage_path(token: &str) -> String {
        format!("/booking/{token}")
    }

    pub fn admin_path(id: i64) -> String {
        format!("/admin/consultations/{id}")
    }
}

/// The crisis line every client email ends with.
pub const NOT_FOR_EMERGENCIES: &str = "This consultation is not for emergencies. If you are in crisis, call or text 988 (Suicide & Crisis Lifeline), or call 911.";

/// A reminder is not worth sending this soon after the confirmation.
const REMINDER_MIN_GAP: i64 = 12;

pub struct Letters<'a> {
    pub practice: &'a Practice,
    pub rules: &'a BookingRules,
}

impl Letters<'_> {
    fn when(&self, instant: DateTime<Utc>) -> String {
        availability::describe(self.rules, instant)
    }

    fn day(&self, instant: DateTime<Utc>) -> String {
        availability::day_label(availability::local_date(self.rules, instant))
    }

    fn greeting(consultation: &Consultation) -> String {
        let first = consultation
            .client
            .name
            .split_whitespace()
            .next()
            .unwrap_or("there");
        format!("Hello {first},")
    }

    fn signature(&self) -> String {
        format!(
            "{}\n{}\n{}\n{}",
            self.practice.therapist,
            self.practice.license,
            self.practice.phone,
            self.practice.url("")
        )
    }

    /// The client's calendar entry for a consultation as it stands.
    pub fn client_ics(
        &self,
        consultation: &Consultation,
        manage_url: &str,
        stamp: DateTime<Utc>,
    ) -> String {
        let summary = format!("Free consultation with {}", self.practice.therapist);
        let description = format!(
            "Your free {}-minute consultation with {}. {}\n\nTo cancel or choose another time: {manage_url}\n\n{NOT_FOR_EMERGENCIES}",
            self.practice.minutes,
            self.practice.therapist,
            self.reaching(consultation),
        );
        ics::client_calendar(
            consultation,
            &ClientEvent {
                host: self.practice.host(),
                summary: &summary,
                description: &description,
                url: manage_url,
                organizer: &self.practice.email,
                stamp,
            },
        )
    }

    /// "At this time, Alicia will reach you by phone, as you asked."
    fn reaching(&self, consultation: &Consultation) -> String {
        format!(
            "At this time, {} will reach you {}, as you asked.",
            self.first_name_of_therapist(),
            consultation.client.contact.by()
        )
    }

    fn first_name_of_therapist(&self) -> &str {
        self.practice
            .therapist
            .split_whitespace()
            .next()
            .unwrap_or("The therapist")
    }

    /// The therapist's notice of a new booking: the date and a link, nothing else.
    pub fn therapist_new(&self, consultation: &Consultation, now: DateTime<Utc>) -> NewMail {
        NewMail {
            kind: MailKind::TherapistNew,
            recipient: self.practice.therapist_email.clone(),
            subject: format!("New consultation on {}", self.day(consultation.start)),
            body: format!(
                "New consultation on {}.\n\nSee it on the dashboard (login needed):\n{}\n",
                self.when(consultation.start),
                self.practice.url(&Practice::admin_path(consultation.id))
            ),
            ics: None,
            due: now,
        }
    }

    pub fn therapist_cancelled(&self, consultation: &Consultation, now: DateTime<Utc>) -> NewMail {
        let (title, what, done) = if was_request(consultation) {
            (
                "Consultation request",
                "request for a consultation",
                "withdrawn",
            )
        } else {
            ("Consultation", "consultation", "cancelled")
        };
        NewMail {
            kind: MailKind::TherapistCancelled,
            recipient: self.practice.therapist_email.clone(),
            subject: format!("{title} on {} {done}", self.day(consultation.start)),
            body: format!(
                "The {what} on {} was {done} by the client. The time is open again.\n\n{}\n",
                self.when(consultation.start),
                self.practice.url(&Practice::admin_path(consultation.id))
            ),
            ics: None,
            due: now,
        }
    }

    pub fn therapist_moved(
        &self,
        consultation: &Consultation,
        from: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> NewMail {
        NewMail {
            kind: MailKind::TherapistMoved,
            recipient: self.practice.therapist_email.clone(),
            subject: format!("Consultation moved to {}", self.day(consultation.start)),
            body: format!(
                "A consultation moved from {} to {}.\n\n{}\n",
                self.when(from),
                self.when(consultation.start),
                self.practice.url(&Practice::admin_path(consultation.id))
            ),
            ics: None,
            due: now,
        }
    }

    /// The client's confirmation, with the calendar entry attached.
    pub fn confirmation(
        &self,
        consultation: &Consultation,
        manage_url: &str,
        now: DateTime<Utc>,
        moved: bool,
    ) -> NewMail {
        let headline = if moved {
            "Your free consultation has moved to"
        } else {
            "Your free consultation is booked for"
        };
        NewMail {
            kind: MailKind::Confirmation,
            recipient: consultation.client.email.clone(),
            subject: format!(
                "{} {}",
                if moved {
                    "Consultation moved to"
                } else {
                    "Consultation booked:"
                },
                self.when(consultation.start)
            ),
            body: format!(
                "{}\n\n{headline}:\n\n    {}\n\nIt takes {} minutes. {} A calendar file is attached.\n\nTo cancel or choose another time, use your private link{} (please keep it to yourself):\n{manage_url}\n\n{NOT_FOR_EMERGENCIES}\n\n{}\n",
                Self::greeting(consultation),
                self.when(consultation.start),
                self.practice.minutes,
                self.reaching(consultation),
                self.until_notice(),
                self.signature()
            ),
            ics: Some(self.client_ics(consultation, manage_url, now)),
            due: now,
        }
    }

    /// ", until 12 hours before it starts" when the private link stops
    /// taking changes before the start (`change_notice_hours`).
    fn until_notice(&self) -> String {
        match self.rules.change_notice.num_hours() {
            0 => String::new(),
            1 => ", until an hour before it starts".into(),
            hours => format!(", until {hours} hours before it starts"),
        }
    }

    /// The reminders (`reminder_hours`, a day before by default), each
    /// skipped when the booking came inside its window or so shortly
    /// before it that the confirmation is still fresh.
    pub fn reminders(
        &self,
        consultation: &Consultation,
        manage_url: &str,
        now: DateTime<Utc>,
    ) -> Vec<NewMail> {
        self.rules
            .reminders
            .iter()
            .filter_map(|&ahead| self.reminder(consultation, manage_url, now, ahead))
            .collect()
    }

    fn reminder(
        &self,
        consultation: &Consultation,
        manage_url: &str,
        now: DateTime<Utc>,
        ahead: Duration,
    ) -> Option<NewMail> {
        let due = consultation.start - ahead;
        if due < now + Duration::hours(REMINDER_MIN_GAP) {
            return None;
        }
        let zone = &self.rules.time_zone;
        let sent_on = due.with_timezone(zone).date_naive();
        let held_on = consultation.start.with_timezone(zone).date_naive();
        let day = match (held_on - sent_on).num_days() {
            0 => "today".to_string(),
            1 => "tomorrow".to_string(),
            _ => format!("on {}", held_on.format("%A, %B %-d")),
        };
        // Whether the private link still takes changes when this arrives.
        let change = if ahead > self.rules.change_notice {
            format!(
                "If the time no longer suits you, cancel or choose another one here{}:\n{manage_url}",
                self.until_notice()
            )
        } else {
            format!(
                "If the time no longer suits you, please call {} or email {}. Your private link:\n{manage_url}",
                self.practice.phone, self.practice.email
            )
        };
        Some(NewMail {
            kind: MailKind::Reminder,
            recipient: consultation.client.email.clone(),
            subject: format!(
                "Reminder: your consultation {day} at {} {}",
                availability::time_label(self.rules, consultation.start),
                self.rules.time_zone_label
            ),
            body: format!(
                "{}\n\nA reminder of your free consultation with {}:\n\n    {}\n\n{}\n\n{change}\n\n{NOT_FOR_EMERGENCIES}\n\n{}\n",
                Self::greeting(consultation),
                self.practice.therapist,
                self.when(consultation.start),
                self.reaching(consultation),
                self.signature()
            ),
            ics: None,
            due,
        })
    }

    /// The client's notice that a consultation is cancelled; when the
    /// therapist cancels, her optional `note` (the form asks for no
    /// clinical details) follows her apology.
    pub fn cancellation(
        &self,
        consultation: &Consultation,
        by: CancelledBy,
        note: Option<&str>,
        manage_url: Option<&str>,
        now: DateTime<Utc>,
    ) -> NewMail {
        let when = self.when(consultation.start);
        let what = match by {
            CancelledBy::Client if was_request(consultation) => {
                format!(
                    "As you asked, your request for a free consultation on {when} is withdrawn."
                )
            }
            CancelledBy::Client => {
                format!("As you asked, your free consultation on {when} is cancelled.")
            }
            CancelledBy::Therapist if was_request(consultation) => format!(
                "{} cannot offer you the free consultation you asked for on {when}. We are sorry.{}\n\nYou can reach the practice at {}.",
                self.first_name_of_therapist(),
                her_note(note),
                self.practice.phone
            ),
            CancelledBy::Therapist => format!(
                "{} had to cancel your free consultation on {when}. We are sorry for the change.{}\n\nYou can reach the practice at {}.",
                self.first_name_of_therapist(),
                her_note(note),
                self.practice.phone
            ),
        };
        NewMail {
            kind: MailKind::Cancellation,
            recipient: consultation.client.email.clone(),
            subject: match (by, was_request(consultation)) {
                (CancelledBy::Client, true) => format!("Request withdrawn: {when}"),
                (CancelledBy::Therapist, true) => format!("Request not confirmed: {when}"),
                _ => format!("Consultation cancelled: {when}"),
            },
            body: format!(
                "{}\n\n{what}\n\nWhen you are ready, you can book another time:\n{}\n\n{NOT_FOR_EMERGENCIES}\n\n{}\n",
                Self::greeting(consultation),
                self.practice.url("/consultation"),
                self.signature()
            ),
            // A request never had a calendar file to take back.
            ics: manage_url
                .filter(|_| !was_request(consultation))
                .map(|url| self.client_ics(consultation, url, now)),
            due: now,
        }
    }

    /// The therapist's notice of a request awaiting her answer: the date,
    /// until when she can answer, and a link, nothing else.
    pub fn therapist_request(&self, consultation: &Consultation, now: DateTime<Utc>) -> NewMail {
        let until = consultation.awaiting_until.unwrap_or(consultation.start);
        NewMail {
            kind: MailKind::TherapistRequest,
            recipient: self.practice.therapist_email.clone(),
            subject: format!("Consultation request for {}", self.day(consultation.start)),
            body: format!(
                "A client asks for a consultation on {}.\n\nApprove or decline it on the dashboard (login needed) by {}; after that the time is offered again and the client is told:\n{}\n",
                self.when(consultation.start),
                self.when(until),
                self.practice.url(&Practice::admin_path(consultation.id))
            ),
            ics: None,
            due: now,
        }
    }

    /// The client's notice that the request is received and awaits her
    /// answer; no calendar file until it is confirmed.
    pub fn request_received(
        &self,
        consultation: &Consultation,
        manage_url: &str,
        now: DateTime<Utc>,
    ) -> NewMail {
        let until = consultation.awaiting_until.unwrap_or(consultation.start);
        NewMail {
            kind: MailKind::RequestReceived,
            recipient: consultation.client.email.clone(),
            subject: format!("Consultation requested: {}", self.when(consultation.start)),
            body: format!(
                "{}\n\nThank you. You asked for a free consultation on:\n\n    {}\n\nIt takes {} minutes. {} The time is held for you, and {} will confirm it by email by {}. If she cannot, you will hear that too.\n\nTo withdraw your request, use this private link (please keep it to yourself):\n{manage_url}\n\n{NOT_FOR_EMERGENCIES}\n\n{}\n",
                Self::greeting(consultation),
                self.when(consultation.start),
                self.practice.minutes,
                self.reaching(consultation),
                self.first_name_of_therapist(),
                self.when(until),
                self.signature()
            ),
            ics: None,
            due: now,
        }
    }

    /// The client's notice that the request lapsed without an answer.
    pub fn request_lapsed(&self, consultation: &Consultation, now: DateTime<Utc>) -> NewMail {
        let when = self.when(consultation.start);
        NewMail {
            kind: MailKind::Cancellation,
            recipient: consultation.client.email.clone(),
            subject: format!("Request not confirmed: {when}"),
            body: format!(
                "{}\n\nWe are sorry: your request for a free consultation on {when} could not be confirmed in time, so the time is no longer held.\n\nYou can choose another time, or call the practice at {}:\n{}\n\n{NOT_FOR_EMERGENCIES}\n\n{}\n",
                Self::greeting(consultation),
                self.practice.phone,
                self.practice.url("/consultation"),
                self.signature()
            ),
            ics: None,
            due: now,
        }
    }

    /// The therapist's notice that a request lapsed without her answer.
    pub fn therapist_lapsed(&self, consultation: &Consultation, now: DateTime<Utc>) -> NewMail {
        NewMail {
            kind: MailKind::TherapistCancelled,
            recipient: self.practice.therapist_email.clone(),
            subject: format!(
                "Consultation request for {} lapsed",
                self.day(consultation.start)
            ),
            body: format!(
                "The request for a consultation on {} was not answered in time. The client was told, and the time is open again.\n\n{}\n",
                self.when(consultation.start),
                self.practice.url(&Practice::admin_path(consultation.id))
            ),
            ics: None,
            due: now,
        }
    }
}

/// Whether a consultation is, or was, a request for her approval.
fn was_request(consultation: &Consultation) -> bool {
    consultation.awaiting_until.is_some()
}

/// Her optional note to the client (the form asks for no clinical
/// details), as a paragraph after her apology.
fn her_note(note: Option<&str>) -> String {
    note.map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| format!("\n\n{n}"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::booking::form::{ClientDetails, ContactMethod, Topic};
    use crate::booking::store::Status;

    fn practice() -> Practice {
        Practice {
            name: "Alicia Taverner, LMFT".into(),
            therapist: "Alicia Taverner, LMFT".into(),
            license: "Licensed Marriage and Family Therapist, LMFT 98765".into(),
            phone: "(909) 555-0123".into(),
            email: "office@example.com".into(),
            therapist_email: "alicia@example.com".into(),
            base_url: "https://www.example.com".into(),
            minutes: 15,
        }
    }

    fn consultation(start: i64) -> Consultation {
        let at = |s| DateTime::from_timestamp(s, 0).unwrap();
        Consultation {
            id: 42,
            start: at(start),
            end: at(start + 900),
            status: Status::Booked,
            client: ClientDetails {
                name: "Jane Q. Doe".into(),
                email: "jane@example.com".into(),
                phone: Some("909 555 0199".into()),
                contact: ContactMethod::Phone,
                topic: Topic::Couples,
                note: Some("my partner and I".into()),
            },
            sequence: 0,
            created_at: at(0),
            cancelled_at: None,
            cancelled_by: None,
            awaiting_until: None,
        }
    }

    /// Every message a client gets, for every way of being reached, read
    /// against the sentences a person would write: each expected sentence
    /// is there whole, and no sentence says a thing twice or by halves.
    #[test]
    fn every_client_message_reads_as_a_person_would_write_it() {
        let practice = practice();
        let rules = BookingRules {
            change_notice: Duration::hours(12),
            ..BookingRules::default()
        };
        let letters = Letters {
            practice: &practice,
            rules: &rules,
        };
        let when = "Tuesday, June 9, 2026 at 9:00 AM Pacific Time";
        for (contact, by) in [
            (ContactMethod::Email, "by email"),
            (ContactMethod::Phone, "by phone"),
            (ContactMethod::Text, "by text message"),
        ] {
            let mut c = consultation(1_781_020_800);
            c.client.contact = contact;
            let far = c.start - Duration::days(5);
            let reach = format!("At this time, Alicia will reach you {by}, as you asked.");
            let booked = letters.confirmation(&c, "https://l", far, false);
            let moved = letters.confirmation(&c, "https://l", far, true);
            let reminder = letters.reminders(&c, "https://l", far).remove(0);
            let by_client =
                letters.cancellation(&c, CancelledBy::Client, None, Some("https://l"), far);
            let by_her = letters.cancellation(
                &c,
                CancelledBy::Therapist,
                Some("  I am unwell this week; I will call you to find a new time.  "),
                None,
                far,
            );
            let mut request = c.clone();
            request.awaiting_until = Some(far + Duration::hours(24));
            let received = letters.request_received(&request, "https://l", far);
            let declined = letters.cancellation(
                &request,
                CancelledBy::Therapist,
                Some("I have no opening that week."),
                Some("https://l"),
                far,
            );
            let withdrawn =
                letters.cancellation(&request, CancelledBy::Client, None, Some("https://l"), far);
            let lapsed = letters.request_lapsed(&request, far);
            for mail in [&received, &declined, &withdrawn, &lapsed] {
                assert!(mail.ics.is_none(), "a request never had a calendar file");
            }
            let expected: [(&NewMail, &[&str]); 9] = [
                (
                    &booked,
                    &[
                        "Hello Jane,",
                        "Your free consultation is booked for:",
                        when,
                        &format!("It takes 15 minutes. {reach} A calendar file is attached."),
                        "To cancel or choose another time, use your private link, until 12 hours before it starts (please keep it to yourself):\nhttps://l",
                    ],
                ),
                (&moved, &["Your free consultation has moved to:", &reach]),
                (
                    &reminder,
                    &[
                        "A reminder of your free consultation with Alicia Taverner, LMFT:",
                        &reach,
                    ],
                ),
                (
                    &by_client,
                    &[
                        &format!("As you asked, your free consultation on {when} is cancelled."),
                        "When you are ready, you can book another time:\nhttps://www.example.com/consultation",
                    ],
                ),
                (
                    &by_her,
                    &[&format!(
                        "Alicia had to cancel your free consultation on {when}. We are sorry for the change.\n\nI am unwell this week; I will call you to find a new time.\n\nYou can reach the practice at (909) 555-0123."
                    )],
                ),
                (
                    &received,
                    &[
                        "Thank you. You asked for a free consultation on:",
                        &format!(
                            "It takes 15 minutes. {reach} The time is held for you, and Alicia will confirm it by email by Friday, June 5, 2026 at 9:00 AM Pacific Time. If she cannot, you will hear that too."
                        ),
                        "To withdraw your request, use this private link (please keep it to yourself):\nhttps://l",
                    ],
                ),
                (
                    &declined,
                    &[&format!(
                        "Alicia cannot offer you the free consultation you asked for on {when}. We are sorry.\n\nI have no opening that week.\n\nYou can reach the practice at (909) 555-0123."
                    )],
                ),
                (
                    &withdrawn,
                    &[&format!(
                        "As you asked, your request for a free consultation on {when} is withdrawn."
                    )],
                ),
                (
                    &lapsed,
                    &[
                        &format!(
                            "We are sorry: your request for a free consultation on {when} could not be confirmed in time, so the time is no longer held."
                        ),
                        "You can choose another time, or call the practice at (909) 555-0123:\nhttps://www.example.com/consultation",
                    ],
                ),
            ];
            for (mail, sentences) in expected {
                for sentence in sentences {
                    assert!(
                        mail.body.contains(sentence),
                        "{by}: {sentence:?} not in:\n{}",
                        mail.body
                    );
                }
                assert!(mail.body.contains(NOT_FOR_EMERGENCIES));
                for broken in [
                    "had to cancel your free consultation on Tuesday, June 9, 2026 at 9:00 AM Pacific Time is cancelled",
                    "contact you by",
                    " at this time at this time",
                    "..",
                    " ,",
                ] {
                    assert!(
                        !mail.body.contains(broken),
                        "{by}: {broken:?} in:\n{}",
                        mail.body
                    );
                }
            }
            let ics = letters
                .client_ics(&c, "https://l", far)
                .replace("\r\n ", "");
            assert!(ics.contains(&format!("reach you {by}")), "{ics}");
            assert!(
                ics.contains(&format!("reach you {by}"))
                    || ics
                        .replace("\r\n ", "")
                        .contains(&format!("reach you {by}")),
                "{ics}"
            );
        }
    }

    #[test]
    fn the_therapist_gets_a_date_and_a_link_and_nothing_personal() {
        let practice = practice();
        let rules = BookingRules::default();
        let letters = Letters {
            practice: &practice,
            rules: &rules,
        };
        let c = consultation(1_781_020_800); // Tuesday, June 9, 2026 9:00 AM PDT
        for mail in [
            letters.therapist_new(&c, c.created_at),
            letters.therapist_cancelled(&c, c.created_at),
            letters.therapist_moved(&c, c.start, c.created_at),
            letters.therapist_request(&c, c.created_at),
            letters.therapist_lapsed(&c, c.created_at),
        ] {
            assert_eq!(mail.recipient, "alicia@example.com");
            let text = format!("{} {}", mail.subject, mail.body);
            for private in [
                "Jane", "Doe", "jane@", "0199", "partner", "Couples", "phone",
            ] {
                assert!(!text.contains(private), "{private} in {text}");
            }
            assert!(text.contains("https://www.example.com/admin/consultations/42"));
        }
        let new = letters.therapist_new(&c, c.created_at);
        assert_eq!(new.subject, "New consultation on Tuesday, June 9");
        assert!(new.body.contains("9:00 AM Pacific Time"));
    }

    #[test]
    fn the_client_confirmation_has_time_link_calendar_and_crisis_line() {
        let practice = practice();
        let rules = BookingRules::default();
        let letters = Letters {
            practice: &practice,
            rules: &rules,
        };
        let c = consultation(1_781_020_800);
        let mail =
            letters.confirmation(&c, "https://www.example.com/booking/T", c.created_at, false);
        assert_eq!(mail.recipient, "jane@example.com");
        assert!(
            mail.body
                .contains("Tuesday, June 9, 2026 at 9:00 AM Pacific Time")
        );
        assert!(mail.body.contains("https://www.example.com/booking/T"));
        assert!(mail.body.contains("988"));
        assert!(mail.body.contains("911"));
        assert!(mail.body.contains("15 minutes"));
        assert!(
            mail.body
                .contains("Licensed Marriage and Family Therapist, LMFT 98765"),
            "every email signs with the licence"
        );
        assert!(
            !mail.body.contains("my partner"),
            "the note is never mailed"
        );
        assert!(mail.ics.as_deref().unwrap().contains("BEGIN:VEVENT"));
    }

    #[test]
    fn the_reminder_is_due_a_day_before_and_skipped_when_too_close() {
        let practice = practice();
        let rules = BookingRules::default();
        let letters = Letters {
            practice: &practice,
            rules: &rules,
        };
        let c = consultation(1_781_020_800);
        let far = c.start - Duration::days(5);
        let mail = letters.reminders(&c, "u", far);
        assert_eq!(mail.len(), 1);
        assert_eq!(mail[0].due, c.start - Duration::hours(24));
        assert!(mail[0].subject.contains("tomorrow at 9:00 AM Pacific Time"));
        assert!(
            letters
                .reminders(&c, "u", c.start - Duration::hours(30))
                .is_empty()
        );

        // Two reminders; the later one inside the change notice points to
        // the phone and email, not to changes through the link.
        let rules = BookingRules {
            reminders: vec![Duration::hours(48), Duration::hours(2)],
            change_notice: Duration::hours(12),
            ..BookingRules::default()
        };
        let letters = Letters {
            practice: &practice,
            rules: &rules,
        };
        let mail = letters.reminders(&c, "https://link", far);
        assert_eq!(mail.len(), 2);
        assert!(
            mail[0].subject.contains("consultation on "),
            "{}",
            mail[0].subject
        );
        assert!(mail[0].body.contains(
            "cancel or choose another one here, until 12 hours before it starts:\nhttps://link"
        ));
        assert!(mail[1].subject.contains("today at 9:00 AM Pacific Time"));
        assert!(
            mail[1]
                .body
                .contains("please call (909) 555-0123 or email office@example.com")
        );
        assert!(mail[1].body.contains("https://link"));
        // Booked 10 hours ahead: inside the 48-hour window, and too soon
        // for the 2-hour one to add anything.
        assert!(
            letters
                .reminders(&c, "u", c.start - Duration::hours(10))
                .is_empty()
        );
    }

    #[test]
    fn host_is_taken_from_the_base_url() {
        let mut p = practice();
        assert_eq!(p.host(), "www.example.com");
        p.base_url = "http://127.0.0.1:3000".into();
        assert_eq!(p.host(), "127.0.0.1");
    }
}
