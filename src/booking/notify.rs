//! The outbox: every email is a row written in the same transaction as the
//! change it reports, and this module delivers the rows over SMTP (lettre),
//! retrying with exponential backoff, so an SMTP outage loses nothing.
//!
//! One delivery:
//! 1. **claim** the row (`sending`, attempts + 1, a lease): committed before
//!    any SMTP traffic, so two workers never send the same mail at once;
//! 2. **send** over SMTP;
//! 3. **mark** it `sent` (and forget its text), or `pending` with the next
//!    attempt's time and an error *category* (never the server's reply, which
//!    can quote an address), or `failed` after [`MAX_ATTEMPTS`].
//!
//! The crash window: if the process dies after the SMTP server accepted the
//! message and before step 3 is committed, the lease expires and the mail is
//! sent again. SMTP offers no way to ask "did you get this one?", so the only
//! alternative would be to risk losing a confirmation instead; for a therapy
//! practice a rare duplicate is the lesser harm. Every attempt of one row
//! carries the same `Message-ID`, so mail systems can recognise the duplicate.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::Duration;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::Error as SmtpError;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sha2::{Digest, Sha256};
use tokio::sync::{Notify, watch};

use super::store::{BookingStore, OutboxMail, StoreError};
use crate::clock::Clock;

/// After this many failed attempts a mail is given up (about a day of trying).
pub const MAX_ATTEMPTS: u32 = 12;
/// How long one attempt owns a claimed mail: longer than an attempt may
/// last ([`SEND_DEADLINE`]), so no other sender takes a mail still being
/// sent, and short enough that mail a killed server had claimed goes out
/// from another server within about two minutes.
const LEASE: i64 = 90;
/// One whole attempt (connecting, every command, the message) ends by then.
const SEND_DEADLINE: StdDuration = StdDuration::from_secs(60);
/// Mail taken per run.
const BATCH: u32 = 20;
/// How often the worker looks for due mail when nothing wakes it.
const POLL: StdDuration = StdDuration::from_secs(30);
/// One SMTP conversation may take this long.
const SMTP_TIMEOUT: StdDuration = StdDuration::from_secs(20);

/// Where and how to send mail, from the environment.
#[derive(Clone)]
pub struct SmtpSettings {
    /// `smtp://`, `smtp://…?tls=required` or `smtps://` (lettre's URL forms).
    pub url: String,
    pub from: String,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL can hold the SMTP password.
        f.debug_struct("SmtpSettings")
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

/// An SMTP connection setting that works.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    host: String,
}

impl Mailer {
    /// Checks the settings (not the server: that is the outbox's job).
    pub fn new(settings: &SmtpSettings, host: &str) -> Result<Self, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&settings.url)
            .map_err(|err| {
                format!(
                    "SMTP_URL is not usable ({err}); set it to an smtp:// or smtps:// address, or leave it unset to keep mail off"
                )
            })?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        let from = settings
            .from
            .parse::<Mailbox>()
            .map_err(|err| {
                format!(
                    "SMTP_FROM is not an email address ({err}); set it to one, such as Practice <office@example.com>"
                )
            })?;
        Ok(Self {
            transport,
            from,
            host: host.to_string(),
        })
    }

    /// Connects and logs in as a delivery would, then says goodbye: proof
    /// that mail can go out, without sending any. The error says which
    /// step failed, in words the therapist can act on.
    pub async fn probe(&self) -> Result<(), String> {
        match self.transport.test_connection().await {
            Ok(true) => Ok(()),
            Ok(false) => Err(
                "the mail server accepted the connection but stopped answering; check SMTP_HOST and SMTP_PORT with the mail provider".into(),
            ),
            Err(err) => Err(probe_failure(&err)),
        }
    }

    /// Sends one short message to `to`, now, outside the outbox: proof that
    /// the settings work end to end (the server, the login, the sender
    /// address, and the recipient's mailbox). It names nobody and nothing
    /// about a client.
    pub async fn send_test(&self, to: &str) -> Result<(), String> {
        let to = to
            .parse::<Mailbox>()
            .map_err(|err| format!("{to} is not an email address ({err})"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject("Test email from the practice's website")
            .singlepart(SinglePart::plain(
                "This is a test sent by `practice-site send-test-email`. If you are reading it, the website's mail settings work: booking confirmations and notices will be delivered.\n".to_string(),
            ))
            .map_err(|_| "the message could not be built".to_string())?;
        self.transport
            .send(message)
            .await
            .map(drop)
            .map_err(|err| probe_failure(&err))
    }

    fn message(&self, mail: &OutboxMail) -> Result<Message, &'static str> {
        let to = mail
            .recipient
            .parse::<Mailbox>()
            .map_err(|_| "the recipient's address is not valid")?;
        let builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&mail.subject)
            .message_id(Some(message_id(mail, &self.host)));
        let text = SinglePart::plain(mail.body.clone());
        let built = match &mail.ics {
            Some(ics) => builder.multipart(
                MultiPart::mixed().singlepart(text).singlepart(
                    Attachment::new("consultation.ics".to_string()).body(
                        ics.clone(),
                        ContentType::parse("text/calendar; charset=utf-8; method=PUBLISH")
                            .expect("a valid content type"),
                    ),
                ),
            ),
            None => builder.singlepart(text),
        };
        built.map_err(|_| "the message could not be built")
    }
}

