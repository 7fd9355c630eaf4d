//! The therapist's dashboard under `/admin`: login and logout, upcoming and
//! past consultations, one consultation's details, cancel (the client is
//! emailed), delete, CSV export, and the private calendar feed.
//!
//! Every page but the login form and the feed needs a session
//! ([`AdminSession`]): without one, a GET is sent to the login form (303)
//! and a POST is refused (403). Every form carries a token bound to the
//! session (CSRF), on top of the cookie's `SameSite=Strict`; a handler that
//! takes an [`AdminForm`] gets the form only once both are checked, so none
//! can forget the token. An address that cannot be read (an id that is not
//! a number) is 400 before either check: it reaches no handler.

use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::client::{ClientAddr, FORM_LIMIT, form, html, limit, private_headers, see_other};
use super::views::{DashboardPage, DetailPage, DetailView, LoginPage, MailRow, Row};
use super::{AppState, HttpError, session};
use crate::booking::admin::SESSION_LENGTH;
use crate::booking::availability::describe;
use crate::booking::messages::Practice;
use crate::booking::rules::BookingRules;
use crate::booking::store::{CancelledBy, Consultation, Listing, MailState, Status};
use crate::booking::tokens::Purpose;
use crate::booking::{Booking, Login};
use crate::site::views::Head;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin", get(dashboard))
        .route("/admin/login", get(login_form).post(login))
        .route("/admin/logout", post(logout))
        .route("/admin/consultations/{id}", get(detail))
        .route("/admin/consultations/{id}/approve", post(approve))
        .route("/admin/consultations/{id}/cancel", post(cancel))
        .route("/admin/consultations/{id}/delete", post(delete))
        .route("/admin/export.csv", get(export))
        .route("/admin/feed/{file}", get(feed))
        .route("/admin/feed-address", post(rotate_feed))
        .layer(DefaultBodyLimit::max(FORM_LIMIT))
}

/// A logged-in therapist.
#[derive(Debug, Clone)]
pub struct AdminSession {
    token_hash: String,
}

impl FromRequestParts<AppState> for AdminSession {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        if let Some(token) = session::session_token(&parts.headers) {
            let found = state
                .booking
                .session(&token)
                .await
                .map_err(|err| HttpError::from(err).into_response())?;
            if let Some(token_hash) = found {
                return Ok(Self { token_hash });
            }
        }
        Err(match parts.method {
            Method::GET | Method::HEAD => see_other("/admin/login"),
            _ => HttpError::Forbidden.into_response(),
        })
    }
}

impl AdminSession {
    pub(super) fn csrf(&self, booking: &Booking) -> String {
        booking.issue_token(Purpose::Admin, &self.token_hash)
    }

    pub(super) fn check(&self, booking: &Booking, token: &str) -> Result<(), HttpError> {
        booking
            .check_token(
                token,
                Purpose::Admin,
                &self.token_hash,
                Duration::zero(),
                SESSION_LENGTH,
            )
            .map_err(|_| HttpError::Forbidden)
    }
}

/// A form posted from one of her pages, taken only with her session and the
/// token that session issued: no session is 403, a body that is not the
/// form is 400 (413 past its limit), and a wrong or expired token is 403.
pub(super) struct AdminForm<T>(pub AdminSession, pub T);

/// A form that carries the token of [`AdminSession::csrf`].
pub(super) trait Tokened {
    fn token(&self) -> &str;
}

/// `Tokened` for forms whose token is their `token` field.
macro_rules! tokened {
    ($($form:ty),+ $(,)?) => {
        $(impl crate::routes::admin::Tokened for $form {
            fn token(&self) -> &str {
                &self.token
            }
        })+
    };
}
pub(super) use tokened;

tokened!(TokenForm, CancelForm, DeleteForm);

impl<T> FromRequest<AppState> for AdminForm<T>
where
    T: DeserializeOwned + Tokened + Send,
{
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let session = AdminSession::from_request_parts(&mut parts, state).await?;
        let posted = Form::<T>::from_request(Request::from_parts(parts, body), state).await;
        let posted = form(posted).map_err(IntoResponse::into_response)?;
        session
            .check(&state.booking, posted.token())
            .map_err(IntoResponse::into_response)?;
        Ok(Self(session, posted))
    }
}

pub(super) fn head(booking: &Booking, title: &str) -> Head {
    Head {
        title: format!("{title} | {}", booking.setup().practice.name),
        description: String::new(),
        canonical: booking.setup().practice.url("/admin"),
        path: String::new(),
        noindex: true,
        ..Head::default()
    }
}

