//! The practice's facts (`content/site.toml`): read once, validated, and the
//! single source for contact details, the consultation's length and the
//! wording of every call to action.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{NaiveDate, NaiveTime, Weekday};
use serde::Deserialize;

use crate::diagnostic::{Diagnostic, Diagnostics, LineIndex};

/// The name of the one placeholder the therapist writes in Markdown and in
/// this file, so that no page can state another consultation length.
pub const CONSULTATION_MINUTES: &str = "consultation_minutes";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteConfig {
    pub practice: Practice,
    pub therapist: Therapist,
    pub consultation: Consultation,
    pub calls_to_action: BTreeMap<String, CallToAction>,
    pub home: Home,
    /// The header's links, in order.
    pub navigation: Vec<NavigationLink>,
    /// `[booking]` as written; checked into [`SiteConfig::booking`].
    #[serde(rename = "booking", default)]
    booking_settings: BookingSettings,
    /// When and how the consultation can be booked online.
    #[serde(skip)]
    pub booking: BookingRules,
    /// Where the settings were read from, for problems found later.
    #[serde(skip)]
    source: PathBuf,
    #[serde(skip)]
    source_text: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Practice {
    pub name: String,
    pub city: String,
    pub state: String,
    pub phone: String,
    pub email: String,
    pub base_url: String,
    /// The practice's time zone as written (an IANA name).
    #[serde(rename = "time_zone")]
    time_zone_name: String,
    /// ... and as understood: when a day begins for scheduled articles, and
    /// the time consultations are offered and shown in.
    #[serde(skip, default = "default_zone")]
    pub time_zone: chrono_tz::Tz,
}

fn default_zone() -> chrono_tz::Tz {
    chrono_tz::America::Los_Angeles
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Therapist {
    pub name: String,
    pub credential: String,
    pub credential_name: String,
    #[serde(default)]
    pub license_number: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Consultation {
    pub minutes: u32,
    pub button: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallToAction {
    pub heading: String,
    pub text: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Home {
    pub services: Vec<String>,
    pub featured: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NavigationLink {
    pub label: String,
    /// A path of this site, such as `/about` or `/blog`.
    pub path: String,
}

/// `[booking]` as the therapist writes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct BookingSettings {
    #[serde(default = "default_time_zone_label")]
    time_zone_label: String,
    #[serde(default)]
    buffer_minutes: u32,
    #[serde(default = "default_notice")]
    minimum_notice_hours: u32,
    #[serde(default = "default_days_ahead")]
    days_ahead: u32,
    #[serde(default = "default_daily_maximum")]
    daily_maximum: u32,
    #[serde(default)]
    blocked_dates: Vec<String>,
    #[serde(default = "default_retention")]
    retention_days: u32,
    #[serde(default)]
    hours: WeeklyHours,
}

impl Default for BookingSettings {
    fn default() -> Self {
        Self {
            time_zone_label: default_time_zone_label(),
            buffer_minutes: 0,
            minimum_notice_hours: default_notice(),
            days_ahead: default_days_ahead(),
            daily_maximum: default_daily_maximum(),
            blocked_dates: Vec::new(),
            retention_days: default_retention(),
            hours: WeeklyHours::default(),
        }
    }
}

fn default_time_zone_label() -> String {
    "Pacific Time".to_string()
}
fn default_notice() -> u32 {
    24
}
fn default_days_ahead() -> u32 {
    30
}
fn default_daily_maximum() -> u32 {
    4
}
fn default_retention() -> u32 {
    90
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct WeeklyHours {
    #[serde(default)]
    monday: Vec<String>,
    #[serde(default)]
    tuesday: Vec<String>,
    #[serde(default)]
    wednesday: Vec<String>,
    #[serde(default)]
    thursday: Vec<String>,
    #[serde(default)]
    friday: Vec<String>,
    #[serde(default)]
    saturday: Vec<String>,
    #[serde(default)]
    sunday: Vec<String>,
}

/// The checked `[booking]` settings: when consultations can be booked.
/// The consultation's length is not here: it is `[consultation] minutes`.
#[derive(Debug, Clone)]
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
}

impl Default for BookingRules {
    fn default() -> Self {
        Self {
            time_zone: chrono_tz::America::Los_Angeles,
            time_zone_label: default_time_zone_label(),
            buffer: chrono::Duration::zero(),
            minimum_notice: chrono::Duration::hours(default_notice().into()),
            days_ahead: default_days_ahead(),
            daily_maximum: default_daily_maximum(),
            blocked_dates: Vec::new(),
            retention: chrono::Duration::days(default_retention().into()),
            hours: Default::default(),
        }
    }
}

impl BookingRules {
    /// The opening hours of one weekday.
    pub fn hours_on(&self, weekday: Weekday) -> &[(NaiveTime, NaiveTime)] {
        &self.hours[weekday.num_days_from_monday() as usize]
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

/// The call to action used when an article names none.
pub const DEFAULT_CALL_TO_ACTION: &str = "general";

impl SiteConfig {
    /// Reads and validates the file; every problem is reported with its line.
    pub fn load(path: &Path) -> Result<Self, Diagnostics> {
        let text = std::fs::read_to_string(path).map_err(|err| {
            Diagnostic::new(path, 1, format!("cannot read the site settings: {err}"))
        })?;
        Self::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Self, Diagnostics> {
        let lines = LineIndex::new(text);
        let mut config: SiteConfig = toml::from_str(text).map_err(|err| {
            let line = err.span().map_or(1, |span| lines.line_of(span.start));
            Diagnostic::new(path, line, err.message().trim().to_string())
        })?;
        let mut problems = Diagnostics::default();
        let line_of = |needle: &str| text.find(needle).map_or(1, |offset| lines.line_of(offset));

        config.practice.base_url = config.practice.base_url.trim_end_matches('/').to_string();
        match config.practice.time_zone_name.parse::<chrono_tz::Tz>() {
            Ok(zone) => config.practice.time_zone = zone,
            Err(_) => problems.push(Diagnostic::new(
                path,
                line_of("time_zone"),
                format!(
                    "`{}` is not a time zone name; write one like \"America/Los_Angeles\"",
                    config.practice.time_zone_name
                ),
            )),
        }
        if !(config.practice.base_url.starts_with("https://")
            || config.practice.base_url.starts_with("http://"))
        {
            problems.push(Diagnostic::new(
                path,
                line_of("base_url"),
                "base_url must start with https:// (for example https://www.example.com)",
            ));
        }
        if !config.practice.email.contains('@') {
            problems.push(Diagnostic::new(
                path,
                line_of("email"),
                "email does not look like an email address",
            ));
        }
        if !(5..=120).contains(&config.consultation.minutes) {
            problems.push(Diagnostic::new(
                path,
                line_of("minutes"),
                "the consultation's minutes must be between 5 and 120",
            ));
        }
        if !config.calls_to_action.contains_key(DEFAULT_CALL_TO_ACTION) {
            problems.push(Diagnostic::new(
                path,
                line_of("[calls_to_action"),
                "add a [calls_to_action.general] box: it ends every article that names no other",
            ));
        }

        // Expand placeholders once, here, so templates only ever see final text.
        let mut expand = |field: &str, value: &mut String| match config_expand(
            config.consultation.minutes,
            value,
        ) {
            Ok(expanded) => *value = expanded,
            Err(message) => problems.push(Diagnostic::new(path, line_of(field), message)),
        };
        expand("button", &mut config.consultation.button);
        for (key, cta) in &mut config.calls_to_action {
            expand(key, &mut cta.heading);
            expand(key, &mut cta.text);
        }
        config.booking = check_booking(
            &config.booking_settings,
            config.consultation.minutes,
            config.practice.time_zone,
        )
        .unwrap_or_else(|found| {
            for (needle, message) in found {
                problems.push(Diagnostic::new(
                    path,
                    line_in_booking(text, &needle, &lines),
                    message,
                ));
            }
            BookingRules::default()
        });
        config.source = path.to_path_buf();
        config.source_text = text.to_string();
        problems.into_result(config)
    }

    /// A number that changes whenever the settings file's text does:
    /// equal numbers mean every page built from these settings is the same.
    pub fn fingerprint(&self) -> u64 {
        use std::hash::{Hash as _, Hasher as _};
        let mut hasher = std::hash::DefaultHasher::new();
        self.source.hash(&mut hasher);
        self.source_text.hash(&mut hasher);
        hasher.finish()
    }

    /// A problem with a setting, at the first line that contains `needle`.
    pub fn diagnostic(&self, needle: &str, message: String) -> Diagnostic {
        let line = self.source_text.find(needle).map_or(1, |offset| {
            LineIndex::new(&self.source_text).line_of(offset)
        });
        Diagnostic::new(&self.source, line, message)
    }

    /// Replaces every `{{consultation_minutes}}` in `text`.
    pub fn expand(&self, text: &str) -> Result<String, String> {
        config_expand(self.consultation.minutes, text)
    }

    /// "Alicia Taverner, LMFT"
    pub fn therapist_with_credential(&self) -> String {
        format!("{}, {}", self.therapist.name, self.therapist.credential)
    }

    /// `tel:` link target: the digits of the phone number.
    pub fn phone_href(&self) -> String {
        let digits: String = self
            .practice
            .phone
            .chars()
            .filter(|c| c.is_ascii_digit() || *c == '+')
            .collect();
        format!("tel:{digits}")
    }

    /// Today's date where the practice is.
    pub fn today(&self, now: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDate {
        now.with_timezone(&self.practice.time_zone).date_naive()
    }

    /// The instant a day begins where the practice is.
    pub fn start_of(&self, day: chrono::NaiveDate) -> chrono::DateTime<chrono::Utc> {
        use chrono::TimeZone as _;
        let midnight = day.and_hms_opt(0, 0, 0).expect("midnight exists");
        self.practice
            .time_zone
            .from_local_datetime(&midnight)
            .earliest()
            // No zone skips midnight today, but if one did, the next hour begins the day.
            .unwrap_or_else(|| self.practice.time_zone.from_utc_datetime(&midnight))
            .with_timezone(&chrono::Utc)
    }

    /// Absolute URL of a site path, for canonical links.
    pub fn absolute_url(&self, path: &str) -> String {
        format!("{}{}", self.practice.base_url, path)
    }
}

/// The line of `needle` within the `[booking]` section (or the section's own
/// line), so a problem there points at the setting, not at a namesake above.
fn line_in_booking(text: &str, needle: &str, lines: &LineIndex) -> usize {
    let section = text.find("[booking").unwrap_or(0);
    let offset = text[section..]
        .find(needle)
        .map_or(section, |offset| section + offset);
    lines.line_of(offset)
}

/// Checks `[booking]`; every problem comes back as (text to find its line, message).
fn check_booking(
    settings: &BookingSettings,
    minutes: u32,
    time_zone: chrono_tz::Tz,
) -> Result<BookingRules, Vec<(String, String)>> {
    let mut problems = Vec::new();
    if settings.buffer_minutes > 240 {
        problems.push((
            "buffer_minutes".to_string(),
            "buffer_minutes must be at most 240".to_string(),
        ));
    }
    if settings.days_ahead == 0 || settings.days_ahead > 365 {
        problems.push((
            "days_ahead".to_string(),
            "days_ahead must be between 1 and 365".to_string(),
        ));
    }
    if settings.minimum_notice_hours > 24 * 60 {
        problems.push((
            "minimum_notice_hours".to_string(),
            "minimum_notice_hours must be at most 1440 (60 days)".to_string(),
        ));
    }
    if settings.daily_maximum == 0 {
        problems.push((
            "daily_maximum".to_string(),
            "daily_maximum must be at least 1".to_string(),
        ));
    }
    if settings.retention_days == 0 || settings.retention_days > 3650 {
        problems.push((
            "retention_days".to_string(),
            "retention_days must be between 1 and 3650".to_string(),
        ));
    }
    let mut blocked_dates = Vec::new();
    for date in &settings.blocked_dates {
        match NaiveDate::parse_from_str(date, "%Y-%m-%d") {
            Ok(day) => blocked_dates.push(day),
            Err(_) => problems.push((
                format!("\"{date}\""),
                format!("blocked date `{date}` is not a date like 2026-12-24 (YYYY-MM-DD)"),
            )),
        }
    }
    let mut hours: [Vec<(NaiveTime, NaiveTime)>; 7] = Default::default();
    let days = [
        ("monday", &settings.hours.monday),
        ("tuesday", &settings.hours.tuesday),
        ("wednesday", &settings.hours.wednesday),
        ("thursday", &settings.hours.thursday),
        ("friday", &settings.hours.friday),
        ("saturday", &settings.hours.saturday),
        ("sunday", &settings.hours.sunday),
    ];
    for (index, (day, ranges)) in days.into_iter().enumerate() {
        for range in ranges {
            match parse_range(range) {
                Ok((from, to)) => {
                    if (to - from).num_minutes() < i64::from(minutes) {
                        problems.push((
                            format!("{day} ="),
                            format!(
                                "{day}: `{range}` is shorter than one consultation ([consultation] minutes)"
                            ),
                        ));
                    }
                    hours[index].push((from, to));
                }
                Err(message) => problems.push((format!("{day} ="), format!("{day}: {message}"))),
            }
        }
        hours[index].sort();
        if hours[index].windows(2).any(|pair| pair[0].1 > pair[1].0) {
            problems.push((
                format!("{day} ="),
                format!("{day}: the time ranges overlap"),
            ));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(BookingRules {
        time_zone,
        time_zone_label: settings.time_zone_label.clone(),
        buffer: chrono::Duration::minutes(settings.buffer_minutes.into()),
        minimum_notice: chrono::Duration::hours(settings.minimum_notice_hours.into()),
        days_ahead: settings.days_ahead,
        daily_maximum: settings.daily_maximum,
        blocked_dates,
        retention: chrono::Duration::days(settings.retention_days.into()),
        hours,
    })
}

/// Expands `{{name}}` placeholders; an unknown name is an error that says
/// which ones exist.
fn config_expand(minutes: u32, text: &str) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err("a `{{` is never closed with `}}`".to_string());
        };
        let name = after[..end].trim();
        if name == CONSULTATION_MINUTES {
            out.push_str(&minutes.to_string());
        } else {
            return Err(format!(
                "unknown placeholder `{{{{{name}}}}}`; the only one is {{{{{CONSULTATION_MINUTES}}}}}"
            ));
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHIPPED: &str = include_str!("../content/site.toml");

    #[test]
    fn shipped_settings_are_valid() {
        let config = SiteConfig::parse(Path::new("site.toml"), SHIPPED).unwrap();
        assert_eq!(config.consultation.minutes, 15);
        assert_eq!(
            config.consultation.button,
            "Book a free 15-minute consultation"
        );
        assert!(!config.practice.base_url.ends_with('/'));
    }

    #[test]
    fn unknown_setting_is_reported_with_its_line() {
        let text = SHIPPED.replace("city =", "citty =");
        let err = SiteConfig::parse(Path::new("site.toml"), &text).unwrap_err();
        let first = err.iter().next().unwrap();
        assert!(first.message.contains("citty"), "{first}");
        let expected_line = text.lines().position(|l| l.starts_with("citty")).unwrap() + 1;
        assert_eq!(first.line, expected_line);
    }

    #[test]
    fn placeholders_expand_and_unknown_ones_are_named() {
        assert_eq!(
            config_expand(15, "a {{consultation_minutes}}-minute call").unwrap(),
            "a 15-minute call"
        );
        assert_eq!(
            config_expand(15, "a {{ consultation_minutes }} x").unwrap(),
            "a 15 x"
        );
        let err = config_expand(15, "{{minutes}}").unwrap_err();
        assert!(err.contains("`{{minutes}}`"), "{err}");
        assert!(config_expand(15, "open {{ never").is_err());
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
            .replacen("blocked_dates = [", "blocked_dates = [\"2026-02-30\", ", 1);
        let err = SiteConfig::parse(Path::new("site.toml"), &text).unwrap_err();
        let line = |needle: &str| text.lines().position(|l| l.starts_with(needle)).unwrap() + 1;
        let found: Vec<(usize, &str)> = err.iter().map(|d| (d.line, d.message.as_str())).collect();
        // The time zone is the practice's, in [practice].
        assert!(
            found
                .iter()
                .any(|(l, m)| *l == line("time_zone =") && m.contains("Pacific")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|(l, m)| *l == line("monday =") && m.contains("9-5")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|(l, m)| *l == line("blocked_dates =") && m.contains("2026-02-30")),
            "{found:?}"
        );
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
    fn phone_link_keeps_digits() {
        let config = SiteConfig::parse(Path::new("site.toml"), SHIPPED).unwrap();
        assert_eq!(config.phone_href(), "tel:9095550123");
    }
}