/// The same for every attempt of one row, different for every row.
fn message_id(mail: &OutboxMail, host: &str) -> String {
    let digest = Sha256::digest(format!(
        "{}\n{}\n{}",
        mail.recipient, mail.subject, mail.body
    ));
    let short: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("<outbox-{}-{short}@{host}>", mail.id)
}

/// How long to wait after the `attempts`-th failure: 1, 2, 4… minutes, at most 6 hours.
pub fn backoff(attempts: u32) -> Duration {
    let minutes = 1i64 << attempts.saturating_sub(1).min(9);
    Duration::minutes(minutes.min(360))
}

/// A category of failure that names no person.
fn describe(err: &SmtpError) -> String {
    let code = err.status().map(|code| code.to_string());
    if err.is_timeout() {
        "the mail server did not answer in time".to_string()
    } else if err.is_tls() {
        "the TLS connection to the mail server failed".to_string()
    } else if err.is_permanent() && code.as_deref().is_some_and(|c| c.starts_with("53")) {
        // 530, 534, 535: authentication, not the message.
        format!(
            "the mail server refused the login (code {})",
            code.unwrap_or_default()
        )
    } else if err.is_permanent() {
        format!(
            "the mail server refused the message (code {})",
            code.unwrap_or_default()
        )
    } else if err.is_transient() {
        format!(
            "the mail server is temporarily refusing mail (code {})",
            code.unwrap_or_default()
        )
    } else if err.is_client() {
        "the message could not be sent as written".to_string()
    } else {
        "could not connect to the mail server".to_string()
    }
}

/// Why a probe of the mail server failed: unreachable, refused login,
/// TLS, or a slow server. No part of the settings' secrets is repeated.
fn probe_failure(err: &SmtpError) -> String {
    let code = err
        .status()
        .map(|code| code.to_string())
        .unwrap_or_default();
    if err.is_timeout() {
        "the mail server did not answer in time; check SMTP_HOST and SMTP_PORT".into()
    } else if err.is_tls() {
        "the TLS connection to the mail server failed; check SMTP_TLS (starttls on port 587, tls on 465) and the host name".into()
    } else if err.is_permanent() && code.starts_with("53") {
        format!(
            "the mail server refused the login (code {code}): check SMTP_USERNAME and SMTP_PASSWORD (many providers want an app password)"
        )
    } else if err.is_permanent() || err.is_transient() {
        format!("the mail server refused the connection (code {code}); ask the mail provider why")
    } else if err.is_client() {
        "the mail server offers no login this site can use; check SMTP_TLS, or ask the mail provider for SMTP with a password".into()
    } else {
        "the mail server cannot be reached: nothing answered at SMTP_HOST and SMTP_PORT; check them, and that this machine may connect out on that port".into()
    }
}

/// What one run of the outbox did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delivery {
    pub sent: u32,
    pub retrying: u32,
    pub given_up: u32,
}

/// Delivers the outbox.
pub struct Outbox {
    store: Arc<dyn BookingStore>,
    clock: Arc<dyn Clock>,
    mailer: Mailer,
}

impl Outbox {
    pub fn new(store: Arc<dyn BookingStore>, clock: Arc<dyn Clock>, mailer: Mailer) -> Self {
        Self {
            store,
            clock,
            mailer,
        }
    }

    /// Sends every mail that is due now, once, a batch at a time until none
    /// is left (a backlog, say after a restart, does not wait for the next poll).
    pub async fn run_once(&self) -> Result<Delivery, StoreError> {
        let mut delivery = Delivery::default();
        loop {
            let due = self.store.due_mail(self.clock.now(), BATCH).await?;
            let full_batch = due.len() == BATCH as usize;
            self.send_batch(due, &mut delivery).await?;
            if !full_batch {
                return Ok(delivery);
            }
        }
    }