async fn login_form(State(state): State<AppState>) -> Result<Response, HttpError> {
    render_login(&state, StatusCode::OK, None)
}

fn render_login(
    state: &AppState,
    status: StatusCode,
    error: Option<&str>,
) -> Result<Response, HttpError> {
    let booking = &state.booking;
    let site = state.site.current();
    let view = LoginPage {
        layout: site.layout(),
        head: head(booking, "Log in"),
        token: booking.issue_token(Purpose::Login, ""),
        error,
        login_off: !booking.login_on(),
    };
    Ok(html(status, view.render()?))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LoginForm {
    password: String,
    token: String,
}

async fn login(
    State(state): State<AppState>,
    client: ClientAddr,
    headers: HeaderMap,
    posted: Result<Form<LoginForm>, FormRejection>,
) -> Result<Response, HttpError> {
    let booking = state.booking.clone();
    limit(booking.limits().login(client.0))?;
    let posted = form(posted)?;
    booking
        .check_token(
            &posted.token,
            Purpose::Login,
            "",
            Duration::zero(),
            Duration::hours(1),
        )
        .map_err(|_| HttpError::Forbidden)?;
    let token = match booking.log_in(posted.password).await? {
        Login::Session(token) => token,
        Login::Off => return render_login(&state, StatusCode::FORBIDDEN, None),
        Login::WrongPassword => {
            return render_login(
                &state,
                StatusCode::FORBIDDEN,
                Some("That password is not right."),
            );
        }
    };
    let mut response = see_other("/admin");
    let cookie = session::session_cookie(&token, state.network.secure(&headers));
    session::set(response.headers_mut(), &cookie);
    Ok(response)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TokenForm {
    token: String,
}

async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    AdminForm(session, _): AdminForm<TokenForm>,
) -> Result<Response, HttpError> {
    state.booking.log_out(&session.token_hash).await?;
    let mut response = see_other("/admin/login");
    let cookie = session::expired_cookie(state.network.secure(&headers));
    session::set(response.headers_mut(), &cookie);
    Ok(response)
}

fn status_label(consultation: &Consultation) -> &'static str {
    let was_request = consultation.awaiting_until.is_some();
    match (consultation.status, consultation.cancelled_by) {
        (Status::Requested, _) => "Requested: awaiting your answer",
        (Status::Booked, _) => "Booked",
        (Status::Cancelled, Some(CancelledBy::Client)) if was_request => "Withdrawn by the client",
        (Status::Cancelled, Some(CancelledBy::Client)) => "Cancelled by the client",
        (Status::Cancelled, None) => "Lapsed: not answered in time",
        (Status::Cancelled, Some(CancelledBy::Therapist)) if was_request => "Declined by you",
        (Status::Cancelled, Some(CancelledBy::Therapist)) => "Cancelled by you",
    }
}

fn row(rules: &BookingRules, consultation: &Consultation) -> Row {
    let local = consultation.start.with_timezone(&rules.time_zone);
    Row {
        url: Practice::admin_path(consultation.id),
        when: local.format("%a %b %-d, %Y, %-I:%M %p").to_string(),
        name: consultation.client.name.clone(),
        topic: consultation.client.topic.label(),
        contact: consultation.client.contact.label(),
        status: status_label(consultation),
        cancelled: consultation.status == Status::Cancelled,
    }
}

/// "Jun 3, 9:30 AM", in the practice's time zone: the dashboard's times.
fn short_time(rules: &BookingRules, at: DateTime<Utc>) -> String {
    at.with_timezone(&rules.time_zone)
        .format("%b %-d, %-I:%M %p")
        .to_string()
}

fn mail_row(rules: &BookingRules, mail: &MailState) -> MailRow {
    let when = |at: DateTime<Utc>| short_time(rules, at);
    let state = match (mail.status.as_str(), mail.next_attempt) {
        ("sent", _) => format!("Sent {}", mail.sent.map(when).unwrap_or_default()),
        ("failed", _) => format!(
            "Failed after {} tries: {}",
            mail.attempts,
            mail.last_error.as_deref().unwrap_or("no reason recorded")
        ),
        ("cancelled", _) => "Not needed (the consultation changed)".to_string(),
        (_, Some(next)) if mail.attempts > 0 => format!(
            "Waiting: {} ({} tries so far); next try {}",
            mail.last_error.as_deref().unwrap_or("not sent yet"),
            mail.attempts,
            when(next)
        ),
        (_, Some(next)) => format!("Queued for {}", when(next)),
        (_, None) => "Queued".to_string(),
    };
    MailRow {
        queued: when(mail.created),
        what: mail.kind.label(),
        consultation_url: mail.consultation.map(Practice::admin_path),
        failed: mail.status == "failed",
        state,
    }
}

