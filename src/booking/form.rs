//! The booking form: what the browser sends ([`BookingForm`], every field a
//! string, kept as typed for re-rendering) and what the practice accepts
//! ([`BookingRequest`]: a time and the [`ClientDetails`]). Parsing is pure;
//! whether the slot is still open is the caller's question.
//!
//! [`ClientDetails`] is the one type for who asks and about what: the
//! request carries it, and so does every stored `Consultation`, unchanged.

use chrono::{DateTime, Utc};
use serde::Deserialize;

/// The fields exactly as posted. Missing fields are empty, so a tampered or
/// partial post is a validation problem, not a crash.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct BookingForm {
    /// The chosen slot's start, as Unix seconds.
    pub slot: String,
    pub name: String,
    pub email: String,
    pub phone: String,
    pub contact: String,
    pub topic: String,
    pub note: String,
    /// `"yes"` when the privacy box is ticked.
    pub consent: String,
    /// The honeypot: hidden from people, filled in by bots.
    pub website: String,
    /// The signed form token (issue time + nonce + HMAC).
    pub token: String,
}

pub const NAME_MAX: usize = 100;
pub const EMAIL_MAX: usize = 254;
pub const PHONE_MAX: usize = 40;
pub const NOTE_MAX: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactMethod {
    Email,
    Phone,
    Text,
}

impl ContactMethod {
    pub const ALL: [Self; 3] = [Self::Email, Self::Phone, Self::Text];

    pub fn code(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Phone => "phone",
            Self::Text => "text",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Email => "Email",
            Self::Phone => "Phone call",
            Self::Text => "Text message",
        }
    }

    /// How she reaches the client, to end "will reach you …".
    pub fn by(self) -> &'static str {
        match self {
            Self::Email => "by email",
            Self::Phone => "by phone",
            Self::Text => "by text message",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.code() == code)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    Individual,
    Couples,
    Kap,
    Intensive,
    NotSure,
}

impl Topic {
    pub const ALL: [Self; 5] = [
        Self::Individual,
        Self::Couples,
        Self::Kap,
        Self::Intensive,
        Self::NotSure,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::Individual => "individual",
            Self::Couples => "couples",
            Self::Kap => "kap",
            Self::Intensive => "intensive",
            Self::NotSure => "not-sure",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Individual => "Individual therapy",
            Self::Couples => "Couples therapy",
            Self::Kap => "Ketamine-Assisted Psychotherapy (KAP)",
            Self::Intensive => "An intensive",
            Self::NotSure => "Not sure yet",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.code() == code)
    }
}

/// Who asks for a consultation, how to reach them and what it is about:
/// the checked fields of the form, as they are stored and shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientDetails {
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    pub contact: ContactMethod,
    pub topic: Topic,
    pub note: Option<String>,
}

/// A form that passed every check: a time and who asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingRequest {
    pub slot: DateTime<Utc>,
    pub client: ClientDetails,
}

/// One problem with one field: the field's id (for the summary's link and
/// `aria-describedby`) and a plain message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

/// The problems of one form, in the order the fields appear.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    pub fn push(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.push(FieldError {
            field,
            message: message.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The message for one field, if it has a problem.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    pub fn iter(&self) -> impl Iterator<Item = &FieldError> {
        self.0.iter()
    }
}

/// The ids of the form's fields, as used in the page and in [`FieldError`].
pub mod field {
    pub const SLOT: &str = "slot";
    pub const NAME: &str = "name";
    pub const EMAIL: &str = "email";
    pub const PHONE: &str = "phone";
    pub const CONTACT: &str = "contact";
    pub const TOPIC: &str = "topic";
    pub const NOTE: &str = "note";
    pub const CONSENT: &str = "consent";
}

