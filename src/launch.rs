//! `check --launch`: everything between this folder and a real launch, in
//! one run. Blockers (a sample fact, a missing licence, no admin password,
//! mail that cannot be sent, a health page nobody reviewed…) are kept apart
//! from warnings, and each names the file and line, or the environment
//! variable, to change and how. The command exits 0 only when no blocker
//! is left.
//!
//! It reads what the running server would read (the settings, the content,
//! the environment, the database's folder) and really talks to the mail
//! server: it connects and logs in, and sends nothing.

use std::collections::HashSet;
use std::fmt;
use std::path::Path;

use crate::booking::calendar::BusyCalendars;
use crate::booking::notify::{Mailer, SmtpSettings};
use crate::booking::settings::Secrets;
use crate::booking::store::{BookingStore as _, Database, SqlStore};
use crate::config::{SiteConfig, is_reserved_host};
use crate::content::{self, Library};
use crate::diagnostic::Diagnostic;
use crate::site::{BuildError, BuildOptions, NOTICES_PAGE, Site, Sources};

/// Words only the federal standard notice has: the page that carries them
/// gives self-pay clients the Good Faith Estimate notice.
const GOOD_FAITH_ESTIMATE: &str = "Good Faith Estimate";

/// One thing to do before launch: where (a `file:line`, or an environment
/// variable) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub place: String,
    pub message: String,
}

impl Item {
    fn at(diagnostic: &Diagnostic) -> Self {
        Self {
            place: format!("{}:{}", diagnostic.path.display(), diagnostic.line),
            message: diagnostic.message.clone(),
        }
    }

    fn env(name: &str, message: impl Into<String>) -> Self {
        Self {
            place: format!("environment {name}"),
            message: message.into(),
        }
    }
}

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place, self.message)
    }
}

/// What stands between this folder and a launch.
#[derive(Debug, Default)]
pub struct Report {
    pub blockers: Vec<Item>,
    pub warnings: Vec<Item>,
}

impl Report {
    pub fn is_ready(&self) -> bool {
        self.blockers.is_empty()
    }

