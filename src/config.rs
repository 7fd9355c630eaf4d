//! The practice's facts (`content/site.toml`): read once, validated, and the
//! single source for contact details, the consultation's length and the
//! wording of every call to action.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

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
    /// The practice's time zone (an IANA name): when a day begins for
    /// scheduled articles, and the time shown for consultations.
    pub time_zone: chrono_tz::Tz,
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
        config.source = path.to_path_buf();
        config.source_text = text.to_string();
        problems.into_result(config)
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
    fn phone_link_keeps_digits() {
        let config = SiteConfig::parse(Path::new("site.toml"), SHIPPED).unwrap();
        assert_eq!(config.phone_href(), "tel:9095550123");
    }
}
