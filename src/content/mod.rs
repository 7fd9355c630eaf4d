//! Loading the therapist's Markdown: every file in `content/blog/` (articles)
//! and `content/pages/` (the site's own pages) is read, checked and rendered
//! into a [`Library`]. Knows nothing about HTTP or templates.

pub mod front_matter;
pub mod health;
pub mod links;
pub mod markdown;
pub mod record;
pub mod writing;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;
use rayon::prelude::*;

use crate::config::{DEFAULT_CALL_TO_ACTION, SiteConfig};
use crate::diagnostic::{Diagnostic, Diagnostics};
use front_matter::{FieldLines, FrontMatter, Split};
use markdown::Heading;

/// Pages the templates link to from every page; the site cannot be built without them.
pub const REQUIRED_PAGES: [&str; 4] = ["home", "consultation", "about", "privacy"];

/// The consultation page, which every article should lead to.
const CONSULTATION_KEY: &str = "pages/consultation.md";

/// Page slugs taken by the site's own addresses.
const RESERVED_SLUGS: [&str; 5] = ["blog", "static", "admin", "feed", "sitemap"];

/// How many related articles an article lists.
const RELATED_ARTICLES: usize = 3;

/// The words a reader covers in a minute, for the reading-time estimate.
const WORDS_PER_MINUTE: usize = 220;

/// How a load sees the content: which day it is where the practice is, and
/// whether the therapist is previewing (drafts and scheduled pages shown).
#[derive(Debug, Clone, Copy)]
pub struct LoadOptions {
    pub today: NaiveDate,
    pub preview: bool,
}

/// Where a document stands with readers today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Published,
    /// `draft: true`: only in preview.
    Draft,
    /// `date` is still ahead: appears by itself that day; only in preview before.
    Scheduled(NaiveDate),
    /// `expires` has come: its address answers 410 Gone.
    Expired,
    /// `retired: true`: its address answers 410 Gone.
    Retired,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `content/blog/*.md`: dated, listed on the blog, served at `/blog/<slug>`.
    Article,
    /// `content/pages/*.md`: the practice's pages, served at `/<slug>`.
    Page,
}

/// One Markdown file, checked and rendered.
#[derive(Debug, Clone)]
pub struct Document {
    pub kind: Kind,
    /// The file as the therapist knows it, e.g. `content/blog/kap-guide.md`.
    pub source: PathBuf,
    /// The file relative to the content folder, e.g. `blog/kap-guide.md`.
    pub key: String,
    pub slug: String,
    /// The public path, e.g. `/blog/kap-guide`.
    pub url: String,
    pub title: String,
    pub description: String,
    pub date: Option<NaiveDate>,
    pub updated: Option<NaiveDate>,
    pub tags: Vec<String>,
    pub draft: bool,
    /// Retired: its address answers 410 Gone (and so do its aliases).
    pub retired: bool,
    pub aliases: Vec<String>,
    /// The title for search results and link previews, when shorter than `title`.
    pub seo_title: Option<String>,
    pub expires: Option<NaiveDate>,
    /// `reviewed:`: the day a clinician last checked the page's health facts.
    pub reviewed: Option<NaiveDate>,
    /// `reviewed_by:`, else the therapist with her credential ("Name, LMFT").
    pub reviewed_by: String,
    /// Where the body first names a medication (line, word as written); see
    /// [`Document::discusses_medication`].
    pub medication_mention: Option<(usize, String)>,
    pub status: Status,
    /// Shown to readers in this load: published, or in preview a draft or
    /// scheduled page.
    pub visible: bool,
    /// The share image's path on this site, and its line in the file.
    pub image: Option<(String, usize)>,
    /// The key of the call to action that ends the page (in the site settings).
    pub call_to_action: String,
    /// Shared, not copied, between the builds that reuse this document.
    pub html: Arc<str>,
    pub headings: Vec<Heading>,
    pub word_count: usize,
    /// Links to other files, as written, with their lines.
    pub outgoing: Vec<markdown::InternalLink>,
    /// Documents this one links to (indices into [`Library::documents`]).
    pub links_to: Vec<usize>,
    /// Published articles that link to this document.
    pub linked_from: Vec<usize>,
    /// Published articles that share tags or links with this one.
    pub related: Vec<usize>,
    /// Changes whenever anything this document was rendered from changes
    /// (its file, the settings, the day, the addresses of the other files),
    /// so a page built from equal fingerprints is the same page.
    pub fingerprint: u64,
}

impl Document {
    /// Served, listed and linkable in this load.
    pub fn is_published(&self) -> bool {
        self.visible
    }

    /// Whether its address answers 410 Gone.
    pub fn is_gone(&self) -> bool {
        matches!(self.status, Status::Retired | Status::Expired)
    }

    /// The note a preview shows on a page readers cannot see yet.
    pub fn preview_badge(&self) -> Option<String> {
        match self.status {
            Status::Draft => Some(
                "Draft: readers cannot see this page until you remove `draft: true`".to_string(),
            ),
            Status::Scheduled(day) => Some(format!(
                "Scheduled: readers will see this page from {}",
                day.format("%B %-d, %Y")
            )),
            _ => None,
        }
    }

    /// The title for `<title>` and link previews.
    pub fn search_title(&self) -> &str {
        self.seo_title.as_deref().unwrap_or(&self.title)
    }

    pub fn reading_minutes(&self) -> usize {
        self.word_count.div_ceil(WORDS_PER_MINUTE).max(1)
    }

    /// The sections listed in a table of contents; empty for short pages.
    pub fn table_of_contents(&self) -> Vec<&Heading> {
        let sections: Vec<&Heading> = self.headings.iter().filter(|h| h.level == 2).collect();
        if sections.len() >= 4 && self.word_count >= 800 {
            sections
        } else {
            Vec::new()
        }
    }

    /// Whether the body names a medication (ketamine, esketamine, Spravato,
    /// medication, medicine, prescribing, dose…): such a page needs a
    /// clinician's review (`reviewed:`), shown to readers and search engines.
    pub fn discusses_medication(&self) -> bool {
        self.medication_mention.is_some()
    }

    /// The page's last change: `updated`, else `date`.
    pub fn last_modified(&self) -> Option<NaiveDate> {
        self.updated.or(self.date)
    }
}

