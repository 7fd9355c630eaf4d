//! When the consultation can be booked: `[booking]` in `content/site.toml`
//! as the therapist writes it ([`BookingSettings`]), checked into the
//! [`BookingRules`] that slot generation, the emails and the purge read.
//!
//! The rules live here, beside the code that applies them, so a newcomer
//! finds what "open" means in one module. `config` deserialises the section
//! with the rest of the file and calls [`BookingSettings::check`]; every
//! problem comes back as a [`Diagnostic`] at the line the TOML parser saw
//! the value on (each setting is [`Spanned`]), never found by searching the
//! text. The consultation's length is not here: it is `[consultation]
//! minutes`, passed in.

use std::path::Path;

use chrono::{NaiveDate, NaiveTime, Weekday};
use serde::Deserialize;
use toml::Spanned;

use crate::diagnostic::{Diagnostic, Diagnostics, LineIndex};

/// `[booking]` as the therapist writes it, each value with where it was read.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookingSettings {
    #[serde(default = "default_time_zone_label")]
    time_zone_label: String,
    #[serde(default = "unspanned")]
    buffer_minutes: Spanned<u32>,
    #[serde(default = "default_notice")]
    minimum_notice_hours: Spanned<u32>,
    #[serde(default = "default_days_ahead")]
    days_ahead: Spanned<u32>,
    #[serde(default = "default_daily_maximum")]
    daily_maximum: Spanned<u32>,
    #[serde(default)]
    blocked_dates: Vec<Spanned<String>>,
    #[serde(default = "default_retention")]
    retention_days: Spanned<u32>,
    /// How long before the consultation a client can still cancel or move
    /// it through the private link (0: until it starts).
    #[serde(default = "unspanned")]
    change_notice_hours: Spanned<u32>,
    /// How many times a client can move one consultation (absent: no cap).
    #[serde(default)]
    max_moves: Option<Spanned<u32>>,
    /// How many hours before the consultation each reminder goes out.
    #[serde(default = "default_reminders")]
    reminder_hours: Spanned<Vec<u32>>,
    /// Whether each booking waits for the therapist's approval.
    #[serde(default)]
    approve_bookings: bool,
    /// How long a request waits for her answer before its time is released.
    #[serde(default = "default_approval_hours")]
    approval_hours: Spanned<u32>,
    #[serde(default)]
    hours: WeeklyHours,
    /// True once the therapist has confirmed the hours, buffer, notice and
    /// blocked dates; until then clients could book times nobody chose.
    #[serde(default)]
    hours_confirmed: bool,
}

impl Default for BookingSettings {
    fn default() -> Self {
        Self {
            hours_confirmed: false,
            time_zone_label: default_time_zone_label(),
            buffer_minutes: unspanned(),
            minimum_notice_hours: default_notice(),
            days_ahead: default_days_ahead(),
            daily_maximum: default_daily_maximum(),
            blocked_dates: Vec::new(),
            retention_days: default_retention(),
            change_notice_hours: unspanned(),
            max_moves: None,
            reminder_hours: default_reminders(),
            approve_bookings: false,
            approval_hours: default_approval_hours(),
            hours: WeeklyHours::default(),
        }
    }
}

/// A default value: it was read from nowhere, and is valid.
fn unspanned<T: Default>() -> Spanned<T> {
    Spanned::new(0..0, T::default())
}
fn default_time_zone_label() -> String {
    "Pacific Time".to_string()
}
fn default_notice() -> Spanned<u32> {
    Spanned::new(0..0, 24)
}
fn default_days_ahead() -> Spanned<u32> {
    Spanned::new(0..0, 30)
}
fn default_daily_maximum() -> Spanned<u32> {
    Spanned::new(0..0, 4)
}
fn default_reminders() -> Spanned<Vec<u32>> {
    Spanned::new(0..0, vec![24])
}
fn default_approval_hours() -> Spanned<u32> {
    Spanned::new(0..0, 24)
}
fn default_retention() -> Spanned<u32> {
    Spanned::new(0..0, 90)
}

