//! The words of every email, composed when the change happens and queued in
//! the outbox. Mail to the therapist never names the client or carries the
//! note: only the date and a link to the dashboard, which is behind a login.

use chrono::{DateTime, Duration, Utc};

use super::availability;
use super::ics::{self, ClientEvent};
use super::rules::BookingRules;
use super::store::{CancelledBy, Consultation, MailKind, NewMail};

/// The practice's facts that mail needs.
#[derive(Debug, Clone)]
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
            "Your free {}-minute consultation with {}. {} will contact you by {} at this time.\n\nTo cancel or choose another time: {manage_url}\n\n{NOT_FOR_EMERGENCIES}",
            self.practice.minutes,
            self.practice.therapist,
            self.first_name_of_therapist(),
            consultation.client.contact.label().to_lowercase(),
        );
        ics::client_calendar(
            consultation,
            &ClientEvent {
                host: self.practice.host(),
                summary: &summary,
                description: &description,
                url: manage_url,
                stamp,
            },
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
        NewMail {
            kind: MailKind::TherapistCancelled,
            recipient: self.practice.therapist_email.clone(),
            subject: format!("Consultation on {} cancelled", self.day(consultation.start)),
            body: format!(
                "The consultation on {} was cancelled by the client. The time is open again.\n\n{}\n",
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
                "{}\n\n{headline}:\n\n    {}\n\nIt takes {} minutes. {} will contact you by {} at this time. A calendar file is attached.\n\nTo cancel or choose another time, use your private link{} (please keep it to yourself):\n{manage_url}\n\n{NOT_FOR_EMERGENCIES}\n\n{}\n",
                Self::greeting(consultation),
                self.when(consultation.start),
                self.practice.minutes,
                self.first_name_of_therapist(),
                consultation.client.contact.label().to_lowercase(),
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
                "{}\n\nA reminder of your free consultation with {}:\n\n    {}\n\n{} will contact you by {}.\n\n{change}\n\n{NOT_FOR_EMERGENCIES}\n\n{}\n",
                Self::greeting(consultation),
                self.practice.therapist,
                self.when(consultation.start),
                self.first_name_of_therapist(),
                consultation.client.contact.label().to_lowercase(),
                self.signature()
            ),
            ics: None,
            due,
        })
    }

    /// The client's notice that a consultation is cancelled.
    pub fn cancellation(
        &self,
        consultation: &Consultation,
        by: CancelledBy,
        manage_url: Option<&str>,
        now: DateTime<Utc>,
    ) -> NewMail {
        let what = match by {
            CancelledBy::Client => "As you asked, your free consultation".to_string(),
            CancelledBy::Therapist => format!(
                "{} had to cancel your free consultation",
                self.first_name_of_therapist()
            ),
        };
        let follow_up = match by {
            CancelledBy::Client => String::new(),
            CancelledBy::Therapist => format!(
                "\n\nWe are sorry for the change. You can reach the practice at {}.",
                self.practice.phone
            ),
        };
        NewMail {
            kind: MailKind::Cancellation,
            recipient: consultation.client.email.clone(),
            subject: format!("Consultation cancelled: {}", self.when(consultation.start)),
            body: format!(
                "{}\n\n{what} on {} is cancelled.{follow_up}\n\nWhen you are ready, you can book another time:\n{}\n\n{NOT_FOR_EMERGENCIES}\n\n{}\n",
                Self::greeting(consultation),
                self.when(consultation.start),
                self.practice.url("/consultation"),
                self.signature()
            ),
            ics: manage_url.map(|url| self.client_ics(consultation, url, now)),
            due: now,
        }
    }
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