/// Every document of the content folder; articles newest first, then pages by name.
#[derive(Debug, Clone)]
pub struct Library {
    pub documents: Vec<Document>,
    /// Writing advice: shown by `check`, never blocking.
    pub warnings: Diagnostics,
    pub options: LoadOptions,
}

impl Library {
    /// Published articles, newest first.
    pub fn articles(&self) -> impl Iterator<Item = &Document> {
        self.documents
            .iter()
            .filter(|d| d.kind == Kind::Article && d.is_published())
    }

    /// Published pages.
    pub fn pages(&self) -> impl Iterator<Item = &Document> {
        self.documents
            .iter()
            .filter(|d| d.kind == Kind::Page && d.is_published())
    }

    /// Retired and expired documents, whose addresses answer 410 Gone.
    pub fn retired(&self) -> impl Iterator<Item = &Document> {
        self.documents.iter().filter(|d| d.is_gone())
    }

    /// The next day on which a page appears or comes down by itself, so the
    /// server can rebuild then, with no edit, restart or cron.
    pub fn next_change(&self) -> Option<NaiveDate> {
        let today = self.options.today;
        self.documents
            .iter()
            .filter(|d| !d.draft && !d.retired)
            .flat_map(|d| [d.date, d.expires])
            .flatten()
            .filter(|day| *day > today)
            .min()
    }

    /// A published page by its file name (`about` for `content/pages/about.md`).
    pub fn page(&self, file_name: &str) -> Option<&Document> {
        let key = format!("pages/{file_name}.md");
        self.pages().find(|d| d.key == key)
    }

    /// A published article by its file name, which stays put when its slug changes.
    pub fn article(&self, file_name: &str) -> Option<&Document> {
        let key = format!("blog/{file_name}.md");
        self.articles().find(|d| d.key == key)
    }
}

/// A file after its front matter is read, before its Markdown is rendered.
#[derive(Clone)]
struct Parsed {
    kind: Kind,
    source: PathBuf,
    key: String,
    folder: &'static str,
    slug: String,
    /// The line of `slug:`; `None` when the file name makes the address.
    slug_line: Option<usize>,
    meta: Meta,
    status: Status,
    visible: bool,
    /// Writing advice found while reading the front matter.
    advice: Vec<Diagnostic>,
    /// Each front-matter field's line, for problems found later.
    fields: FieldLines,
    /// The Markdown after the front matter; `None` once kept in a memo,
    /// where it would double the memory of the site's text for a rare use
    /// (rendering it again when other files' addresses change): the file
    /// is then read again.
    body: Option<String>,
    body_line: usize,
}

#[derive(Clone)]
struct Meta {
    title: String,
    description: String,
    date: Option<NaiveDate>,
    updated: Option<NaiveDate>,
    tags: Vec<String>,
    draft: bool,
    retired: bool,
    aliases: Vec<String>,
    seo_title: Option<String>,
    expires: Option<NaiveDate>,
    image: Option<(String, usize)>,
    call_to_action: String,
    reviewed: Option<NaiveDate>,
    reviewed_by: String,
}

impl Meta {
    fn status(&self, today: NaiveDate) -> Status {
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

    fn is_visible(&self, options: &LoadOptions) -> bool {
        match self.status(options.today) {
            Status::Published => true,
            Status::Draft | Status::Scheduled(_) => options.preview,
            Status::Expired | Status::Retired => false,
        }
    }
}

/// Reads, checks and renders everything under `content_dir` as readers see
/// it today. Returns every problem found, not just the first.
pub fn load(content_dir: &Path, config: &SiteConfig) -> Result<Library, Diagnostics> {
    let options = LoadOptions {
        today: config.today(chrono::Utc::now()),
        preview: false,
    };
    load_with(content_dir, config, options)
}

pub fn load_with(
    content_dir: &Path,
    config: &SiteConfig,
    options: LoadOptions,
) -> Result<Library, Diagnostics> {
    load_reusing(content_dir, config, options, &Memo::default()).0
}

/// One file through the passes a load runs on each file (front matter, its
/// address, the body's placeholders and stated lengths, rendering with its
/// links resolved against `urls`, its own anchors, writing and health
/// advice), as if it were `content/<key>` (`blog/x.md` is an article): what
/// the fuzz target runs, so it exercises the code that runs. The checks
/// between files (addresses taken twice, other pages' anchors, the record)
/// need a whole folder and are left to [`load_with`].
pub fn check_file(
    key: &str,
    text: &str,
    config: &SiteConfig,
    options: LoadOptions,
    urls: &HashMap<String, String>,
) -> Diagnostics {
    let (folder, kind) = match key.strip_prefix("blog/") {
        Some(_) => ("blog", Kind::Article),
        None => ("pages", Kind::Page),
    };
    let path = Path::new("content").join(key);
    let mut problems = Diagnostics::default();
    let Some(file) = parse_text(&path, text, folder, kind, config, &options, &mut problems) else {
        return problems;
    };
    let mut urls = urls.clone();
    urls.insert(file.key.clone(), public_url(kind, &file.slug));
    let keys_by_url = urls.iter().map(|(k, u)| (u.clone(), k.clone())).collect();
    render_file(&file, &urls, &keys_by_url, options.today, &mut problems);
    problems.sorted()
}

/// Which file holds `url` under `content_dir`, said for a message: the file
/// whose address it is, or the file that keeps it as an old address in its
/// `aliases:`. Reads only the front matter, so it answers even when the
/// content has other problems; `new` uses it so a new article never takes
/// an address that is already answered.
pub fn address_holder(content_dir: &Path, url: &str) -> Option<String> {
    for (folder, kind) in [("blog", Kind::Article), ("pages", Kind::Page)] {
        for path in markdown_files(&content_dir.join(folder), &mut Diagnostics::default()) {
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let Ok(split) = front_matter::split(&path, &text) else {
                continue;
            };
            let Ok((front, _, _)) = front_matter::parse(&path, &split) else {
                continue;
            };
            let stem = path.file_stem().unwrap_or_default().to_string_lossy();
            let slug = front.slug.as_deref().unwrap_or(&stem);
            if public_url(kind, slug) == url {
                return Some(format!("{} has it", path.display()));
            }
            if front
                .aliases
                .iter()
                .any(|alias| normalize_alias(alias).is_ok_and(|alias| alias == url))
            {
                return Some(format!(
                    "{} keeps it as an old address (`aliases:`), so links to it lead there",
                    path.display()
                ));
            }
        }
    }
    None
}

/// What a load worked out for each file, kept so that the next load (after
/// an edit) reuses it for every file whose inputs did not change.
#[derive(Default)]
pub struct Memo {
    parsed: HashMap<PathBuf, ParsedFile>,
    rendered: HashMap<PathBuf, (u64, Rendering)>,
}

/// A file's document before the link graph is added, and the problems found
/// rendering it.
type Rendering = Arc<(Document, Diagnostics)>;

/// A file as a load read it, and what reading it gave.
struct ParsedFile {
    /// The file's size and modification time when it was read: the same
    /// stamp (and settings) next time means the same text.
    stamp: (u64, Option<std::time::SystemTime>),
    context: u64,
    key: u64,
    outcome: Arc<(Option<Parsed>, Diagnostics)>,
}

impl std::fmt::Debug for Memo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Memo({} files)", self.parsed.len())
    }
}

