//! The practice's facts (`content/site.toml`): read once, validated, and the
//! single source for contact details, the consultation's length and the
//! wording of every call to action.
//!
//! Every problem is a `Diagnostic` at its setting's line, taken from the
//! TOML parser's spans (`SettingLines`: `practice.base_url`,
//! `home.featured.2` for a list's third item), never from searching the text.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::booking::rules::{BookingRules, BookingSettings};
use crate::diagnostic::{Diagnostic, Diagnostics, LineIndex};

/// The placeholder for the consultation's length, written in Markdown and in
/// this file, so that no page can state another consultation length.
pub const CONSULTATION_MINUTES: &str = "consultation_minutes";
/// The placeholder for how long a booking's details are kept, so the privacy
/// page cannot promise another period than the one the purge keeps.
pub const RETENTION_DAYS: &str = "retention_days";
/// The placeholder for the fees sentence (`[fees] text`), for the notices page.
pub const FEES: &str = "fees";
/// The placeholder for the licence as an advertisement must show it.
pub const LICENSE: &str = "license";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteConfig {
    pub practice: Practice,
    pub therapist: Therapist,
    pub consultation: Consultation,
    pub calls_to_action: BTreeMap<String, CallToAction>,
    pub home: Home,
    /// How fees are given, and whether the therapist has confirmed it.
    pub fees: Fees,
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
    /// Each setting's line, from the TOML parser's spans.
    #[serde(skip)]
    lines: SettingLines,
    /// Every `{{name}}` a text may use, with its value.
    #[serde(skip)]
    placeholders: Vec<(&'static str, String)>,
    /// The facts in this file that are still the shipped samples.
    #[serde(skip)]
    sample_facts: Vec<Diagnostic>,
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
    /// The full name as filed with the Board of Behavioral Sciences.
    pub name: String,
    /// The licence (or registration) type: LMFT, or AMFT for an associate.
    pub credential: String,
    pub credential_name: String,
    /// The licence or registration number, digits only; empty until given.
    #[serde(default)]
    pub license_number: String,
    /// An associate's supervisor, as the Board asks an associate's
    /// advertising to name them: "Jane Doe" and "LMFT 12345".
    #[serde(default)]
    pub supervisor_name: String,
    #[serde(default)]
    pub supervisor_license: String,
}

/// The licence types of California's Board of Behavioral Sciences: the
/// licensed ones, and the associates' registrations (who practise under a
/// licensed supervisor).
const LICENSED: [&str; 4] = ["LMFT", "LCSW", "LPCC", "LEP"];
const ASSOCIATE: [&str; 3] = ["AMFT", "ASW", "APCC"];

impl Therapist {
    pub fn is_associate(&self) -> bool {
        ASSOCIATE.contains(&self.credential.as_str())
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fees {
    /// How clients learn the fees, shown on the notices page as `{{fees}}`.
    pub text: String,
    /// True once the therapist has confirmed `text`; until then it is a sample.
    #[serde(default)]
    pub confirmed: bool,
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
        let setting_lines = SettingLines::read(text);
        let line_of = |key: &str| setting_lines.line(key);

        config.practice.base_url = config.practice.base_url.trim_end_matches('/').to_string();
        match config.practice.time_zone_name.parse::<chrono_tz::Tz>() {
            Ok(zone) => config.practice.time_zone = zone,
            Err(_) => problems.push(Diagnostic::new(
                path,
                line_of("practice.time_zone"),
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
                line_of("practice.base_url"),
                "base_url must start with https:// (for example https://www.example.com)",
            ));
        }
        if !config.practice.email.contains('@') {
            problems.push(Diagnostic::new(
                path,
                line_of("practice.email"),
                "email does not look like an email address",
            ));
        }
        if !(5..=120).contains(&config.consultation.minutes) {
            problems.push(Diagnostic::new(
                path,
                line_of("consultation.minutes"),
                "the consultation's minutes must be between 5 and 120",
            ));
        }
        if !config.calls_to_action.contains_key(DEFAULT_CALL_TO_ACTION) {
            problems.push(Diagnostic::new(
                path,
                line_of("calls_to_action"),
                "add a [calls_to_action.general] box: it ends every article that names no other",
            ));
        }

        for problem in license_problems(&config.therapist, path, &setting_lines) {
            problems.push(problem);
        }
        if config.fees.text.trim().is_empty() {
            problems.push(Diagnostic::new(
                path,
                line_of("fees.text"),
                "[fees] text is empty; say what the fees are, or how clients learn them (for example \"in writing at the consultation\")",
            ));
        }
        config.placeholders = vec![
            (
                CONSULTATION_MINUTES,
                config.consultation.minutes.to_string(),
            ),
            (
                RETENTION_DAYS,
                config.booking_settings.retention_days().to_string(),
            ),
            (LICENSE, license_line(&config.therapist)),
        ];
        match config_expand(&config.placeholders, &config.fees.text) {
            Ok(expanded) => config.placeholders.push((FEES, expanded)),
            Err(message) => problems.push(Diagnostic::new(path, line_of("fees.text"), message)),
        }

        // Expand placeholders once, here, so templates only ever see final text.
        let placeholders = config.placeholders.clone();
        let mut expand = |field: &str, value: &mut String| match config_expand(&placeholders, value)
        {
            Ok(expanded) => *value = expanded,
            Err(message) => problems.push(Diagnostic::new(path, line_of(field), message)),
        };
        expand("consultation.button", &mut config.consultation.button);
        for (key, cta) in &mut config.calls_to_action {
            expand(&format!("calls_to_action.{key}.heading"), &mut cta.heading);
            expand(&format!("calls_to_action.{key}.text"), &mut cta.text);
        }
        match config.booking_settings.check(
            config.consultation.minutes,
            config.practice.time_zone,
            path,
            &lines,
        ) {
            Ok(rules) => config.booking = rules,
            Err(found) => problems.extend(found),
        }
        config.source = path.to_path_buf();
        config.source_text = text.to_string();
        config.sample_facts = sample_facts(&config, path, &setting_lines);
        config.lines = setting_lines;
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

    /// A problem with a setting, at its line: `key` is its place in the
    /// file (`practice.base_url`, `home.featured.2` for a list's third item),
    /// and the line is the TOML parser's; a key not written falls back to its
    /// table's line.
    pub fn setting_diagnostic(&self, key: &str, message: String) -> Diagnostic {
        Diagnostic::new(&self.source, self.lines.line(key), message)
    }

    /// Replaces every placeholder (`{{consultation_minutes}}`,
    /// `{{retention_days}}`, `{{fees}}`, `{{license}}`) in `text`.
    pub fn expand(&self, text: &str) -> Result<String, String> {
        config_expand(&self.placeholders, text)
    }

    /// The facts in `site.toml` that are still samples, each at its line
    /// with what to write instead. While there is one, the site is a demo:
    /// every page says so and asks search engines to stay away.
    pub fn sample_facts(&self) -> &[Diagnostic] {
        &self.sample_facts
    }

    pub fn is_sample(&self) -> bool {
        !self.sample_facts.is_empty()
    }

    /// True when `base_url` names a domain reserved for examples or this
    /// machine: such a site cannot be a real practice's.
    pub fn has_reserved_address(&self) -> bool {
        host_of(&self.practice.base_url).is_none_or(|host| is_reserved_host(&host))
    }

    /// The licence as an advertisement must show it: "Licensed Marriage and
    /// Family Therapist, LMFT 123456".
    pub fn license_line(&self) -> String {
        license_line(&self.therapist)
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

/// The licence line for the footer, About, the JSON-LD and every email. A
/// missing number is shown as missing, never left out in silence.
fn license_line(therapist: &Therapist) -> String {
    let number = if therapist.license_number.is_empty() {
        "number not yet given (sample)".to_string()
    } else {
        therapist.license_number.clone()
    };
    let mut line = format!(
        "{}, {} {number}",
        therapist.credential_name, therapist.credential
    );
    if therapist.is_associate() && !therapist.supervisor_name.is_empty() {
        line.push_str(&format!(
            ", supervised by {}, {}",
            therapist.supervisor_name, therapist.supervisor_license
        ));
    }
    line
}

/// A licence type the Board issues, a number of digits, and for an
/// associate the supervisor's name and licence. Each problem is at the line
/// of the setting it is about.
fn license_problems(therapist: &Therapist, path: &Path, lines: &SettingLines) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    let mut problem = |key: &str, message: String| {
        problems.push(Diagnostic::new(path, lines.line(key), message));
    };
    let credential = therapist.credential.as_str();
    if !LICENSED.contains(&credential) && !ASSOCIATE.contains(&credential) {
        problem(
            "therapist.credential",
            format!(
                "credential `{credential}` is not a Board of Behavioral Sciences licence type; write LMFT (or, for an associate, AMFT)"
            ),
        );
    }
    let number = therapist.license_number.as_str();
    if !number.is_empty() && !is_license_number(number) {
        problem(
            "therapist.license_number",
            format!(
                "license_number `{number}` is not a licence number: write only its digits, as the Board's licence lookup shows them (the type, {credential}, is set by `credential`)"
            ),
        );
    }
    if therapist.is_associate() && !number.is_empty() {
        if therapist.supervisor_name.trim().is_empty() {
            problem(
                "therapist.license_number",
                "an associate's advertising names the supervisor: add supervisor_name = \"Full Name\" under [therapist]".to_string(),
            );
        }
        let supervisor = therapist
            .supervisor_license
            .split_whitespace()
            .collect::<Vec<_>>();
        let valid = matches!(supervisor.as_slice(), [kind, digits] if LICENSED.contains(kind) && is_license_number(digits));
        if !valid {
            problem(
                "therapist.supervisor_license",
                format!(
                    "supervisor_license `{}` should be the supervisor's licence type and number, like \"LMFT\" followed by its digits",
                    therapist.supervisor_license
                ),
            );
        }
    }
    problems
}

fn is_license_number(text: &str) -> bool {
    (3..=8).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit())
}

/// The host of an `https://host/...` address, lower-cased.
fn host_of(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next()?,
        None => host.split(':').next()?,
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// Domains reserved for examples and tests (RFC 2606, RFC 6761), and this
/// machine's own names: none of them can be a practice's real address.
pub fn is_reserved_host(host: &str) -> bool {
    let host = host.trim_end_matches('.');
    let reserved_domains = ["example.com", "example.net", "example.org"];
    let reserved_tlds = ["example", "test", "invalid", "localhost", "local"];
    reserved_domains
        .iter()
        .any(|d| host == *d || host.ends_with(&format!(".{d}")))
        || reserved_tlds
            .iter()
            .any(|t| host == *t || host.ends_with(&format!(".{t}")))
        || host.parse::<std::net::IpAddr>().is_ok()
}

/// A North American number in 555-0100 to 555-0199, the range reserved
/// for fiction and examples.
fn is_example_phone(phone: &str) -> bool {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    digits.len() >= 7 && digits[digits.len() - 7..].starts_with("55501")
}

/// Where each setting is written, from the TOML parser's own spans:
/// `practice.base_url` → its line, `home.featured.2` → the line of that
/// list's third item, a table (`fees`) → its header's line.
#[derive(Debug, Clone, Default)]
struct SettingLines(std::collections::HashMap<String, usize>);

impl SettingLines {
    fn read(text: &str) -> Self {
        let index = LineIndex::new(text);
        let mut lines = std::collections::HashMap::new();
        if let Ok(table) = toml::de::DeTable::parse(text) {
            Self::walk(table.get_ref(), "", &index, &mut lines);
        }
        Self(lines)
    }

    fn walk(
        table: &toml::de::DeTable<'_>,
        prefix: &str,
        index: &LineIndex,
        lines: &mut std::collections::HashMap<String, usize>,
    ) {
        for (key, value) in table {
            let name = format!("{prefix}{}", key.get_ref());
            lines.insert(name.clone(), index.line_of(key.span().start));
            match value.get_ref() {
                toml::de::DeValue::Table(inner) => {
                    Self::walk(inner, &format!("{name}."), index, lines);
                }
                toml::de::DeValue::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        let item_name = format!("{name}.{i}");
                        lines.insert(item_name.clone(), index.line_of(item.span().start));
                        if let toml::de::DeValue::Table(inner) = item.get_ref() {
                            Self::walk(inner, &format!("{item_name}."), index, lines);
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// The line of `key`, else of the nearest table written that holds it,
    /// else the first line.
    fn line(&self, key: &str) -> usize {
        let mut key = key;
        loop {
            if let Some(line) = self.0.get(key) {
                return *line;
            }
            match key.rsplit_once('.') {
                Some((parent, _)) => key = parent,
                None => return 1,
            }
        }
    }
}

/// Every fact still in its shipped, sample form, at its line.
fn sample_facts(config: &SiteConfig, path: &Path, lines: &SettingLines) -> Vec<Diagnostic> {
    let at = |key: &str, message: String| Diagnostic::new(path, lines.line(key), message);
    let mut facts = Vec::new();
    if is_example_phone(&config.practice.phone) {
        facts.push(at(
            "practice.phone",
            format!(
                "sample fact: the phone number {} is a reserved example number (555-01xx); write the practice's real number",
                config.practice.phone
            ),
        ));
    }
    let email_host = config.practice.email.rsplit_once('@').map(|(_, host)| host);
    if email_host.is_none_or(|host| is_reserved_host(&host.to_ascii_lowercase())) {
        facts.push(at(
            "practice.email",
            format!(
                "sample fact: the email {} is at a domain reserved for examples; write the practice's real address",
                config.practice.email
            ),
        ));
    }
    if config.has_reserved_address() {
        facts.push(at(
            "practice.base_url",
            format!(
                "sample fact: base_url {} is reserved for examples; write the site's real address, like https://www.yourpractice.com",
                config.practice.base_url
            ),
        ));
    }
    if config.therapist.license_number.is_empty() {
        facts.push(at(
            "therapist.license_number",
            format!(
                "sample fact: the {} licence number is empty; write its digits as filed with the Board of Behavioral Sciences (an advertisement must show it)",
                config.therapist.credential
            ),
        ));
    }
    if !config.booking_settings.hours_confirmed() {
        facts.push(at(
            "booking.hours_confirmed",
            "sample fact: the booking hours, buffer, notice and blocked dates are not confirmed; check them under [booking] and set hours_confirmed = true".to_string(),
        ));
    }
    if !config.fees.confirmed {
        facts.push(at(
            "fees",
            "sample fact: the fees sentence is not confirmed; check [fees] text and set confirmed = true".to_string(),
        ));
    }
    facts
}

/// The shipped settings with every sample fact replaced by a real-looking
/// one (a made-up practice, never shipped): what the tests use to prove
/// that a filled-in site drops the sample strip and passes the launch check.
pub fn filled_in(shipped: &str) -> String {
    shipped
        .replace("(909) 555-0123", "(909) 483-2716")
        .replace("@example.com", "@alicia-taverner-therapy.com")
        .replace(
            "https://www.example.com",
            "https://www.alicia-taverner-therapy.com",
        )
        .replace("license_number = \"\"", "license_number = \"98765\"")
        .replace("hours_confirmed = false", "hours_confirmed = true")
        .replace("confirmed = false", "confirmed = true")
}

/// Expands `{{name}}` placeholders; an unknown name is an error that says
/// which ones exist.
fn config_expand(values: &[(&'static str, String)], text: &str) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err("a `{{` is never closed with `}}`".to_string());
        };
        let name = after[..end].trim();
        match values.iter().find(|(known, _)| *known == name) {
            Some((_, value)) => out.push_str(value),
            None => {
                let known: Vec<String> = values
                    .iter()
                    .map(|(known, _)| format!("{{{{{known}}}}}"))
                    .collect();
                return Err(format!(
                    "unknown placeholder `{{{{{name}}}}}`; the ones that exist are {}",
                    known.join(", ")
                ));
            }
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
        let values = [(CONSULTATION_MINUTES, "15".to_string())];
        assert_eq!(
            config_expand(&values, "a {{consultation_minutes}}-minute call").unwrap(),
            "a 15-minute call"
        );
        assert_eq!(
            config_expand(&values, "a {{ consultation_minutes }} x").unwrap(),
            "a 15 x"
        );
        let err = config_expand(&values, "{{minutes}}").unwrap_err();
        assert!(err.contains("`{{minutes}}`"), "{err}");
        assert!(err.contains("{{consultation_minutes}}"), "{err}");
        assert!(config_expand(&values, "open {{ never").is_err());
    }

    #[test]
    fn a_setting_line_is_the_parsers_not_a_text_search() {
        let text = "# base_url = \"in a comment\"\n[practice]\nbase_url = \"x\"\n[home]\nfeatured = [\n  \"a\",\n  \"b\",\n]\n[fees]\ntext = \"\"\n";
        let lines = SettingLines::read(text);
        assert_eq!(lines.line("practice.base_url"), 3);
        assert_eq!(lines.line("home.featured.1"), 7);
        assert_eq!(lines.line("fees"), 9);
        assert_eq!(
            lines.line("fees.confirmed"),
            9,
            "a key not written: its table"
        );
        assert_eq!(lines.line("navigation"), 1);
    }

    #[test]
    fn every_shipped_sample_fact_is_named_at_its_line() {
        let config = SiteConfig::parse(Path::new("site.toml"), SHIPPED).unwrap();
        let line = |needle: &str| SHIPPED.lines().position(|l| l.starts_with(needle)).unwrap() + 1;
        let facts: Vec<(usize, &str)> = config
            .sample_facts()
            .iter()
            .map(|d| (d.line, d.message.as_str()))
            .collect();
        for (needle, words) in [
            ("phone =", "555-01xx"),
            ("email =", "hello@example.com"),
            ("base_url =", "reserved"),
            ("license_number =", "licence number is empty"),
            ("hours_confirmed =", "not confirmed"),
            ("[fees]", "fees sentence"),
        ] {
            assert!(
                facts
                    .iter()
                    .any(|(l, m)| *l == line(needle) && m.contains(words)),
                "{needle}: {facts:?}"
            );
        }
        assert_eq!(facts.len(), 6, "{facts:?}");
        assert!(config.is_sample());
        assert!(config.license_line().contains("not yet given (sample)"));
    }

    #[test]
    fn a_filled_in_copy_has_no_sample_fact() {
        let config = SiteConfig::parse(Path::new("site.toml"), &filled_in(SHIPPED)).unwrap();
        assert!(!config.is_sample(), "{:?}", config.sample_facts());
        assert!(!config.has_reserved_address());
        assert_eq!(
            config.license_line(),
            "Licensed Marriage and Family Therapist, LMFT 98765"
        );
    }

    #[test]
    fn reserved_hosts_and_example_phones_are_recognised() {
        for host in [
            "example.com",
            "www.example.org",
            "example.net",
            "site.test",
            "localhost",
            "127.0.0.1",
            "x.invalid",
        ] {
            assert!(is_reserved_host(host), "{host}");
        }
        for host in ["www.example-therapy.com", "examples.com", "practice.com"] {
            assert!(!is_reserved_host(host), "{host}");
        }
        assert!(is_example_phone("(909) 555-0123"));
        assert!(is_example_phone("+1 909 555 0199"));
        assert!(!is_example_phone("(909) 555-1234"));
        assert_eq!(
            host_of("https://user@Example.COM:8443/x").as_deref(),
            Some("example.com")
        );
    }

    #[test]
    fn licence_numbers_and_associates_are_checked() {
        let filled = filled_in(SHIPPED);
        let bad_number = filled.replace("\"98765\"", "\"LMFT #98765\"");
        let err = SiteConfig::parse(Path::new("site.toml"), &bad_number).unwrap_err();
        assert!(err.to_string().contains("only its digits"), "{err}");
        let bad_type = filled.replace("credential = \"LMFT\"", "credential = \"MFT\"");
        let err = SiteConfig::parse(Path::new("site.toml"), &bad_type).unwrap_err();
        assert!(err.to_string().contains("licence type"), "{err}");

        let associate = filled
            .replace("credential = \"LMFT\"", "credential = \"AMFT\"")
            .replace(
                "credential_name = \"Licensed Marriage and Family Therapist\"",
                "credential_name = \"Associate Marriage and Family Therapist\"",
            );
        let err = SiteConfig::parse(Path::new("site.toml"), &associate).unwrap_err();
        assert!(err.to_string().contains("supervisor_name"), "{err}");
        let supervised = associate.replace(
            "# supervisor_name = \"Full Name\"\n# supervisor_license = \"LMFT 00000\"",
            "supervisor_name = \"Dana Reyes\"\nsupervisor_license = \"LMFT 54321\"",
        );
        let config = SiteConfig::parse(Path::new("site.toml"), &supervised).unwrap();
        assert_eq!(
            config.license_line(),
            "Associate Marriage and Family Therapist, AMFT 98765, supervised by Dana Reyes, LMFT 54321"
        );
    }

    #[test]
    fn placeholders_follow_the_settings() {
        let text = SHIPPED.replace("retention_days = 90", "retention_days = 45");
        let config = SiteConfig::parse(Path::new("site.toml"), &text).unwrap();
        assert_eq!(
            config
                .expand("kept {{retention_days}} days; {{fees}}")
                .unwrap(),
            format!("kept 45 days; {}", config.fees.text)
        );
        assert!(config.expand("{{license}}").unwrap().contains("LMFT"));
    }

    #[test]
    fn phone_link_keeps_digits() {
        let config = SiteConfig::parse(Path::new("site.toml"), SHIPPED).unwrap();
        assert_eq!(config.phone_href(), "tel:9095550123");
    }
}
