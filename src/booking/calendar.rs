//! Busy times from the therapist's real calendars: the private iCalendar
//! addresses (`BUSY_CALENDAR_URLS`) that her EHR or Google Calendar offers.
//! They are fetched at start and every few minutes, with a timeout and a
//! size limit; each is expanded (recurrences with their exceptions and
//! moved occurrences, all-day events, any `TZID`) into busy intervals over
//! the booking window, and only those start and end times are kept: no
//! title, no attendee, nothing about her clients. A fetch that fails keeps
//! the last good intervals and is reported (dashboard, `/healthz`); its
//! address, which is a secret, is never logged or shown, only its host.

use std::collections::HashSet;
use std::str::FromStr as _;
use std::sync::RwLock;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use icalendar::parser::{Component, read_calendar, unfold};

use super::availability::Busy;

/// How often the calendars are fetched again.
pub const REFRESH: StdDuration = StdDuration::from_secs(5 * 60);
/// The longest a fetch may take.
const TIMEOUT: StdDuration = StdDuration::from_secs(20);
/// The largest calendar read (a busy practice's year is well under 1 MB).
const MAX_BYTES: u64 = 10 * 1024 * 1024;
/// The most occurrences one recurring event may give in the window.
const MAX_OCCURRENCES: u16 = 2_000;

/// One calendar address, shown only by its host.
#[derive(Clone)]
struct Source {
    url: String,
    name: String,
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

/// What the last fetches of one calendar came to, for the dashboard and
/// `/healthz`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CalendarStatus {
    /// "calendar 1 (ehr.example.com)": never the secret address.
    pub name: String,
    /// When a fetch last succeeded.
    pub fetched_at: Option<DateTime<Utc>>,
    /// Why the latest fetch failed, if it did (the last good copy serves).
    pub error: Option<String>,
    /// Busy intervals in the booking window from the last good copy.
    pub busy_times: usize,
    /// Events that could not be read (an unknown time zone, say), skipped.
    pub skipped_events: usize,
}

struct Held {
    status: CalendarStatus,
    busy: Vec<Busy>,
}

/// The therapist's busy calendars, shared by every request.
pub struct BusyCalendars {
    sources: Vec<Source>,
    held: RwLock<Vec<Held>>,
}

impl std::fmt::Debug for BusyCalendars {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BusyCalendars")
            .field("sources", &self.sources)
            .finish_non_exhaustive()
    }
}