    fn block(&mut self, item: Item) {
        if !self.blockers.contains(&item) {
            self.blockers.push(item);
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sections = [
            (
                &self.blockers,
                "Blockers",
                "the site cannot go live until each is fixed.",
            ),
            (
                &self.warnings,
                "Warnings",
                "worth fixing, but they do not stop a launch.",
            ),
        ];
        for (items, title, meaning) in sections {
            if !items.is_empty() {
                writeln!(f, "{title} ({}): {meaning}", items.len())?;
                for item in items {
                    writeln!(f, "  {item}")?;
                }
            }
        }
        Ok(())
    }
}

/// Checks everything: `env` reads the server's environment (tests pass
/// their own), `database` is the bookings file the server would open.
pub async fn check(
    sources: &Sources,
    database: &Database,
    env: impl Fn(&str) -> Option<String>,
) -> Report {
    let mut report = Report::default();
    match SiteConfig::load(&sources.config) {
        Ok(config) => {
            check_settings(&config, &mut report);
            check_content(sources, &config, &mut report);
            check_environment(Some(&config.practice.email), env, &mut report).await;
        }
        Err(problems) => {
            for problem in problems.iter() {
                report.block(Item::at(problem));
            }
            check_environment(None, env, &mut report).await;
        }
    }
    match database.file() {
        Some(file) => check_database_folder(file, &mut report),
        None => check_shared_database(database, &mut report).await,
    }
    report
}

/// A shared database must answer, and take a write, before launch.
async fn check_shared_database(database: &Database, report: &mut Report) {
    let probe = async {
        let store = SqlStore::open(database).await?;
        let written = store.probe_write(chrono::Utc::now()).await;
        store.close().await;
        written
    };
    if let Err(err) = probe.await {
        report.block(Item {
            place: database.describe(),
            message: format!(
                "cannot be opened and written ({err}); check that the server runs, that the database exists, and the user and password in DATABASE_URL"
            ),
        });
    }
}

fn check_settings(config: &SiteConfig, report: &mut Report) {
    for fact in config.sample_facts() {
        report.block(Item::at(fact));
    }
    if !config.practice.base_url.starts_with("https://") {
        report.block(Item::at(&config.setting_diagnostic(
            "practice.base_url",
            format!(
                "base_url {} is not https; write the https:// address readers will use",
                config.practice.base_url
            ),
        )));
    }
}

/// The content as readers would get it: every error, every piece of advice,
/// the notices page, and every health page's review.
fn check_content(sources: &Sources, config: &SiteConfig, report: &mut Report) {
    // The library as published today, for what only a launch asks of it.
    let library = content::load(&sources.content, config).ok();
    let unreviewed: HashSet<Diagnostic> = library
        .iter()
        .flat_map(|library| &library.documents)
        .filter(|d| d.is_published())
        .filter_map(|d| d.missing_review())
        .collect();
    let advise = |report: &mut Report, problem: &Diagnostic| {
        // The plain check only advises a review; a launch waits for it. One
        // cause, one line: the advice itself becomes the blocker.
        if unreviewed.contains(problem) {
            report.block(Item::at(problem));
        } else {
            report.warnings.push(Item::at(problem));
        }
    };
    match Site::load_with(sources, BuildOptions::published_now()) {
        Ok(site) => {
            for warning in site.warnings().iter() {
                advise(report, warning);
            }
        }
        Err(BuildError::Content(problems)) => {
            for problem in problems.iter() {
                if problem.is_error() {
                    report.block(Item::at(problem));
                } else {
                    advise(report, problem);
                }
            }
        }
        Err(err @ BuildError::Template { .. }) => report.block(Item {
            place: sources.content.display().to_string(),
            message: err.to_string(),
        }),
    }
    if let Some(library) = &library {
        check_notices(sources, library, report);
    }
}

fn check_notices(sources: &Sources, library: &Library, report: &mut Report) {
    let notices_file = sources
        .content
        .join("pages")
        .join(format!("{NOTICES_PAGE}.md"));
    let Some(notices) = library.page(NOTICES_PAGE).filter(|p| p.is_published()) else {
        report.block(Item {
            place: notices_file.display().to_string(),
            message: "the notices page is missing: clients are owed the Good Faith Estimate notice, the fees and the Board's contact details; restore content/pages/notices.md".into(),
        });
        return;
    };
    if !notices.html.contains(GOOD_FAITH_ESTIMATE) {
        report.block(Item {
            place: notices_file.display().to_string(),
            message: "the notices page does not give the Good Faith Estimate notice; put back the standard federal wording".into(),
        });
    }
    let Some(consultation) = library.page("consultation") else {
        return;
    };
    let links_to_notices = consultation
        .links_to
        .iter()
        .any(|&index| library.documents[index].url == notices.url);
    if !links_to_notices {
        report.block(Item {
            place: format!("{}:1", consultation.source.display()),
            message: format!(
                "the consultation page does not link to the notices; add a link such as [fees and your rights]({NOTICES_PAGE}.md)"
            ),
        });
    }
}

/// The secrets and mail settings the server reads at start. Without
/// readable settings (`practice_email` is `None`) they are still checked.
async fn check_environment(
    practice_email: Option<&str>,
    env: impl Fn(&str) -> Option<String>,
    report: &mut Report,
) {
    let Some(secrets) = read_secrets(&env, report) else {
        return;
    };
    match (&secrets.therapist_email, practice_email) {
        (None, Some(public)) => report.block(Item::env(
            "THERAPIST_EMAIL",
            format!(
                "not set, so booking notices would go to {public} (the site's public address); set it to the address the therapist reads"
            ),
        )),
        (None, None) => report.block(Item::env(
            "THERAPIST_EMAIL",
            "not set; set it to the address the therapist reads",
        )),
        (Some(address), _) if has_reserved_domain(address) => report.block(Item::env(
            "THERAPIST_EMAIL",
            format!("{address} is at a domain reserved for examples; set the therapist's real address"),
        )),
        (Some(_), _) => {}
    }
    let from = practice_email.map_or_else(
        || secrets.smtp_from.clone().unwrap_or_default(),
        str::to_string,
    );
    check_mail(secrets.smtp(&from), report).await;
    check_calendars(secrets.busy_calendar_urls.as_deref(), report).await;
}

/// Fetches each of her busy calendars once, as the server will at start.
async fn check_calendars(urls: Option<&str>, report: &mut Report) {
    let Some(urls) = urls else {
        report.warnings.push(Item::env(
            "BUSY_CALENDAR_URLS",
            "not set, so times are offered from site.toml's hours alone, even over her own sessions; set it to her calendar's private iCalendar address (EHR or Google Calendar)",
        ));
        return;
    };
    // Checked with the other secrets: the addresses are well formed here.
    let Ok(calendars) = BusyCalendars::from_urls(urls) else {
        return;
    };
    let statuses = tokio::task::spawn_blocking(move || {
        let now = chrono::Utc::now();
        calendars.refresh(chrono_tz::UTC, now, now + chrono::Duration::days(60), now);
        calendars.statuses()
    })
    .await
    .unwrap_or_default();
    for calendar in statuses {
        if let Some(error) = calendar.error {
            report.block(Item::env(
                "BUSY_CALENDAR_URLS",
                format!(
                    "{} could not be read ({error}), so times busy in it would be offered",
                    calendar.name
                ),
            ));
        } else if calendar.skipped_events > 0 {
            report.warnings.push(Item::env(
                "BUSY_CALENDAR_URLS",
                format!(
                    "{}: {} event(s) could not be read (an unknown time zone, say) and would not block times",
                    calendar.name, calendar.skipped_events
                ),
            ));
        }
    }
}

fn read_secrets(env: &impl Fn(&str) -> Option<String>, report: &mut Report) -> Option<Secrets> {
    let secrets = match Secrets::from_lookup(env) {
        Ok(secrets) => secrets,
        Err(problems) => {
            for problem in problems {
                report.block(Item {
                    place: "environment".into(),
                    message: problem,
                });
            }
            return None;
        }
    };
    if secrets.admin_password_hash.is_none() {
        report.block(Item::env(
            "ADMIN_PASSWORD_HASH",
            "not set, so nobody can log in to see bookings; run `practice-site hash-password` and put its output in the server's environment file",
        ));
    }
    if !secrets.trust_proxy {
        report.warnings.push(Item::env(
            "TRUST_PROXY",
            "not set; behind a TLS proxy (Caddy, nginx) set TRUST_PROXY=1, or rate limits count every client as the proxy",
        ));
    }
    Some(secrets)
}

/// Connects to the mail server and logs in, as the outbox will; sends nothing.
async fn check_mail(smtp: Option<SmtpSettings>, report: &mut Report) {
    let Some(smtp) = smtp else {
        report.block(Item::env(
            "SMTP_URL",
            "no mail settings (SMTP_URL, or SMTP_HOST with SMTP_USERNAME and SMTP_PASSWORD), so no confirmation or notice would be sent; set them to the practice's mail provider",
        ));
        return;
    };
    let mailer = match Mailer::new(&smtp, "localhost") {
        Ok(mailer) => mailer,
        Err(message) => {
            report.block(Item::env("SMTP_URL", message));
            return;
        }
    };
    if let Err(message) = mailer.probe().await {
        report.block(Item::env("SMTP_URL", message));
    }
}

/// The bookings file must be creatable and writable where the server runs.
fn check_database_folder(database: &Path, report: &mut Report) {
    let folder = match database.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let place = format!("database {}", database.display());
    let probe = folder.join(format!(".launch-check-{}", std::process::id()));
    match std::fs::write(&probe, b"") {
        Ok(()) => {
            let _ = std::fs::remove_file(&probe);
        }
        Err(err) => {
            report.block(Item {
                place,
                message: format!(
                    "its folder {} is not writable ({err}); give the server's user write access to it, or choose another file with --database or DATABASE_URL",
                    folder.display()
                ),
            });
            return;
        }
    }
    if database.exists()
        && let Err(err) = std::fs::OpenOptions::new().append(true).open(database)
    {
        report.block(Item {
            place,
            message: format!(
                "the file is not writable ({err}); give the server's user write access to it"
            ),
        });
    }
}

fn has_reserved_domain(address: &str) -> bool {
    address
        .rsplit_once('@')
        .is_none_or(|(_, host)| is_reserved_host(&host.trim_end_matches('>').to_ascii_lowercase()))
}
