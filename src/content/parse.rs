//! The front-matter pass: a file's text becomes a [`Parsed`] file (its
//! checked fields as [`Meta`], its address's last part, its body with the
//! placeholders expanded), with every problem in its front matter and every
//! consultation length its body states against the setting.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use super::front_matter::{self, FieldLines, FrontMatter, Split};
use super::lengths::stated_consultation_lengths;
use super::{Kind, LoadOptions, Status};
use crate::config::{DEFAULT_CALL_TO_ACTION, SiteConfig};
use crate::diagnostic::{Diagnostic, Diagnostics};

/// Page slugs taken by the site's own addresses.
pub(super) const RESERVED_SLUGS: [&str; 5] = ["blog", "static", "admin", "feed", "sitemap"];

/// A file after its front matter is read, before its Markdown is rendered.
#[derive(Clone)]
pub(super) struct Parsed {
    pub(super) kind: Kind,
    pub(super) source: PathBuf,
    pub(super) key: String,
    pub(super) folder: &'static str,
    pub(super) slug: String,
    /// The line of `slug:`; `None` when the file name makes the address.
    pub(super) slug_line: Option<usize>,
    pub(super) meta: Meta,
    pub(super) status: Status,
    pub(super) visible: bool,
    /// Writing advice found while reading the front matter.
    pub(super) advice: Vec<Diagnostic>,
    /// Each front-matter field's line, for problems found later.
    pub(super) fields: FieldLines,
    /// The Markdown after the front matter; `None` once kept in a memo,
    /// where it would double the memory of the site's text for a rare use
    /// (rendering it again when other files' addresses change): the file
    /// is then read again.
    pub(super) body: Option<String>,
    pub(super) body_line: usize,
}

#[derive(Clone)]
pub(super) struct Meta {
    pub(super) title: String,
    pub(super) description: String,
    pub(super) date: Option<NaiveDate>,
    pub(super) updated: Option<NaiveDate>,
    pub(super) tags: Vec<String>,
    pub(super) draft: bool,
    pub(super) retired: bool,
    pub(super) aliases: Vec<String>,
    pub(super) seo_title: Option<String>,
    pub(super) expires: Option<NaiveDate>,
    pub(super) image: Option<(String, usize)>,
    pub(super) call_to_action: String,
    pub(super) reviewed: Option<NaiveDate>,
    pub(super) reviewed_by: String,
}

impl Meta {
    pub(super) fn status(&self, today: NaiveDate) -> Status {
        if self.retired {
            Status::Retired
        } else if self.draft {
            Status::Draft
        } else if let Some(date) = self.date.filter(|date| *date > today) {
            Status::Scheduled(date)
        } else if self.expires.is_some_and(|expires| expires <= today) {
            Status::Expired
        } else {
            Status::Published
        }
    }

    pub(super) fn is_visible(&self, options: &LoadOptions) -> bool {
        match self.status(options.today) {
            Status::Published => true,
            Status::Draft | Status::Scheduled(_) => options.preview,
            Status::Expired | Status::Retired => false,
        }
    }
}

