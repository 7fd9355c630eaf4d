//! The askama templates of the pages rendered per request (booking and
//! admin) and the plain values they show. Templates only format.

use askama::Template;

use crate::booking::availability::{self, Slot};
use crate::booking::form::{BookingForm, ContactMethod, FieldErrors, Topic, slot_value};
use crate::booking::rules::BookingRules;
use crate::site::views::{Head, Layout};

/// One day's open times, a fieldset of radio buttons.
#[derive(Debug, Clone)]
pub struct DayChoice {
    pub legend: String,
    pub id: String,
    pub slots: Vec<SlotChoice>,
}

#[derive(Debug, Clone)]
pub struct SlotChoice {
    pub id: String,
    pub value: String,
    pub label: String,
    pub checked: bool,
}

/// Days shown before the rest fold away under "More dates" (a phone
/// screen's worth; the rest stay one tap away, without JavaScript).
pub const VISIBLE_DAYS: usize = 5;

/// The open days: the first few, and the later ones behind a disclosure that
/// is open when the chosen time is among them.
#[derive(Debug, Clone)]
pub struct Days {
    pub first: Vec<DayChoice>,
    pub later: Vec<DayChoice>,
    pub later_open: bool,
    /// The practice's IANA zone, for the script that adds the visitor's time.
    pub practice_zone: &'static str,
}

/// The open slots, grouped by day, with `chosen` ticked if it is among them.
pub fn day_choices(rules: &BookingRules, slots: &[Slot], chosen: &str) -> Days {
    let mut first = all_days(rules, slots, chosen);
    let later = first.split_off(VISIBLE_DAYS.min(first.len()));
    let later_open = later.iter().flat_map(|d| &d.slots).any(|s| s.checked);
    Days {
        first,
        later,
        later_open,
        practice_zone: rules.time_zone.name(),
    }
}

fn all_days(rules: &BookingRules, slots: &[Slot], chosen: &str) -> Vec<DayChoice> {
    availability::by_day(rules, slots)
        .into_iter()
        .map(|(date, slots)| DayChoice {
            legend: availability::day_label(date),
            id: format!("day-{}", date.format("%Y-%m-%d")),
            slots: slots
                .iter()
                .map(|slot| {
                    let value = slot_value(slot.start);
                    SlotChoice {
                        id: format!("slot-{value}"),
                        checked: value == chosen.trim(),
                        label: availability::time_label(rules, slot.start),
                        value,
                    }
                })
                .collect(),
        })
        .collect()
}

/// A radio button or option.
#[derive(Debug, Clone)]
pub struct Choice {
    pub code: &'static str,
    pub label: &'static str,
    pub checked: bool,
}

pub fn contact_choices(chosen: &str) -> Vec<Choice> {
    ContactMethod::ALL
        .into_iter()
        .map(|m| Choice {
            code: m.code(),
            label: m.label(),
            checked: m.code() == chosen,
        })
        .collect()
}

pub fn topic_choices(chosen: &str) -> Vec<Choice> {
    Topic::ALL
        .into_iter()
        .map(|t| Choice {
            code: t.code(),
            label: t.label(),
            checked: t.code() == chosen,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "booking/form.html")]
pub struct BookingFormPage<'a> {
    pub layout: &'a Layout,
    pub head: Head,
    pub title: &'a str,
    pub intro_html: &'a str,
    pub minutes: u32,
    pub zone: &'a str,
    pub days: Days,
    pub form: &'a BookingForm,
    pub errors: &'a FieldErrors,
    /// A message about the whole form (shown first in the summary).
    pub notice: Option<&'a str>,
    pub token: String,
    pub contacts: Vec<Choice>,
    pub topics: Vec<Choice>,
    pub note_max: usize,
    /// Bookings wait for her approval, answered within this many hours.
    pub approval_hours: Option<i64>,
}

/// A consultation as its client sees it.
#[derive(Debug, Clone)]
pub struct ClientView {
    pub when: String,
    pub minutes: u32,
    pub contact: &'static str,
    pub booked: bool,
    pub cancelled: bool,
    /// Once cancelled, the page's heading: a request withdrawn or not
    /// confirmed reads as such, not as a cancelled consultation.
    pub ended: &'static str,
    /// A request awaiting the therapist's answer: until when.
    pub awaiting_until: Option<String>,
    /// Booked and still ahead: it can be cancelled or moved.
    /// The client may still cancel it here.
    pub changeable: bool,
    /// … and move it.
    pub movable: bool,
    /// Why not (or not any more), pointing to the phone or email.
    pub change_limit: Option<String>,
}

#[derive(Template)]
#[template(path = "booking/manage.html")]
pub struct ManagePage<'a> {
    pub layout: &'a Layout,
    pub head: Head,
    pub consultation: ClientView,
    pub manage_url: String,
    pub ics_url: String,
    pub change_url: String,
    pub cancel_url: String,
    pub notice: Option<&'a str>,
    pub therapist: &'a str,
}