/// A hash of the values given, for memo keys and the fingerprints of what a
/// page was built from.
pub fn fingerprint(parts: impl std::hash::Hash) -> u64 {
    use std::hash::Hasher as _;
    let mut hasher = std::hash::DefaultHasher::new();
    parts.hash(&mut hasher);
    hasher.finish()
}

/// [`load_with`], reusing from `previous` what it worked out for files that
/// did not change; returns, with the outcome, the memo for the next load.
/// The outcome is exactly what [`load_with`] would return.
pub fn load_reusing(
    content_dir: &Path,
    config: &SiteConfig,
    options: LoadOptions,
    previous: &Memo,
) -> (Result<Library, Diagnostics>, Memo) {
    let mut memo = Memo::default();
    let outcome = load_into(content_dir, config, options, previous, &mut memo);
    (outcome, memo)
}

fn load_into(
    content_dir: &Path,
    config: &SiteConfig,
    options: LoadOptions,
    previous: &Memo,
    memo: &mut Memo,
) -> Result<Library, Diagnostics> {
    let context = fingerprint((config.fingerprint(), options.today, options.preview));
    let mut problems = Diagnostics::default();
    let mut files = Vec::new();
    for (folder, kind) in [("blog", Kind::Article), ("pages", Kind::Page)] {
        for path in markdown_files(&content_dir.join(folder), &mut problems) {
            files.push((path, folder, kind));
        }
    }
    // Files are read and rendered on every core; their problems are
    // gathered afterwards, so the report does not depend on which ran first.
    let read: Vec<Result<ParsedFile, Diagnostic>> = files
        .par_iter()
        .map(|(path, folder, kind)| {
            let unreadable = |err: std::io::Error| {
                Diagnostic::new(path, 1, format!("cannot read this file: {err}"))
            };
            let metadata = std::fs::metadata(path).map_err(unreadable)?;
            let stamp = (metadata.len(), metadata.modified().ok());
            if let Some(known) = previous.parsed.get(path)
                && known.stamp == stamp
                && known.context == context
            {
                return Ok(ParsedFile {
                    outcome: Arc::clone(&known.outcome),
                    ..*known
                });
            }
            let text = std::fs::read_to_string(path).map_err(unreadable)?;
            let key = fingerprint((context, path, *folder, &text));
            let outcome = match previous.parsed.get(path) {
                Some(known) if known.key == key => Arc::clone(&known.outcome),
                _ => {
                    let mut found = Diagnostics::default();
                    let file = parse_text(path, &text, folder, *kind, config, &options, &mut found);
                    Arc::new((file, found))
                }
            };
            Ok(ParsedFile {
                stamp,
                context,
                key,
                outcome,
            })
        })
        .collect();
    let mut parse_keys = HashMap::new();
    for ((path, _, _), file) in files.iter().zip(read) {
        match file {
            Ok(file) => {
                problems.extend(file.outcome.1.clone());
                parse_keys.insert(path.clone(), file.key);
                memo.parsed.insert(path.clone(), file);
            }
            Err(unreadable) => problems.push(unreadable),
        }
    }
    // In the order of `files`, as the memo's map has none.
    let parsed: Vec<&Parsed> = files
        .iter()
        .filter_map(|(path, _, _)| memo.parsed.get(path)?.outcome.0.as_ref())
        .collect();
    check_required_pages(content_dir, &parsed, &options, &mut problems);

    // The permalink map is complete before anything renders, so any file can
    // link to any other.
    let Addresses {
        urls,
        keys_by_url,
        sources_by_url,
        lost,
    } = assign_addresses(&parsed, &mut problems);
    check_aliases(&parsed, &sources_by_url, &mut problems);
    // A file renders the same as before if it and every address it could
    // link to are the same.
    let mut addresses: Vec<(&String, &String)> = urls.iter().collect();
    addresses.sort_unstable();
    let mut owners: Vec<(&String, &String)> = keys_by_url.iter().collect();
    owners.sort_unstable();
    let links_context = fingerprint((addresses, owners));
    let rendered: Vec<(PathBuf, u64, Rendering)> = parsed
        .par_iter()
        .filter(|file| {
            urls.contains_key(&file.key) && sources_by_url[urls[&file.key].as_str()] == file.source
        })
        .map(|file| {
            let key = fingerprint((parse_keys[&file.source], links_context));
            let outcome = match previous.rendered.get(&file.source) {
                Some((known, outcome)) if *known == key => Arc::clone(outcome),
                _ => {
                    let mut found = Diagnostics::default();
                    let reread;
                    let file = if file.body.is_some() {
                        *file
                    } else {
                        reread = read_again(file, config, &options, &mut found);
                        reread.as_ref().unwrap_or(*file)
                    };
                    let mut document =
                        render_file(file, &urls, &keys_by_url, options.today, &mut found);
                    document.fingerprint = key;
                    Arc::new((document, found))
                }
            };
            (file.source.clone(), key, outcome)
        })
        .collect();
    let mut documents = Vec::with_capacity(rendered.len());
    for (path, key, outcome) in rendered {
        let (document, found) = &*outcome;
        problems.extend(found.clone());
        documents.push(document.clone());
        memo.rendered.insert(path, (key, outcome));
    }
    for file in memo.parsed.values_mut() {
        file.forget_body();
    }

    // Articles newest first, then pages by name: the order listings use.
    documents.sort_by(|a, b| match (a.kind, b.kind) {
        (Kind::Article, Kind::Article) => b.date.cmp(&a.date).then_with(|| a.title.cmp(&b.title)),
        (Kind::Article, Kind::Page) => std::cmp::Ordering::Less,
        (Kind::Page, Kind::Article) => std::cmp::Ordering::Greater,
        (Kind::Page, Kind::Page) => a.slug.cmp(&b.slug),
    });
    check_links_and_build_graph(&mut documents, &mut problems);
    // A file that lost its address is reported once, above: what is missing
    // only because it is not built (its old addresses, the settings naming
    // it) is not reported again.
    check_settings_references(&documents, &lost.keys, config, &mut problems);
    record::check(content_dir, &documents, &lost.addresses, &mut problems);
    if problems.has_errors() {
        return Err(problems.sorted());
    }
    Ok(Library {
        documents,
        warnings: problems.sorted(),
        options,
    })
}