impl BookingForm {
    /// Checks every field and reports every problem at once.
    pub fn parse(&self) -> Result<BookingRequest, FieldErrors> {
        let mut errors = FieldErrors::default();
        // Bytes that were not UTF-8 arrive as U+FFFD: a browser never sends
        // them, so whatever sent them gets the field back to type again.
        for (name, value) in [
            (field::NAME, &self.name),
            (field::EMAIL, &self.email),
            (field::PHONE, &self.phone),
            (field::NOTE, &self.note),
        ] {
            if value.contains('\u{FFFD}') {
                errors.push(
                    name,
                    "This contains characters that could not be read; please type it again.",
                );
            }
        }
        let slot = parse_slot(&self.slot);
        if slot.is_none() {
            errors.push(field::SLOT, "Choose a time for the consultation.");
        }
        let name = clean_line(&self.name);
        if has_control(&self.name, false) {
            // Refused, not cleaned: a line break in a name is either a slip or
            // an attempt to write headers into the email it may end up in.
            errors.push(
                field::NAME,
                "Your name can’t contain line breaks or special characters.",
            );
        } else if name.is_empty() {
            errors.push(field::NAME, "Enter your name.");
        } else if name.chars().count() > NAME_MAX {
            errors.push(
                field::NAME,
                format!("Your name must be {NAME_MAX} characters or fewer."),
            );
        }
        let email = self.email.trim().to_string();
        if email.is_empty() {
            errors.push(field::EMAIL, "Enter your email address.");
        } else if !is_email(&email) {
            errors.push(
                field::EMAIL,
                "Enter an email address like name@example.com.",
            );
        }
        let phone = clean_line(&self.phone);
        if has_control(&self.phone, false) {
            errors.push(
                field::PHONE,
                "The phone number can’t contain line breaks or special characters.",
            );
        }
        let contact = ContactMethod::from_code(self.contact.trim());
        match contact {
            None => errors.push(field::CONTACT, "Choose how you would like to be contacted."),
            Some(ContactMethod::Phone | ContactMethod::Text) if phone.is_empty() => errors.push(
                field::PHONE,
                "Enter a phone number, or choose email as the way to contact you.",
            ),
            _ => {}
        }
        if !phone.is_empty() && !is_phone(&phone) {
            errors.push(
                field::PHONE,
                "Enter a phone number like (909) 555-0123, using digits.",
            );
        }
        let topic = Topic::from_code(self.topic.trim());
        if topic.is_none() {
            errors.push(field::TOPIC, "Choose what the consultation is about.");
        }
        let note = clean_note(&self.note);
        if has_control(&self.note, true) {
            errors.push(
                field::NOTE,
                "The note can’t contain special characters; plain text and line breaks are fine.",
            );
        } else if note.chars().count() > NOTE_MAX {
            errors.push(
                field::NOTE,
                format!(
                    "The note must be {NOTE_MAX} characters or fewer; it has {}.",
                    note.chars().count()
                ),
            );
        }
        if self.consent != "yes" {
            errors.push(
                field::CONSENT,
                "Tick the box to agree to the privacy notice, or call the practice instead.",
            );
        }
        // Put errors in the order of the fields on the page.
        let order = [
            field::SLOT,
            field::NAME,
            field::EMAIL,
            field::PHONE,
            field::CONTACT,
            field::TOPIC,
            field::NOTE,
            field::CONSENT,
        ];
        errors
            .0
            .sort_by_key(|e| order.iter().position(|f| *f == e.field));
        match (slot, contact, topic) {
            (Some(slot), Some(contact), Some(topic)) if errors.is_empty() => Ok(BookingRequest {
                slot,
                client: ClientDetails {
                    name,
                    email,
                    phone: (!phone.is_empty()).then_some(phone),
                    contact,
                    topic,
                    note: (!note.is_empty()).then_some(note),
                },
            }),
            _ => Err(errors),
        }
    }
}

/// A slot value: the start as Unix seconds.
pub fn parse_slot(value: &str) -> Option<DateTime<Utc>> {
    let seconds: i64 = value.trim().parse().ok()?;
    DateTime::from_timestamp(seconds, 0)
}

/// The value a slot is posted as.
pub fn slot_value(start: DateTime<Utc>) -> String {
    start.timestamp().to_string()
}