pub(super) fn parse_text(
    path: &Path,
    text: &str,
    folder: &'static str,
    kind: Kind,
    config: &SiteConfig,
    options: &LoadOptions,
    problems: &mut Diagnostics,
) -> Option<Parsed> {
    let split = match front_matter::split(path, text) {
        Ok(split) => split,
        Err(problem) => {
            problems.push(problem);
            return None;
        }
    };
    // When the YAML cannot be read at all, its fields are unknown: the body is
    // still checked, but not reported as missing a title or a date.
    let (mut front, fields, readable) = match front_matter::parse(path, &split) {
        Ok((front, fields, unknown_fields)) => {
            for problem in unknown_fields {
                problems.push(problem);
            }
            (front, fields, true)
        }
        Err(problem) => {
            problems.push(problem);
            (FrontMatter::default(), FieldLines::default(), false)
        }
    };
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let file_name = path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut report =
        |line: usize, message: String| problems.push(Diagnostic::new(path, line, message));
    let explicit_slug = front.slug.take();
    let slug_line = explicit_slug.as_ref().map(|_| fields.line("slug"));
    let (meta, advice) =
        check_front_matter(path, &fields, front, kind, config, readable, &mut report);
    let slug = match front_slug(explicit_slug, &fields, &stem, &mut report) {
        Some(slug) => slug,
        None => stem.clone(),
    };
    if kind == Kind::Page && RESERVED_SLUGS.contains(&slug.as_str()) {
        report(
            1,
            format!(
                "`{slug}` is an address the site uses itself; rename the file or set another `slug:`"
            ),
        );
    }
    let body = expand_body(&split, config, &mut report);
    Some(Parsed {
        kind,
        source: path.to_path_buf(),
        key: format!("{folder}/{file_name}"),
        folder,
        slug,
        slug_line,
        status: meta.status(options.today),
        visible: meta.is_visible(options),
        meta,
        advice,
        fields,
        body: Some(body),
        body_line: split.body_line,
    })
}

/// The address's last part: `slug:` as the YAML parser read it, else the
/// file name.
pub(super) fn front_slug(
    explicit: Option<String>,
    fields: &FieldLines,
    stem: &str,
    report: &mut dyn FnMut(usize, String),
) -> Option<String> {
    let from_file = explicit.is_none();
    let slug = explicit.unwrap_or_else(|| stem.to_string());
    match front_matter::check_slug(&slug) {
        Ok(()) => Some(slug),
        Err(message) if !from_file => {
            report(fields.line("slug"), message);
            None
        }
        Err(message) => {
            report(
                1,
                format!("the file name makes the address: {message} (or set `slug:`)"),
            );
            None
        }
    }
}

pub(super) fn check_front_matter(
    path: &Path,
    fields: &FieldLines,
    front: FrontMatter,
    kind: Kind,
    config: &SiteConfig,
    readable: bool,
    report: &mut dyn FnMut(usize, String),
) -> (Meta, Vec<Diagnostic>) {
    let mut advice = Vec::new();
    let advise = &mut advice;
    let line = |key: &str| fields.line(key);
    // A misspelt field is already reported; calling it missing too would mislead.
    let title_misspelt = front.misspelt("title");
    let description_misspelt = front.misspelt("description");
    let date_misspelt = front.misspelt("date");
    let reviewed_misspelt = front.misspelt("reviewed");
    let mut require = |value: Option<String>, misspelt: bool, message: &str| {
        non_empty(value).unwrap_or_else(|| {
            if readable && !misspelt {
                report(1, message.to_string());
            }
            String::new()
        })
    };
    let title = require(
        front.title,
        title_misspelt,
        "add a `title:` line to the front matter",
    );
    let missing_description = "add a `description:` line: one or two sentences that search results and link previews show";
    // A draft may still lack its description; a published page may not.
    let description = if front.draft {
        non_empty(front.description).unwrap_or_else(|| {
            advise.push(Diagnostic::warning(path, 1, missing_description));
            String::new()
        })
    } else {
        require(front.description, description_misspelt, missing_description)
    };
    let mut date_field = |field: &str, value: Option<String>| {
        value.and_then(|value| match front_matter::parse_date(field, &value) {
            Ok(date) => Some(date),
            Err(message) => {
                report(line(field), message);
                None
            }
        })
    };
    let had_date = front.date.is_some();
    let date = date_field("date", front.date);
    let updated = date_field("updated", front.updated);
    let expires = date_field("expires", front.expires);
    let reviewed = date_field("reviewed", front.reviewed);
    let reviewed_by = non_empty(front.reviewed_by);
    if reviewed_by.is_some() && reviewed.is_none() && !reviewed_misspelt {
        advise.push(Diagnostic::warning(
            path,
            line("reviewed_by"),
            "`reviewed_by:` names a reviewer but there is no `reviewed:` date; add the day of the review (YYYY-MM-DD)".to_string(),
        ));
    }
    if let (Some(date), Some(expires)) = (date, expires)
        && expires <= date
    {
        report(
            line("expires"),
            format!(
                "`expires: {expires}` is not after `date: {date}`, so the page would never be seen"
            ),
        );
    }
    if kind == Kind::Article && !had_date && readable && !date_misspelt {
        report(
            1,
            "add a `date:` line (YYYY-MM-DD): the day the article is published".to_string(),
        );
    }
    if let (Some(date), Some(updated)) = (date, updated)
        && updated < date
    {
        report(
            line("updated"),
            format!(
                "`updated: {updated}` is before `date: {date}`; updated is the day of the last change"
            ),
        );
    }
    let call_to_action = match front.cta {
        Some(cta) if config.calls_to_action.contains_key(&cta) => cta,
        Some(cta) => {
            let known: Vec<&str> = config.calls_to_action.keys().map(String::as_str).collect();
            report(
                line("cta"),
                format!(
                    "`cta: {cta}` is not one of the calls to action in site.toml: {}",
                    known.join(", ")
                ),
            );
            DEFAULT_CALL_TO_ACTION.to_string()
        }
        None => DEFAULT_CALL_TO_ACTION.to_string(),
    };
    let aliases = front
        .aliases
        .iter()
        .filter_map(|alias| match normalize_alias(alias) {
            Ok(path) => Some(path),
            Err(message) => {
                report(line("aliases"), message);
                None
            }
        })
        .collect();
    let meta = Meta {
        title,
        description,
        date,
        updated,
        tags: front.tags,
        draft: front.draft,
        retired: front.retired,
        aliases,
        seo_title: non_empty(front.seo_title),
        expires,
        image: front
            .image
            .map(|image| (image.trim().to_string(), line("image"))),
        call_to_action,
        reviewed,
        reviewed_by: reviewed_by.unwrap_or_else(|| config.therapist_with_credential()),
    };
    (meta, advice)
}

