//! The therapist's editor in the browser, as a service the routes call
//! (`routes/editor.rs` holds everything HTTP): the list of her files with
//! their status and problems, a file's text, a preview of unsaved text
//! through the real build, saving, new articles, and every version kept
//! ([`history`]).
//!
//! Her text is never rewritten: a save writes the bytes she typed, with only
//! the line endings a browser's form changes put back as the file had them,
//! and writes them whole (a temporary file renamed over the old one), so a
//! reader, the watcher or a crash never sees half a file. A save names the
//! version it started from; if the file changed on disk since (a `git push`,
//! another tab, her own text editor), it is refused and both texts are
//! given back. A file with problems may be saved: the site keeps serving
//! its last good version, and [`Editor::state`] says why.

pub mod history;
mod preview;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use crate::content::{self, Status, front_matter};
use crate::diagnostic::Diagnostic;
use crate::images::{self, upload};
use crate::live::{BuildStatus, Reloader};
use crate::site::Site;
pub use history::{History, Version};
pub use preview::Preview;

/// The largest text the editor takes (the longest article is about 40 KB).
pub const MAX_TEXT: usize = 512 * 1024;

/// The folders of Markdown files the editor may touch.
const FOLDERS: [&str; 2] = ["blog", "pages"];

#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// A file name that is not one of hers (`../`, another folder, not `.md`).
    #[error("{0} is not a file the editor can open")]
    BadName(String),
    #[error("there is no file {0}")]
    NotFound(String),
    #[error("{0} is not text (UTF-8); open it in a text editor")]
    NotText(String),
    #[error("the text is over {} KB", MAX_TEXT / 1024)]
    TooLarge,
    /// The file changed on disk since the editor opened it.
    #[error("{key} was changed elsewhere since you opened it")]
    Conflict {
        key: String,
        /// The file as it is on disk now.
        theirs: String,
        /// The version a save over it must name.
        version: String,
    },
    /// What she asked cannot be done, in a sentence she can act on.
    #[error("{0}")]
    Refused(String),
    #[error("cannot {what} {key}: {source}")]
    Io {
        what: &'static str,
        key: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Git(String),
    /// An uploaded photo that was not taken, and why.
    #[error("{0}")]
    Image(#[from] crate::images::upload::Refusal),
}

impl EditError {
    fn io(what: &'static str, key: &FileKey, source: std::io::Error) -> Self {
        Self::Io {
            what,
            key: key.to_string(),
            source,
        }
    }
}

/// A Markdown file of hers, named as `blog/<name>.md` or `pages/<name>.md`:
/// the only paths the editor reads or writes, so no form can name another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileKey(String);

impl FileKey {
    pub fn new(folder: &str, name: &str) -> Result<Self, EditError> {
        let key = format!("{folder}/{name}");
        let stem = name.strip_suffix(".md").unwrap_or_default();
        let valid = FOLDERS.contains(&folder)
            && !stem.is_empty()
            && !stem.starts_with(['.', '-'])
            && stem
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if valid {
            Ok(Self(key))
        } else {
            Err(EditError::BadName(key))
        }
    }

    /// A photo of `content/images/`, named as [`upload::file_name`] names
    /// them (`images/portrait.jpg`).
    pub fn image(name: &str) -> Result<Self, EditError> {
        let key = format!("{}/{name}", images::FOLDER);
        let valid = name.rsplit_once('.').is_some_and(|(stem, extension)| {
            ["jpg", "png", "webp"].contains(&extension)
                && !stem.is_empty()
                && !stem.starts_with('-')
                && stem
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        });
        if valid {
            Ok(Self(key))
        } else {
            Err(EditError::BadName(key))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn folder(&self) -> &str {
        self.0.split_once('/').map_or("", |(folder, _)| folder)
    }

    pub fn name(&self) -> &str {
        self.0.split_once('/').map_or("", |(_, name)| name)
    }
}

impl std::fmt::Display for FileKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A file as the editor opened it.
#[derive(Debug, Clone)]
pub struct Opened {
    pub text: String,
    /// Names these bytes; a save must name the version it replaces.
    pub version: String,
}

/// One file in the editor's list.
#[derive(Debug, Clone)]
pub struct Entry {
    pub key: FileKey,
    pub title: String,
    /// "published", "draft", "scheduled", "expired", "retired", or "not built"
    /// for a file the last good build did not have.
    pub status: &'static str,
    /// Where readers find it, when they can.
    pub url: Option<String>,
    pub modified: Option<SystemTime>,
    pub errors: usize,
    pub advice: usize,
}

/// Where a file stands with the site now.
#[derive(Debug, Clone, Default)]
pub struct FileState {
    /// Problems in this file that keep the site from being rebuilt.
    pub errors: Vec<Diagnostic>,
    /// Problems in other files that do, so her change is not live either.
    pub errors_elsewhere: usize,
    pub advice: Vec<Diagnostic>,
    /// The page readers see for it now (the last good build's).
    pub url: Option<String>,
}

impl FileState {
    /// The file at `path` in the latest build's outcome, and its page in
    /// the site now serving.
    fn of(path: &Path, status: &BuildStatus, site: &Site) -> Self {
        let errors = (status.problems.iter())
            .flat_map(|problems| problems.iter())
            .filter(|p| p.is_error());
        let (mine, elsewhere): (Vec<&Diagnostic>, Vec<&Diagnostic>) =
            errors.partition(|p| p.path == path);
        Self {
            errors: mine.into_iter().cloned().collect(),
            errors_elsewhere: elsewhere.len(),
            advice: (status.warnings.iter())
                .filter(|p| p.path == path)
                .cloned()
                .collect(),
            url: (site.documents().document(path))
                .filter(|d| d.is_published() && !d.is_gone())
                .map(|d| d.url.clone()),
        }
    }

    pub fn is_live(&self) -> bool {
        self.errors.is_empty() && self.errors_elsewhere == 0
    }
}

pub struct Editor {
    reloader: Arc<Reloader>,
    /// Where versions go while the server does not publish by push (a git
    /// work tree or the history folder), found once.
    local: History,
    /// One change at a time, so two tabs cannot both pass the version check.
    saving: Mutex<()>,
}

impl Editor {
    pub fn new(reloader: Arc<Reloader>) -> Self {
        let local = History::local(&reloader.sources().content);
        Self {
            reloader,
            local,
            saving: Mutex::new(()),
        }
    }

    fn content(&self) -> &Path {
        &self.reloader.sources().content
    }

    fn path(&self, key: &FileKey) -> PathBuf {
        self.content().join(key.folder()).join(key.name())
    }

    /// Where versions go. Whether the server publishes by push is looked
    /// at anew each time: it can be set up while the server runs.
    pub fn history(&self) -> History {
        History::published(self.content()).unwrap_or_else(|| self.local.clone())
    }

    /// Runs `work` as the one change at a time, holding the publishing lock
    /// (so a push and a change never interleave), then rebuilds: the page
    /// she is sent back to already tells whether the change is live. The
    /// rebuild comes after the lock is let go, as it waits for it.
    fn change<T>(
        &self,
        work: impl FnOnce(&History) -> Result<T, EditError>,
    ) -> Result<T, EditError> {
        let done = {
            let _one_at_a_time = self.saving.lock().unwrap_or_else(|e| e.into_inner());
            let history = self.history();
            let _no_publish_meanwhile = history.hold()?;
            work(&history)?
        };
        let _ = self.reloader.rebuild();
        Ok(done)
    }

    /// Every page and article on disk, pages first, each folder by name.
    pub fn list(&self) -> Vec<Entry> {
        let site = self.reloader.site().current();
        let status = self.reloader.status().borrow().clone();
        let mut entries = Vec::new();
        for folder in FOLDERS.iter().rev() {
            let Ok(files) = std::fs::read_dir(self.content().join(folder)) else {
                continue;
            };
            let mut names: Vec<String> = files
                .filter_map(Result::ok)
                .filter(|entry| entry.file_type().is_ok_and(|t| t.is_file()))
                .filter_map(|entry| entry.file_name().into_string().ok())
                .collect();
            names.sort();
            for name in names {
                let Ok(key) = FileKey::new(folder, &name) else {
                    continue;
                };
                let path = self.path(&key);
                let document = site.documents().document(&path);
                let standing = FileState::of(&path, &status, &site);
                entries.push(Entry {
                    title: document.map_or_else(|| name.clone(), |d| d.title.clone()),
                    status: document.map_or("not built", |d| status_label(d.status)),
                    url: standing.url,
                    modified: std::fs::metadata(&path).and_then(|m| m.modified()).ok(),
                    errors: standing.errors.len(),
                    advice: standing.advice.len(),
                    key,
                });
            }
        }
        entries
    }

    /// The file's text and version.
    pub fn open(&self, key: &FileKey) -> Result<Opened, EditError> {
        let bytes = self
            .read(key)?
            .ok_or_else(|| EditError::NotFound(key.to_string()))?;
        let version = version_of(Some(&bytes));
        let text = String::from_utf8(bytes).map_err(|_| EditError::NotText(key.to_string()))?;
        Ok(Opened { text, version })
    }

    /// The file's bytes, `None` if there is none. A link is never followed:
    /// the editor writes only files that are really in `content/`.
    fn read(&self, key: &FileKey) -> Result<Option<Vec<u8>>, EditError> {
        let path = self.path(key);
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if !meta.is_file() => Err(EditError::BadName(key.to_string())),
            Ok(_) => std::fs::read(&path)
                .map(Some)
                .map_err(|err| EditError::io("read", key, err)),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(EditError::io("read", key, err)),
        }
    }

    /// Saves `text` over the version named `base`, keeps the version it
    /// replaces and the new one, and rebuilds the site. Returns the new
    /// version. Blocking: run it off the async threads.
    pub fn save(
        &self,
        key: &FileKey,
        text: &str,
        base: &str,
        note: &str,
    ) -> Result<String, EditError> {
        if text.len() > MAX_TEXT {
            return Err(EditError::TooLarge);
        }
        self.change(|history| {
            // A save replaces a file; new ones start as `start_article` makes them.
            let current = (self.read(key)?).ok_or_else(|| EditError::NotFound(key.to_string()))?;
            let text = with_line_endings_of(text, Some(&current));
            self.write_version(history, key, Some(current), text.as_bytes(), base, note)
        })
    }

    /// Makes an earlier version the newest, as a save of its exact bytes.
    pub fn restore(&self, key: &FileKey, id: &str) -> Result<String, EditError> {
        self.change(|history| {
            let bytes = (history.version(key, id)?)
                .ok_or_else(|| EditError::NotFound(format!("version {id} of {key}")))?;
            let current = self.read(key)?;
            let base = version_of(current.as_deref());
            let note = format!("Restore an earlier version of {key} in the browser editor");
            self.write_version(history, key, current, &bytes, &base, &note)
        })
    }

    /// A refusal in her terms: files named as the editor names them
    /// (`blog/x.md`), not by where the server keeps them.
    fn refused(&self, why: String) -> EditError {
        let folder = format!(
            "{}/",
            self.content().display().to_string().trim_end_matches('/')
        );
        EditError::Refused(why.replace(&folder, ""))
    }

    /// The save itself, under the locks: the version check, the history and
    /// the write.
    fn write_version(
        &self,
        history: &History,
        key: &FileKey,
        current: Option<Vec<u8>>,
        bytes: &[u8],
        base: &str,
        note: &str,
    ) -> Result<String, EditError> {
        let version = version_of(current.as_deref());
        if version != base {
            let theirs = current.map(|bytes| String::from_utf8_lossy(&bytes).into_owned());
            return Err(EditError::Conflict {
                key: key.to_string(),
                theirs: theirs.unwrap_or_default(),
                version,
            });
        }
        if current.as_deref() == Some(bytes) {
            return Ok(version);
        }
        self.put(history, key, current.as_deref(), Some(bytes), note)?;
        tracing::info!(file = %key, "editor: saved");
        Ok(version_of(Some(bytes)))
    }

    /// Puts `bytes` at `key` (with none, removes the file), under the
    /// locks, keeping `current` (the file as it is) and recording the change
    /// in the history. Recorded first where the record does not read the
    /// file: a change the history could not take is then not made either,
    /// so a push can never undo a browser edit that nothing recorded. A work
    /// tree commits what is on disk, so there the file changes first (and a
    /// failed commit leaves it as her uncommitted change).
    fn put(
        &self,
        history: &History,
        key: &FileKey,
        current: Option<&[u8]>,
        bytes: Option<&[u8]>,
        note: &str,
    ) -> Result<(), EditError> {
        history.keep_before(key, current)?;
        let path = self.path(key);
        let change = || match bytes {
            Some(bytes) => write_whole(&path, bytes).map_err(|err| EditError::io("save", key, err)),
            None => std::fs::remove_file(&path).map_err(|err| EditError::io("remove", key, err)),
        };
        let record = || match bytes {
            Some(bytes) => history.keep_saved(key, bytes, note),
            None => history.keep_removed(key, note),
        };
        if history.commits_from_disk() {
            change()?;
            record()
        } else {
            record()?;
            change()
        }
    }

    /// Starts an article as `practice-site new` does, and keeps it.
    pub fn start_article(&self, title: &str) -> Result<FileKey, EditError> {
        let config = self.reloader.site().current().config().cloned();
        let today = config.map_or_else(
            || chrono::Utc::now().date_naive(),
            |config| config.today(chrono::Utc::now()),
        );
        self.change(|history| {
            let path = content::start_article(self.content(), title, today)
                .map_err(|why| self.refused(why))?;
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            let key = FileKey::new("blog", &name)?;
            tracing::info!(file = %key, "editor: article started");
            let text = std::fs::read(&path).map_err(|err| EditError::io("read", &key, err))?;
            let note = format!("Start {key} in the browser editor");
            history.keep_saved(&key, &text, &note)?;
            Ok(key)
        })
    }

    /// Gives an article a new address: its `slug:` is set to `slug`, and
    /// its old address joins its `aliases:`, so every link to it leads to
    /// the new one (a published address is never dropped). The file keeps
    /// its name, so the other files' links to it (by file name) still hold.
    /// Refused, with what to do, when the new address is taken or not an
    /// address.
    pub fn change_address(&self, key: &FileKey, slug: &str, base: &str) -> Result<(), EditError> {
        if key.folder() != "blog" {
            return Err(EditError::Refused(
                "only an article's address is changed here: a page's is part of the site's menus and settings".into(),
            ));
        }
        front_matter::check_slug(slug).map_err(EditError::Refused)?;
        let new_url = format!("/blog/{slug}");
        self.change(|history| {
            let current = (self.read(key)?).ok_or_else(|| EditError::NotFound(key.to_string()))?;
            let path = self.path(key);
            let text = String::from_utf8(current.clone())
                .map_err(|_| EditError::NotText(key.to_string()))?;
            let front = front_matter::split(&path, &text)
                .and_then(|split| front_matter::parse(&path, &split).map(|(front, ..)| front))
                .map_err(|problem| {
                    EditError::Refused(format!(
                        "fix its front matter first (line {}: {})",
                        problem.line, problem.message
                    ))
                })?;
            let stem = key.name().trim_end_matches(".md");
            let old_url = format!("/blog/{}", front.slug.as_deref().unwrap_or(stem));
            if old_url == new_url {
                return Err(EditError::Refused("that is already its address".into()));
            }
            if let Some(holder) = content::address_holder(self.content(), &new_url) {
                return Err(self.refused(format!("the address {new_url} is taken: {holder}")));
            }
            // The result is read back as the build will read it: the slug
            // must be the new one and the old address among the aliases,
            // or nothing is written.
            let reads_back = |changed: &String| {
                front_matter::split(&path, changed)
                    .and_then(|split| front_matter::parse(&path, &split))
                    .is_ok_and(|(front, ..)| {
                        front.slug.as_deref() == Some(slug) && front.aliases.contains(&old_url)
                    })
            };
            let changed = front_matter::with_slug(&text, slug)
                .and_then(|text| front_matter::with_alias(&text, &old_url))
                .filter(reads_back)
                .ok_or_else(|| {
                    EditError::Refused(format!(
                        "its `aliases:` list is written in a way the editor cannot add to; set `slug: {slug}` and add {old_url} to `aliases:` yourself"
                    ))
                })?;
            let note = format!("Move {key} from {old_url} to {new_url} in the browser editor");
            let written = changed.as_bytes();
            self.write_version(history, key, Some(current), written, base, &note)
                .map(drop)
        })
    }

    /// Takes an uploaded photo: checks and cleans it ([`upload::clean`]),
    /// makes its variants, and writes it into `content/images/` under its
    /// tidied name (a number added when another photo has it; the same
    /// photo again is not written twice), kept in the history like a save.
    /// Returns the Markdown that shows it. Her portrait is written as
    /// `portrait.jpg` over the one before, which the history keeps.
    pub fn add_image(
        &self,
        given_name: &str,
        bytes: &[u8],
        alt: &str,
        portrait: bool,
    ) -> Result<AddedImage, EditError> {
        let alt = alt.split_whitespace().collect::<Vec<_>>().join(" ");
        if alt.is_empty() && !portrait {
            return Err(upload::Refusal::NoAlt.into());
        }
        // Checked before the photo is read: a name naming a folder is refused.
        upload::file_name(given_name, images::Format::Jpeg)?;
        let cleaned = if portrait {
            upload::clean_as(bytes, Some(images::Format::Jpeg))?
        } else {
            upload::clean(bytes)?
        };
        let name = upload::file_name(given_name, cleaned.format)?;
        let folder = self.content().join(images::FOLDER);
        if images::is_link(&folder) {
            return Err(self.refused(
                "content/images/ is a link to another place; the editor writes only into a real folder".into(),
            ));
        }
        // Made before the file is written, outside the locks (it is the
        // slow part): the rebuild the write starts finds them made.
        let picture = images::Picture::of_bytes(&folder.join(&name), &name, &cleaned.bytes)
            .map_err(EditError::Refused)?;
        images::variants::warm(&picture, &cleaned.bytes).map_err(EditError::Refused)?;
        let stem = match name.rsplit_once('.').map_or(&*name, |(stem, _)| stem) {
            _ if portrait => "portrait".to_string(),
            // Only the portrait form makes her portrait.
            "portrait" => "portrait-photo".to_string(),
            stem => stem.to_string(),
        };
        let extension = cleaned.format.extension();
        self.change(|history| {
            std::fs::create_dir_all(&folder)
                .map_err(|err| EditError::Refused(format!("cannot make content/images/: {err}")))?;
            let mut number = 1;
            let (key, current) = loop {
                let name = match number {
                    1 => format!("{stem}.{extension}"),
                    n => format!("{stem}-{n}.{extension}"),
                };
                let key = FileKey::image(&name)?;
                let current = self.read(&key)?;
                match current {
                    Some(ref there) if !portrait && there != &cleaned.bytes => number += 1,
                    _ => break (key, current),
                }
            };
            if current.as_deref() != Some(&cleaned.bytes[..]) {
                let note = format!("Add the photo {key} in the browser editor");
                self.put(
                    history,
                    &key,
                    current.as_deref(),
                    Some(&cleaned.bytes),
                    &note,
                )?;
                tracing::info!(file = %key, "editor: photo added");
            }
            let name = key.name().to_string();
            Ok(AddedImage {
                markdown: format!("![{}]({}{name})", markdown_text(&alt), images::URL_PREFIX),
                name,
                width: cleaned.width,
                height: cleaned.height,
            })
        })
    }

    /// Removes a photo from `content/images/`, its last version kept in the
    /// history. Refused while a file names it (a draft too): the site would
    /// stop building and readers would keep the last good site, photo and
    /// all; the refusal names the files to take its line out of.
    pub fn remove_image(&self, name: &str) -> Result<(), EditError> {
        let key = FileKey::image(name)?;
        let address = format!("images/{name}");
        let showing: Vec<String> = (self.list().into_iter())
            .filter(|entry| {
                std::fs::read_to_string(self.path(&entry.key))
                    .is_ok_and(|text| text.contains(&address))
            })
            .map(|entry| entry.key.to_string())
            .collect();
        if !showing.is_empty() {
            return Err(EditError::Refused(format!(
                "{} shows it: take out its line (/{address}) there first, and save",
                showing.join(" and ")
            )));
        }
        self.change(|history| {
            let current = (self.read(&key)?).ok_or_else(|| EditError::NotFound(key.to_string()))?;
            let note = format!("Remove the photo {key} in the browser editor");
            self.put(history, &key, Some(&current), None, &note)?;
            tracing::info!(file = %key, "editor: photo removed");
            Ok(())
        })
    }

    /// The photos of `content/images/` as they are now (reading again only
    /// those changed since the live site's build).
    pub fn pictures(&self) -> images::Catalog {
        let site = self.reloader.site().current();
        images::Catalog::load(self.content(), site.documents().pictures()).0
    }

    /// Where the file stands with the site's latest build.
    pub fn state(&self, key: &FileKey) -> FileState {
        let status = self.reloader.status().borrow().clone();
        FileState::of(&self.path(key), &status, &self.reloader.site().current())
    }

    /// The page `text` would make, built with every other file as it is.
    pub fn preview(&self, key: &FileKey, text: &str) -> Result<Preview, EditError> {
        if text.len() > MAX_TEXT {
            return Err(EditError::TooLarge);
        }
        preview::build(self.reloader.sources(), key, text)
    }

    pub fn versions(&self, key: &FileKey) -> Result<Vec<Version>, EditError> {
        self.history().versions(key)
    }

    /// One kept version's text.
    pub fn version_text(&self, key: &FileKey, id: &str) -> Result<String, EditError> {
        let bytes = (self.history().version(key, id)?)
            .ok_or_else(|| EditError::NotFound(format!("version {id} of {key}")))?;
        String::from_utf8(bytes).map_err(|_| EditError::NotText(key.to_string()))
    }
}

fn status_label(status: Status) -> &'static str {
    match status {
        Status::Published => "published",
        Status::Draft => "draft",
        Status::Scheduled(_) => "scheduled",
        Status::Expired => "expired",
        Status::Retired => "retired",
    }
}

/// A photo the editor took.
#[derive(Debug, Clone)]
pub struct AddedImage {
    /// Its file name in `content/images/`.
    pub name: String,
    /// `![her description](/images/name.jpg)`, to put in the text.
    pub markdown: String,
    pub width: u32,
    pub height: u32,
}

/// Text that reads as itself between Markdown's brackets.
fn markdown_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '[' | ']' | '\\' | '*' | '_' | '`' | '<') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Names a file's bytes (or its absence) for the conflict check.
pub fn version_of(bytes: Option<&[u8]>) -> String {
    match bytes {
        Some(bytes) => blake3::hash(bytes).to_hex()[..32].to_string(),
        None => "none".to_string(),
    }
}

