//! A preview of text not saved yet, made by the real build: the content
//! folder is linked (or copied) into a temporary folder, the one file is
//! replaced by the text, and the site is built from there in preview mode
//! (drafts shown), so the preview has the live site's templates, links,
//! checks and messages, and nothing on disk of hers changes.

use std::path::{Path, PathBuf};

use super::{EditError, FileKey};
use crate::diagnostic::Diagnostic;
use crate::site::{BuildError, BuildOptions, Site, Sources};

/// What the text would give.
#[derive(Debug, Clone, Default)]
pub struct Preview {
    /// The page's `<main>` as the site's templates render it, when the site
    /// builds with this text.
    pub main: Option<String>,
    /// Its address, when it would have one readers can visit.
    pub url: Option<String>,
    /// Problems in this file (their paths are the scratch copy's).
    pub errors: Vec<Diagnostic>,
    pub advice: Vec<Diagnostic>,
    /// Errors in other files, which keep the site from building too.
    pub errors_elsewhere: usize,
}

pub(super) fn build(sources: &Sources, key: &FileKey, text: &str) -> Result<Preview, EditError> {
    let io = |err| EditError::io("preview", key, err);
    let scratch = tempfile::Builder::new()
        .prefix("practice-site-preview-")
        .tempdir()
        .map_err(io)?;
    let content = scratch.path().join("content");
    link_tree(&sources.content, &content).map_err(io)?;
    let file = content.join(key.folder()).join(key.name());
    // Removed first: the copy may be a hard link to her real file.
    let _ = std::fs::remove_file(&file);
    std::fs::create_dir_all(content.join(key.folder()))
        .and_then(|()| std::fs::write(&file, text))
        .map_err(io)?;
    let scratch_sources = sources.with_content_at(content.clone());
    let options = BuildOptions {
        now: chrono::Utc::now(),
        preview: true,
    };
    let mut preview = Preview::default();
    let problems = match Site::load_with(&scratch_sources, options) {
        Ok(site) => {
            if let Some(document) = site.documents().document(&file) {
                let page = site.get(&document.url).map(|r| r.identity.body.clone());
                preview.main = page.and_then(|body| main_of(&String::from_utf8_lossy(&body)));
                preview.url = (!document.is_gone()).then(|| document.url.clone());
            }
            site.warnings().clone()
        }
        Err(BuildError::Content(problems)) => problems,
        Err(err) => return Err(EditError::Refused(format!("the preview failed: {err}"))),
    };
    // Problems are sorted by the scratch file's path; the page shows their
    // lines and messages only.
    for problem in problems.iter() {
        match (problem.path == file, problem.is_error()) {
            (true, true) => preview.errors.push(problem.clone()),
            (true, false) => preview.advice.push(problem.clone()),
            (false, true) => preview.errors_elsewhere += 1,
            (false, false) => {}
        }
    }
    Ok(preview)
}

/// The inside of a page's `<main>` element.
fn main_of(page: &str) -> Option<String> {
    let start = page.find("<main")?;
    let open_end = start + page[start..].find('>')? + 1;
    let end = page.rfind("</main>")?;
    (end >= open_end).then(|| page[open_end..end].to_string())
}

/// `to` becomes a tree of hard links to `from`'s files (copies where the
/// two are on different disks); hidden names are left out.
fn link_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let (source, target): (PathBuf, PathBuf) = (entry.path(), to.join(&name));
        let kind = entry.file_type()?;
        if kind.is_dir() {
            link_tree(&source, &target)?;
        } else if kind.is_file() {
            std::fs::hard_link(&source, &target)
                .or_else(|_| std::fs::copy(&source, &target).map(drop))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::main_of;

    #[test]
    fn the_inside_of_main_is_taken() {
        let page = "<body><header>h</header><main id=\"main\"><h1>T</h1></main><footer></footer>";
        assert_eq!(main_of(page).as_deref(), Some("<h1>T</h1>"));
        assert_eq!(main_of("<p>no main</p>"), None);
    }
}