#[derive(Debug, Deserialize)]
struct Notice {
    done: Option<String>,
}

async fn dashboard(
    State(state): State<AppState>,
    session: AdminSession,
    Query(notice): Query<Notice>,
) -> Result<Response, HttpError> {
    let booking = &state.booking;
    // One version of the settings for the whole page.
    let setup = booking.setup();
    let rules = &setup.rules;
    let now = booking.now();
    let upcoming = booking.consultations(Listing::Upcoming(now)).await?;
    let past = booking.consultations(Listing::Past(now)).await?;
    let mail = booking.mail_counts().await?;
    let recent_mail = booking.recent_mail().await?;
    let site = state.site.current();
    let requests = upcoming
        .iter()
        .filter(|c| c.status == Status::Requested)
        .map(|c| {
            let until = c.awaiting_until.unwrap_or(c.start);
            (
                row(rules, c),
                format!("{} {}", short_time(rules, until), rules.time_zone_label),
            )
        })
        .collect();
    let view = DashboardPage {
        layout: site.layout(),
        head: head(booking, "Consultations"),
        requests,
        upcoming: upcoming.iter().map(|c| row(rules, c)).collect(),
        past: past.iter().map(|c| row(rules, c)).collect(),
        mail_on: booking.mail_on(),
        mail_waiting: mail.waiting,
        mail_failed: mail.failed,
        mail_stuck: booking.mail_on()
            && mail
                .oldest_waiting
                .is_some_and(|queued| now - queued > Duration::hours(1)),
        mail: recent_mail.iter().map(|m| mail_row(rules, m)).collect(),
        feed_url: booking.feed_url().await?,
        csrf: session.csrf(booking),
        notice: match notice.done.as_deref() {
            Some("deleted") => Some("The consultation was deleted."),
            _ => None,
        },
        site_errors: state.builds.as_ref().map_or(0, |builds| {
            builds.borrow().problems.as_ref().map_or(0, |problems| {
                problems.iter().filter(|p| p.is_error()).count()
            })
        }),
        calendar_problems: booking
            .calendar_statuses()
            .into_iter()
            .filter_map(|calendar| {
                let error = calendar.error?;
                Some(match calendar.fetched_at {
                    Some(at) => format!(
                        "{} could not be read ({error}); its copy from {} keeps blocking times.",
                        calendar.name,
                        short_time(rules, at)
                    ),
                    None => format!(
                        "{} could not be read ({error}), so its events do not block any time yet.",
                        calendar.name
                    ),
                })
            })
            .collect(),
        clashes: booking
            .clashes()
            .await?
            .iter()
            .map(|(c, why)| (row(rules, c), *why))
            .collect(),
        zone: &rules.time_zone_label,
        retention_days: rules.retention.num_days(),
    };
    Ok(html(StatusCode::OK, view.render()?))
}

async fn detail(
    State(state): State<AppState>,
    session: AdminSession,
    Path(id): Path<i64>,
) -> Result<Response, HttpError> {
    render_detail(&state, &session, StatusCode::OK, id, None).await
}

async fn render_detail(
    state: &AppState,
    session: &AdminSession,
    status: StatusCode,
    id: i64,
    error: Option<&str>,
) -> Result<Response, HttpError> {
    let booking = &state.booking;
    let setup = booking.setup();
    let rules = &setup.rules;
    let c = booking.consultation(id).await?.ok_or(HttpError::NotFound)?;
    let site = state.site.current();
    let view = DetailPage {
        layout: site.layout(),
        head: head(booking, "Consultation"),
        c: DetailView {
            id: c.id,
            when: describe(rules, c.start),
            status: status_label(&c).to_string(),
            name: c.client.name.clone(),
            email: c.client.email.clone(),
            phone: c.client.phone.clone(),
            phone_href: format!(
                "tel:{}",
                c.client
                    .phone
                    .as_deref()
                    .unwrap_or_default()
                    .chars()
                    .filter(|ch| ch.is_ascii_digit() || *ch == '+')
                    .collect::<String>()
            ),
            contact: c.client.contact.label(),
            topic: c.client.topic.label(),
            note: c.client.note.clone(),
            booked_at: describe(rules, c.created_at),
            can_cancel: c.is_held(),
            awaiting_until: (c.status == Status::Requested)
                .then_some(c.awaiting_until)
                .flatten()
                .map(|until| describe(rules, until)),
        },
        csrf: session.csrf(booking),
        error,
        cancel_note_max: CANCEL_NOTE_MAX,
    };
    Ok(html(status, view.render()?))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CancelForm {
    token: String,
    note: String,
}

async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    AdminForm(_, posted): AdminForm<CancelForm>,
) -> Result<Response, HttpError> {
    // The textarea's maxlength, kept by the server too: a longer note is cut.
    let note: String = posted.note.trim().chars().take(CANCEL_NOTE_MAX).collect();
    state
        .booking
        .cancel_by_therapist(id, Some(note.as_str()).filter(|n| !n.is_empty()))
        .await?;
    Ok(see_other(&Practice::admin_path(id)))
}

