//! The load: read every file (on every core, reusing a [`Memo`]'s work for
//! files whose inputs did not change), then the passes in order: front
//! matter ([`super::parse`]), addresses ([`super::addresses`]), rendering
//! ([`super::render`]), anchors and the link graph ([`super::graph`]), and
//! the checks that need every document (the settings' references, the
//! record of published addresses).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use super::addresses::{
    Addresses, assign_addresses, check_aliases, check_required_pages, public_url,
};
use super::graph::{check_links_and_build_graph, check_settings_references};
use super::parse::{Parsed, parse_text};
use super::render::render_file;
use super::{Document, Kind, Library, LoadOptions, Memo, Rendering, fingerprint, record};
use crate::config::SiteConfig;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::images::Catalog;

/// One file through the passes a load runs on each file (front matter, its
/// address, the body's placeholders and stated lengths, rendering with its
/// links resolved against `urls`, its own anchors, writing and health
/// advice), as if it were `content/<key>` (`blog/x.md` is an article): what
/// the fuzz target runs, so it exercises the code that runs. The checks
/// between files (addresses taken twice, other pages' anchors, the record)
/// need a whole folder and are left to [`super::load_with`]; so do the
/// photos of `images/`: here none exists, and a photo the text shows is
/// reported missing.
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
    let pictures = Catalog::default();
    render_file(
        &file,
        &urls,
        &keys_by_url,
        options.today,
        &pictures,
        &mut problems,
    );
    problems.sorted()
}

/// A file as a load read it, and what reading it gave.
pub(super) struct ParsedFile {
    /// The file's size and modification time when it was read: the same
    /// stamp (and settings) next time means the same text.
    pub(super) stamp: (u64, Option<std::time::SystemTime>),
    pub(super) context: u64,
    pub(super) key: u64,
    pub(super) outcome: Arc<(Option<Parsed>, Diagnostics)>,
}

/// What every pass of one load shares.
struct Load<'a> {
    config: &'a SiteConfig,
    options: LoadOptions,
    previous: &'a Memo,
    /// The fingerprint of the settings and the load's view (day, preview).
    context: u64,
    pictures: &'a Catalog,
}