impl BusyCalendars {
    /// The calendars at `urls` (space-separated), or what is wrong with one.
    pub fn from_urls(urls: &str) -> Result<Self, String> {
        let mut sources = Vec::new();
        for (index, url) in urls.split_whitespace().enumerate() {
            let number = index + 1;
            let Some((scheme, rest)) = url.split_once("://") else {
                return Err(format!(
                    "BUSY_CALENDAR_URLS: address {number} is not a URL; give https://…, http://… or file://… addresses, separated by spaces"
                ));
            };
            let host = match scheme.to_ascii_lowercase().as_str() {
                "https" | "http" => rest
                    .split(['/', '?', '#'])
                    .next()
                    .and_then(|authority| authority.rsplit('@').next())
                    .unwrap_or_default()
                    .to_string(),
                "file" => "a file".to_string(),
                "webcal" | "webcals" => {
                    return Err(format!(
                        "BUSY_CALENDAR_URLS: address {number} starts with {scheme}://; write https:// instead (the same address)"
                    ));
                }
                _ => {
                    return Err(format!(
                        "BUSY_CALENDAR_URLS: address {number} starts with {scheme}://; only https://, http:// and file:// are read"
                    ));
                }
            };
            sources.push(Source {
                url: url.to_string(),
                name: format!("calendar {number} ({host})"),
            });
        }
        let held = sources
            .iter()
            .map(|source| Held {
                status: CalendarStatus {
                    name: source.name.clone(),
                    fetched_at: None,
                    error: Some("not fetched yet".into()),
                    busy_times: 0,
                    skipped_events: 0,
                },
                busy: Vec::new(),
            })
            .collect();
        Ok(Self {
            sources,
            held: RwLock::new(held),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }

    /// Fetches every calendar now and keeps what it gives over
    /// `[from, to)`; a failure keeps that calendar's last good copy.
    /// Blocking (network and files): run it off the async threads.
    pub fn refresh(&self, zone: Tz, from: DateTime<Utc>, to: DateTime<Utc>, now: DateTime<Utc>) {
        for (index, source) in self.sources.iter().enumerate() {
            let outcome = fetch(&source.url).and_then(|text| busy_in(&text, zone, from, to));
            let mut held = self.held.write().expect("calendar lock");
            let entry = &mut held[index];
            match outcome {
                Ok(expanded) => {
                    entry.status.fetched_at = Some(now);
                    entry.status.error = None;
                    entry.status.busy_times = expanded.busy.len();
                    entry.status.skipped_events = expanded.skipped;
                    entry.busy = expanded.busy;
                    if expanded.skipped > 0 {
                        tracing::warn!(
                            "{}: {} event(s) could not be read and do not block times",
                            source.name,
                            expanded.skipped
                        );
                    }
                }
                Err(message) => {
                    tracing::warn!(
                        "{}: {message}; its last good copy keeps blocking times",
                        source.name
                    );
                    entry.status.error = Some(message);
                }
            }
        }
    }

    /// Every busy interval of every calendar's last good copy.
    pub fn busy(&self) -> Vec<Busy> {
        let held = self.held.read().expect("calendar lock");
        held.iter().flat_map(|h| h.busy.iter().copied()).collect()
    }

    pub fn statuses(&self) -> Vec<CalendarStatus> {
        let held = self.held.read().expect("calendar lock");
        held.iter().map(|h| h.status.clone()).collect()
    }
}

/// The text at `url`, within the time and size limits.
fn fetch(url: &str) -> Result<String, String> {
    use std::io::Read as _;
    if let Some(path) = url.strip_prefix("file://") {
        let file = std::fs::File::open(path).map_err(|err| format!("cannot read it: {err}"))?;
        let mut text = String::new();
        file.take(MAX_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(|err| format!("cannot read it: {err}"))?;
        return within_limit(text);
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(TIMEOUT))
        .http_status_as_error(true)
        .build()
        .into();
    let mut answer = agent.get(url).call().map_err(|err| describe(&err))?;
    let text = answer
        .body_mut()
        .with_config()
        .limit(MAX_BYTES + 1)
        .read_to_string()
        .map_err(|err| describe(&err))?;
    within_limit(text)
}

fn within_limit(text: String) -> Result<String, String> {
    if text.len() as u64 > MAX_BYTES {
        Err(format!(
            "it is larger than {} MB; is it really a calendar?",
            MAX_BYTES / 1024 / 1024
        ))
    } else {
        Ok(text)
    }
}

/// A fetch error in words, without the address (ureq's messages may hold it).
fn describe(err: &ureq::Error) -> String {
    match err {
        ureq::Error::StatusCode(code) => format!("the server answered {code}"),
        ureq::Error::Timeout(_) => "no answer in time".into(),
        ureq::Error::HostNotFound => "its host was not found".into(),
        ureq::Error::ConnectionFailed => "the connection failed".into(),
        ureq::Error::BodyExceedsLimit(_) => format!(
            "it is larger than {} MB; is it really a calendar?",
            MAX_BYTES / 1024 / 1024
        ),
        ureq::Error::Io(io) => format!("the connection failed ({})", io.kind()),
        _ => "the fetch failed (TLS or HTTP)".into(),
    }
}

/// A calendar's busy intervals, and how many events were skipped.
#[derive(Debug, Default)]
pub struct Expanded {
    pub busy: Vec<Busy>,
    pub skipped: usize,
}

/// The busy intervals of an iCalendar text that touch `[from, to)`.
/// Floating times and all-day events are read in the practice's `zone`.
pub fn busy_in(
    text: &str,
    zone: Tz,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Expanded, String> {
    let unfolded = unfold(text);
    let calendar = read_calendar(&unfolded).map_err(|_| {
        "it is not an iCalendar file (the address may need to be the calendar's .ics export)"
            .to_string()
    })?;
    let events: Vec<&Component> = calendar
        .components
        .iter()
        .filter(|c| c.name.as_str() == "VEVENT")
        .collect();
    // Occurrences moved or cancelled one by one: (UID, original start).
    let mut replaced: HashSet<(String, DateTime<Utc>)> = HashSet::new();
    let mut expanded = Expanded::default();
    for event in &events {
        if let Some(id) = event.find_prop("RECURRENCE-ID") {
            match when(id, zone) {
                Ok(original) => {
                    replaced.insert((text_of(event, "UID"), original.instant()));
                }
                Err(_) => expanded.skipped += 1,
            }
        }
    }
    for event in &events {
        match event_busy(event, zone, from, to, &replaced) {
            Ok(busy) => expanded.busy.extend(busy),
            Err(()) => expanded.skipped += 1,
        }
    }
    expanded.busy.sort_by_key(|b| (b.start, b.end));
    expanded.busy.dedup();
    Ok(expanded)
}

fn text_of(event: &Component, name: &str) -> String {
    event
        .find_prop(name)
        .map(|p| p.val.as_str().trim().to_string())
        .unwrap_or_default()
}

/// The busy intervals of one event in the window; `Err` when it cannot be
/// read (then it is counted, and blocks nothing).
fn event_busy(
    event: &Component,
    zone: Tz,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    replaced: &HashSet<(String, DateTime<Utc>)>,
) -> Result<Vec<Busy>, ()> {
    let cancelled = text_of(event, "STATUS").eq_ignore_ascii_case("CANCELLED");
    let free = text_of(event, "TRANSP").eq_ignore_ascii_case("TRANSPARENT");
    if cancelled || free {
        return Ok(Vec::new());
    }
    let start = when(event.find_prop("DTSTART").ok_or(())?, zone)?;
    let length = match (event.find_prop("DTEND"), event.find_prop("DURATION")) {
        (Some(end), _) => Length::Until(when(end, zone)?),
        (None, Some(duration)) => Length::Lasting(parse_duration(duration.val.as_str())?),
        // RFC 5545: a day without an end lasts the day; a time, no time.
        (None, None) => match start {
            When::Day(_) => Length::Lasting(Duration::days(1)),
            When::At(_) => Length::Lasting(Duration::zero()),
        },
    };
    let uid = text_of(event, "UID");
    let starts: Vec<When> =
        if event.find_prop("RRULE").is_some() && event.find_prop("RECURRENCE-ID").is_none() {
            occurrences(event, start, zone, from - Duration::days(2), to)?
        } else {
            vec![start]
        };
    let mut busy = Vec::new();
    for occurrence in starts {
        if event.find_prop("RECURRENCE-ID").is_none()
            && replaced.contains(&(uid.clone(), occurrence.instant()))
        {
            continue;
        }
        let begins = occurrence.start_in(zone);
        let ends = match (occurrence, start, length) {
            // Whole days end at a midnight in the practice's zone, however
            // long the days between are.
            (When::Day(day), When::Day(first), Length::Until(When::Day(last))) => {
                When::Day(day + (last - first)).start_in(zone)
            }
            (When::Day(day), _, Length::Lasting(duration)) => {
                When::Day(day + Duration::days(duration.num_days().max(1))).start_in(zone)
            }
            (_, _, Length::Until(end)) => begins + (end.start_in(zone) - start.start_in(zone)),
            (_, _, Length::Lasting(duration)) => begins + duration,
        };
        if begins < to && ends > from {
            busy.push(Busy {
                start: begins,
                end: ends.max(begins),
            });
        }
    }
    Ok(busy)
}

/// An event's start: a whole day (floating) or an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum When {
    Day(NaiveDate),
    At(DateTime<Utc>),
}

impl When {
    /// The instant it starts: a day starts at midnight in `zone`.
    fn start_in(self, zone: Tz) -> DateTime<Utc> {
        match self {
            When::At(at) => at,
            When::Day(day) => local(zone, day.and_hms_opt(0, 0, 0).unwrap_or_default()),
        }
    }

    /// A key to match a moved occurrence with its series (days at UTC
    /// midnight, as both sides are read the same way).
    fn instant(self) -> DateTime<Utc> {
        match self {
            When::At(at) => at,
            When::Day(day) => Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default()),
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Length {
    Until(When),
    Lasting(Duration),
}

/// A local time in `zone` as an instant (a skipped time moves an hour on).
fn local(zone: Tz, time: NaiveDateTime) -> DateTime<Utc> {
    zone.from_local_datetime(&time)
        .earliest()
        .or_else(|| {
            zone.from_local_datetime(&(time + Duration::hours(1)))
                .earliest()
        })
        .map_or_else(|| Utc.from_utc_datetime(&time), |t| t.with_timezone(&Utc))
}

/// A DTSTART, DTEND, RECURRENCE-ID (or one EXDATE value) as a `When`.
fn when(property: &icalendar::parser::Property, zone: Tz) -> Result<When, ()> {
    value_when(
        property.val.as_str().trim(),
        tzid_of(property).as_deref(),
        zone,
    )
}

/// A property's `TZID` parameter, if it has one.
fn tzid_of(property: &icalendar::parser::Property) -> Option<String> {
    property
        .params
        .iter()
        .find(|p| p.key.as_str().eq_ignore_ascii_case("TZID"))
        .and_then(|p| p.val.as_ref())
        .map(|v| v.as_str().trim_matches('"').to_string())
}

fn value_when(value: &str, tzid: Option<&str>, zone: Tz) -> Result<When, ()> {
    if value.len() == 8 {
        return NaiveDate::parse_from_str(value, "%Y%m%d")
            .map(When::Day)
            .map_err(|_| ());
    }
    if let Some(utc) = value.strip_suffix('Z').or_else(|| value.strip_suffix('z')) {
        let time = NaiveDateTime::parse_from_str(utc, "%Y%m%dT%H%M%S").map_err(|_| ())?;
        return Ok(When::At(Utc.from_utc_datetime(&time)));
    }
    let time = NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%S").map_err(|_| ())?;
    let in_zone = match tzid {
        // Outlook's and some EHRs' zones carry a prefix: "/Europe/London".
        Some(name) => Tz::from_str(name.trim_start_matches('/')).map_err(|_| ())?,
        None => zone,
    };
    Ok(When::At(local(in_zone, time)))
}

/// "PT50M", "P1D", "-PT15M" (a negative length counts as none), read by
/// the `iso8601` crate, which `icalendar` itself depends on.
fn parse_duration(text: &str) -> Result<Duration, ()> {
    let text = text.trim();
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let length: std::time::Duration = iso8601::duration(unsigned).map_err(|_| ())?.into();
    if negative {
        return Ok(Duration::zero());
    }
    Duration::from_std(length).map_err(|_| ())
}

/// The starts of a recurring event between `from` and `to`, its RDATEs
/// added and EXDATEs taken out, by the `rrule` crate. Whole-day series are
/// expanded as midnights in UTC and read back as days.
fn occurrences(
    event: &Component,
    start: When,
    zone: Tz,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<When>, ()> {
    let as_rrule = |when: When| -> DateTime<rrule::Tz> {
        match when {
            When::Day(_) => when.instant().with_timezone(&rrule::Tz::UTC),
            When::At(at) => at.with_timezone(&rrule::Tz::Tz(zone)),
        }
    };
    let dt_start = as_rrule(start);
    let mut set = rrule::RRuleSet::new(dt_start);
    for property in event.properties.iter() {
        let name = property.name.as_str();
        let dates = || -> Result<Vec<When>, ()> {
            let tzid = tzid_of(property);
            property
                .val
                .as_str()
                .split(',')
                .map(|value| value_when(value.trim(), tzid.as_deref(), zone))
                .collect()
        };
        match name {
            "RRULE" => {
                let rule: rrule::RRule<rrule::Unvalidated> =
                    property.val.as_str().parse().map_err(|_| ())?;
                set = set.rrule(rule.validate(dt_start).map_err(|_| ())?);
            }
            "EXDATE" => {
                for date in dates()? {
                    set = set.exdate(as_rrule(date));
                }
            }
            "RDATE" => {
                for date in dates()? {
                    set = set.rdate(as_rrule(date));
                }
            }
            _ => {}
        }
    }
    let result = set
        .after(from.with_timezone(&rrule::Tz::UTC))
        .before(to.with_timezone(&rrule::Tz::UTC))
        .all(MAX_OCCURRENCES);
    Ok(result
        .dates
        .into_iter()
        .map(|at| {
            let at = at.with_timezone(&Utc);
            match start {
                When::Day(_) => When::Day(at.date_naive()),
                When::At(_) => When::At(at),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LA: Tz = chrono_tz::America::Los_Angeles;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn busy(text: &str) -> Vec<(String, String)> {
        busy_in(
            text,
            LA,
            utc("2026-01-01T00:00:00Z"),
            utc("2026-02-01T00:00:00Z"),
        )
        .unwrap()
        .busy
        .into_iter()
        .map(|b| (b.start.to_rfc3339(), b.end.to_rfc3339()))
        .collect()
    }

    fn spans(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    fn calendar(events: &str) -> String {
        format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{events}END:VCALENDAR\r\n")
    }

    #[test]
    fn times_in_any_zone_utc_or_floating_are_read_as_instants() {
        let text = calendar(concat!(
            "BEGIN:VEVENT\r\nUID:a\r\nDTSTART;TZID=America/New_York:20260105T120000\r\nDTEND;TZID=America/New_York:20260105T125000\r\nSUMMARY:Client session\r\nEND:VEVENT\r\n",
            "BEGIN:VEVENT\r\nUID:b\r\nDTSTART:20260106T170000Z\r\nDURATION:PT1H\r\nEND:VEVENT\r\n",
            "BEGIN:VEVENT\r\nUID:c\r\nDTSTART:20260107T090000\r\nDTEND:20260107T093000\r\nEND:VEVENT\r\n",
        ));
        assert_eq!(
            busy(&text),
            spans(&[
                ("2026-01-05T17:00:00+00:00", "2026-01-05T17:50:00+00:00"),
                ("2026-01-06T17:00:00+00:00", "2026-01-06T18:00:00+00:00"),
                // Floating: 9:00 in the practice's zone (PST, UTC-8).
                ("2026-01-07T17:00:00+00:00", "2026-01-07T17:30:00+00:00"),
            ])
        );
    }

    #[test]
    fn all_day_events_block_whole_local_days() {
        let text = calendar(
            "BEGIN:VEVENT\r\nUID:d\r\nDTSTART;VALUE=DATE:20260112\r\nDTEND;VALUE=DATE:20260114\r\nSUMMARY:Conference\r\nEND:VEVENT\r\n",
        );
        assert_eq!(
            busy(&text),
            spans(&[("2026-01-12T08:00:00+00:00", "2026-01-14T08:00:00+00:00")])
        );
    }

    #[test]
    fn a_weekly_series_skips_its_exceptions_and_follows_a_moved_occurrence() {
        let text = calendar(concat!(
            "BEGIN:VEVENT\r\nUID:weekly\r\nDTSTART;TZID=America/Los_Angeles:20260105T100000\r\nDTEND;TZID=America/Los_Angeles:20260105T105000\r\n",
            "RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=4\r\nEXDATE;TZID=America/Los_Angeles:20260112T100000\r\nEND:VEVENT\r\n",
            // The 19th moved to the 20th at 14:00.
            "BEGIN:VEVENT\r\nUID:weekly\r\nRECURRENCE-ID;TZID=America/Los_Angeles:20260119T100000\r\n",
            "DTSTART;TZID=America/Los_Angeles:20260120T140000\r\nDTEND;TZID=America/Los_Angeles:20260120T145000\r\nEND:VEVENT\r\n",
        ));
        assert_eq!(
            busy(&text),
            spans(&[
                ("2026-01-05T18:00:00+00:00", "2026-01-05T18:50:00+00:00"),
                ("2026-01-20T22:00:00+00:00", "2026-01-20T22:50:00+00:00"),
                ("2026-01-26T18:00:00+00:00", "2026-01-26T18:50:00+00:00"),
            ])
        );
    }

    #[test]
    fn free_and_cancelled_events_block_nothing_and_unreadable_ones_are_counted() {
        let text = calendar(concat!(
            "BEGIN:VEVENT\r\nUID:e\r\nDTSTART:20260108T170000Z\r\nDTEND:20260108T180000Z\r\nTRANSP:TRANSPARENT\r\nEND:VEVENT\r\n",
            "BEGIN:VEVENT\r\nUID:f\r\nDTSTART:20260109T170000Z\r\nDTEND:20260109T180000Z\r\nSTATUS:CANCELLED\r\nEND:VEVENT\r\n",
            "BEGIN:VEVENT\r\nUID:g\r\nDTSTART;TZID=Mars/Olympus:20260110T170000\r\nEND:VEVENT\r\n",
            // A cancelled occurrence of a daily series frees its day.
            "BEGIN:VEVENT\r\nUID:h\r\nDTSTART:20260115T170000Z\r\nDTEND:20260115T171500Z\r\nRRULE:FREQ=DAILY;COUNT=2\r\nEND:VEVENT\r\n",
            "BEGIN:VEVENT\r\nUID:h\r\nRECURRENCE-ID:20260116T170000Z\r\nDTSTART:20260116T170000Z\r\nDTEND:20260116T171500Z\r\nSTATUS:CANCELLED\r\nEND:VEVENT\r\n",
        ));
        let expanded = busy_in(
            &text,
            LA,
            utc("2026-01-01T00:00:00Z"),
            utc("2026-02-01T00:00:00Z"),
        )
        .unwrap();
        assert_eq!(expanded.skipped, 1, "the unknown zone");
        let starts: Vec<String> = expanded.busy.iter().map(|b| b.start.to_rfc3339()).collect();
        assert_eq!(starts, ["2026-01-15T17:00:00+00:00"]);
    }

    #[test]
    fn what_is_not_a_calendar_and_bad_addresses_are_named() {
        assert!(busy_in("<html>", LA, Utc::now(), Utc::now()).is_err());
        assert!(BusyCalendars::from_urls("webcal://x.example/a.ics").is_err());
        assert!(BusyCalendars::from_urls("ftp://x.example/a.ics").is_err());
        let ok = BusyCalendars::from_urls("https://u:p@ehr.example/secret/a.ics file:///tmp/b.ics")
            .unwrap();
        let names: Vec<String> = ok.statuses().into_iter().map(|s| s.name).collect();
        assert_eq!(names, ["calendar 1 (ehr.example)", "calendar 2 (a file)"]);
    }

    #[test]
    fn durations_read_as_rfc_5545_writes_them() {
        assert_eq!(parse_duration("PT50M"), Ok(Duration::minutes(50)));
        assert_eq!(parse_duration("P1DT2H"), Ok(Duration::hours(26)));
        assert_eq!(parse_duration("P2W"), Ok(Duration::weeks(2)));
        assert_eq!(parse_duration("-PT5M"), Ok(Duration::zero()));
        assert!(parse_duration("50M").is_err());
    }
}
