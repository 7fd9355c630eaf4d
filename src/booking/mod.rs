//! Booking the free consultation: open slots, the form, storage, mail, the
//! calendar files and the therapist's login. [`Booking`] is the service the
//! routes call; it owns no HTTP (no header, cookie or proxy: those are in
//! `routes`) and renders no page.
//!
//! The routes see methods only; the store, keys, limiters and mailer stay
//! private. Every change is one transaction the service drives: it checks
//! the slot, asks the store to write the change (for a new booking, the
//! store hands back the open transaction, [`store::PendingBooking`]), writes
//! the mail that reports it, and commits both together, then wakes the
//! outbox. The map of the parts:
//!
//! - [`rules`]: `[booking]` checked into `BookingRules`;
//! - [`availability`]: open slots, a pure function of the rules and "now";
//! - [`calendar`]: busy times from the therapist's own calendars;
//! - [`form`]: the posted form into a `BookingRequest` (a time and the
//!   `ClientDetails`, the one type for who asks);
//! - [`store`]: SQLite, split by concern;
//! - [`messages`], [`ics`], [`notify`]: the words, the calendar files, the
//!   outbox worker;
//! - [`tokens`], [`admin`], [`limits`], [`settings`]: signed tokens and
//!   private links, the password, rate limits, secrets from the environment.
//!
//! `booking` reads `config`, and `config` reads [`rules`]; `routes` reads
//! `booking` and `site`.

pub mod admin;
pub mod availability;
pub mod calendar;
pub mod form;
pub mod ics;
pub mod limits;
pub mod messages;
pub mod notify;
pub mod rules;
pub mod settings;
pub mod store;
pub mod tokens;

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::clock::Clock;
use crate::config::SiteConfig;
use availability::{Busy, Closed, Slot};
use calendar::BusyCalendars;
use form::BookingRequest;
use limits::Limits;
use messages::{Letters, Practice};
use notify::{Mailer, Outbox};
use rules::BookingRules;
use settings::Secrets;
use store::{
    BookingStore, CancelledBy, Consultation, Listing, MailCounts, MailState, Moved, Purged, Status,
    StoreError, TimeOff, TimeOffKind,
};
use tokens::{Keys, Purpose, TokenError};

/// Everything booking needs, shared by every request. Read-only after start
/// except through the store, the clock and the limiters. The routes call
/// its methods; its parts stay private.
pub struct Booking {
    store: Arc<dyn BookingStore>,
    clock: Arc<dyn Clock>,
    /// What `site.toml` says of booking and the practice: replaced whole
    /// when the running site is rebuilt with new settings.
    setup: std::sync::RwLock<Arc<BookingSetup>>,
    /// `THERAPIST_EMAIL`, kept to build the practice again on a change.
    therapist_email: Option<String>,
    keys: Keys,
    /// `None`: the admin login is off.
    admin_password_hash: Option<String>,
    limits: Limits,
    /// `None`: email is off and the dashboard is the source of truth.
    mailer: Option<Mailer>,
    /// Wakes the outbox worker when mail is queued.
    mail_queued: Arc<Notify>,
    /// Her own calendars' busy times (`BUSY_CALENDAR_URLS`), if any.
    calendars: Option<Arc<BusyCalendars>>,
}

impl std::fmt::Debug for Booking {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Booking").finish_non_exhaustive()
    }
}

/// Why a booking did not happen.
#[derive(Debug, thiserror::Error)]
pub enum BookError {
    /// The time was taken meanwhile, or is no longer offered.
    #[error("that time is no longer available")]
    Taken,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a login attempt came to.
#[derive(Debug)]
pub enum Login {
    /// No password hash is set: nobody can log in.
    Off,
    WrongPassword,
    /// A new session: the token for the cookie (shown once, stored hashed).
    Session(String),
}

/// A new booking: its private link's token (shown once, never stored).
#[derive(Debug, Clone)]
pub struct Booked {
    pub id: i64,
    pub token: String,
}

/// One slot of her weekly hours as the dashboard shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotState {
    Open,
    /// Sooner than the minimum notice: not offered, but she can still enter
    /// a consultation arranged by phone.
    TooSoon,
    DayBlocked,
    DayFull,
    Booked,
    /// Closed from the dashboard: the time off's id, to reopen it.
    Blocked(i64),
    /// Inside time off she entered (whole days).
    TimeOff,
    InHerCalendar,
}

/// The dashboard's view of her availability: every slot of her hours over
/// the booking window with its state, and every time off she entered that
/// is still ahead.
#[derive(Debug, Clone)]
pub struct Plan {
    pub slots: Vec<(Slot, SlotState)>,
    pub time_off: Vec<TimeOff>,
}