/// "Cancel your consultation?": the client's cancel, asked once more on a
/// page of its own, its button apart from choosing another time.
#[derive(Template)]
#[template(path = "booking/cancel.html")]
pub struct CancelPage<'a> {
    pub layout: &'a Layout,
    pub head: Head,
    pub consultation: ClientView,
    pub manage_path: String,
    pub change_url: String,
    pub cancel_url: String,
    pub token: String,
    pub therapist: &'a str,
}

#[derive(Template)]
#[template(path = "booking/change.html")]
pub struct ChangePage<'a> {
    pub layout: &'a Layout,
    pub head: Head,
    pub consultation: ClientView,
    pub zone: &'a str,
    pub days: Days,
    pub errors: &'a FieldErrors,
    pub notice: Option<&'a str>,
    pub token: String,
    pub manage_url: String,
    pub action: String,
}

#[derive(Template)]
#[template(path = "admin/login.html")]
pub struct LoginPage<'a> {
    pub layout: &'a Layout,
    pub head: Head,
    pub token: String,
    pub error: Option<&'a str>,
    pub login_off: bool,
}

/// A consultation in the dashboard's lists.
#[derive(Debug, Clone)]
pub struct Row {
    pub url: String,
    pub when: String,
    pub name: String,
    pub topic: &'static str,
    pub contact: &'static str,
    pub status: &'static str,
    pub cancelled: bool,
}

#[derive(Template)]
#[template(path = "admin/dashboard.html")]
pub struct DashboardPage<'a> {
    pub layout: &'a Layout,
    pub head: Head,
    /// Requests awaiting her answer, each with the time it lapses.
    pub requests: Vec<(Row, String)>,
    pub upcoming: Vec<Row>,
    pub past: Vec<Row>,
    pub mail_on: bool,
    pub mail_waiting: i64,
    pub mail_failed: i64,
    pub feed_url: String,
    pub csrf: String,
    pub notice: Option<&'a str>,
    /// The site's files have this many errors: readers get the last good
    /// version until they are fixed.
    pub site_errors: usize,
    /// Mail queued for over an hour and not sent: the mail settings or the
    /// provider need a look.
    pub mail_stuck: bool,
    pub mail: Vec<MailRow>,
    /// One line per calendar of hers whose latest fetch failed.
    pub calendar_problems: Vec<String>,
    /// Upcoming bookings that no longer fit her hours, days or calendar.
    pub clashes: Vec<(Row, &'static str)>,
    pub zone: &'a str,
    pub retention_days: i64,
}

/// One email's state on the dashboard.
#[derive(Debug, Clone)]
pub struct MailRow {
    pub queued: String,
    pub what: &'static str,
    /// The consultation's page in the dashboard, while it exists.
    pub consultation_url: Option<String>,
    pub state: String,
    pub failed: bool,
}

/// Every detail of one consultation, for the therapist.
#[derive(Debug, Clone)]
pub struct DetailView {
    pub id: i64,
    pub when: String,
    pub status: String,
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    /// `tel:` target: the phone's digits.
    pub phone_href: String,
    pub contact: &'static str,
    pub topic: &'static str,
    pub note: Option<String>,
    pub booked_at: String,
    pub can_cancel: bool,
    /// A request awaiting her answer: until when.
    pub awaiting_until: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/consultation.html")]
pub struct DetailPage<'a> {
    pub layout: &'a Layout,
    pub head: Head,
    pub c: DetailView,
    pub csrf: String,
    pub error: Option<&'a str>,
    /// The longest note she can add when she cancels.
    pub cancel_note_max: usize,
}

/// One day of her hours on the times page.
#[derive(Debug, Clone)]
pub struct PlanDay {
    pub label: String,
    pub slots: Vec<PlanSlot>,
}

/// One slot of her hours, what closes it, and what she can do with it.
#[derive(Debug, Clone)]
pub struct PlanSlot {
    pub time: String,
    /// The slot as posted.
    pub value: String,
    pub state: &'static str,
    /// Offered online: she can block it.
    pub open: bool,
    /// Free: she can enter a consultation arranged by phone.
    pub bookable: bool,
    /// Blocked by her: the time off to remove to reopen it.
    pub reopen: Option<i64>,
}

/// Days off she entered, with the id to remove them.
#[derive(Debug, Clone)]
pub struct TimeOffRow {
    pub id: i64,
    pub days: String,
}

#[derive(Template)]
#[template(path = "admin/times.html")]
pub struct TimesPage<'a> {
    pub layout: &'a Layout,
    pub head: Head,
    pub csrf: String,
    pub notice: Option<&'a str>,
    /// A problem with the time-off form, shown with what she typed.
    pub error: Option<&'a str>,
    pub first: &'a str,
    pub last: &'a str,
    pub zone: &'a str,
    pub days: Vec<PlanDay>,
    pub time_off: Vec<TimeOffRow>,
}

#[derive(Template)]
#[template(path = "admin/phone.html")]
pub struct PhoneBookingPage<'a> {
    pub layout: &'a Layout,
    pub head: Head,
    pub csrf: String,
    pub when: String,
    pub form: &'a BookingForm,
    pub errors: &'a FieldErrors,
    pub contacts: Vec<Choice>,
    pub topics: Vec<Choice>,
}
