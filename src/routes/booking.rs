//! The public booking flow: `/consultation` (the page and its form) and the
//! client's private pages under `/booking/<token>` (confirmation, calendar
//! file, cancel, change the time). No cookies: the form's token is a signed
//! hidden field, and the private link is the only key.
//!
//! Answers: 303 to the private page on success; 422 with the form and every
//! input kept when something needs fixing (including the bot checks, which
//! say nothing specific); 409 with the form, input kept and fresh times when
//! the time was taken meanwhile; 403 for a form token this server did not
//! sign; 413 past the form limit; 429 past the rate limit.

use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use chrono::Duration;
use serde::Deserialize;

use super::client::{ClientAddr, FORM_LIMIT, form, html, limit, private_headers, see_other};
use super::views::{
    BookingFormPage, CancelPage, ChangePage, ClientView, ManagePage, contact_choices, day_choices,
    topic_choices,
};
use super::{AppState, HttpError};
use crate::booking::form::{BookingForm, FieldErrors, NOTE_MAX, field, parse_slot};
use crate::booking::messages::Practice;
use crate::booking::store::{CancelledBy, Consultation, Status};
use crate::booking::tokens::{Purpose, TokenError, token_hash};
use crate::booking::{BookError, Booking};
use crate::site::views::Head;

/// A person needs at least this long to fill the form; bots are quicker.
pub const MIN_FILL_TIME: Duration = Duration::seconds(3);
/// A booking form older than this is shown again with fresh times.
const FORM_MAX_AGE: Duration = Duration::hours(6);
/// The forms on a private page stay valid this long.
const MANAGE_MAX_AGE: Duration = Duration::days(7);

const CHECK_AGAIN: &str =
    "Please check your details and send the form again. Everything you entered is kept.";
const EXPIRED: &str = "This page was open for a long time, so the times were refreshed. Please check your choice and send the form again.";
pub const TAKEN: &str = "Sorry, that time was just taken. Please choose another time; everything else you entered is kept.";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/consultation", get(show).post(submit))
        .route("/booking/{token}", get(manage))
        .route("/booking/{token}/calendar.ics", get(calendar))
        .route("/booking/{token}/cancel", get(cancel_page).post(cancel))
        .route("/booking/{token}/change", get(change_form).post(change))
        .layer(DefaultBodyLimit::max(FORM_LIMIT))
        .layer(axum::middleware::from_fn(super::compress::pages))
}

async fn show(State(state): State<AppState>) -> Result<Response, HttpError> {
    render_form(
        &state,
        StatusCode::OK,
        &BookingForm::default(),
        &FieldErrors::default(),
        None,
    )
    .await
}

/// The booking page: the consultation page's own text above the form.
async fn render_form(
    state: &AppState,
    status: StatusCode,
    form: &BookingForm,
    errors: &FieldErrors,
    notice: Option<&str>,
) -> Result<Response, HttpError> {
    let site = state.site.current();
    let page = site.page_body("consultation").ok_or(HttpError::NotFound)?;
    let booking = &state.booking;
    let slots = booking.open_slots().await?;
    let view = BookingFormPage {
        layout: site.layout(),
        head: page.head.clone(),
        title: &page.title,
        intro_html: &page.html,
        minutes: booking.setup().practice.minutes,
        zone: &booking.setup().rules.time_zone_label,
        days: day_choices(&booking.setup().rules, &slots, &form.slot),
        form,
        errors,
        notice,
        token: booking.issue_token(Purpose::Booking, ""),
        contacts: contact_choices(&form.contact),
        topics: topic_choices(&form.topic),
        note_max: NOTE_MAX,
        approval_hours: booking.setup().rules.approval.map(|wait| wait.num_hours()),
    };
    Ok(html(status, view.render()?))
}

async fn submit(
    State(state): State<AppState>,
    client: ClientAddr,
    posted: Result<Form<BookingForm>, FormRejection>,
) -> Result<Response, HttpError> {
    limit(state.booking.limits().public_post(client.0))?;
    let mut posted = form(posted)?;
    let booking = &state.booking;
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let no_errors = FieldErrors::default();
    match booking.check_token(
        &posted.token,
        Purpose::Booking,
        "",
        MIN_FILL_TIME,
        FORM_MAX_AGE,
    ) {
        Ok(()) => {}
        Err(TokenError::Invalid) => {
            tracing::warn!("booking form refused: its token was not signed here");
            return Err(HttpError::Forbidden);
        }
        Err(TokenError::TooFast) => {
            tracing::info!("booking form refused: sent faster than a person can");
            return render_form(
                &state,
                unprocessable,
                &posted,
                &no_errors,
                Some(CHECK_AGAIN),
            )
            .await;
        }
        Err(TokenError::Expired) => {
            return render_form(&state, unprocessable, &posted, &no_errors, Some(EXPIRED)).await;
        }
    }
    if !posted.website.is_empty() {
        tracing::info!("booking form refused: the hidden field was filled");
        posted.website.clear();
        return render_form(
            &state,
            unprocessable,
            &posted,
            &no_errors,
            Some(CHECK_AGAIN),
        )
        .await;
    }
    let request = match posted.parse() {
        Ok(request) => request,
        Err(errors) => return render_form(&state, unprocessable, &posted, &errors, None).await,
    };
    match booking.book(&request).await {
        Ok(booked) => Ok(see_other(&format!(
            "{}?done=booked",
            Practice::manage_path(&booked.token)
        ))),
        Err(BookError::Taken) => {
            let mut errors = FieldErrors::default();
            errors.push(field::SLOT, TAKEN);
            posted.slot.clear();
            render_form(&state, StatusCode::CONFLICT, &posted, &errors, None).await
        }
        Err(BookError::Store(err)) => Err(err.into()),
    }
}