/// What booking takes from `site.toml`: the rules of when consultations
/// can be booked, and the practice's facts that its pages and email name.
#[derive(Debug, Clone, PartialEq)]
pub struct BookingSetup {
    pub rules: BookingRules,
    pub practice: Practice,
}

impl BookingSetup {
    fn from_config(config: &SiteConfig, therapist_email: Option<&str>) -> Self {
        Self {
            rules: config.booking.clone(),
            practice: Practice {
                name: config.practice.name.clone(),
                therapist: config.therapist_with_credential(),
                license: config.license_line(),
                phone: config.practice.phone.clone(),
                email: config.practice.email.clone(),
                therapist_email: therapist_email
                    .map_or_else(|| config.practice.email.clone(), str::to_string),
                base_url: config.practice.base_url.clone(),
                minutes: config.consultation.minutes,
            },
        }
    }

    pub fn letters(&self) -> Letters<'_> {
        Letters {
            practice: &self.practice,
            rules: &self.rules,
        }
    }
}

impl Booking {
    /// `key` signs tokens: `SECRET_KEY`, or the one kept in the database.
    pub fn new(
        config: &SiteConfig,
        store: Arc<dyn BookingStore>,
        clock: Arc<dyn Clock>,
        secrets: &Secrets,
        key: &[u8],
    ) -> Result<Self, String> {
        let setup = BookingSetup::from_config(config, secrets.therapist_email.as_deref());
        let mailer = secrets
            .smtp(&config.practice.email)
            .map(|smtp| Mailer::new(&smtp, setup.practice.host()))
            .transpose()?;
        Ok(Self {
            store,
            limits: Limits::new(clock.clone()),
            clock,
            setup: std::sync::RwLock::new(Arc::new(setup)),
            therapist_email: secrets.therapist_email.clone(),
            keys: Keys::new(key),
            admin_password_hash: secrets.admin_password_hash.clone(),
            mailer,
            mail_queued: Arc::new(Notify::new()),
            calendars: secrets
                .busy_calendar_urls
                .as_deref()
                .map(BusyCalendars::from_urls)
                .transpose()?
                .map(Arc::new),
        })
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// When and how consultations can be booked, and the practice as
    /// booking pages and email name it, as the settings say now.
    pub fn setup(&self) -> Arc<BookingSetup> {
        Arc::clone(&self.setup.read().expect("booking settings lock"))
    }

    /// Takes the settings of a newly built site: the next page, booking
    /// and email follow them, with no restart. (A site whose settings have
    /// an error is never built, so the last good settings stay.)
    pub fn update_setup(&self, config: &SiteConfig) {
        let next = BookingSetup::from_config(config, self.therapist_email.as_deref());
        let mut setup = self.setup.write().expect("booking settings lock");
        if setup.rules != next.rules || setup.practice != next.practice {
            *setup = Arc::new(next);
            tracing::info!("booking follows the new settings");
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Whether email is sent (else the dashboard is the source of truth).
    pub fn mail_on(&self) -> bool {
        self.mailer.is_some()
    }

    /// Whether the admin login is on (`ADMIN_PASSWORD_HASH` is set).
    pub fn login_on(&self) -> bool {
        self.admin_password_hash.is_some()
    }

    /// A form token for `purpose`, bound to `binding`, issued now.
    pub fn issue_token(&self, purpose: Purpose, binding: &str) -> String {
        self.keys.issue(purpose, binding, self.now())
    }

    /// Checks a posted form token: signed here for `purpose` and `binding`,
    /// at least `min_age` and at most `max_age` old.
    pub fn check_token(
        &self,
        token: &str,
        purpose: Purpose,
        binding: &str,
        min_age: Duration,
        max_age: Duration,
    ) -> Result<(), TokenError> {
        self.keys
            .verify(token, purpose, binding, self.now(), min_age, max_age)
    }

    /// The therapist's calendar feed's secret address.
    pub async fn feed_url(&self) -> Result<String, StoreError> {
        let generation = self.store.feed_generation().await?;
        let token = self.keys.feed_token(generation);
        Ok(self
            .setup()
            .practice
            .url(&format!("/admin/feed/{token}.ics")))
    }

    pub async fn is_feed_token(&self, candidate: &str) -> Result<bool, StoreError> {
        let generation = self.store.feed_generation().await?;
        Ok(self.keys.is_feed_token(candidate, generation))
    }

    /// Gives the calendar feed a new secret address; the old one answers
    /// 404 from now on (for when the address was shared by mistake).
    pub async fn rotate_feed(&self) -> Result<(), StoreError> {
        self.store.rotate_feed().await?;
        tracing::info!("the calendar feed has a new address; the old one no longer works");
        Ok(())
    }

    /// Checks the therapist's password (argon2, off the async workers) and
    /// opens a session when it matches.
    pub async fn log_in(&self, password: String) -> Result<Login, StoreError> {
        let Some(hash) = self.admin_password_hash.clone() else {
            return Ok(Login::Off);
        };
        let matches = tokio::task::spawn_blocking(move || admin::verify_password(&hash, &password))
            .await
            .unwrap_or_else(|err| {
                tracing::error!(%err, "the password check failed");
                false
            });
        if !matches {
            tracing::warn!("admin login refused: wrong password");
            return Ok(Login::WrongPassword);
        }
        let token = tokens::random_token();
        let now = self.now();
        self.store
            .create_session(
                &tokens::token_hash(&token),
                now,
                now + admin::SESSION_LENGTH,
            )
            .await?;
        tracing::info!("admin logged in");
        Ok(Login::Session(token))
    }

    /// The hash of a session cookie's token, if it names a live session.
    pub async fn session(&self, token: &str) -> Result<Option<String>, StoreError> {
        if !tokens::looks_like_token(token) {
            return Ok(None);
        }
        let hash = tokens::token_hash(token);
        let valid = self.store.session_valid(&hash, self.now()).await?;
        Ok(valid.then_some(hash))
    }

    /// Ends the session whose token hashes to `hash`.
    pub async fn log_out(&self, hash: &str) -> Result<(), StoreError> {
        self.store.delete_session(hash).await
    }

    pub async fn consultation(&self, id: i64) -> Result<Option<Consultation>, StoreError> {
        self.store.consultation(id).await
    }

    pub async fn consultations(&self, listing: Listing) -> Result<Vec<Consultation>, StoreError> {
        self.store.consultations(listing).await
    }

    /// How the outbox stands, for the dashboard.
    /// Whether the database can be written right now (a real write, on a
    /// connection of its own), for `/healthz`.
    pub async fn database_writable(&self) -> bool {
        match self.store.probe_write(self.now()).await {
            Ok(()) => true,
            Err(err) => {
                tracing::error!("the database cannot be written: {err}");
                false
            }
        }
    }

    /// The newest messages and where each stands, for the dashboard.
    pub async fn recent_mail(&self) -> Result<Vec<MailState>, StoreError> {
        self.store.recent_mail(20).await
    }

    pub async fn mail_counts(&self) -> Result<MailCounts, StoreError> {
        self.store.mail_counts().await
    }

    /// The therapist deletes a consultation. `false` if there was none.
    pub async fn delete(&self, id: i64) -> Result<bool, StoreError> {
        let deleted = self.store.delete(id).await?;
        if deleted {
            tracing::info!(booking = id, "consultation deleted by the therapist");
        }
        Ok(deleted)
    }

    /// Fetches her calendars again (blocking: network and files) over the
    /// window in which times are offered.
    pub fn refresh_busy_calendars(&self) {
        if let Some(calendars) = &self.calendars {
            let now = self.now();
            let (from, to) = availability::search_window(&self.setup().rules, now);
            calendars.refresh(self.setup().rules.time_zone, from, to, now);
        }
    }

    /// How each of her calendars' last fetch went (none when none is set).
    pub fn calendar_statuses(&self) -> Vec<calendar::CalendarStatus> {
        self.calendars
            .as_ref()
            .map(|c| c.statuses())
            .unwrap_or_default()
    }

    /// Whether her calendars now say `slot` is busy (buffer included).
    fn busy_in_her_calendar(&self, slot: &Slot) -> bool {
        self.calendars.as_ref().is_some_and(|calendars| {
            calendars
                .busy()
                .iter()
                .any(|busy| availability::overlaps(&self.setup().rules, slot, busy))
        })
    }

    /// Upcoming booked consultations that no longer fit: on a day since
    /// blocked, outside hours since changed, in time off she entered since,
    /// or over a time her calendar now holds; each with why, for the
    /// dashboard.
    pub async fn clashes(&self) -> Result<Vec<(Consultation, &'static str)>, StoreError> {
        let setup = self.setup();
        let now = self.now();
        let calendar = self
            .calendars
            .as_ref()
            .map(|c| c.busy())
            .unwrap_or_default();
        let upcoming = self.consultations(Listing::Upcoming(now)).await?;
        let time_off = match upcoming.last() {
            Some(last) => self.store.time_off_between(now, last.end).await?,
            None => Vec::new(),
        };
        Ok(upcoming
            .into_iter()
            .filter(Consultation::is_held)
            .filter_map(|c| {
                let slot = Slot {
                    start: c.start,
                    end: c.end,
                };
                let why = availability::no_longer_fits(&setup.rules, &slot)
                    .or_else(|| {
                        time_off
                            .iter()
                            .any(|off| {
                                availability::overlaps_strictly(
                                    (off.start, off.end),
                                    (c.start, c.end),
                                )
                            })
                            .then_some("in time off you entered")
                    })
                    .or_else(|| {
                        calendar
                            .iter()
                            .any(|b| {
                                availability::overlaps_strictly((b.start, b.end), (c.start, c.end))
                            })
                            .then_some("over a time busy in your calendar")
                    })?;
                Some((c, why))
            })
            .collect())
    }

    /// The slots open right now.
    pub async fn open_slots(&self) -> Result<Vec<Slot>, StoreError> {
        let (booked, blocked) = self.taken_times().await?;
        Ok(availability::open_slots(
            &self.setup().rules,
            self.setup().practice.minutes,
            &booked,
            &blocked,
            self.now(),
        ))
    }

    /// What closes times over the window in which they are offered: the
    /// consultations booked, then her own calendar's events and her time off.
    async fn taken_times(&self) -> Result<(Vec<Busy>, Vec<Busy>), StoreError> {
        let (from, to) = availability::search_window(&self.setup().rules, self.now());
        let booked = self.store.busy_between(from, to).await?;
        let mut blocked: Vec<Busy> = self
            .store
            .time_off_between(from, to)
            .await?
            .iter()
            .map(|off| Busy {
                start: off.start,
                end: off.end,
            })
            .collect();
        if let Some(calendars) = &self.calendars {
            blocked.extend(calendars.busy());
        }
        Ok((booked, blocked))
    }

    /// Every slot of her weekly hours over the booking window, each with
    /// what closes it (`None`: open), and the time off she entered there:
    /// the dashboard's week plan.
    pub async fn plan(&self) -> Result<Plan, StoreError> {
        let setup = self.setup();
        let now = self.now();
        let (booked, blocked) = self.taken_times().await?;
        let (from, to) = availability::search_window(&setup.rules, now);
        let time_off = self.store.time_off_between(from, to).await?;
        let calendar = self
            .calendars
            .as_ref()
            .map(|c| c.busy())
            .unwrap_or_default();
        let slots = availability::slots_in_hours(&setup.rules, setup.practice.minutes, now)
            .into_iter()
            .filter(|slot| slot.end > now)
            .map(|slot| {
                let state =
                    match availability::why_closed(&setup.rules, &slot, &booked, &blocked, now) {
                        None => SlotState::Open,
                        Some(Closed::TooSoon) => SlotState::TooSoon,
                        Some(Closed::DayBlocked) => SlotState::DayBlocked,
                        Some(Closed::DayFull) => SlotState::DayFull,
                        Some(Closed::Busy) => {
                            let hit = |b: &Busy| availability::overlaps(&setup.rules, &slot, b);
                            if let Some(off) = time_off.iter().find(|off| {
                                off.kind == TimeOffKind::Slot && off.start == slot.start
                            }) {
                                SlotState::Blocked(off.id)
                            } else if booked.iter().any(hit) {
                                SlotState::Booked
                            } else if time_off.iter().any(|off| {
                                hit(&Busy {
                                    start: off.start,
                                    end: off.end,
                                })
                            }) {
                                SlotState::TimeOff
                            } else if calendar.iter().any(hit) {
                                SlotState::InHerCalendar
                            } else {
                                SlotState::Booked
                            }
                        }
                    };
                (slot, state)
            })
            .collect();
        // Every span still ahead, past the booking window too, so each can
        // be seen and removed (a blocked slot her changed hours no longer
        // line up with included).
        let time_off = self
            .store
            .time_off_between(now, now + Duration::days(3650))
            .await?;
        Ok(Plan { slots, time_off })
    }

    /// Closes whole days, `first` to `last` in the practice's calendar,
    /// from the dashboard. Bookings already there stay (the dashboard
    /// lists them as clashes).
    pub async fn add_days_off(
        &self,
        first: chrono::NaiveDate,
        last: chrono::NaiveDate,
    ) -> Result<i64, StoreError> {
        let rules = &self.setup().rules;
        let (start, _) = availability::day_bounds(rules, first.min(last));
        let (_, end) = availability::day_bounds(rules, first.max(last));
        let id = self
            .store
            .add_time_off(start, end, TimeOffKind::Days, self.now())
            .await?;
        tracing::info!("time off added from the dashboard");
        Ok(id)
    }

    /// Closes the one slot of her hours that starts at `start`. `false` if
    /// her hours offer no slot there now.
    pub async fn block_slot(&self, start: DateTime<Utc>) -> Result<bool, StoreError> {
        // Only a time offered now: not one booked, nor one closed already
        // (a second click would leave a copy that "Reopen" does not remove).
        let Some((slot, _)) = self
            .plan()
            .await?
            .slots
            .into_iter()
            .find(|(slot, state)| slot.start == start && *state == SlotState::Open)
        else {
            return Ok(false);
        };
        self.store
            .add_time_off(slot.start, slot.end, TimeOffKind::Slot, self.now())
            .await?;
        tracing::info!("a slot was blocked from the dashboard");
        Ok(true)
    }

    /// Reopens a blocked slot or removes time off. `false` if there was none.
    pub async fn reopen(&self, time_off: i64) -> Result<bool, StoreError> {
        let removed = self.store.remove_time_off(time_off).await?;
        if removed {
            tracing::info!("time off removed from the dashboard");
        }
        Ok(removed)
    }

    /// The open slot starting at `start`, if there is one.
    async fn open_slot(&self, start: DateTime<Utc>) -> Result<Option<Slot>, StoreError> {
        Ok(self
            .open_slots()
            .await?
            .into_iter()
            .find(|slot| slot.start == start))
    }

    pub fn manage_url(&self, token: &str) -> String {
        self.setup().practice.url(&Practice::manage_path(token))
    }

    /// Books a checked request: committed, with its mail queued in the same
    /// transaction, before this returns.
    pub async fn book(&self, request: &BookingRequest) -> Result<Booked, BookError> {
        let slot = self
            .open_slot(request.slot)
            .await?
            .ok_or(BookError::Taken)?;
        self.write_booking(slot, request, true).await
    }

    /// Enters a consultation the therapist arranged by phone, at a slot of
    /// her hours that is free, sooner than the minimum notice included. The
    /// client gets the same confirmation, private link and reminders; she
    /// gets no email about what she did herself.
    pub async fn book_by_phone(&self, request: &BookingRequest) -> Result<Booked, BookError> {
        let slot = self
            .plan()
            .await?
            .slots
            .into_iter()
            .find(|(slot, state)| {
                slot.start == request.slot
                    && slot.start > self.now()
                    && matches!(state, SlotState::Open | SlotState::TooSoon)
            })
            .map(|(slot, _)| slot)
            .ok_or(BookError::Taken)?;
        let booked = self.write_booking(slot, request, false).await?;
        tracing::info!(
            booking = booked.id,
            "consultation entered from the dashboard"
        );
        Ok(booked)
    }

    /// Books `slot` for the request: committed, with its mail queued in the
    /// same transaction, before this returns. `tell_her`: she is emailed of
    /// it (not when she entered it herself).
    async fn write_booking(
        &self,
        slot: Slot,
        request: &BookingRequest,
        tell_her: bool,
    ) -> Result<Booked, BookError> {
        let now = self.now();
        let token = tokens::random_token();
        let setup = self.setup();
        let guard = availability::guard(&setup.rules, &slot);
        // Online bookings wait for her approval when she asks for it (one
        // she entered herself is approved); a request lapses at the latest
        // when its time comes.
        let awaiting_until = setup.rules.approval.filter(|_| tell_her).map(|wait| {
            // Answered while the client can still withdraw it.
            let latest = slot.start - setup.rules.change_notice;
            (now + wait).min(if latest > now { latest } else { slot.start })
        });
        // The store checks the guard and inserts inside one transaction and
        // holds it open while the mail, which names the new id, is written.
        let pending = self
            .store
            .begin_booking(
                slot,
                &request.client,
                &tokens::token_hash(&token),
                now,
                &guard,
                awaiting_until,
            )
            .await?
            .ok_or(BookError::Taken)?;
        // Her calendar may have been fetched since the slot was offered.
        if self.busy_in_her_calendar(&slot) {
            return Err(BookError::Taken);
        }
        let id = pending.id();
        let consultation = Consultation {
            id,
            start: slot.start,
            end: slot.end,
            status: if awaiting_until.is_some() {
                Status::Requested
            } else {
                Status::Booked
            },
            client: request.client.clone(),
            sequence: 0,
            created_at: now,
            cancelled_at: None,
            cancelled_by: None,
            awaiting_until,
        };
        let manage_url = self.manage_url(&token);
        let letters = setup.letters();
        let mail = match (awaiting_until.is_some(), tell_her) {
            (true, _) => vec![
                letters.therapist_request(&consultation, now),
                letters.request_received(&consultation, &manage_url, now),
            ],
            (false, tell_her) => {
                let mut mail = Vec::new();
                if tell_her {
                    mail.push(letters.therapist_new(&consultation, now));
                }
                mail.push(letters.confirmation(&consultation, &manage_url, now, false));
                mail.extend(letters.reminders(&consultation, &manage_url, now));
                mail
            }
        };
        pending.commit(&mail).await?;
        self.mail_queued.notify_one();
        if awaiting_until.is_some() {
            tracing::info!(booking = id, "consultation requested; awaiting approval");
        } else {
            tracing::info!(booking = id, "consultation booked");
        }
        Ok(Booked { id, token })
    }

    /// The consultation behind a private link.
    pub async fn by_link(&self, token: &str) -> Result<Option<Consultation>, StoreError> {
        if !tokens::looks_like_token(token) {
            return Ok(None);
        }
        self.store
            .consultation_by_link(&tokens::token_hash(token))
            .await
    }

    /// Whether a booked consultation can still be changed by its client.
    /// Whether the client can still cancel `consultation` through the
    /// private link: it is booked, and starts later than the notice
    /// (`change_notice_hours`) from now.
    pub fn changeable(&self, consultation: &Consultation) -> bool {
        consultation.is_held() && consultation.start - self.setup().rules.change_notice > self.now()
    }

    /// Whether the client can also move it: changeable, and moved fewer
    /// times than `max_moves` (each move raises its calendar sequence).
    pub fn movable(&self, consultation: &Consultation) -> bool {
        // A request is withdrawn, not moved: she answers the time asked for.
        consultation.status == Status::Booked
            && self.changeable(consultation)
            && self
                .setup()
                .rules
                .max_moves
                .is_none_or(|max| consultation.sequence < max)
    }

    /// Why a booked consultation can no longer be changed (or moved)
    /// through its link, in words for the client, who is pointed to the
    /// phone or email; `None` while nothing stands in the way.
    pub fn change_limit(&self, consultation: &Consultation) -> Option<String> {
        if !consultation.is_held() || consultation.start <= self.now() {
            return None;
        }
        let reach = format!(
            "please call {} or email {}",
            self.setup().practice.phone,
            self.setup().practice.email
        );
        if !self.changeable(consultation) {
            let hours = self.setup().rules.change_notice.num_hours();
            return Some(format!(
                "It can be cancelled or moved here until {hours} hour{} before it starts. To change it now, {reach}.",
                if hours == 1 { "" } else { "s" }
            ));
        }
        if !self.movable(consultation) && consultation.status == Status::Booked {
            return Some(format!(
                "It has been moved as many times as it can be here; you can still cancel it below. To choose another time, {reach}."
            ));
        }
        None
    }

    /// The client cancels through the private link. `false` if there was
    /// nothing to cancel.
    pub async fn cancel_by_client(
        &self,
        token: &str,
        consultation: &Consultation,
    ) -> Result<bool, StoreError> {
        if !self.changeable(consultation) {
            return Ok(false);
        }
        let now = self.now();
        let cancelled = as_cancelled(consultation, now, CancelledBy::Client);
        let setup = self.setup();
        let letters = setup.letters();
        let manage_url = self.manage_url(token);
        let mail = vec![
            letters.therapist_cancelled(&cancelled, now),
            letters.cancellation(
                &cancelled,
                CancelledBy::Client,
                None,
                Some(&manage_url),
                now,
            ),
        ];
        let done = self
            .store
            .cancel(consultation.id, CancelledBy::Client, now, mail)
            .await?;
        if done {
            self.mail_queued.notify_one();
            tracing::info!(
                booking = consultation.id,
                "consultation cancelled by the client"
            );
        }
        Ok(done)
    }

    /// The therapist cancels from the dashboard; the client is emailed,
    /// with her `note` if she wrote one.
    pub async fn cancel_by_therapist(
        &self,
        id: i64,
        note: Option<&str>,
    ) -> Result<bool, StoreError> {
        let Some(consultation) = self.store.consultation(id).await? else {
            return Ok(false);
        };
        if !consultation.is_held() {
            return Ok(false);
        }
        let now = self.now();
        let cancelled = as_cancelled(&consultation, now, CancelledBy::Therapist);
        let mut mail = Vec::new();
        // A consultation already over needs no notice.
        if consultation.end > now {
            mail.push(self.setup().letters().cancellation(
                &cancelled,
                CancelledBy::Therapist,
                note,
                None,
                now,
            ));
        }
        let done = self
            .store
            .cancel(id, CancelledBy::Therapist, now, mail)
            .await?;
        if done {
            self.mail_queued.notify_one();
            tracing::info!(booking = id, "consultation cancelled by the therapist");
        }
        Ok(done)
    }

    /// She approves a request: the client gets the confirmation with the
    /// calendar file, a new private link (the request's link was never
    /// stored, only its hash) and the reminders. `false` if it was no
    /// longer a request.
    pub async fn approve(&self, id: i64) -> Result<bool, StoreError> {
        let Some(consultation) = self.store.consultation(id).await? else {
            return Ok(false);
        };
        if consultation.status != Status::Requested {
            return Ok(false);
        }
        let now = self.now();
        let token = tokens::random_token();
        let manage_url = self.manage_url(&token);
        let approved = Consultation {
            status: Status::Booked,
            awaiting_until: None,
            ..consultation
        };
        let setup = self.setup();
        let letters = setup.letters();
        let mut mail = vec![letters.confirmation(&approved, &manage_url, now, false)];
        mail.extend(letters.reminders(&approved, &manage_url, now));
        let done = self
            .store
            .approve(id, &tokens::token_hash(&token), now, mail)
            .await?;
        if done {
            self.mail_queued.notify_one();
            tracing::info!(booking = id, "consultation request approved");
        }
        Ok(done)
    }

    /// Releases every request whose time to answer has passed: the client
    /// and she are told, and the time is offered again. Returns how many.
    pub async fn lapse_requests(&self) -> Result<usize, StoreError> {
        let now = self.now();
        let setup = self.setup();
        let letters = setup.letters();
        let mut lapsed = 0;
        // Every one still kept: a server that was down past a request's
        // start still releases it, and tells the client.
        for request in self
            .store
            .consultations(Listing::All)
            .await?
            .into_iter()
            .filter(|c| c.status == Status::Requested && c.awaiting_until.is_some_and(|t| t <= now))
        {
            let released = Consultation {
                status: Status::Cancelled,
                sequence: request.sequence + 1,
                cancelled_at: Some(now),
                ..request
            };
            let mail = vec![
                letters.request_lapsed(&released, now),
                letters.therapist_lapsed(&released, now),
            ];
            if self.store.lapse(request.id, now, mail).await? {
                lapsed += 1;
                tracing::info!(
                    booking = request.id,
                    "consultation request lapsed without an answer"
                );
            }
        }
        if lapsed > 0 {
            self.mail_queued.notify_one();
        }
        Ok(lapsed)
    }

    /// The client moves a booking to another open slot.
    pub async fn reschedule(
        &self,
        token: &str,
        consultation: &Consultation,
        start: DateTime<Utc>,
    ) -> Result<(), BookError> {
        if !self.movable(consultation) {
            return Err(BookError::Taken);
        }
        let slot = self.open_slot(start).await?.ok_or(BookError::Taken)?;
        let now = self.now();
        let moved = Consultation {
            start: slot.start,
            end: slot.end,
            sequence: consultation.sequence + 1,
            ..consultation.clone()
        };
        let setup = self.setup();
        let letters = setup.letters();
        let manage_url = self.manage_url(token);
        let mut mail = vec![
            letters.therapist_moved(&moved, consultation.start, now),
            letters.confirmation(&moved, &manage_url, now, true),
        ];
        mail.extend(letters.reminders(&moved, &manage_url, now));
        if self.busy_in_her_calendar(&slot) {
            return Err(BookError::Taken);
        }
        let guard = availability::guard(&self.setup().rules, &slot);
        match self
            .store
            .reschedule(consultation.id, slot, &guard, now, mail)
            .await?
        {
            Moved::Moved => {
                self.mail_queued.notify_one();
                tracing::info!(
                    booking = consultation.id,
                    "consultation moved by the client"
                );
                Ok(())
            }
            Moved::Taken | Moved::NotBooked => Err(BookError::Taken),
        }
    }

    /// Whether this server (`holder`) does the shared work `work` this
    /// round, which comes every `every`: it takes or renews the work's
    /// lease for two rounds.
    async fn my_turn(
        &self,
        work: &str,
        holder: &str,
        every: std::time::Duration,
    ) -> Result<bool, StoreError> {
        let now = self.now();
        let until = now + Duration::from_std(every * 2).unwrap_or(Duration::hours(2));
        self.store.take_lease(work, holder, now, until).await
    }

    /// Deletes what is older than the retention period.
    pub async fn purge(&self) -> Result<Purged, StoreError> {
        let now = self.now();
        let before = now - self.setup().rules.retention;
        self.store.purge(before, before, now).await
    }

    /// The client's calendar file for a consultation as it stands.
    pub fn client_ics(&self, consultation: &Consultation, token: &str) -> String {
        self.setup()
            .letters()
            .client_ics(consultation, &self.manage_url(token), self.now())
    }

    /// The therapist's calendar feed.
    pub async fn feed(&self) -> Result<String, StoreError> {
        let since = self.now() - self.setup().rules.retention;
        let consultations: Vec<Consultation> =
            self.store.consultations(Listing::Upcoming(since)).await?;
        let setup = self.setup();
        let practice = &setup.practice;
        Ok(ics::feed(
            practice.host(),
            &format!("Consultations ({})", practice.name),
            &|id| practice.url(&Practice::admin_path(id)),
            &consultations,
            self.now(),
        ))
    }
}

fn as_cancelled(consultation: &Consultation, now: DateTime<Utc>, by: CancelledBy) -> Consultation {
    Consultation {
        status: Status::Cancelled,
        sequence: consultation.sequence + 1,
        cancelled_at: Some(now),
        cancelled_by: Some(by),
        ..consultation.clone()
    }
}

/// The background work of a running server: the outbox and the retention
/// purge. Stopped together, before the database is closed.
pub struct Workers {
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

/// How often requests past their time to answer are released.
const LAPSE_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// How often old consultations are purged.
const PURGE_EVERY: std::time::Duration = std::time::Duration::from_secs(60 * 60);

impl Workers {
    /// Starts the purge, the release of unanswered requests, the outbox if
    /// mail is on (else says once that it is off), and the refresh of her
    /// calendars if she has any.
    pub fn start(booking: Arc<Booking>) -> Self {
        let (shutdown, receiver) = watch::channel(false);
        let mut tasks = Vec::new();
        match booking.mailer.clone() {
            Some(mailer) => {
                let outbox = Outbox::new(booking.store.clone(), booking.clock.clone(), mailer);
                tasks.push(tokio::spawn(
                    outbox.run(booking.mail_queued.clone(), receiver.clone()),
                ));
            }
            None => tracing::warn!(
                "email is off; the dashboard is the source of truth (set SMTP_URL or SMTP_HOST to send mail)"
            ),
        }
        if booking.calendars.is_some() {
            let booking = Arc::clone(&booking);
            let mut stop = receiver.clone();
            tasks.push(tokio::spawn(async move {
                loop {
                    tokio::select! {
                        _ = stop.changed() => break,
                        () = tokio::time::sleep(calendar::REFRESH) => {}
                    }
                    let booking = Arc::clone(&booking);
                    let _ =
                        tokio::task::spawn_blocking(move || booking.refresh_busy_calendars()).await;
                }
            }));
        }
        // Servers sharing one database take turns through a lease: the
        // holder renews it each round; if it stops, another takes over
        // once the lease runs out (two rounds).
        let holder = format!("{}-{:016x}", std::process::id(), rand::random::<u64>());
        {
            let booking = Arc::clone(&booking);
            let holder = holder.clone();
            let mut stop = receiver.clone();
            tasks.push(tokio::spawn(async move {
                loop {
                    let released = match booking.my_turn("lapse", &holder, LAPSE_EVERY).await {
                        Ok(true) => booking.lapse_requests().await.map(|_| ()),
                        Ok(false) => Ok(()),
                        Err(err) => Err(err),
                    };
                    if let Err(err) = released {
                        tracing::error!(%err, "releasing unanswered requests failed");
                    }
                    tokio::select! {
                        _ = stop.changed() => break,
                        () = tokio::time::sleep(LAPSE_EVERY) => {}
                    }
                }
            }));
        }
        let mut stop = receiver;
        tasks.push(tokio::spawn(async move {
            loop {
                let purged = match booking.my_turn("purge", &holder, PURGE_EVERY).await {
                    Ok(true) => booking.purge().await,
                    Ok(false) => Ok(Purged::default()),
                    Err(err) => Err(err),
                };
                match purged {
                    Ok(purged) if purged != Purged::default() => tracing::info!(
                        consultations = purged.consultations,
                        mail = purged.mail,
                        sessions = purged.sessions,
                        "purged data past its retention period"
                    ),
                    Ok(_) => {}
                    Err(err) => tracing::error!(%err, "the retention purge failed"),
                }
                tokio::select! {
                    _ = stop.changed() => break,
                    () = tokio::time::sleep(PURGE_EVERY) => {}
                }
            }
        }));
        Self { shutdown, tasks }
    }

    /// Asks every task to stop and waits for them (a mail being sent finishes).
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}