/// A browser sends a textarea's lines ended with CRLF whatever the file
/// had; the file's own endings are put back: those of its first line (LF
/// for a new file, or one without a line break).
fn with_line_endings_of(text: &str, current: Option<&[u8]>) -> String {
    let unix = text.replace("\r\n", "\n");
    let crlf = current
        .and_then(|bytes| memchr::memchr(b'\n', bytes).map(|at| at > 0 && bytes[at - 1] == b'\r'))
        .unwrap_or(false);
    if crlf {
        unix.replace('\n', "\r\n")
    } else {
        unix
    }
}

/// Writes a file whole: a temporary file in the same folder, flushed to
/// disk, then renamed over the old one, keeping its permissions.
pub(crate) fn write_whole(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let folder = path.parent().unwrap_or(Path::new("."));
    let mut file = tempfile::Builder::new()
        .prefix(".editing-")
        .tempfile_in(folder)?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    let permissions = match std::fs::metadata(path) {
        Ok(meta) => meta.permissions(),
        Err(_) => {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::Permissions::from_mode(0o644)
        }
    };
    file.as_file().set_permissions(permissions)?;
    file.persist(path).map_err(|err| err.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_her_markdown_files_can_be_named() {
        assert!(FileKey::new("blog", "kap-guide.md").is_ok());
        assert!(FileKey::new("pages", "about.md").is_ok());
        for (folder, name) in [
            ("blog", "../site.toml"),
            ("blog", "..md"),
            ("blog", ".hidden.md"),
            ("blog", "x.txt"),
            ("blog", "a/b.md"),
            ("static", "x.md"),
            ("..", "x.md"),
            ("blog", ".md"),
            ("blog", "-x.md"),
        ] {
            assert!(FileKey::new(folder, name).is_err(), "{folder}/{name}");
        }
    }

    #[test]
    fn a_browsers_line_endings_become_the_files_own() {
        let typed = "---\r\ntitle: x\r\n---\r\n\r\nText\r\n";
        assert_eq!(
            with_line_endings_of(typed, Some(b"---\ntitle: y\n")),
            "---\ntitle: x\n---\n\nText\n"
        );
        assert_eq!(
            with_line_endings_of(typed, Some(b"---\r\ntitle: y\r\n")),
            typed
        );
        assert_eq!(with_line_endings_of("a\r\nb", None), "a\nb");
        // One stray CRLF in an LF file does not turn every line into CRLF.
        assert_eq!(
            with_line_endings_of("a\r\nb\r\n", Some(b"x\ny\r\nz\n")),
            "a\nb\n"
        );
    }
}
