//! The fuzz targets' bodies, in the library so `cargo fuzz` (in `fuzz/`)
//! and the ordinary test suite (`tests/fuzz_regressions.rs`) run the same
//! code. Each takes arbitrary bytes and must never panic. The content
//! target runs the loader's own path for one file
//! ([`crate::content::check_file`]), not a copy of its steps, so what it
//! exercises is what the site runs.

use std::collections::HashMap;
use std::path::Path;
use std::sync::LazyLock;

use chrono::NaiveDate;

use crate::booking::form::BookingForm;
use crate::config::SiteConfig;
use crate::content::{self, LoadOptions};
use crate::diagnostic::Diagnostics;

/// The shipped settings, read once.
static CONFIG: LazyLock<SiteConfig> = LazyLock::new(|| {
    SiteConfig::parse(
        Path::new("content/site.toml"),
        include_str!("../content/site.toml"),
    )
    .expect("the shipped settings are valid")
});

/// A content file as the therapist might save it: front matter, Markdown
/// and links, through the same load of one file the site runs
/// ([`content::check_file`]: front matter, address, placeholders, rendering,
/// link resolution, anchors, writing and health checks), as
/// `content/blog/fuzzed.md` among a few other files. Returns what it found,
/// so a regression test can say what a file must give.
pub fn content_file(data: &[u8]) -> Diagnostics {
    let text = String::from_utf8_lossy(data);
    let urls: HashMap<String, String> = [
        ("blog/guide.md", "/blog/guide"),
        ("blog/session.md", "/blog/session"),
        ("pages/consultation.md", "/consultation"),
        ("pages/home.md", "/"),
    ]
    .into_iter()
    .map(|(key, url)| (key.to_string(), url.to_string()))
    .collect();
    let options = LoadOptions {
        today: NaiveDate::from_ymd_opt(2026, 1, 1).expect("a day"),
        preview: false,
    };
    content::check_file("blog/fuzzed.md", &text, &CONFIG, options, &urls)
}

/// A booking form body as a browser (or anyone) might post it: decoded as
/// axum's `Form` decodes it, then checked field by field.
pub fn booking_form(data: &[u8]) {
    if let Ok(form) = serde_urlencoded::from_bytes::<BookingForm>(data) {
        let _ = form.parse();
    }
}