fn private_head(booking: &Booking, title: &str) -> Head {
    Head {
        title: format!("{title} | {}", booking.setup().practice.name),
        description: String::new(),
        canonical: booking.setup().practice.url("/consultation"),
        path: String::new(),
        noindex: true,
        ..Head::default()
    }
}

fn client_view(booking: &Booking, consultation: &Consultation) -> ClientView {
    ClientView {
        when: crate::booking::availability::describe(&booking.setup().rules, consultation.start),
        minutes: booking.setup().practice.minutes,
        contact: consultation.client.contact.by(),
        booked: consultation.status == Status::Booked,
        cancelled: consultation.status == Status::Cancelled,
        ended: match (consultation.awaiting_until, consultation.cancelled_by) {
            (Some(_), Some(CancelledBy::Client)) => "Your request is withdrawn",
            (Some(_), _) => "Your request was not confirmed",
            (None, _) => "Your consultation is cancelled",
        },
        awaiting_until: (consultation.status == Status::Requested)
            .then_some(consultation.awaiting_until)
            .flatten()
            .map(|until| crate::booking::availability::describe(&booking.setup().rules, until)),
        changeable: booking.changeable(consultation),
        movable: booking.movable(consultation),
        change_limit: booking.change_limit(consultation),
    }
}

/// The consultation behind a private link, or 404.
async fn find(booking: &Booking, token: &str) -> Result<Consultation, HttpError> {
    booking.by_link(token).await?.ok_or(HttpError::NotFound)
}

#[derive(Debug, Deserialize)]
struct Done {
    done: Option<String>,
}

async fn manage(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(done): Query<Done>,
) -> Result<Response, HttpError> {
    let booking = &state.booking;
    let consultation = find(booking, &token).await?;
    let requested = consultation.status == Status::Requested;
    let notice = match done.done.as_deref() {
        Some("booked") if requested => Some("Thank you. Your request is sent."),
        Some("booked") if booking.mail_on() => {
            Some("Thank you. A confirmation with a calendar file is on its way to your email.")
        }
        Some("booked") => {
            Some("Thank you. Please keep this page’s address: it is your private link.")
        }
        Some("moved") => Some("Done: your consultation has moved to the new time."),
        Some("cancelled") if consultation.awaiting_until.is_some() => {
            Some("Done: your request is withdrawn.")
        }
        Some("cancelled") => {
            Some("Done: your consultation is cancelled and the time is free again.")
        }
        _ => None,
    };
    render_manage(&state, StatusCode::OK, &token, &consultation, notice)
}

fn render_manage(
    state: &AppState,
    status: StatusCode,
    token: &str,
    consultation: &Consultation,
    notice: Option<&str>,
) -> Result<Response, HttpError> {
    let booking = &state.booking;
    let site = state.site.current();
    let title = match consultation.status {
        Status::Requested => "Your consultation request",
        Status::Booked => "Your consultation",
        Status::Cancelled => "Your cancelled consultation",
    };
    let path = Practice::manage_path(token);
    let view = ManagePage {
        layout: site.layout(),
        head: private_head(booking, title),
        consultation: client_view(booking, consultation),
        manage_url: booking.manage_url(token),
        ics_url: format!("{path}/calendar.ics"),
        change_url: format!("{path}/change"),
        cancel_url: format!("{path}/cancel"),
        notice,
        therapist: &booking.setup().practice.therapist,
    };
    Ok(html(status, view.render()?))
}

/// The form token of a private page: bound to its link, so it cannot be
/// replayed against another booking.
fn manage_token(booking: &Booking, token: &str) -> String {
    booking.issue_token(Purpose::Manage, &token_hash(token))
}

fn check_manage_token(booking: &Booking, link: &str, posted: &str) -> Result<(), TokenError> {
    booking.check_token(
        posted,
        Purpose::Manage,
        &token_hash(link),
        Duration::zero(),
        MANAGE_MAX_AGE,
    )
}

async fn calendar(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, HttpError> {
    let booking = &state.booking;
    let consultation = find(booking, &token).await?;
    // A request has no calendar entry until she confirms it.
    if consultation.status == Status::Requested {
        return Err(HttpError::NotFound);
    }
    let mut response = booking.client_ics(&consultation, &token).into_response();
    private_headers(response.headers_mut());
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/calendar; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"consultation.ics\""),
    );
    Ok(response)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TokenForm {
    token: String,
}