/// Opening hours per weekday as written: ranges like `"09:00-12:00"`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeeklyHours {
    #[serde(default)]
    monday: Vec<Spanned<String>>,
    #[serde(default)]
    tuesday: Vec<Spanned<String>>,
    #[serde(default)]
    wednesday: Vec<Spanned<String>>,
    #[serde(default)]
    thursday: Vec<Spanned<String>>,
    #[serde(default)]
    friday: Vec<Spanned<String>>,
    #[serde(default)]
    saturday: Vec<Spanned<String>>,
    #[serde(default)]
    sunday: Vec<Spanned<String>>,
}

/// The checked `[booking]` settings: when consultations can be booked.
/// The consultation's length is not here: it is `[consultation] minutes`.
#[derive(Debug, Clone, PartialEq)]
pub struct BookingRules {
    pub time_zone: chrono_tz::Tz,
    /// How the time zone is named on pages and in email ("Pacific Time").
    pub time_zone_label: String,
    pub buffer: chrono::Duration,
    pub minimum_notice: chrono::Duration,
    pub days_ahead: u32,
    pub daily_maximum: u32,
    pub blocked_dates: Vec<NaiveDate>,
    /// Consultations are deleted this long after they ended.
    pub retention: chrono::Duration,
    /// Opening hours per weekday, Monday first, in local time.
    pub hours: [Vec<(NaiveTime, NaiveTime)>; 7],
    /// Inside this time before it starts, a client can no longer cancel or
    /// move a consultation through the private link.
    pub change_notice: chrono::Duration,
    /// How many times a client can move one consultation, if capped.
    pub max_moves: Option<u32>,
    /// How long before the consultation each reminder goes out, longest first.
    pub reminders: Vec<chrono::Duration>,
    /// `Some`: each booking is a request until she approves it, and is
    /// released if she has not answered within this long.
    pub approval: Option<chrono::Duration>,
}

impl Default for BookingRules {
    fn default() -> Self {
        let settings = BookingSettings::default();
        Self {
            time_zone: chrono_tz::America::Los_Angeles,
            time_zone_label: settings.time_zone_label,
            buffer: chrono::Duration::zero(),
            minimum_notice: chrono::Duration::hours(
                (*settings.minimum_notice_hours.get_ref()).into(),
            ),
            days_ahead: *settings.days_ahead.get_ref(),
            daily_maximum: *settings.daily_maximum.get_ref(),
            blocked_dates: Vec::new(),
            retention: chrono::Duration::days((*settings.retention_days.get_ref()).into()),
            hours: Default::default(),
            change_notice: chrono::Duration::zero(),
            max_moves: None,
            reminders: vec![chrono::Duration::hours(24)],
            approval: None,
        }
    }
}

impl BookingRules {
    /// The opening hours of one weekday.
    pub fn hours_on(&self, weekday: Weekday) -> &[(NaiveTime, NaiveTime)] {
        &self.hours[weekday.num_days_from_monday() as usize]
    }
}

impl BookingSettings {
    /// How many days booking details are kept, as written (for the
    /// `{{retention_days}}` placeholder).
    pub fn retention_days(&self) -> u32 {
        *self.retention_days.get_ref()
    }

    /// Whether the therapist has confirmed the hours (else they are a sample).
    pub fn hours_confirmed(&self) -> bool {
        self.hours_confirmed
    }

