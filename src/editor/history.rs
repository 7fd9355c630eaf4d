//! Every version the editor replaces is kept. When `content/` is in a git
//! work tree, each save is a commit of that one file (her other changes,
//! staged or not, are left alone); otherwise each version is a file under
//! `.content-history/` beside `content/`, which a publish by push (it swaps
//! the `content/` folder) does not touch.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use super::{EditError, FileKey};

/// Where versions are kept.
#[derive(Debug, Clone)]
pub enum History {
    /// `content/` is in this git work tree; `content` is its path inside it.
    Git { root: PathBuf, content: PathBuf },
    /// A folder of copies, one per version.
    Folder(PathBuf),
}

/// One kept version of a file, newest first in a listing.
#[derive(Debug, Clone)]
pub struct Version {
    /// A commit, or a file name in the history folder.
    pub id: String,
    /// Seconds since 1970.
    pub at: i64,
    pub note: String,
}

impl History {
    /// Git when `content` is inside a work tree (and git runs), else a folder
    /// beside `content`.
    pub fn for_content(content: &Path) -> Self {
        let git_root = git_in(content, &["rev-parse", "--show-toplevel"])
            .ok()
            .map(|out| PathBuf::from(out.trim()));
        let absolute = std::path::absolute(content).unwrap_or_else(|_| content.to_path_buf());
        if let Some(root) = git_root
            && let Ok(canonical) = absolute.canonicalize()
            && let Ok(root) = root.canonicalize()
            && let Ok(inside) = canonical.strip_prefix(&root)
        {
            return Self::Git {
                content: inside.to_path_buf(),
                root,
            };
        }
        let beside = absolute.parent().unwrap_or(Path::new(".")).to_path_buf();
        Self::Folder(beside.join(".content-history"))
    }

    pub fn is_git(&self) -> bool {
        matches!(self, Self::Git { .. })
    }

    /// Keeps `current` (the file as it is on disk before a save) if it is
    /// not kept yet: a change made outside the editor is never lost.
    pub fn keep_before(&self, key: &FileKey, current: Option<&[u8]>) -> Result<(), EditError> {
        match self {
            Self::Git { root, content } => {
                let path = content.join(key.as_str());
                let status = git_in(root, &["status", "--porcelain", "--", &path_arg(&path)])?;
                if current.is_some() && !status.trim().is_empty() {
                    commit(
                        root,
                        &path,
                        &format!("Keep {key} as it was changed outside the editor"),
                    )?;
                }
                Ok(())
            }
            Self::Folder(_) => match current {
                Some(bytes) if self.latest_folder_copy(key)?.as_deref() != Some(bytes) => {
                    self.copy(key, bytes)
                }
                _ => Ok(()),
            },
        }
    }

    /// Records the version just written.
    pub fn keep_saved(&self, key: &FileKey, saved: &[u8], note: &str) -> Result<(), EditError> {
        match self {
            Self::Git { root, content } => commit(root, &content.join(key.as_str()), note),
            Self::Folder(_) => self.copy(key, saved),
        }
    }

    /// The file's versions, newest first.
    pub fn versions(&self, key: &FileKey) -> Result<Vec<Version>, EditError> {
        match self {
            Self::Git { root, content } => {
                let path = content.join(key.as_str());
                let log = git_in(
                    root,
                    &["log", "--format=%H%x09%at%x09%s", "--", &path_arg(&path)],
                )?;
                Ok(log
                    .lines()
                    .filter_map(|line| {
                        let mut parts = line.splitn(3, '\t');
                        Some(Version {
                            id: parts.next()?.to_string(),
                            at: parts.next()?.parse().ok()?,
                            note: parts.next().unwrap_or_default().to_string(),
                        })
                    })
                    .collect())
            }
            Self::Folder(folder) => {
                let dir = folder.join(key.as_str());
                let mut versions: Vec<Version> = match std::fs::read_dir(&dir) {
                    Ok(entries) => entries
                        .filter_map(Result::ok)
                        .filter_map(|entry| {
                            let id = entry.file_name().into_string().ok()?;
                            let nanos: i128 = id.split('-').next()?.parse().ok()?;
                            Some(Version {
                                at: (nanos / 1_000_000_000) as i64,
                                note: String::new(),
                                id,
                            })
                        })
                        .collect(),
                    Err(err) if err.kind() == std::io::ErrorKind::NotFound => Vec::new(),
                    Err(err) => return Err(EditError::io("read the history of", key, err)),
                };
                versions.sort_by(|a, b| b.id.cmp(&a.id));
                Ok(versions)
            }
        }
    }