async fn cancel_page(
    State(state): State<AppState>,
    Path(link): Path<String>,
) -> Result<Response, HttpError> {
    let booking = &state.booking;
    let consultation = find(booking, &link).await?;
    let path = Practice::manage_path(&link);
    if !booking.changeable(&consultation) {
        return Ok(see_other(&path));
    }
    let site = state.site.current();
    let setup = booking.setup();
    let view = CancelPage {
        layout: site.layout(),
        head: private_head(booking, "Cancel your consultation?"),
        consultation: client_view(booking, &consultation),
        manage_path: path.clone(),
        change_url: format!("{path}/change"),
        cancel_url: format!("{path}/cancel"),
        token: manage_token(booking, &link),
        therapist: &setup.practice.therapist,
    };
    Ok(html(StatusCode::OK, view.render()?))
}

async fn cancel(
    State(state): State<AppState>,
    client: ClientAddr,
    Path(link): Path<String>,
    posted: Result<Form<TokenForm>, FormRejection>,
) -> Result<Response, HttpError> {
    limit(state.booking.limits().public_post(client.0))?;
    let posted = form(posted)?;
    let booking = &state.booking;
    let consultation = find(booking, &link).await?;
    match check_manage_token(booking, &link, &posted.token) {
        Ok(()) => {}
        Err(TokenError::Expired) => {
            return render_manage(
                &state,
                StatusCode::UNPROCESSABLE_ENTITY,
                &link,
                &consultation,
                Some("This page was open for a long time. Please press the button again."),
            );
        }
        Err(_) => return Err(HttpError::Forbidden),
    }
    let path = Practice::manage_path(&link);
    if booking.cancel_by_client(&link, &consultation).await? {
        Ok(see_other(&format!("{path}?done=cancelled")))
    } else {
        Ok(see_other(&path))
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ChangeForm {
    slot: String,
    token: String,
}

async fn change_form(
    State(state): State<AppState>,
    Path(link): Path<String>,
) -> Result<Response, HttpError> {
    let consultation = find(&state.booking, &link).await?;
    if !state.booking.movable(&consultation) {
        return Ok(see_other(&Practice::manage_path(&link)));
    }
    render_change(
        &state,
        StatusCode::OK,
        &link,
        &consultation,
        "",
        &FieldErrors::default(),
        None,
    )
    .await
}

async fn render_change(
    state: &AppState,
    status: StatusCode,
    link: &str,
    consultation: &Consultation,
    chosen: &str,
    errors: &FieldErrors,
    notice: Option<&str>,
) -> Result<Response, HttpError> {
    let booking = &state.booking;
    let site = state.site.current();
    let slots = booking.open_slots().await?;
    let path = Practice::manage_path(link);
    let view = ChangePage {
        layout: site.layout(),
        head: private_head(booking, "Choose another time"),
        consultation: client_view(booking, consultation),
        zone: &booking.setup().rules.time_zone_label,
        days: day_choices(&booking.setup().rules, &slots, chosen),
        errors,
        notice,
        token: manage_token(booking, link),
        action: format!("{path}/change"),
        manage_url: path,
    };
    Ok(html(status, view.render()?))
}

async fn change(
    State(state): State<AppState>,
    client: ClientAddr,
    Path(link): Path<String>,
    posted: Result<Form<ChangeForm>, FormRejection>,
) -> Result<Response, HttpError> {
    limit(state.booking.limits().public_post(client.0))?;
    let posted = form(posted)?;
    let booking = &state.booking;
    let consultation = find(booking, &link).await?;
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    match check_manage_token(booking, &link, &posted.token) {
        Ok(()) => {}
        Err(TokenError::Expired) => {
            let none = FieldErrors::default();
            return render_change(
                &state,
                unprocessable,
                &link,
                &consultation,
                &posted.slot,
                &none,
                Some(EXPIRED),
            )
            .await;
        }
        Err(_) => return Err(HttpError::Forbidden),
    }
    if !booking.movable(&consultation) {
        return Ok(see_other(&Practice::manage_path(&link)));
    }
    let Some(start) = parse_slot(&posted.slot) else {
        let mut errors = FieldErrors::default();
        errors.push(field::SLOT, "Choose a new time.");
        return render_change(
            &state,
            unprocessable,
            &link,
            &consultation,
            "",
            &errors,
            None,
        )
        .await;
    };
    match booking.reschedule(&link, &consultation, start).await {
        Ok(()) => Ok(see_other(&format!(
            "{}?done=moved",
            Practice::manage_path(&link)
        ))),
        Err(BookError::Taken) => {
            let mut errors = FieldErrors::default();
            errors.push(
                field::SLOT,
                "Sorry, that time was just taken. Please choose another.",
            );
            render_change(
                &state,
                StatusCode::CONFLICT,
                &link,
                &consultation,
                "",
                &errors,
                None,
            )
            .await
        }
        Err(BookError::Store(err)) => Err(err.into()),
    }
}