/// She approves a request from its page (reached from her email's link:
/// the page only shows the button; only this POST changes anything).
async fn approve(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    AdminForm(..): AdminForm<TokenForm>,
) -> Result<Response, HttpError> {
    // Answered, withdrawn or lapsed meanwhile: the page shows which.
    state.booking.approve(id).await?;
    Ok(see_other(&Practice::admin_path(id)))
}

/// The longest note the therapist can add to a cancellation.
pub const CANCEL_NOTE_MAX: usize = 500;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DeleteForm {
    token: String,
    confirm: String,
}

async fn delete(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    AdminForm(session, posted): AdminForm<DeleteForm>,
) -> Result<Response, HttpError> {
    if posted.confirm != "yes" {
        return render_detail(
            &state,
            &session,
            StatusCode::UNPROCESSABLE_ENTITY,
            id,
            Some("Tick the box to confirm the deletion."),
        )
        .await;
    }
    if !state.booking.delete(id).await? {
        return Err(HttpError::NotFound);
    }
    Ok(see_other("/admin?done=deleted"))
}

async fn export(
    State(state): State<AppState>,
    _session: AdminSession,
) -> Result<Response, HttpError> {
    let booking = &state.booking;
    let setup = booking.setup();
    let rules = &setup.rules;
    let all = booking.consultations(Listing::All).await?;
    let mut csv = String::from(
        "id,start (local),start (UTC),status,name,email,phone,contact by,about,note,booked at (UTC)\r\n",
    );
    for c in &all {
        let local = c.start.with_timezone(&rules.time_zone);
        let fields = [
            c.id.to_string(),
            local.format("%Y-%m-%d %H:%M %Z").to_string(),
            c.start.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            status_label(c).to_string(),
            c.client.name.clone(),
            c.client.email.clone(),
            c.client.phone.clone().unwrap_or_default(),
            c.client.contact.label().to_string(),
            c.client.topic.label().to_string(),
            c.client.note.clone().unwrap_or_default(),
            c.created_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        csv.push_str(&line.join(","));
        csv.push_str("\r\n");
    }
    let mut response = csv.into_response();
    private_headers(response.headers_mut());
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"consultations.csv\""),
    );
    Ok(response)
}

/// One CSV field (RFC 4180 quoting). A field a spreadsheet would run as a
/// formula (`=`, `+`, `-`, `@`, tab, CR) is prefixed with `'` so it stays text.
pub fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// A new secret address for the calendar feed; the old one stops working.
async fn rotate_feed(
    State(state): State<AppState>,
    AdminForm(..): AdminForm<TokenForm>,
) -> Result<Response, HttpError> {
    state.booking.rotate_feed().await?;
    Ok(see_other("/admin#tools-heading"))
}

/// The therapist's calendar feed at a secret address (no session: phones
/// subscribe without logging in). Anything else under it is 404.
async fn feed(
    State(state): State<AppState>,
    Path(file): Path<String>,
) -> Result<Response, HttpError> {
    let booking = &state.booking;
    let token = file.strip_suffix(".ics").ok_or(HttpError::NotFound)?;
    if !booking.is_feed_token(token).await? {
        return Err(HttpError::NotFound);
    }
    let mut response = booking.feed().await?.into_response();
    private_headers(response.headers_mut());
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/calendar; charset=utf-8"),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn csv_fields_are_quoted_and_never_formulas() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("line\nbreak"), "\"line\nbreak\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("+1 909"), "'+1 909");
    }
}