    /// Checks the settings of `path` (whose text `lines` indexes) into
    /// rules for consultations of `minutes` in `time_zone`; every problem
    /// is reported at once, at its value's line.
    pub fn check(
        &self,
        minutes: u32,
        time_zone: chrono_tz::Tz,
        path: &Path,
        lines: &LineIndex,
    ) -> Result<BookingRules, Diagnostics> {
        let mut problems = Diagnostics::default();
        let mut problem = |span: std::ops::Range<usize>, message: String| {
            problems.push(Diagnostic::new(path, lines.line_of(span.start), message));
        };
        let number = |value: &Spanned<u32>| *value.get_ref();
        if number(&self.buffer_minutes) > 240 {
            problem(
                self.buffer_minutes.span(),
                "buffer_minutes must be at most 240".into(),
            );
        }
        if !(1..=365).contains(&number(&self.days_ahead)) {
            problem(
                self.days_ahead.span(),
                "days_ahead must be between 1 and 365".into(),
            );
        }
        if number(&self.minimum_notice_hours) > 24 * 60 {
            problem(
                self.minimum_notice_hours.span(),
                "minimum_notice_hours must be at most 1440 (60 days)".into(),
            );
        }
        if number(&self.change_notice_hours) > 24 * 14 {
            problem(
                self.change_notice_hours.span(),
                "change_notice_hours must be at most 336 (14 days)".into(),
            );
        }
        if let Some(moves) = &self.max_moves
            && number(moves) > 20
        {
            problem(
                moves.span(),
                "max_moves must be at most 20 (leave it out for no cap)".into(),
            );
        }
        let reminders = self.reminder_hours.get_ref();
        if reminders.len() > 3
            || reminders.iter().any(|h| !(1..=24 * 14).contains(h))
            || (1..reminders.len()).any(|i| reminders[..i].contains(&reminders[i]))
        {
            problem(
                self.reminder_hours.span(),
                "reminder_hours must list at most 3 different hours between 1 and 336, like [24] or [24, 2]; [] sends none".into(),
            );
        }
        if !(1..=24 * 7).contains(&number(&self.approval_hours)) {
            problem(
                self.approval_hours.span(),
                "approval_hours must be between 1 and 168 (a week)".into(),
            );
        }
        if number(&self.daily_maximum) == 0 {
            problem(
                self.daily_maximum.span(),
                "daily_maximum must be at least 1".into(),
            );
        }
        if !(1..=3650).contains(&number(&self.retention_days)) {
            problem(
                self.retention_days.span(),
                "retention_days must be between 1 and 3650".into(),
            );
        }
        let mut blocked_dates = Vec::new();
        for date in &self.blocked_dates {
            match NaiveDate::parse_from_str(date.get_ref(), "%Y-%m-%d") {
                Ok(day) => blocked_dates.push(day),
                Err(_) => problem(
                    date.span(),
                    format!(
                        "blocked date `{}` is not a date like 2026-12-24 (YYYY-MM-DD)",
                        date.get_ref()
                    ),
                ),
            }
        }
        let mut hours: [Vec<(NaiveTime, NaiveTime)>; 7] = Default::default();
        let days = [
            ("monday", &self.hours.monday),
            ("tuesday", &self.hours.tuesday),
            ("wednesday", &self.hours.wednesday),
            ("thursday", &self.hours.thursday),
            ("friday", &self.hours.friday),
            ("saturday", &self.hours.saturday),
            ("sunday", &self.hours.sunday),
        ];
        for (index, (day, ranges)) in days.into_iter().enumerate() {
            for range in ranges {
                match parse_range(range.get_ref()) {
                    Ok((from, to)) => {
                        if (to - from).num_minutes() < i64::from(minutes) {
                            problem(
                                range.span(),
                                format!(
                                    "{day}: `{}` is shorter than one consultation ([consultation] minutes)",
                                    range.get_ref()
                                ),
                            );
                        }
                        hours[index].push((from, to));
                    }
                    Err(message) => problem(range.span(), format!("{day}: {message}")),
                }
            }
            hours[index].sort();
            if hours[index].windows(2).any(|pair| pair[0].1 > pair[1].0)
                && let Some(first) = ranges.first()
            {
                problem(first.span(), format!("{day}: the time ranges overlap"));
            }
        }
        problems.into_result(BookingRules {
            time_zone,
            time_zone_label: self.time_zone_label.clone(),
            buffer: chrono::Duration::minutes(number(&self.buffer_minutes).into()),
            minimum_notice: chrono::Duration::hours(number(&self.minimum_notice_hours).into()),
            days_ahead: number(&self.days_ahead),
            daily_maximum: number(&self.daily_maximum),
            blocked_dates,
            retention: chrono::Duration::days(number(&self.retention_days).into()),
            hours,
            change_notice: chrono::Duration::hours(number(&self.change_notice_hours).into()),
            max_moves: self.max_moves.as_ref().map(number),
            reminders: {
                let mut hours = self.reminder_hours.get_ref().clone();
                hours.sort_unstable_by(|a, b| b.cmp(a));
                hours
                    .into_iter()
                    .map(|h| chrono::Duration::hours(h.into()))
                    .collect()
            },
            approval: self
                .approve_bookings
                .then(|| chrono::Duration::hours(number(&self.approval_hours).into())),
        })
    }
}

