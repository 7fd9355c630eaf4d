//! Her availability on the dashboard, under `/admin/times`: every slot of
//! her weekly hours over the booking window with what closes it, time off
//! (a day or a range), blocking and reopening one slot, and entering a
//! consultation arranged by phone. Every page needs a session and every
//! form its token, as in [`super::admin`].

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use chrono::NaiveDate;
use serde::Deserialize;

use super::admin::{AdminForm, AdminSession, head, tokened};
use super::client::{FORM_LIMIT, html, see_other};
use super::views::{
    PhoneBookingPage, PlanDay, PlanSlot, TimeOffRow, TimesPage, contact_choices, topic_choices,
};
use super::{AppState, HttpError};
use crate::booking::availability::{self, describe};
use crate::booking::form::{BookingForm, FieldErrors, field, parse_slot, slot_value};
use crate::booking::messages::Practice;
use crate::booking::store::TimeOffKind;
use crate::booking::{BookError, Booking, SlotState};

tokened!(TimeOffForm, SlotForm, ReopenForm, BookingForm);

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/times", get(times))
        .route("/admin/times/off", post(add_time_off))
        .route("/admin/times/block", post(block))
        .route("/admin/times/reopen", post(reopen))
        .route("/admin/times/book", get(phone_form).post(book_by_phone))
        .layer(DefaultBodyLimit::max(FORM_LIMIT))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TimesQuery {
    done: String,
}

async fn times(
    State(state): State<AppState>,
    session: AdminSession,
    Query(query): Query<TimesQuery>,
) -> Result<Response, HttpError> {
    let notice = match query.done.as_str() {
        "off" => Some(
            "Time off added: those days are no longer offered. Bookings already there stay booked; the dashboard lists them.",
        ),
        "blocked" => Some("That time is no longer offered."),
        "reopened" => Some("Reopened: the time is offered again where it is free."),
        _ => None,
    };
    render_times(&state, &session, StatusCode::OK, notice, None, "", "").await
}

async fn render_times(
    state: &AppState,
    session: &AdminSession,
    status: StatusCode,
    notice: Option<&str>,
    error: Option<&str>,
    first: &str,
    last: &str,
) -> Result<Response, HttpError> {
    let booking = &state.booking;
    let setup = booking.setup();
    let rules = &setup.rules;
    let plan = booking.plan().await?;
    let now = booking.now();
    let mut days: Vec<PlanDay> = Vec::new();
    for (slot, slot_state) in plan.slots {
        let date = availability::local_date(rules, slot.start);
        let label = availability::day_label(date);
        if days.last().is_none_or(|day| day.label != label) {
            days.push(PlanDay {
                label,
                slots: Vec::new(),
            });
        }
        let (state_label, open, bookable, reopen) = match slot_state {
            SlotState::Open => ("Offered", true, slot.start > now, None),
            SlotState::TooSoon => (
                "Too soon to be offered online",
                false,
                slot.start > now,
                None,
            ),
            SlotState::DayBlocked => ("Day blocked in site.toml", false, false, None),
            SlotState::DayFull => ("Day full (daily maximum)", false, false, None),
            SlotState::Booked => ("Booked", false, false, None),
            SlotState::Blocked(id) => ("Blocked by you", false, false, Some(id)),
            SlotState::TimeOff => ("Time off", false, false, None),
            SlotState::InHerCalendar => ("Busy in your calendar", false, false, None),
        };
        if let Some(day) = days.last_mut() {
            day.slots.push(PlanSlot {
                time: availability::time_label(rules, slot.start),
                value: slot_value(slot.start),
                state: state_label,
                open,
                bookable,
                reopen,
            });
        }
    }
    let site = state.site.current();
    let view = TimesPage {
        layout: site.layout(),
        head: head(booking, "Your times"),
        csrf: session.csrf(booking),
        notice,
        error,
        first,
        last,
        zone: &rules.time_zone_label,
        days,
        time_off: plan
            .time_off
            .iter()
            .map(|off| TimeOffRow {
                id: off.id,
                days: match off.kind {
                    TimeOffKind::Days => days_label(booking, off.start, off.end),
                    TimeOffKind::Slot => format!(
                        "{}, {} (one time)",
                        availability::day_label(availability::local_date(rules, off.start)),
                        availability::time_label(rules, off.start)
                    ),
                },
            })
            .collect(),
    };
    Ok(html(status, view.render()?))
}

