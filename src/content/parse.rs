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
const RESERVED_SLUGS: [&str; 5] = ["blog", "static", "admin", "feed", "sitemap"];

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

/// Where one file's problems go while its front matter is checked: errors
/// to the load's report, advice kept with the file (it is shown with the
/// rendered page's advice), each a [`Diagnostic`] at a field's line.
struct Report<'a> {
    path: &'a Path,
    fields: &'a FieldLines,
    /// Whether the YAML could be read: if not, its fields are unknown, and
    /// none is reported missing.
    readable: bool,
    problems: &'a mut Diagnostics,
    advice: Vec<Diagnostic>,
}

impl Report<'_> {
    /// The line of `key:`, or line 1 when it is not written.
    fn line(&self, key: &str) -> usize {
        self.fields.line(key)
    }

    fn error(&mut self, line: usize, message: impl Into<String>) {
        self.problems
            .push(Diagnostic::new(self.path, line, message));
    }

    fn advise(&mut self, line: usize, message: impl Into<String>) {
        self.advice
            .push(Diagnostic::warning(self.path, line, message));
    }
}

/// A file's text through the front-matter pass: `None` when it has no
/// front matter to read (that problem is reported).
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
    let (mut front, fields, readable) = read_front_matter(path, &split, problems);
    let name = |part: Option<&std::ffi::OsStr>| {
        part.map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let (stem, file_name) = (name(path.file_stem()), name(path.file_name()));
    let mut report = Report {
        path,
        fields: &fields,
        readable,
        problems,
        advice: Vec::new(),
    };
    let explicit_slug = front.slug.take();
    let slug_line = explicit_slug.as_ref().map(|_| report.line("slug"));
    let slug = address_slug(explicit_slug, &stem, kind, &mut report);
    let meta = check_front_matter(front, kind, config, &mut report);
    let body = expand_body(&split, config, &mut report);
    let advice = report.advice;
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

/// The YAML read into its fields, with their lines; whether it could be
/// read at all. An unknown field or unreadable YAML is reported here.
fn read_front_matter(
    path: &Path,
    split: &Split<'_>,
    problems: &mut Diagnostics,
) -> (FrontMatter, FieldLines, bool) {
    match front_matter::parse(path, split) {
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
    }
}

/// The address's last part: `slug:` as the YAML parser read it, else the
/// file name (also when the slug cannot be part of an address, which is
/// reported).
fn address_slug(
    explicit: Option<String>,
    stem: &str,
    kind: Kind,
    report: &mut Report<'_>,
) -> String {
    let from_file = explicit.is_none();
    let slug = explicit.unwrap_or_else(|| stem.to_string());
    let slug = match front_matter::check_slug(&slug) {
        Ok(()) => slug,
        Err(message) if !from_file => {
            report.error(report.line("slug"), message);
            stem.to_string()
        }
        Err(message) => {
            report.error(
                1,
                format!("the file name makes the address: {message} (or set `slug:`)"),
            );
            stem.to_string()
        }
    };
    if kind == Kind::Page && RESERVED_SLUGS.contains(&slug.as_str()) {
        report.error(
            1,
            format!(
                "`{slug}` is an address the site uses itself; rename the file or set another `slug:`"
            ),
        );
    }
    slug
}

/// The fields as the rest of the engine uses them, each checked.
fn check_front_matter(
    front: FrontMatter,
    kind: Kind,
    config: &SiteConfig,
    report: &mut Report<'_>,
) -> Meta {
    let (title, description) = title_and_description(&front, report);
    let dates = Dates::check(&front, kind, report);
    let reviewed_by = non_empty(front.reviewed_by.clone());
    if reviewed_by.is_some() && dates.reviewed.is_none() && !front.misspelt("reviewed") {
        report.advise(
            report.line("reviewed_by"),
            "`reviewed_by:` names a reviewer but there is no `reviewed:` date; add the day of the review (YYYY-MM-DD)",
        );
    }
    let call_to_action = call_to_action(front.cta, config, report);
    let aliases = aliases(&front.aliases, report);
    let image_line = report.line("image");
    Meta {
        title,
        description,
        date: dates.date,
        updated: dates.updated,
        tags: front.tags,
        draft: front.draft,
        retired: front.retired,
        aliases,
        seo_title: non_empty(front.seo_title),
        expires: dates.expires,
        image: front
            .image
            .map(|image| (image.trim().to_string(), image_line)),
        call_to_action,
        reviewed: dates.reviewed,
        reviewed_by: reviewed_by.unwrap_or_else(|| config.therapist_with_credential()),
    }
}

/// The title and description every page needs. A draft may still lack its
/// description (advice); a misspelt field is already reported, so calling
/// it missing too would mislead.
fn title_and_description(front: &FrontMatter, report: &mut Report<'_>) -> (String, String) {
    let mut require = |value: &Option<String>, field: &str, message: &str| {
        non_empty(value.clone()).unwrap_or_else(|| {
            if report.readable && !front.misspelt(field) {
                report.error(1, message);
            }
            String::new()
        })
    };
    let title = require(
        &front.title,
        "title",
        "add a `title:` line to the front matter",
    );
    let missing_description = "add a `description:` line: one or two sentences that search results and link previews show";
    let description = if front.draft {
        non_empty(front.description.clone()).unwrap_or_else(|| {
            report.advise(1, missing_description);
            String::new()
        })
    } else {
        require(&front.description, "description", missing_description)
    };
    (title, description)
}

/// The front matter's dates, each a real `YYYY-MM-DD` day, in an order
/// that makes sense.
struct Dates {
    date: Option<NaiveDate>,
    updated: Option<NaiveDate>,
    expires: Option<NaiveDate>,
    reviewed: Option<NaiveDate>,
}

impl Dates {
    fn check(front: &FrontMatter, kind: Kind, report: &mut Report<'_>) -> Self {
        let mut day = |field: &str, value: &Option<String>| {
            let value = value.as_deref()?;
            front_matter::parse_date(field, value)
                .map_err(|message| report.error(report.line(field), message))
                .ok()
        };
        let dates = Dates {
            date: day("date", &front.date),
            updated: day("updated", &front.updated),
            expires: day("expires", &front.expires),
            reviewed: day("reviewed", &front.reviewed),
        };
        if kind == Kind::Article
            && front.date.is_none()
            && report.readable
            && !front.misspelt("date")
        {
            report.error(
                1,
                "add a `date:` line (YYYY-MM-DD): the day the article is published",
            );
        }
        if let (Some(date), Some(expires)) = (dates.date, dates.expires)
            && expires <= date
        {
            report.error(
                report.line("expires"),
                format!("`expires: {expires}` is not after `date: {date}`, so the page would never be seen"),
            );
        }
        if let (Some(date), Some(updated)) = (dates.date, dates.updated)
            && updated < date
        {
            report.error(
                report.line("updated"),
                format!("`updated: {updated}` is before `date: {date}`; updated is the day of the last change"),
            );
        }
        dates
    }
}

/// `cta:`, one of the calls to action in the settings; the default otherwise.
fn call_to_action(cta: Option<String>, config: &SiteConfig, report: &mut Report<'_>) -> String {
    match cta {
        Some(cta) if config.calls_to_action.contains_key(&cta) => cta,
        Some(cta) => {
            let known: Vec<&str> = config.calls_to_action.keys().map(String::as_str).collect();
            report.error(
                report.line("cta"),
                format!(
                    "`cta: {cta}` is not one of the calls to action in site.toml: {}",
                    known.join(", ")
                ),
            );
            DEFAULT_CALL_TO_ACTION.to_string()
        }
        None => DEFAULT_CALL_TO_ACTION.to_string(),
    }
}

/// `aliases:`, each as a path of this site.
fn aliases(written: &[String], report: &mut Report<'_>) -> Vec<String> {
    written
        .iter()
        .filter_map(|alias| {
            normalize_alias(alias)
                .map_err(|message| report.error(report.line("aliases"), message))
                .ok()
        })
        .collect()
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

fn non_empty(value: Option<String>) -> Option<String> {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Expands `{{consultation_minutes}}` and refuses any other stated length, so
/// that one setting decides the consultation's length on every page. Line
/// numbers are kept: a placeholder never spans lines.
fn expand_body(split: &Split<'_>, config: &SiteConfig, report: &mut Report<'_>) -> String {
    let mut body = String::with_capacity(split.body.len());
    for (index, line) in split.body.split_inclusive('\n').enumerate() {
        let number = split.body_line + index;
        let expanded = match config.expand(line) {
            Ok(expanded) => expanded,
            Err(message) => {
                report.error(number, message);
                line.to_string()
            }
        };
        for stated in stated_consultation_lengths(&expanded) {
            if stated != config.consultation.minutes {
                report.error(
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