/// Parses `"09:00-12:00"`.
fn parse_range(text: &str) -> Result<(NaiveTime, NaiveTime), String> {
    let (from, to) = text
        .split_once('-')
        .ok_or_else(|| format!("`{text}` is not a range like \"09:00-12:00\""))?;
    let time = |t: &str| {
        NaiveTime::parse_from_str(t.trim(), "%H:%M")
            .map_err(|_| format!("`{}` in `{text}` is not a time like 09:00", t.trim()))
    };
    let (from, to) = (time(from)?, time(to)?);
    if from >= to {
        return Err(format!("`{text}` ends before it starts"));
    }
    Ok((from, to))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SiteConfig;

    const SHIPPED: &str = include_str!("../../content/site.toml");

    fn line(text: &str, needle: &str) -> usize {
        text.lines().position(|l| l.starts_with(needle)).unwrap() + 1
    }

    #[test]
    fn shipped_booking_hours_are_read() {
        let config = SiteConfig::parse(Path::new("site.toml"), SHIPPED).unwrap();
        let rules = &config.booking;
        assert_eq!(rules.time_zone, chrono_tz::America::Los_Angeles);
        assert!(!rules.hours_on(Weekday::Mon).is_empty());
        assert!(rules.hours_on(Weekday::Sun).is_empty());
        assert!(rules.daily_maximum >= 1);
    }

    #[test]
    fn booking_mistakes_are_reported_with_their_lines() {
        let text = SHIPPED
            .replace(
                "time_zone = \"America/Los_Angeles\"",
                "time_zone = \"Pacific\"",
            )
            .replacen("monday = [", "monday = [\"9-5\", ", 1)
            .replacen("blocked_dates = [", "blocked_dates = [\"2026-02-30\", ", 1)
            .replacen("daily_maximum = ", "daily_maximum = 0 # ", 1);
        let err = SiteConfig::parse(Path::new("site.toml"), &text).unwrap_err();
        let found: Vec<(usize, &str)> = err.iter().map(|d| (d.line, d.message.as_str())).collect();
        // The time zone is the practice's, in [practice].
        for (needle, words) in [
            ("time_zone =", "Pacific"),
            ("monday =", "9-5"),
            ("blocked_dates =", "2026-02-30"),
            ("daily_maximum =", "at least 1"),
        ] {
            assert!(
                found
                    .iter()
                    .any(|(l, m)| *l == line(&text, needle) && m.contains(words)),
                "{needle}: {found:?}"
            );
        }
    }

    #[test]
    fn hours_shorter_than_a_consultation_are_refused() {
        let text = SHIPPED.replacen("monday = [", "monday = [\"08:00-08:10\", ", 1);
        let err = SiteConfig::parse(Path::new("site.toml"), &text).unwrap_err();
        assert!(
            err.to_string().contains("shorter than one consultation"),
            "{err}"
        );
    }

    #[test]
    fn ranges_are_parsed_and_checked() {
        let nine = NaiveTime::from_hms_opt(9, 0, 0).unwrap();
        let noon = NaiveTime::from_hms_opt(12, 0, 0).unwrap();
        assert_eq!(parse_range("09:00-12:00"), Ok((nine, noon)));
        assert_eq!(parse_range(" 09:00 - 12:00 "), Ok((nine, noon)));
        assert!(
            parse_range("12:00-09:00")
                .unwrap_err()
                .contains("ends before")
        );
        assert!(parse_range("9-5").unwrap_err().contains("not a time"));
        assert!(parse_range("09:00").unwrap_err().contains("not a range"));
    }
}