/// "Thursday, December 24" or "Thursday, December 24 to Friday, January 1".
fn days_label(
    booking: &Booking,
    start: chrono::DateTime<chrono::Utc>,
    end: chrono::DateTime<chrono::Utc>,
) -> String {
    let setup = booking.setup();
    let rules = &setup.rules;
    let first = availability::local_date(rules, start);
    // The span ends at the next midnight: its last day is the one before.
    let last = availability::local_date(rules, end - chrono::Duration::seconds(1));
    if first == last {
        availability::day_label(first)
    } else {
        format!(
            "{} to {}",
            availability::day_label(first),
            availability::day_label(last)
        )
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TimeOffForm {
    token: String,
    first: String,
    last: String,
}

async fn add_time_off(
    State(state): State<AppState>,
    AdminForm(session, posted): AdminForm<TimeOffForm>,
) -> Result<Response, HttpError> {
    let date = |text: &str| NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok();
    let today = availability::local_date(&state.booking.setup().rules, state.booking.now());
    let problem = match (date(&posted.first), posted.last.trim()) {
        (None, _) => Some("Enter the first day off as a date."),
        (Some(_), last) if !last.is_empty() && date(last).is_none() => {
            Some("Enter the last day off as a date, or leave it empty for one day.")
        }
        (Some(first), last) => {
            let last = date(last).unwrap_or(first);
            if last < first {
                Some("The last day off comes before the first; check the dates.")
            } else if last < today {
                Some("Those days are already past.")
            } else {
                state.booking.add_days_off(first.max(today), last).await?;
                None
            }
        }
    };
    match problem {
        None => Ok(see_other("/admin/times?done=off")),
        Some(error) => {
            render_times(
                &state,
                &session,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(error),
                &posted.first,
                &posted.last,
            )
            .await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SlotForm {
    token: String,
    slot: String,
}

async fn block(
    State(state): State<AppState>,
    AdminForm(_, posted): AdminForm<SlotForm>,
) -> Result<Response, HttpError> {
    let start = parse_slot(&posted.slot).ok_or(HttpError::BadRequest)?;
    if !state.booking.block_slot(start).await? {
        return Err(HttpError::NotFound);
    }
    Ok(see_other("/admin/times?done=blocked"))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ReopenForm {
    token: String,
    id: i64,
}

async fn reopen(
    State(state): State<AppState>,
    AdminForm(_, posted): AdminForm<ReopenForm>,
) -> Result<Response, HttpError> {
    if !state.booking.reopen(posted.id).await? {
        return Err(HttpError::NotFound);
    }
    Ok(see_other("/admin/times?done=reopened"))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PhoneQuery {
    slot: String,
}

async fn phone_form(
    State(state): State<AppState>,
    session: AdminSession,
    Query(query): Query<PhoneQuery>,
) -> Result<Response, HttpError> {
    let posted = BookingForm {
        slot: query.slot,
        ..BookingForm::default()
    };
    render_phone_form(
        &state,
        &session,
        StatusCode::OK,
        &posted,
        &FieldErrors::default(),
    )
}

fn render_phone_form(
    state: &AppState,
    session: &AdminSession,
    status: StatusCode,
    posted: &BookingForm,
    errors: &FieldErrors,
) -> Result<Response, HttpError> {
    let booking = &state.booking;
    let start = parse_slot(&posted.slot).ok_or(HttpError::NotFound)?;
    let site = state.site.current();
    let view = PhoneBookingPage {
        layout: site.layout(),
        head: head(booking, "A consultation arranged by phone"),
        csrf: session.csrf(booking),
        when: describe(&booking.setup().rules, start),
        form: posted,
        errors,
        contacts: contact_choices(&posted.contact),
        topics: topic_choices(&posted.topic),
    };
    Ok(html(status, view.render()?))
}

async fn book_by_phone(
    State(state): State<AppState>,
    AdminForm(session, mut client): AdminForm<BookingForm>,
) -> Result<Response, HttpError> {
    let request = match client.parse() {
        Ok(request) => request,
        Err(errors) => {
            return render_phone_form(
                &state,
                &session,
                StatusCode::UNPROCESSABLE_ENTITY,
                &client,
                &in_her_words(errors),
            );
        }
    };
    match state.booking.book_by_phone(&request).await {
        Ok(booked) => Ok(see_other(&Practice::admin_path(booked.id))),
        Err(BookError::Taken) => {
            let mut errors = FieldErrors::default();
            errors.push(
                field::SLOT,
                "That time is no longer free. Go back to your times and choose another.",
            );
            client.consent.clear();
            render_phone_form(&state, &session, StatusCode::CONFLICT, &client, &errors)
        }
        Err(BookError::Store(err)) => Err(err.into()),
    }
}

/// The public form's messages speak to the client ("Enter your name"); on
/// her form the same checks speak of the client.
fn in_her_words(errors: FieldErrors) -> FieldErrors {
    let mut hers = FieldErrors::default();
    for error in errors.iter() {
        let message = match error.field {
            field::NAME => error
                .message
                .replace("Enter your name.", "Enter the client’s name.")
                .replace("Your name", "The name"),
            field::EMAIL => error.message.replace(
                "Enter your email address.",
                "Enter the client’s email address.",
            ),
            field::PHONE => error.message.replace(
                "or choose email as the way to contact you",
                "or choose email as the way to reach them",
            ),
            field::CONTACT => "Choose how they would like to be contacted.".to_string(),
            field::CONSENT => {
                "Tick the box once you have told them how their details are kept.".to_string()
            }
            _ => error.message.clone(),
        };
        hers.push(error.field, message);
    }
    hers
}
