//! Loading the therapist's Markdown: every file in `content/blog/` (articles)
//! and `content/pages/` (the site's own pages) is read, checked and rendered
//! into a [`Library`] of [`Document`]s, or every problem found is returned
//! as [`Diagnostics`]. Knows nothing about HTTP or templates.
//!
//! This file holds the types the rest of the engine reads ([`LoadOptions`],
//! [`Status`], [`Kind`], [`Document`], [`Library`], [`Memo`]) and the entry
//! points ([`load`], [`load_with`], [`load_reusing`], [`check_file`],
//! [`address_holder`]). A load is a row of passes, each in its own module,
//! so a reader meets one path for each job:
//!
//! 1. `load`: lists the files and reads them on every core, reusing what
//!    the previous load's [`Memo`] worked out for a file whose text,
//!    settings and day did not change; runs the passes below in order.
//! 2. `parse`: the front matter (via [`front_matter`]) checked into the
//!    fields the engine uses, the address's last part, a `Status` for the
//!    load's day, the body with its placeholders expanded and any stated
//!    consultation length other than the setting refused (`lengths`).
//! 3. `addresses`: the permalink map, complete before anything renders so
//!    any file can link to any other; the required pages; aliases; one
//!    report for an address claimed twice (and the follow-on checks told to
//!    pass over the file that lost it).
//! 4. `render`: each file's Markdown through [`markdown`] with links
//!    resolved by [`links`], its own anchors, and its advice ([`writing`],
//!    [`health`]) as warnings.
//! 5. `graph`: cross-links' anchors and links to pages readers cannot see,
//!    then the link graph (links to, linked from, related); the settings'
//!    references to pages and articles; and [`record`], the addresses ever
//!    published.
//!
//! Every problem is a [`crate::diagnostic::Diagnostic`] made where it is
//! found, at a line the parser gave (serde-saphyr's key positions for front
//! matter, pulldown-cmark's offsets for the body).

pub mod front_matter;
pub mod health;
pub mod links;
pub mod markdown;
pub mod record;
pub mod writing;

mod addresses;
mod graph;
mod lengths;
mod load;
mod parse;
mod render;

use crate::images::Catalog;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;

use crate::config::SiteConfig;
use crate::diagnostic::{Diagnostic, Diagnostics};
use markdown::Heading;

pub use addresses::address_holder;
pub use lengths::stated_consultation_lengths;
pub use load::check_file;

/// Pages the templates link to from every page; the site cannot be built without them.
pub const REQUIRED_PAGES: [&str; 4] = ["home", "consultation", "about", "privacy"];

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
    /// The `title:` line, where advice about the page as a whole points.
    pub title_line: usize,
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
    /// The photos it shows, each with the hash it had (none: missing).
    pub pictures: Vec<(String, Option<String>)>,
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

    /// The advice this page gets for naming a medication with no
    /// `reviewed:` date, if it does.
    pub fn missing_review(&self) -> Option<Diagnostic> {
        let (line, word) = self.medication_mention.as_ref()?;
        self.reviewed
            .is_none()
            .then(|| health::missing_review(&self.source, (*line, word), self.title_line))
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
    /// The photos of `content/images/`.
    pub pictures: Catalog,
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

/// Reads, checks and renders everything under `content_dir` as readers see
/// it today. Returns every problem found, not just the first.
/// Starts a draft article titled `title` (what `practice-site new` and the
/// editor's "New article" do) and returns its path, or says in a sentence
/// why it cannot.
pub fn start_article(content_dir: &Path, title: &str, today: NaiveDate) -> Result<PathBuf, String> {
    let slug = front_matter::slug_from_title(title);
    if slug.is_empty() {
        return Err("the title needs at least one letter or digit to make an address from".into());
    }
    let path = content_dir.join("blog").join(format!("{slug}.md"));
    if path.exists() {
        return Err(format!(
            "{} already exists; choose another title, or open that file",
            path.display()
        ));
    }
    // A taken address is refused rather than replaced by `slug-2`: an
    // address is for good once published, a silent `-2` reads as a duplicate
    // to readers and search engines, and the holder may be an old alias the
    // therapist has forgotten; naming it lets her choose knowingly.
    let url = format!("/blog/{slug}");
    if let Some(holder) = address_holder(content_dir, &url) {
        return Err(format!(
            "the address {url} is taken: {holder}. Start the article with another title (you can change its `title:` afterwards; the address stays)"
        ));
    }
    std::fs::create_dir_all(path.parent().expect("blog folder"))
        .and_then(|()| std::fs::write(&path, front_matter::new_article(title, today)))
        .map_err(|err| format!("cannot write {}: {err}", path.display()))?;
    Ok(path)
}

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

/// What a load worked out for each file, kept so that the next load (after
/// an edit) reuses it for every file whose inputs did not change.
#[derive(Default)]
pub struct Memo {
    parsed: HashMap<PathBuf, load::ParsedFile>,
    rendered: HashMap<PathBuf, (u64, Rendering)>,
    pictures: Catalog,
}

/// A file's document before the link graph is added, and the problems found
/// rendering it.
type Rendering = Arc<(Document, Diagnostics)>;

impl Memo {
    /// The document a file became in this load, if it was rendered.
    pub fn document(&self, source: &Path) -> Option<&Document> {
        self.rendered.get(source).map(|(_, rendering)| &rendering.0)
    }

    /// The photos of `content/images/` as this load found them.
    pub fn pictures(&self) -> &Catalog {
        &self.pictures
    }

    /// Every rendered document, in no order.
    pub fn documents(&self) -> impl Iterator<Item = &Document> {
        self.rendered.values().map(|(_, rendering)| &rendering.0)
    }
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
    let outcome = load::load_into(content_dir, config, options, previous, &mut memo);
    (outcome, memo)
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