/// Whether `text` holds a control character a person would not type: any at
/// all on one line; on several lines, anything but line breaks and tabs.
fn has_control(text: &str, multiline: bool) -> bool {
    text.chars()
        .any(|c| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t')))
}

/// One line of text: trimmed, inner whitespace collapsed, control characters gone.
fn clean_line(text: &str) -> String {
    text.split_whitespace()
        .map(|word| word.chars().filter(|c| !c.is_control()).collect::<String>())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The note keeps its line breaks but no other control characters.
fn clean_note(text: &str) -> String {
    text.replace("\r\n", "\n")
        .chars()
        .filter(|c| *c == '\n' || !c.is_control())
        .collect::<String>()
        .trim()
        .to_string()
}

/// A deliberately plain check: one `@`, something before it, a dotted
/// domain after it, no spaces. The confirmation email is the real test.
pub fn is_email(email: &str) -> bool {
    if email.len() > EMAIL_MAX || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && domain.contains('.')
        && !email.contains(['<', '>', ',', ';', '"', '(', ')', '[', ']', '\\'])
}

fn is_phone(phone: &str) -> bool {
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    phone.len() <= PHONE_MAX
        && (7..=15).contains(&digits)
        && phone
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c) || c == 'x')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> BookingForm {
        BookingForm {
            slot: "1781020800".into(),
            name: "  Jane   Doe ".into(),
            email: " jane@example.com ".into(),
            phone: String::new(),
            contact: "email".into(),
            topic: "couples".into(),
            note: "  Evenings are best.\r\nThanks  ".into(),
            consent: "yes".into(),
            website: String::new(),
            token: String::new(),
        }
    }

    #[test]
    fn a_complete_form_becomes_a_typed_request() {
        let request = good().parse().unwrap();
        assert_eq!(request.slot.timestamp(), 1_781_020_800);
        assert_eq!(request.client.name, "Jane Doe");
        assert_eq!(request.client.email, "jane@example.com");
        assert_eq!(request.client.phone, None);
        assert_eq!(request.client.contact, ContactMethod::Email);
        assert_eq!(request.client.topic, Topic::Couples);
        assert_eq!(
            request.client.note.as_deref(),
            Some("Evenings are best.\nThanks")
        );
    }

    #[test]
    fn an_empty_form_reports_every_required_field_in_page_order() {
        let errors = BookingForm::default().parse().unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            ["slot", "name", "email", "contact", "topic", "consent"]
        );
    }

    #[test]
    fn phone_is_required_only_for_calls_and_texts() {
        let mut form = good();
        form.contact = "text".into();
        let errors = form.clone().parse().unwrap_err();
        assert!(errors.get("phone").unwrap().contains("phone number"));
        form.phone = "(909) 555-0123".into();
        assert_eq!(
            form.parse().unwrap().client.phone.as_deref(),
            Some("(909) 555-0123")
        );
        let mut form = good();
        form.phone = "call me maybe".into();
        assert!(form.parse().unwrap_err().get("phone").is_some());
    }

    #[test]
    fn emails_are_checked_plainly() {
        for ok in ["a@b.co", "first.last+tag@sub.example.org"] {
            assert!(is_email(ok), "{ok}");
        }
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@b",
            "a@b..com",
            "a b@c.com",
            "a@b.com, c@d.com",
            "Jane <a@b.com>",
            "a@b.com\r\nBcc: x@y.com",
        ] {
            assert!(!is_email(bad), "{bad:?}");
        }
    }

    #[test]
    fn lengths_slots_and_choices_are_limited() {
        let mut form = good();
        form.name = "x".repeat(NAME_MAX + 1);
        form.note = "y".repeat(NOTE_MAX + 1);
        form.slot = "tomorrow".into();
        form.topic = "surgery".into();
        form.contact = "pigeon".into();
        form.consent = "no".into();
        let errors = form.parse().unwrap_err();
        for field in ["slot", "name", "contact", "topic", "note", "consent"] {
            assert!(errors.get(field).is_some(), "{field}: {errors:?}");
        }
    }

    #[test]
    fn control_characters_and_header_injection_are_refused_with_a_message() {
        for (name, phone, note, email, field_name) in [
            (
                "Jane\r\nBcc: x@y.com",
                "",
                "",
                "jane@example.org",
                field::NAME,
            ),
            (
                "Jane\u{0}\u{7} Doe",
                "",
                "",
                "jane@example.org",
                field::NAME,
            ),
            ("Jane", "909\n555", "", "jane@example.org", field::PHONE),
            (
                "Jane",
                "",
                "fine\u{1b}[31m",
                "jane@example.org",
                field::NOTE,
            ),
            (
                "Jane",
                "",
                "",
                "jane@example.org\r\nBcc: x@y.com",
                field::EMAIL,
            ),
        ] {
            let mut form = good();
            form.name = name.into();
            form.phone = phone.into();
            form.note = note.into();
            form.email = email.into();
            let errors = form.parse().unwrap_err();
            assert!(
                errors.get(field_name).is_some(),
                "{name:?} {phone:?} {note:?} {email:?}: {errors:?}"
            );
        }
        // Line breaks in the note are plain text, not a problem.
        let mut form = good();
        form.note = "Evenings.\r\nThanks\tagain".into();
        assert!(form.parse().is_ok());
    }
}