/// A Markdown file to load: its path, folder and kind.
type File = (PathBuf, &'static str, Kind);

/// Every file through every pass, in order; fills `memo` for the next load.
pub(super) fn load_into(
    content_dir: &Path,
    config: &SiteConfig,
    options: LoadOptions,
    previous: &Memo,
    memo: &mut Memo,
) -> Result<Library, Diagnostics> {
    let context = fingerprint((config.fingerprint(), options.today, options.preview));
    let mut problems = Diagnostics::default();
    let (pictures, unshown) = Catalog::load(content_dir, &previous.pictures);
    problems.extend(unshown);
    let load = Load {
        config,
        options,
        previous,
        context,
        pictures: &pictures,
    };
    let files = list_files(content_dir, &mut problems);
    let parse_keys = read_all(&load, &files, &mut memo.parsed, &mut problems);
    // In the order of `files`, as the memo's map has none.
    let parsed: Vec<&Parsed> = files
        .iter()
        .filter_map(|(path, _, _)| memo.parsed.get(path)?.outcome.0.as_ref())
        .collect();
    check_required_pages(content_dir, &parsed, &options, &mut problems);
    // The permalink map is complete before anything renders, so any file can
    // link to any other.
    let addresses = assign_addresses(&parsed, &mut problems);
    check_aliases(&parsed, &addresses.sources_by_url, &mut problems);
    let rendered = render_all(&load, &parsed, &parse_keys, &addresses, &mut problems);
    let mut documents = Vec::with_capacity(rendered.len());
    for (path, key, outcome) in rendered {
        documents.push(outcome.0.clone());
        memo.rendered.insert(path, (key, outcome));
    }
    let lost = addresses.lost;
    for file in memo.parsed.values_mut() {
        file.forget_body();
    }
    sort_for_listings(&mut documents);
    check_links_and_build_graph(&mut documents, &mut problems);
    // A file that lost its address is reported once, above: what is missing
    // only because it is not built (its old addresses, the settings naming
    // it) is not reported again.
    check_settings_references(&documents, &lost.keys, config, &mut problems);
    record::check(content_dir, &documents, &lost.addresses, &mut problems);
    memo.pictures = pictures.clone();
    if problems.has_errors() {
        return Err(problems.sorted());
    }
    Ok(Library {
        documents,
        warnings: problems.sorted(),
        options,
        pictures,
    })
}

/// The Markdown files of `blog/` (articles), then of `pages/`, each by name.
fn list_files(content_dir: &Path, problems: &mut Diagnostics) -> Vec<File> {
    let mut files = Vec::new();
    for (folder, kind) in [("blog", Kind::Article), ("pages", Kind::Page)] {
        for path in markdown_files(&content_dir.join(folder), problems) {
            files.push((path, folder, kind));
        }
    }
    files
}

/// The read pass: each file read and its front matter parsed, on every
/// core, into `memo`; returns each file's parse fingerprint. Problems are
/// gathered afterwards, so the report does not depend on which ran first.
fn read_all(
    load: &Load<'_>,
    files: &[File],
    memo: &mut HashMap<PathBuf, ParsedFile>,
    problems: &mut Diagnostics,
) -> HashMap<PathBuf, u64> {
    let read: Vec<Result<ParsedFile, Diagnostic>> = files
        .par_iter()
        .map(|(path, folder, kind)| read_one(load, path, folder, *kind))
        .collect();
    let mut parse_keys = HashMap::new();
    for ((path, _, _), file) in files.iter().zip(read) {
        match file {
            Ok(file) => {
                problems.extend(file.outcome.1.clone());
                parse_keys.insert(path.clone(), file.key);
                memo.insert(path.clone(), file);
            }
            Err(unreadable) => problems.push(unreadable),
        }
    }
    parse_keys
}

/// One file read and parsed, or what the previous load made of the same
/// text (same size and time, or same contents) under the same settings.
fn read_one(
    load: &Load<'_>,
    path: &Path,
    folder: &'static str,
    kind: Kind,
) -> Result<ParsedFile, Diagnostic> {
    let unreadable =
        |err: std::io::Error| Diagnostic::new(path, 1, format!("cannot read this file: {err}"));
    let metadata = std::fs::metadata(path).map_err(unreadable)?;
    let stamp = (metadata.len(), metadata.modified().ok());
    let known = load.previous.parsed.get(path);
    if let Some(known) = known
        && known.stamp == stamp
        && known.context == load.context
    {
        return Ok(ParsedFile {
            outcome: Arc::clone(&known.outcome),
            ..*known
        });
    }
    let text = std::fs::read_to_string(path).map_err(unreadable)?;
    let key = fingerprint((load.context, path, folder, &text));
    let outcome = match known {
        Some(known) if known.key == key => Arc::clone(&known.outcome),
        _ => {
            let mut found = Diagnostics::default();
            let (config, options) = (load.config, &load.options);
            let file = parse_text(path, &text, folder, kind, config, options, &mut found);
            Arc::new((file, found))
        }
    };
    Ok(ParsedFile {
        stamp,
        context: load.context,
        key,
        outcome,
    })
}

/// The render pass: each file that has its address rendered, on every
/// core, unless the previous load rendered it from the same inputs (its
/// parse and every address it could link to).
fn render_all(
    load: &Load<'_>,
    parsed: &[&Parsed],
    parse_keys: &HashMap<PathBuf, u64>,
    addresses: &Addresses<'_>,
    problems: &mut Diagnostics,
) -> Vec<(PathBuf, u64, Rendering)> {
    let (urls, sources_by_url) = (&addresses.urls, &addresses.sources_by_url);
    let mut written: Vec<(&String, &String)> = urls.iter().collect();
    written.sort_unstable();
    let mut owners: Vec<(&String, &String)> = addresses.keys_by_url.iter().collect();
    owners.sort_unstable();
    let links_context = fingerprint((written, owners));
    let rendered: Vec<(PathBuf, u64, Rendering)> = parsed
        .par_iter()
        .filter(|file| {
            urls.contains_key(&file.key) && sources_by_url[urls[&file.key].as_str()] == file.source
        })
        .map(|file| {
            let key = fingerprint((parse_keys[&file.source], links_context));
            let outcome = match load.previous.rendered.get(&file.source) {
                Some((known, outcome))
                    if *known == key && same_pictures(&outcome.0.pictures, load.pictures) =>
                {
                    Arc::clone(outcome)
                }
                _ => Arc::new(render_one(load, file, key, addresses)),
            };
            (file.source.clone(), key, outcome)
        })
        .collect();
    for (_, _, outcome) in &rendered {
        problems.extend(outcome.1.clone());
    }
    rendered
}

/// One file rendered, its Markdown read again if the memo dropped it.
fn render_one(
    load: &Load<'_>,
    file: &Parsed,
    key: u64,
    addresses: &Addresses<'_>,
) -> (Document, Diagnostics) {
    let mut found = Diagnostics::default();
    let reread;
    let file = if file.body.is_some() {
        file
    } else {
        reread = read_again(file, load.config, &load.options, &mut found);
        reread.as_ref().unwrap_or(file)
    };
    let (urls, keys_by_url) = (&addresses.urls, &addresses.keys_by_url);
    let today = load.options.today;
    let mut document = render_file(file, urls, keys_by_url, today, load.pictures, &mut found);
    // A page shows its photos by their hashes: a new photo, a new page.
    document.fingerprint = fingerprint((key, &document.pictures));
    (document, found)
}

/// Whether every photo a rendering showed (or missed) is as it was.
fn same_pictures(shown: &[(String, Option<String>)], pictures: &Catalog) -> bool {
    (shown.iter()).all(|(name, hash)| pictures.hash_of(name) == hash.as_deref())
}

/// Articles newest first, then pages by name: the order listings use.
fn sort_for_listings(documents: &mut [Document]) {
    documents.sort_by(|a, b| match (a.kind, b.kind) {
        (Kind::Article, Kind::Article) => b.date.cmp(&a.date).then_with(|| a.title.cmp(&b.title)),
        (Kind::Article, Kind::Page) => std::cmp::Ordering::Less,
        (Kind::Page, Kind::Article) => std::cmp::Ordering::Greater,
        (Kind::Page, Kind::Page) => a.slug.cmp(&b.slug),
    });
}

pub(super) fn markdown_files(folder: &Path, problems: &mut Diagnostics) -> Vec<PathBuf> {
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

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use crate::content::testing;
    use crate::diagnostic::Diagnostics;

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