/// An old address, as a path: `/blog/old-name` (a full URL on this site is
/// reduced to its path; a trailing slash is dropped).
pub(super) fn normalize_alias(alias: &str) -> Result<String, String> {
    let path = alias.trim();
    let path = match path.find("://") {
        Some(scheme_end) => path[scheme_end + 3..]
            .find('/')
            .map_or("/", |start| &path[scheme_end + 3 + start..]),
        None => path,
    };
    if !path.starts_with('/')
        || path
            .chars()
            .any(|c| c.is_whitespace() || c == '#' || c == '?')
    {
        return Err(format!(
            "the alias `{alias}` must be an old address of this site starting with /, for example /blog/old-name"
        ));
    }
    let trimmed = path.trim_end_matches('/');
    Ok(if trimmed.is_empty() {
        "/".to_string()
    } else {
        trimmed.to_string()
    })
}

pub(super) fn non_empty(value: Option<String>) -> Option<String> {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Expands `{{consultation_minutes}}` and refuses any other stated length, so
/// that one setting decides the consultation's length on every page. Line
/// numbers are kept: a placeholder never spans lines.
pub(super) fn expand_body(
    split: &Split<'_>,
    config: &SiteConfig,
    report: &mut dyn FnMut(usize, String),
) -> String {
    let mut body = String::with_capacity(split.body.len());
    for (index, line) in split.body.split_inclusive('\n').enumerate() {
        let number = split.body_line + index;
        let expanded = match config.expand(line) {
            Ok(expanded) => expanded,
            Err(message) => {
                report(number, message);
                line.to_string()
            }
        };
        for stated in stated_consultation_lengths(&expanded) {
            if stated != config.consultation.minutes {
                report(
                    number,
                    format!(
                        "this says a {stated}-minute consultation, but site.toml sets {} minutes; write {{{{consultation_minutes}}}} instead of the length (“a {{{{consultation_minutes}}}}-minute consultation”, “lasts {{{{consultation_minutes}}}} minutes”) so every page follows the setting",
                        config.consultation.minutes
                    ),
                );
            }
        }
        body.push_str(&expanded);
    }
    body
}
