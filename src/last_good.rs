//! The sources of the last good build, kept on disk beside the database, so
//! a restart (a reboot, an update, a crash) that meets a typo still serves
//! the site: the server starts on this copy, logs every problem and reports
//! itself degraded until the files are fixed. Only a first install, with no
//! copy yet, may refuse to start.
//!
//! A copy of the sources rather than of the rendered pages: it is small (a
//! few files of text), the build from it is the same code as any build, and
//! a new binary renders it with its own templates.
//!
//! Saving is a copy into a fresh folder and two renames, so a crash at any
//! moment leaves a complete copy: the new one, or the old one under its
//! `.last-good-old` name, which [`LastGood::sources`] also looks at.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::site::Sources;

/// Where the last good sources are kept: `practice.db` → `practice.last-good/`.
#[derive(Debug, Clone)]
pub struct LastGood {
    dir: PathBuf,
}

impl LastGood {
    pub fn beside(database: &Path) -> Self {
        let name = database
            .file_stem()
            .map_or("practice".into(), |s| s.to_string_lossy());
        Self {
            dir: database.with_file_name(format!("{name}.last-good")),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Copies `sources` (content, settings, static files) as the new last
    /// good copy.
    pub fn save(&self, sources: &Sources) -> io::Result<()> {
        let next = self.dir.with_extension("last-good-next");
        let old = self.dir.with_extension("last-good-old");
        remove_if_there(&next)?;
        let copy = layout(&next, sources);
        copy_folder(&sources.content, &copy.content)?;
        if !sources.config.starts_with(&sources.content) {
            fs::copy(&sources.config, &copy.config)?;
        }
        copy_folder(&sources.static_dir, &copy.static_dir)?;
        remove_if_there(&old)?;
        if self.dir.exists() {
            fs::rename(&self.dir, &old)?;
        }
        fs::rename(&next, &self.dir)?;
        remove_if_there(&old)
    }

    /// The saved copy's sources, if there is one.
    pub fn sources(&self, live: &Sources) -> Option<Sources> {
        [self.dir.clone(), self.dir.with_extension("last-good-old")]
            .into_iter()
            .map(|dir| layout(&dir, live))
            .find(|copy| copy.config.is_file() && copy.content.is_dir())
    }
}

/// Where each source goes in a copy at `dir`. Settings inside the content
/// folder (the default, `content/site.toml`) travel with it.
fn layout(dir: &Path, live: &Sources) -> Sources {
    let mut copy = live.with_content_at(dir.join("content"));
    if !live.config.starts_with(&live.content) {
        copy.config = dir.join(live.config.file_name().unwrap_or("site.toml".as_ref()));
    }
    copy.static_dir = dir.join("static");
    copy
}

fn remove_if_there(dir: &Path) -> io::Result<()> {
    match fs::remove_dir_all(dir) {
        Err(err) if err.kind() != io::ErrorKind::NotFound => Err(err),
        _ => Ok(()),
    }
}

/// Copies the regular files and folders under `from` (symlinks are not
/// sources: the build refuses them too).
fn copy_folder(from: &Path, to: &Path) -> io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            copy_folder(&entry.path(), &target)?;
        } else if kind.is_file() {
            fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    #[test]
    fn a_saved_copy_replaces_the_last_and_a_half_finished_save_keeps_one() {
        let root = tempfile::tempdir().unwrap();
        let live = Sources {
            config: root.path().join("content/site.toml"),
            content: root.path().join("content"),
            static_dir: root.path().join("static"),
        };
        write(&live.config, "one");
        write(&live.content.join("blog/a.md"), "a");
        write(&live.static_dir.join("css/site.css"), "css");
        let kept = LastGood::beside(&root.path().join("data/practice.db"));
        assert_eq!(kept.dir(), root.path().join("data/practice.last-good"));
        assert!(kept.sources(&live).is_none(), "nothing saved yet");

        fs::create_dir_all(root.path().join("data")).unwrap();
        kept.save(&live).unwrap();
        let copy = kept.sources(&live).unwrap();
        assert_eq!(fs::read_to_string(&copy.config).unwrap(), "one");
        assert_eq!(
            fs::read_to_string(copy.content.join("blog/a.md")).unwrap(),
            "a"
        );
        assert_eq!(
            fs::read_to_string(copy.static_dir.join("css/site.css")).unwrap(),
            "css"
        );

        write(&live.config, "two");
        fs::remove_file(live.content.join("blog/a.md")).unwrap();
        kept.save(&live).unwrap();
        let copy = kept.sources(&live).unwrap();
        assert_eq!(fs::read_to_string(&copy.config).unwrap(), "two");
        assert!(
            !copy.content.join("blog/a.md").exists(),
            "a copy, not a merge"
        );

        // A crash between the two renames: the old copy is still found.
        fs::rename(kept.dir(), kept.dir().with_extension("last-good-old")).unwrap();
        let copy = kept.sources(&live).unwrap();
        assert_eq!(fs::read_to_string(&copy.config).unwrap(), "two");
    }
}