    async fn send_batch(&self, due: Vec<i64>, delivery: &mut Delivery) -> Result<(), StoreError> {
        for id in due {
            let now = self.clock.now();
            let Some(mail) = self
                .store
                .claim_mail(id, now, now + Duration::seconds(LEASE))
                .await?
            else {
                continue;
            };
            let result = match self.mailer.message(&mail) {
                Ok(message) => {
                    match tokio::time::timeout(SEND_DEADLINE, self.mailer.transport.send(message))
                        .await
                    {
                        Ok(sent) => sent.map(drop).map_err(|err| describe(&err)),
                        Err(_) => Err("the mail server took too long".to_string()),
                    }
                }
                Err(reason) => Err(reason.to_string()),
            };
            let now = self.clock.now();
            match result {
                Ok(()) => {
                    self.store.mail_sent(mail.id, now).await?;
                    tracing::info!(mail = mail.id, kind = mail.kind.code(), "mail sent");
                    delivery.sent += 1;
                }
                Err(reason) if mail.attempts >= MAX_ATTEMPTS => {
                    self.store.mail_failed(mail.id, &reason, None).await?;
                    tracing::error!(mail = mail.id, attempts = mail.attempts, %reason, "mail given up; see the dashboard");
                    delivery.given_up += 1;
                }
                Err(reason) => {
                    let retry_at = now + backoff(mail.attempts);
                    self.store
                        .mail_failed(mail.id, &reason, Some(retry_at))
                        .await?;
                    tracing::warn!(mail = mail.id, attempts = mail.attempts, %reason, %retry_at, "mail not sent yet; will retry");
                    delivery.retrying += 1;
                }
            }
        }
        Ok(())
    }

    /// Runs until `shutdown` turns true: on every `wake` (new mail) and
    /// every [`POLL`] (retries and reminders coming due).
    pub async fn run(self, wake: Arc<Notify>, mut shutdown: watch::Receiver<bool>) {
        // Mail this server was sending when it last stopped (killed, or the
        // machine lost power) goes back in the queue now. If the SMTP server
        // had already accepted it, it is sent again with the same
        // Message-ID: a possible duplicate rather than a lost confirmation.
        match self.store.release_claims().await {
            Ok(0) => {}
            Ok(released) => {
                tracing::warn!(released, "mail interrupted by the last stop goes out again")
            }
            Err(err) => tracing::error!(%err, "the outbox could not be read"),
        }
        loop {
            if let Err(err) = self.run_once().await {
                tracing::error!(%err, "the outbox could not be read");
            }
            tokio::select! {
                _ = shutdown.changed() => break,
                () = wake.notified() => {}
                () = tokio::time::sleep(POLL) => {}
            }
            if *shutdown.borrow() {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_six_hours() {
        assert_eq!(backoff(1), Duration::minutes(1));
        assert_eq!(backoff(2), Duration::minutes(2));
        assert_eq!(backoff(5), Duration::minutes(16));
        assert_eq!(backoff(10), Duration::minutes(360));
        assert_eq!(backoff(50), Duration::minutes(360));
        let total: i64 = (1..MAX_ATTEMPTS).map(|a| backoff(a).num_minutes()).sum();
        assert!(
            (12 * 60..48 * 60).contains(&total),
            "about a day: {total} minutes"
        );
    }

    #[test]
    fn tls_settings_build_without_touching_the_network() {
        for url in [
            "smtp://mail.example.com:587?tls=required",
            "smtps://user:secret@mail.example.com",
            "smtp://127.0.0.1:2525",
        ] {
            let settings = SmtpSettings {
                url: url.into(),
                from: "hello@example.com".into(),
            };
            assert!(Mailer::new(&settings, "example.com").is_ok(), "{url}");
            assert!(
                !format!("{settings:?}").contains("secret"),
                "Debug hides the URL"
            );
        }
        let bad = SmtpSettings {
            url: "http://mail.example.com".into(),
            from: "hello@example.com".into(),
        };
        assert!(Mailer::new(&bad, "example.com").is_err());
        let bad_from = SmtpSettings {
            url: "smtp://127.0.0.1".into(),
            from: "not an address".into(),
        };
        assert!(Mailer::new(&bad_from, "example.com").is_err());
    }

    #[test]
    fn message_ids_are_stable_per_mail() {
        let mail = OutboxMail {
            id: 3,
            kind: super::super::store::MailKind::Reminder,
            recipient: "a@example.com".into(),
            subject: "s".into(),
            body: "b".into(),
            ics: None,
            attempts: 1,
        };
        let id = message_id(&mail, "example.com");
        assert_eq!(id, message_id(&mail, "example.com"));
        assert!(id.starts_with("<outbox-3-") && id.ends_with("@example.com>"));
        assert!(!id.contains("a@example"));
    }
}
