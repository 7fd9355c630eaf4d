//! Secrets and deployment settings from the environment, never from
//! `site.toml` (which is shared with whoever edits the content).

use super::admin;
use super::notify::SmtpSettings;

/// What the environment says.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    /// `ADMIN_PASSWORD_HASH`: argon2 PHC string. Without it, login is off.
    pub admin_password_hash: Option<String>,
    /// `SMTP_URL`, or built from `SMTP_HOST` and friends. Without it, mail is off.
    pub smtp_url: Option<String>,
    /// `SMTP_FROM`; defaults to the practice's email.
    pub smtp_from: Option<String>,
    /// `THERAPIST_EMAIL`; defaults to the practice's email.
    pub therapist_email: Option<String>,
    /// `SECRET_KEY`; without it a key is generated once and kept in the database.
    pub secret_key: Option<Vec<u8>>,
    /// `TRUST_PROXY=1`: the server is behind a reverse proxy whose
    /// `X-Forwarded-For` names the client.
    pub trust_proxy: bool,
    /// `BUSY_CALENDAR_URLS`: her private calendar addresses, space-separated,
    /// whose events block consultation times.
    pub busy_calendar_urls: Option<String>,
}

impl Secrets {
    pub fn from_env() -> Result<Self, Vec<String>> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `get`; every problem is reported at once.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, Vec<String>> {
        let get = |name: &str| {
            get(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let mut problems = Vec::new();
        let admin_password_hash = get("ADMIN_PASSWORD_HASH");
        if let Some(hash) = &admin_password_hash
            && let Err(message) = admin::check_hash(hash)
        {
            problems.push(message);
        }
        let smtp_url = match (get("SMTP_URL"), get("SMTP_HOST")) {
            (Some(url), _) => Some(url),
            (None, Some(host)) => {
                let port = get("SMTP_PORT");
                let tls = get("SMTP_TLS").unwrap_or_else(|| "starttls".to_string());
                let (scheme, query) = match tls.as_str() {
                    "starttls" => ("smtp", "?tls=required"),
                    "tls" => ("smtps", ""),
                    "none" => ("smtp", ""),
                    other => {
                        problems.push(format!(
                            "SMTP_TLS is `{other}`; use starttls (the default), tls or none"
                        ));
                        ("smtp", "?tls=required")
                    }
                };
                let credentials = match (get("SMTP_USERNAME"), get("SMTP_PASSWORD")) {
                    (Some(user), Some(password)) => {
                        format!("{}:{}@", percent_encode(&user), percent_encode(&password))
                    }
                    (None, None) => String::new(),
                    _ => {
                        problems
                            .push("set both SMTP_USERNAME and SMTP_PASSWORD, or neither".into());
                        String::new()
                    }
                };
                let port = port.map(|p| format!(":{p}")).unwrap_or_default();
                Some(format!("{scheme}://{credentials}{host}{port}{query}"))
            }
            (None, None) => None,
        };
        let secret_key = get("SECRET_KEY").map(String::into_bytes);
        if secret_key.as_ref().is_some_and(|key| key.len() < 32) {
            problems.push("SECRET_KEY must be at least 32 characters long".into());
        }
        let trust_proxy =
            get("TRUST_PROXY").is_some_and(|v| matches!(v.as_str(), "1" | "true" | "yes"));
        let busy_calendar_urls = get("BUSY_CALENDAR_URLS");
        if let Some(urls) = &busy_calendar_urls
            && let Err(message) = super::calendar::BusyCalendars::from_urls(urls)
        {
            problems.push(message);
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Self {
            admin_password_hash,
            smtp_url,
            smtp_from: get("SMTP_FROM"),
            therapist_email: get("THERAPIST_EMAIL"),
            secret_key,
            trust_proxy,
            busy_calendar_urls,
        })
    }

    pub fn smtp(&self, practice_email: &str) -> Option<SmtpSettings> {
        self.smtp_url.as_ref().map(|url| SmtpSettings {
            url: url.clone(),
            from: self
                .smtp_from
                .clone()
                .unwrap_or_else(|| practice_email.to_string()),
        })
    }
}

/// Percent-encodes everything but unreserved URL characters.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn from(pairs: &[(&str, &str)]) -> Result<Secrets, Vec<String>> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Secrets::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn nothing_set_means_mail_and_login_off() {
        let secrets = from(&[]).unwrap();
        assert!(secrets.smtp_url.is_none());
        assert!(secrets.admin_password_hash.is_none());
        assert!(secrets.smtp("a@b.c").is_none());
    }

    #[test]
    fn smtp_parts_become_a_url_with_encoded_credentials() {
        let secrets = from(&[
            ("SMTP_HOST", "mail.example.com"),
            ("SMTP_PORT", "587"),
            ("SMTP_USERNAME", "alicia@example.com"),
            ("SMTP_PASSWORD", "p@ss:w/rd"),
        ])
        .unwrap();
        assert_eq!(
            secrets.smtp_url.as_deref(),
            Some("smtp://alicia%40example.com:p%40ss%3Aw%2Frd@mail.example.com:587?tls=required")
        );
        assert_eq!(
            secrets.smtp("hello@example.com").unwrap().from,
            "hello@example.com"
        );
    }

    #[test]
    fn bad_values_are_all_reported() {
        let problems = from(&[
            ("ADMIN_PASSWORD_HASH", "hunter2"),
            ("SECRET_KEY", "short"),
            ("SMTP_HOST", "mail.example.com"),
            ("SMTP_USERNAME", "only-user"),
        ])
        .unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
    }
}