fn markdown_files(folder: &Path, problems: &mut Diagnostics) -> Vec<PathBuf> {
    let entries = match std::fs::read_dir(folder) {
        Ok(entries) => entries,
        Err(err) => {
            problems.push(Diagnostic::new(
                folder,
                1,
                format!("cannot read this folder: {err}"),
            ));
            return Vec::new();
        }
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md") && path.is_file())
        .collect();
    files.sort();
    files
}

impl ParsedFile {
    /// Keeps what reading the file gave, but not its Markdown (see [`Parsed::body`]).
    fn forget_body(&mut self) {
        if let (Some(parsed), found) = &*self.outcome
            && parsed.body.is_some()
        {
            let slim = Parsed {
                body: None,
                ..parsed.clone()
            };
            self.outcome = Arc::new((Some(slim), found.clone()));
        }
    }
}

/// A file whose Markdown a memo did not keep, read and parsed again.
fn read_again(
    file: &Parsed,
    config: &SiteConfig,
    options: &LoadOptions,
    problems: &mut Diagnostics,
) -> Option<Parsed> {
    match std::fs::read_to_string(&file.source) {
        Ok(text) => parse_text(
            &file.source,
            &text,
            file.folder,
            file.kind,
            config,
            options,
            // Its problems were reported when it was first read.
            &mut Diagnostics::default(),
        ),
        Err(err) => {
            problems.push(Diagnostic::new(
                &file.source,
                1,
                format!("cannot read this file: {err}"),
            ));
            None
        }
    }
}

fn parse_text(
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
fn front_slug(
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

fn check_front_matter(
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
fn normalize_alias(alias: &str) -> Result<String, String> {
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
fn expand_body(
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

/// Numbers written as the length of a consultation (or the call it is), in
/// minutes: "30-minute consultation", "30 min call", "thirty-minute
/// consultation", "a half-hour call", "the consultation lasts 20 minutes",
/// "consultations take half an hour", "an hour-long consultation". Other
/// durations ("the infusion lasts 30–60 minutes", "a session lasts about
/// three hours") are not the consultation's and are left alone. A phrase
/// never crosses punctuation, so a duration in one clause is not taken for
/// the consultation named in the next.
pub fn stated_consultation_lengths(text: &str) -> Vec<u32> {
    let lower = text.to_lowercase();
    if !lower.contains("consult") && !lower.contains("call") {
        return Vec::new();
    }
    let tokens = length_tokens(&lower);
    let mut found: Vec<(usize, u32)> = Vec::new();
    // Where the last duration read ends: "forty-five minutes" holds "five
    // minutes", which must not be read again.
    let mut covered = 0;
    for i in 0..tokens.len() {
        // "the consultation lasts 20 minutes": the consultation, a few
        // linking words, then a duration.
        if tokens[i].is_some_and(is_consultation) {
            let mut j = i + 1;
            while j < tokens.len()
                && j - i <= 4
                && tokens[j].is_some_and(|w| LINKING_WORDS.contains(&w))
            {
                j += 1;
            }
            if let Some((minutes, used)) = duration_at(&tokens, j) {
                found.push((j, minutes));
                covered = covered.max(j + used);
            }
        }
        // "30-minute consultation": a duration, then within three words the consultation.
        if i >= covered
            && let Some((minutes, used)) = duration_at(&tokens, i)
        {
            covered = i + used;
            let names_consultation = tokens[covered..]
                .iter()
                .take(3)
                .map_while(|t| *t)
                .any(is_consultation);
            if names_consultation {
                found.push((i, minutes));
            }
        }
    }
    found.sort_unstable();
    found.dedup_by_key(|(at, _)| *at);
    found.into_iter().map(|(_, minutes)| minutes).collect()
}

/// Words that may join "consultation" to its length: "lasts about", "is only", "takes".
const LINKING_WORDS: [&str; 22] = [
    "lasts",
    "last",
    "lasting",
    "takes",
    "take",
    "is",
    "are",
    "will",
    "be",
    "runs",
    "run",
    "of",
    "about",
    "around",
    "approximately",
    "roughly",
    "only",
    "just",
    "usually",
    "typically",
    "for",
    "generally",
];

fn is_consultation(word: &str) -> bool {
    word.starts_with("consult") || matches!(word, "call" | "calls")
}

/// Lowercased words (a digit run is a word of its own: "30min" is "30",
/// "min"); `None` stands for punctuation, which ends a phrase. Hyphens and
/// spaces only separate words ("thirty-minute", "half-hour").
fn length_tokens(lower: &str) -> Vec<Option<&str>> {
    let mut tokens = Vec::new();
    let mut start: Option<usize> = None;
    let mut previous_digit = false;
    for (at, c) in lower.char_indices() {
        if c.is_alphanumeric() {
            let digit = c.is_ascii_digit();
            if let Some(from) = start.filter(|_| digit != previous_digit) {
                tokens.push(Some(&lower[from..at]));
                start = None;
            }
            start.get_or_insert(at);
            previous_digit = digit;
        } else {
            if let Some(from) = start.take() {
                tokens.push(Some(&lower[from..at]));
            }
            if !(c.is_whitespace() || matches!(c, '-' | '\u{2011}')) {
                tokens.push(None);
            }
        }
    }
    if let Some(from) = start {
        tokens.push(Some(&lower[from..]));
    }
    tokens
}

/// A length starting at `tokens[i]`: (minutes, tokens used).
fn duration_at(tokens: &[Option<&str>], i: usize) -> Option<(u32, usize)> {
    let word = |k: usize| tokens.get(i + k).copied().flatten().unwrap_or("");
    let long = |used: usize| used + usize::from(word(used) == "long");
    match (word(0), word(1), word(2)) {
        ("half", "hour", _) => return Some((30, long(2))),
        ("half", "an", "hour") => return Some((30, long(3))),
        ("an", "hour", _) => return Some((60, long(2))),
        _ => {}
    }
    let (number, used) = number_at(tokens, i)?;
    match word(used) {
        "minutes" | "minute" | "mins" | "min" => Some((number, used + 1)),
        "hours" | "hour" => Some((number * 60, long(used + 1))),
        _ => None,
    }
}

/// A number written in digits or in words ("five" to "ninety", "forty
/// five"): (value, tokens used).
fn number_at(tokens: &[Option<&str>], i: usize) -> Option<(u32, usize)> {
    const UNITS: [&str; 19] = [
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
    ];
    const TENS: [&str; 8] = [
        "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
    ];
    let word = tokens.get(i).copied().flatten()?;
    if word.bytes().all(|b| b.is_ascii_digit()) {
        return word.parse().ok().map(|n| (n, 1));
    }
    let value = |list: &[&str], w: &str| list.iter().position(|x| *x == w);
    if let Some(unit) = value(&UNITS, word) {
        return Some((unit as u32 + 1, 1));
    }
    let tens = value(&TENS, word)? as u32 * 10 + 20;
    match tokens
        .get(i + 1)
        .copied()
        .flatten()
        .and_then(|w| value(&UNITS[..9], w))
    {
        Some(unit) => Some((tens + unit as u32 + 1, 2)),
        None => Some((tens, 1)),
    }
}

fn check_required_pages(
    content_dir: &Path,
    parsed: &[&Parsed],
    options: &LoadOptions,
    problems: &mut Diagnostics,
) {
    for slug in REQUIRED_PAGES {
        if !parsed
            .iter()
            .any(|f| f.kind == Kind::Page && f.slug == slug && f.meta.is_visible(options))
        {
            problems.push(Diagnostic::new(
                &content_dir.join("pages").join(format!("{slug}.md")),
                1,
                format!("this page is missing (or a draft, scheduled, expired or retired); the site links to it from every page, so it must exist with `slug: {slug}`"),
            ));
        }
    }
}

/// An alias must not shadow a page, nor be claimed twice.
fn check_aliases(
    parsed: &[&Parsed],
    sources_by_url: &HashMap<String, &Path>,
    problems: &mut Diagnostics,
) {
    let mut claimed: HashMap<&str, &Path> = HashMap::new();
    for file in parsed {
        let line = file.fields.line("aliases");
        for alias in &file.meta.aliases {
            if let Some(owner) = sources_by_url.get(alias.as_str()) {
                problems.push(Diagnostic::new(
                    &file.source,
                    line,
                    format!(
                        "the alias {alias} is the address of {}; an alias must be an old address that no page uses any more",
                        owner.display()
                    ),
                ));
            } else if let Some(other) = claimed.insert(alias, &file.source) {
                problems.push(Diagnostic::new(
                    &file.source,
                    line,
                    format!(
                        "the alias {alias} is also claimed by {}; keep it in one file",
                        other.display()
                    ),
                ));
            }
        }
    }
}

/// The permalink map, and the files that lost their address to another.
struct Addresses<'a> {
    /// File key → its address (also for a file that lost it, so links to it
    /// resolve and only the real problem is reported).
    urls: HashMap<String, String>,
    /// Address → the key of the file that has it.
    keys_by_url: HashMap<String, String>,
    /// Address → the file that has it.
    sources_by_url: HashMap<String, &'a Path>,
    /// Files whose address another file has: they are not built.
    lost: Lost,
}

/// The files that lost their address to another, and the addresses they
/// answered before (the one their name makes, their aliases), so the checks
/// that would fail only because they are not built can pass over them.
#[derive(Default)]
struct Lost {
    keys: Vec<String>,
    addresses: Vec<String>,
}

impl Lost {
    fn add(&mut self, file: &Parsed) {
        self.keys.push(file.key.clone());
        let name = file.key.rsplit('/').next().unwrap_or_default();
        let from_name = public_url(file.kind, name.trim_end_matches(".md"));
        self.addresses.push(from_name);
        self.addresses.extend(file.meta.aliases.iter().cloned());
    }
}

/// Gives every file its address. Two files claiming one address is one
/// problem: the file whose name makes the address keeps it, and the one that
/// claims it with `slug:` is told so at that line, naming the other (at line
/// 1 when both take it from their names).
fn assign_addresses<'a>(parsed: &[&'a Parsed], problems: &mut Diagnostics) -> Addresses<'a> {
    let mut holders: HashMap<String, &'a Parsed> = HashMap::new();
    let mut lost = Lost::default();
    for &file in parsed {
        let url = public_url(file.kind, &file.slug);
        let Some(holder) = holders.get_mut(&url) else {
            holders.insert(url, file);
            continue;
        };
        let loser = if holder.slug_line.is_some() && file.slug_line.is_none() {
            std::mem::replace(holder, file)
        } else {
            file
        };
        let keeper = holders[&url];
        let message = match loser.slug_line {
            Some(_) => format!(
                "`slug: {}` gives the address {url}, which {} already has; give this file another `slug:`",
                loser.slug,
                keeper.source.display()
            ),
            None => format!(
                "the file name makes the address {url}, which {} also has; rename one of them or give it another `slug:`",
                keeper.source.display()
            ),
        };
        problems.push(Diagnostic::new(
            &loser.source,
            loser.slug_line.unwrap_or(1),
            message,
        ));
        lost.add(loser);
    }
    let mut addresses = Addresses {
        urls: HashMap::new(),
        keys_by_url: HashMap::new(),
        sources_by_url: HashMap::new(),
        lost,
    };
    for file in parsed {
        addresses
            .urls
            .insert(file.key.clone(), public_url(file.kind, &file.slug));
    }
    for (url, file) in holders {
        addresses.keys_by_url.insert(url.clone(), file.key.clone());
        addresses.sources_by_url.insert(url, &file.source);
    }
    addresses
}

fn public_url(kind: Kind, slug: &str) -> String {
    match (kind, slug) {
        (Kind::Page, "home") => "/".to_string(),
        (Kind::Page, slug) => format!("/{slug}"),
        (Kind::Article, slug) => format!("/blog/{slug}"),
    }
}

fn render_file(
    file: &Parsed,
    urls: &HashMap<String, String>,
    keys_by_url: &HashMap<String, String>,
    today: NaiveDate,
    problems: &mut Diagnostics,
) -> Document {
    let resolver = links::Resolver::new(urls, keys_by_url, file.folder);
    let body = file.body.as_deref().unwrap_or_default();
    let path = file.source.as_path();
    let rendered = markdown::render(path, body, file.body_line, &mut |dest| {
        resolver.resolve(dest)
    });
    for problem in &rendered.problems {
        problems.push(problem.clone());
    }
    let writing_advice = writing::check(&writing::Draft {
        path,
        kind: file.kind,
        search_title: file.meta.seo_title.as_deref().unwrap_or(&file.meta.title),
        has_seo_title: file.meta.seo_title.is_some(),
        title_line: file.fields.line(if file.meta.seo_title.is_some() {
            "seo_title"
        } else {
            "title"
        }),
        description: &file.meta.description,
        description_line: file.fields.line("description"),
        rendered: &rendered,
        body,
        body_line: file.body_line,
        links_to_consultation: rendered.links.iter().any(|l| l.target == CONSULTATION_KEY),
    });
    let medication_mention = health::first_medication_mention(&rendered.blocks);
    let review_advice = health::review_advice(
        path,
        medication_mention.as_ref(),
        file.meta.reviewed,
        file.fields.line("reviewed"),
        file.fields.line("title"),
        today,
    );
    let unused_footnotes = rendered.unused_footnotes.iter().map(|(label, line)| {
        Diagnostic::warning(
            path,
            *line,
            format!(
                "the footnote [^{label}] is never referred to, so it is left out of the sources; cite it with [^{label}] where it supports the text, or remove it"
            ),
        )
    });
    for advice in file
        .advice
        .iter()
        .cloned()
        .chain(writing_advice)
        .chain(review_advice)
        .chain(health::unsourced_claims(path, &rendered.blocks))
        .chain(unused_footnotes)
    {
        problems.push(advice);
    }
    for (anchor, line) in &rendered.self_anchors {
        if !rendered.headings.iter().any(|h| &h.id == anchor) {
            problems.push(Diagnostic::new(
                &file.source,
                *line,
                format!("links to `#{anchor}`, but this page has no heading with that id"),
            ));
        }
    }
    Document {
        kind: file.kind,
        source: file.source.clone(),
        key: file.key.clone(),
        slug: file.slug.clone(),
        url: urls[&file.key].clone(),
        title: file.meta.title.clone(),
        description: file.meta.description.clone(),
        date: file.meta.date,
        updated: file.meta.updated,
        tags: file.meta.tags.clone(),
        draft: file.meta.draft,
        retired: file.meta.retired,
        aliases: file.meta.aliases.clone(),
        seo_title: file.meta.seo_title.clone(),
        expires: file.meta.expires,
        reviewed: file.meta.reviewed,
        reviewed_by: file.meta.reviewed_by.clone(),
        medication_mention,
        status: file.status,
        visible: file.visible,
        image: file.meta.image.clone(),
        call_to_action: file.meta.call_to_action.clone(),
        html: rendered.html.into(),
        headings: rendered.headings,
        word_count: rendered.word_count,
        outgoing: rendered.links,
        links_to: Vec::new(),
        linked_from: Vec::new(),
        related: Vec::new(),
        fingerprint: 0,
    }
}

/// Checks every cross-link's `#anchor` against its target's headings (only
/// possible once every file is rendered), then derives the link graph.
fn check_links_and_build_graph(documents: &mut [Document], problems: &mut Diagnostics) {
    let index_by_key: HashMap<&str, usize> = documents
        .iter()
        .enumerate()
        .map(|(i, d)| (d.key.as_str(), i))
        .collect();
    let mut links_to = vec![Vec::new(); documents.len()];
    for (source, document) in documents.iter().enumerate() {
        for link in &document.outgoing {
            let Some(&target) = index_by_key.get(link.target.as_str()) else {
                continue;
            };
            let target_doc = &documents[target];
            if let Some(anchor) = &link.anchor
                && !target_doc.headings.iter().any(|h| &h.id == anchor)
            {
                let ids: Vec<String> = target_doc
                    .headings
                    .iter()
                    .take(12)
                    .map(|h| format!("#{}", h.id))
                    .collect();
                problems.push(Diagnostic::new(
                    &document.source,
                    link.line,
                    format!(
                        "links to `{}`, but that page has no heading with the id `{anchor}`; its headings are: {}",
                        link.written,
                        if ids.is_empty() { "none".to_string() } else { ids.join(", ") }
                    ),
                ));
            }
            if document.is_published() && !target_doc.is_published() {
                let why = match target_doc.status {
                    Status::Draft => {
                        "a draft (`draft: true`) that readers cannot see yet".to_string()
                    }
                    Status::Scheduled(day) => {
                        format!("scheduled for {day}: until then readers would find nothing there")
                    }
                    Status::Expired => {
                        "expired (`expires:`): its address answers 410 Gone".to_string()
                    }
                    _ => "retired (`retired: true`): its address answers 410 Gone".to_string(),
                };
                problems.push(Diagnostic::new(
                    &document.source,
                    link.line,
                    format!("links to `{}`, which is {why}", link.written),
                ));
            }
            if target != source && !links_to[source].contains(&target) {
                links_to[source].push(target);
            }
        }
    }
    let published_articles: Vec<usize> = documents
        .iter()
        .enumerate()
        .filter(|(_, d)| d.kind == Kind::Article && d.is_published())
        .map(|(i, _)| i)
        .collect();
    let tags: Vec<Vec<String>> = documents.iter().map(|d| d.tags.clone()).collect();
    let related = links::Related::new(&tags, &links_to, &published_articles);
    let lists: Vec<Vec<usize>> = published_articles
        .par_iter()
        .map_init(links::Scratch::default, |scratch, &article| {
            related.of(article, RELATED_ARTICLES, scratch)
        })
        .collect();
    for (&article, list) in published_articles.iter().zip(lists) {
        documents[article].related = list;
    }
    for &source in &published_articles {
        for &target in &links_to[source] {
            documents[target].linked_from.push(source);
        }
    }
    for (document, links) in documents.iter_mut().zip(links_to) {
        document.links_to = links;
    }
}

/// The site settings name pages and articles; each must exist.
fn check_settings_references(
    documents: &[Document],
    lost: &[String],
    config: &SiteConfig,
    problems: &mut Diagnostics,
) {
    let published = |folder: &str, name: &str| {
        let key = format!("{folder}/{name}.md");
        lost.contains(&key) || documents.iter().any(|d| d.key == key && d.is_published())
    };
    for (i, name) in config.home.services.iter().enumerate() {
        if !published("pages", name) {
            problems.push(config.setting_diagnostic(
                &format!("home.services.{i}"),
                format!("services names `{name}`, but there is no published page content/pages/{name}.md"),
            ));
        }
    }
    for (i, name) in config.home.featured.iter().enumerate() {
        if !published("blog", name) {
            problems.push(config.setting_diagnostic(
                &format!("home.featured.{i}"),
                format!("featured names `{name}`, but there is no published article content/blog/{name}.md"),
            ));
        }
    }
}

/// Loads for unit tests: the shipped content in a temporary folder, plus files.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// The shipped content with `files` (path under content/, text) added,
    /// loaded as of `today`.
    pub fn shipped_with(files: &[(&str, &str)], today: NaiveDate) -> Result<Library, Diagnostics> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("content");
        let dir = tempfile::tempdir().expect("a temporary folder");
        let content = dir.path().join("content");
        for folder in ["blog", "pages"] {
            std::fs::create_dir_all(content.join(folder)).expect("a folder");
            for entry in std::fs::read_dir(root.join(folder)).expect("shipped content") {
                let path = entry.expect("an entry").path();
                std::fs::copy(
                    &path,
                    content.join(folder).join(path.file_name().expect("a name")),
                )
                .expect("a copy");
            }
        }
        std::fs::copy(
            root.join(record::FILE_NAME),
            content.join(record::FILE_NAME),
        )
        .expect("the record");
        for (name, text) in files {
            std::fs::write(content.join(name), text).expect("a fixture");
        }
        let config = SiteConfig::load(&root.join("site.toml")).expect("the shipped settings");
        load_with(
            &content,
            &config,
            LoadOptions {
                today,
                preview: false,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn page(front: &str, body: &str) -> String {
        format!("---\ntitle: X\ndescription: d\n{front}---\n\n{body}\n")
    }

    /// The messages (line, severity, text) reported for `pages/x.md`.
    fn reported(found: &Diagnostics) -> Vec<(usize, bool, String)> {
        found
            .iter()
            .filter(|d| d.path.ends_with("pages/x.md"))
            .map(|d| (d.line, d.is_error(), d.message.clone()))
            .collect()
    }

    #[test]
    fn the_slug_is_the_value_the_yaml_parser_reads() {
        let article = "---\ntitle: X\ndescription: d\ndate: 2025-01-01\nslug: x-guide # the short name was taken\n---\n\nText, then [book](../pages/consultation.md).\n";
        let library = testing::shipped_with(&[("blog/x.md", article)], day(2026, 1, 1))
            .unwrap_or_else(|found| panic!("{found}"));
        assert_eq!(library.article("x").unwrap().url, "/blog/x-guide");
    }

    /// The file whose name makes an address keeps it, even when a file read
    /// before it claims it with `slug:`; the claim is the one problem.
    #[test]
    fn the_file_named_for_an_address_keeps_it() {
        let claim = "---\ntitle: X\ndescription: d\ndate: 2025-01-01\nslug: ketamine-assisted-psychotherapy-guide\n---\n\nText.\n";
        let found =
            testing::shipped_with(&[("blog/a-first.md", claim)], day(2026, 1, 1)).unwrap_err();
        let errors: Vec<(String, usize)> = found
            .iter()
            .filter(|d| d.is_error())
            .map(|d| (d.path.display().to_string(), d.line))
            .collect();
        assert_eq!(errors.len(), 1, "{found}");
        assert!(
            errors[0].0.ends_with("blog/a-first.md") && errors[0].1 == 5,
            "{found}"
        );
    }

    #[test]
    fn review_fields_are_read_with_the_therapist_as_default_reviewer() {
        let library = testing::shipped_with(
            &[
                ("pages/x.md", &page("reviewed: 2025-11-02\n", "Ketamine.")),
                (
                    "pages/y.md",
                    &page(
                        "reviewed: 2025-11-02\nreviewed_by: \"Jordan Lee, MD\"\n",
                        "Text.",
                    ),
                ),
            ],
            day(2026, 1, 1),
        )
        .unwrap();
        let x = library.page("x").unwrap();
        assert_eq!(x.reviewed, Some(day(2025, 11, 2)));
        assert_eq!(x.reviewed_by, "Alicia Taverner, LMFT");
        assert!(x.discusses_medication());
        let y = library.page("y").unwrap();
        assert_eq!(y.reviewed_by, "Jordan Lee, MD");
        assert!(!y.discusses_medication());
        assert!(
            reported(&library.warnings).is_empty(),
            "{}",
            library.warnings
        );
    }

    #[test]
    fn a_bad_or_misspelt_review_field_is_a_problem_at_its_line() {
        let found = testing::shipped_with(
            &[("pages/x.md", &page("reviewed: last spring\n", "Text."))],
            day(2026, 1, 1),
        )
        .unwrap_err();
        assert_eq!(
            reported(&found),
            [(
                4,
                true,
                "`reviewed: last spring` is not a date; write it as YYYY-MM-DD, for example 2025-06-12"
                    .to_string()
            )]
        );
        let found = testing::shipped_with(
            &[(
                "pages/x.md",
                &page("reviwed: 2025-01-01\nreviewd_by: Dr. Lee\n", "Text."),
            )],
            day(2026, 1, 1),
        )
        .unwrap_err();
        let messages = reported(&found);
        assert!(
            messages.contains(&(
                4,
                true,
                "unknown field `reviwed`; did you mean `reviewed`?".to_string()
            )),
            "{messages:?}"
        );
        assert!(
            messages.contains(&(
                5,
                true,
                "unknown field `reviewd_by`; did you mean `reviewed_by`?".to_string()
            )),
            "{messages:?}"
        );
    }

    #[test]
    fn a_reviewer_without_a_review_date_is_advised() {
        let library = testing::shipped_with(
            &[(
                "pages/x.md",
                &page("reviewed_by: \"Jordan Lee, MD\"\n", "Text."),
            )],
            day(2026, 1, 1),
        )
        .unwrap();
        let advice = reported(&library.warnings);
        assert_eq!(advice.len(), 1, "{advice:?}");
        assert_eq!((advice[0].0, advice[0].1), (4, false));
        assert!(
            advice[0].2.contains("there is no `reviewed:` date"),
            "{advice:?}"
        );
        assert_eq!(library.page("x").unwrap().reviewed_by, "Jordan Lee, MD");
    }

    #[test]
    fn a_page_about_medication_without_a_current_review_is_advised() {
        let today = day(2026, 6, 1);
        let warnings = |front: &str| {
            let library = testing::shipped_with(
                &[(
                    "pages/x.md",
                    &page(front, "Intro.\n\nWe talk about your medication."),
                )],
                today,
            )
            .unwrap();
            reported(&library.warnings)
        };
        let missing = warnings("");
        assert_eq!(missing.len(), 1, "{missing:?}");
        assert_eq!(missing[0].0, 2, "the title's line");
        assert!(
            !missing[0].1 && missing[0].2.contains("no `reviewed:` date"),
            "{missing:?}"
        );
        assert!(missing[0].2.contains("“medication”, line 8"), "{missing:?}");
        let stale = warnings("reviewed: 2025-05-01\n");
        assert_eq!(stale.len(), 1, "{stale:?}");
        assert_eq!(stale[0].0, 4, "the reviewed: line");
        assert!(stale[0].2.contains("more than 12 months ago"), "{stale:?}");
        assert!(warnings("reviewed: 2025-07-01\n").is_empty());
        // Which day is "today" is the load's, not the machine's.
        let later = testing::shipped_with(
            &[("pages/x.md", &page("reviewed: 2025-07-01\n", "A dose."))],
            day(2027, 7, 2),
        )
        .unwrap();
        assert_eq!(reported(&later.warnings).len(), 1);
    }

    #[test]
    fn unsourced_claims_and_footnote_mistakes_are_reported_at_their_lines() {
        let body = "Studies show it helps.\n\nStudies show it helps, in [a trial](https://example.org).\n\nResearch suggests so[^1].\n\n80% of clients feel better.\n\n[^1]: A source.\n\n[^2]: Never cited.";
        let library =
            testing::shipped_with(&[("pages/x.md", &page("", body))], day(2026, 1, 1)).unwrap();
        let lines: Vec<(usize, bool)> = reported(&library.warnings)
            .into_iter()
            .map(|(line, error, _)| (line, error))
            .collect();
        assert_eq!(
            lines,
            [(6, false), (12, false), (16, false)],
            "{}",
            library.warnings
        );
        let found = testing::shipped_with(
            &[("pages/x.md", &page("", "Text.\n\nA claim[^gone]."))],
            day(2026, 1, 1),
        )
        .unwrap_err();
        let messages = reported(&found);
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert_eq!((messages[0].0, messages[0].1), (8, true));
        assert!(
            messages[0].2.contains("[^gone] is never defined"),
            "{messages:?}"
        );
    }
}

#[cfg(test)]
mod length_tests {
    use super::stated_consultation_lengths as lengths;

    #[test]
    fn each_phrasing_of_a_consultation_length_is_read() {
        for (text, expected) in [
            ("Book a free 30-minute consultation.", vec![30]),
            ("a 30 minute free consultation", vec![30]),
            ("a 30-min consult", vec![30]),
            ("a 30min call", vec![30]),
            ("a 30 min call with me", vec![30]),
            ("a free thirty-minute consultation", vec![30]),
            ("a forty-five minute phone consultation", vec![45]),
            ("a Twenty Five minute call", vec![25]),
            ("a five-minute call", vec![5]),
            ("a ninety-minute consultation", vec![90]),
            ("a half-hour consultation", vec![30]),
            ("a half hour call", vec![30]),
            ("an hour-long consultation", vec![60]),
            ("a one-hour consultation", vec![60]),
            ("The consultation lasts 20 minutes.", vec![20]),
            ("Consultations take about twenty minutes.", vec![20]),
            ("The call lasts half an hour.", vec![30]),
            ("The consultation is an hour.", vec![60]),
            ("a consultation of 45 minutes", vec![45]),
            ("a 15–20 minute consultation", vec![20]),
            (
                "A 15-minute consultation; the call lasts 20 minutes.",
                vec![15, 20],
            ),
        ] {
            assert_eq!(lengths(text), expected, "{text}");
        }
    }

    #[test]
    fn other_durations_are_not_the_consultation() {
        for text in [
            "The infusion typically lasts 30–60 minutes, and patients are often cleared.",
            "Each dosing session lasts about three hours and includes:",
            "A dosing session usually lasts around three hours.",
            "the effects of the medicine lasting between 45 minutes and 1.5 hours",
            "Choose a time below: it takes about a minute, needs no account.",
            "After 20 minutes, call me.",
            "I’ll call you in 5 minutes.",
            "Call or text 988, or call 911.",
            "a 90-minute session, then a consultation",
            "calls to action take an hour to write",
            "Sessions are 50 minutes.",
        ] {
            assert_eq!(lengths(text), Vec::<u32>::new(), "{text}");
        }
    }
}
