//! The fuzz targets' bodies, in the library so `cargo fuzz` (in `fuzz/`)
//! and the ordinary test suite (`tests/fuzz_regressions.rs`) run the same
//! code. Each takes arbitrary bytes and must never panic.

use std::collections::HashMap;

use crate::booking::form::BookingForm;
use crate::content::Kind;
use crate::content::front_matter;
use crate::content::links::Resolver;
use crate::content::markdown;
use crate::content::writing::{self, Draft};

/// A content file as the therapist might save it: front matter, Markdown
/// and links, through every step that reads it (split, YAML, dates, slug,
/// rendering, link resolution, writing checks).
pub fn content_file(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Ok(split) = front_matter::split(&text) else {
        return;
    };
    if let Ok((front, _unknown)) = front_matter::parse(&split) {
        if let Some(date) = &front.date {
            let _ = front_matter::parse_date("date", date);
        }
        if let Some(slug) = &front.slug {
            let _ = front_matter::check_slug(slug);
        }
        let _ = front_matter::slug_from_title(front.title.as_deref().unwrap_or_default());
    }
    let urls: HashMap<String, String> = [
        ("blog/guide.md", "/blog/guide"),
        ("blog/session.md", "/blog/session"),
        ("pages/consultation.md", "/consultation"),
        ("pages/home.md", "/"),
    ]
    .into_iter()
    .map(|(key, url)| (key.to_string(), url.to_string()))
    .collect();
    let keys: HashMap<String, String> = urls.iter().map(|(k, v)| (v.clone(), k.clone())).collect();
    let resolver = Resolver::new(&urls, &keys, "blog");
    let rendered = markdown::render(split.body, split.body_line, &mut |dest| {
        resolver.resolve(dest)
    });
    let _ = writing::check(&Draft {
        kind: Kind::Article,
        search_title: "A title",
        has_seo_title: false,
        title_line: 2,
        description: "A description.",
        description_line: 3,
        rendered: &rendered,
        body: split.body,
        body_line: split.body_line,
        links_to_consultation: false,
    });
}

/// A booking form body as a browser (or anyone) might post it: decoded as
/// axum's `Form` decodes it, then checked field by field.
pub fn booking_form(data: &[u8]) {
    if let Ok(form) = serde_urlencoded::from_bytes::<BookingForm>(data) {
        let _ = form.parse();
    }
}