    /// The text of one version, or `None` if there is no such version.
    pub fn version(&self, key: &FileKey, id: &str) -> Result<Option<Vec<u8>>, EditError> {
        // Ids are the ones `versions` gives: hex commits, or digits and a
        // hash; anything else (a path, an option) is no version.
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Ok(None);
        }
        if !self.versions(key)?.iter().any(|v| v.id == id) {
            return Ok(None);
        }
        match self {
            Self::Git { root, content } => {
                let spec = format!("{id}:{}", path_arg(&content.join(key.as_str())));
                let output = Command::new("git")
                    .current_dir(root)
                    .args(["show", &spec])
                    .output()
                    .map_err(|err| EditError::Git(err.to_string()))?;
                Ok(output.status.success().then_some(output.stdout))
            }
            Self::Folder(folder) => match std::fs::read(folder.join(key.as_str()).join(id)) {
                Ok(bytes) => Ok(Some(bytes)),
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(err) => Err(EditError::io("read the history of", key, err)),
            },
        }
    }

    fn latest_folder_copy(&self, key: &FileKey) -> Result<Option<Vec<u8>>, EditError> {
        match self.versions(key)?.first() {
            Some(latest) => self.version(key, &latest.id),
            None => Ok(None),
        }
    }

    fn copy(&self, key: &FileKey, bytes: &[u8]) -> Result<(), EditError> {
        let Self::Folder(folder) = self else {
            return Ok(());
        };
        let dir = folder.join(key.as_str());
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let hash = blake3::hash(bytes).to_hex();
        let name = format!("{nanos:020}-{}", &hash[..12]);
        std::fs::create_dir_all(&dir)
            .and_then(|()| super::write_whole(&dir.join(name), bytes))
            .map_err(|err| EditError::io("keep a version of", key, err))
    }
}

/// A path as git takes it: `/`-separated, relative to the work tree.
fn path_arg(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// Commits one file as it is on disk, and nothing else.
fn commit(root: &Path, path: &Path, message: &str) -> Result<(), EditError> {
    let path = path_arg(path);
    git_in(root, &["add", "--", &path])?;
    let staged = git_in(root, &["diff", "--cached", "--name-only", "--", &path])?;
    if staged.trim().is_empty() {
        return Ok(());
    }
    // Her own name when git knows it; the editor's otherwise, so a save
    // never fails for want of a git identity.
    let mut args = Vec::new();
    if git_in(root, &["config", "user.email"]).is_err() {
        args.extend([
            "-c",
            "user.name=Site editor",
            "-c",
            "user.email=editor@localhost",
        ]);
    }
    args.extend(["commit", "--quiet", "--only", "-m", message, "--", &path]);
    git_in(root, &args).map(drop)
}

fn git_in(dir: &Path, args: &[&str]) -> Result<String, EditError> {
    let output = Command::new("git")
        .current_dir(dir)
        .args(args)
        .output()
        .map_err(|err| EditError::Git(format!("cannot run git: {err}")))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(EditError::Git(format!(
            "git {} failed: {}",
            args.first().copied().unwrap_or_default(),
            String::from_utf8_lossy(&output.stderr).trim()
        )))
    }
}
