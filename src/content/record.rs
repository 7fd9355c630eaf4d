//! The record of every address the site has published
//! (`content/published-urls.txt`, kept under version control). When an
//! address that readers and search engines know stops leading anywhere, the
//! check says so and how to keep it working, unless the file that answered
//! it is only missing because of a problem already reported (its address
//! taken by another file).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::Document;
use crate::diagnostic::{Diagnostic, Diagnostics};

pub const FILE_NAME: &str = "published-urls.txt";

const HEADER: &str = "# Every address this site has published, one per line, kept by `practice-site check`.\n# Commit it with your articles. An address listed here must keep leading somewhere:\n# when you rename an article, put its old address in the new file's `aliases:`.\n";

pub fn path(content_dir: &Path) -> PathBuf {
    content_dir.join(FILE_NAME)
}

fn read(content_dir: &Path) -> Vec<(usize, String)> {
    let Ok(text) = std::fs::read_to_string(path(content_dir)) else {
        return Vec::new();
    };
    text.lines()
        .enumerate()
        .map(|(index, line)| (index + 1, line.trim().to_string()))
        .filter(|(_, line)| line.starts_with('/'))
        .collect()
}

/// The addresses in the record.
pub fn urls(content_dir: &Path) -> Vec<String> {
    read(content_dir).into_iter().map(|(_, url)| url).collect()
}

/// Addresses that answer something: pages, their aliases, and gone pages (410).
fn answered(documents: &[Document]) -> BTreeSet<&str> {
    let mut answered: BTreeSet<&str> = BTreeSet::from(["/blog"]);
    for document in documents.iter().filter(|d| d.is_published() || d.is_gone()) {
        answered.insert(&document.url);
        answered.extend(document.aliases.iter().map(String::as_str));
    }
    answered
}

/// Every recorded address must still answer. `pending` are the addresses of
/// files that are not built because of a problem already reported (their
/// address is another file's): they are not reported a second time.
pub fn check(
    content_dir: &Path,
    documents: &[Document],
    pending: &[String],
    problems: &mut Diagnostics,
) {
    let answered = answered(documents);
    let file = path(content_dir);
    for (line, url) in read(content_dir) {
        if !answered.contains(url.as_str()) && !pending.contains(&url) {
            problems.push(Diagnostic::new(
                &file,
                line,
                format!(
                    "{url} was published but now leads nowhere; if an article moved, add `aliases: [{url}]` to its front matter; if it is gone for good, keep its file with `retired: true`"
                ),
            ));
        }
    }
}

/// Adds the pages published now to the record; `Ok(true)` when the file changed.
pub fn update<'a>(
    content_dir: &Path,
    published: impl IntoIterator<Item = &'a str>,
) -> std::io::Result<bool> {
    let mut urls: BTreeSet<String> = urls(content_dir).into_iter().collect();
    let before = urls.len();
    urls.extend(published.into_iter().map(str::to_string));
    let file = path(content_dir);
    if urls.len() == before && file.exists() {
        return Ok(false);
    }
    let mut text = String::from(HEADER);
    for url in urls {
        text.push_str(&url);
        text.push('\n');
    }
    // Whole or not at all: the server and a publish read it while the
    // other may be writing it, and a rename replaces a link, never
    // writing through it.
    let next = file.with_extension("txt.next");
    std::fs::write(&next, text)?;
    std::fs::rename(&next, &file)?;
    Ok(true)
}
