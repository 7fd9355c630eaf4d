//! Every version the editor replaces is kept, in one of three places:
//!
//! - **The publishing repository**, when the server publishes by push
//!   (`publish.rs`): each save is a commit on its `main`, recorded as the
//!   commit published last, so her laptop's next push, made from an older
//!   commit, is refused until she pulls the browser's changes. A push can
//!   therefore never silently undo an edit made in the browser.
//! - **The git work tree** `content/` is in (a site folder she cloned): each
//!   save is a commit of that one file; her other changes, staged or not,
//!   are left alone.
//! - Otherwise **a folder** `.content-history/` beside `content/`, one copy
//!   per version.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::{EditError, FileKey};
use crate::publish;

/// Where versions are kept.
#[derive(Debug, Clone)]
pub enum History {
    /// The bare repository pushes publish from, and the folder beside
    /// `content/` that holds its records and lock.
    Published { repo: PathBuf, folder: PathBuf },
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
    /// The publishing repository, when the server publishes by push
    /// (`publish-setup` leaves its path beside `content/`).
    pub fn published(content: &Path) -> Option<Self> {
        let folder = beside(content);
        let repo = std::fs::read_to_string(folder.join(publish::REPOSITORY_FILE)).ok()?;
        let repo = PathBuf::from(repo.trim());
        repo.join("HEAD")
            .is_file()
            .then_some(Self::Published { repo, folder })
    }

    /// Where versions go otherwise: the git work tree `content/` is in, or
    /// the history folder beside it.
    pub fn local(content: &Path) -> Self {
        let work_tree = run(&Git::At(content), &["rev-parse", "--show-toplevel"], None)
            .ok()
            .map(|out| PathBuf::from(out.trim()));
        if let Some(root) = work_tree
            && let Ok(canonical) = content.canonicalize()
            && let Ok(root) = root.canonicalize()
            && let Ok(inside) = canonical.strip_prefix(&root)
        {
            return Self::Git {
                content: inside.to_path_buf(),
                root,
            };
        }
        Self::Folder(beside(content).join(".content-history"))
    }

    /// Whether a save is recorded from the file on disk (a work tree's
    /// commit), so the file must be written before it is recorded.
    pub fn commits_from_disk(&self) -> bool {
        matches!(self, Self::Git { .. })
    }

    /// Versions are commits (of either kind).
    pub fn is_git(&self) -> bool {
        !matches!(self, Self::Folder(_))
    }

    /// Takes the lock a publish holds, when there is one, until the file
    /// returned is dropped: a change holds it from its version check to its
    /// commit, so a push and a change never interleave.
    pub fn hold(&self) -> Result<Option<std::fs::File>, EditError> {
        let Self::Published { folder, .. } = self else {
            return Ok(None);
        };
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(publish::lock_path(folder))
            .and_then(|lock| lock.lock().map(|()| lock))
            .map_err(|err| EditError::Git(format!("cannot take the publishing lock: {err}")))?;
        Ok(Some(lock))
    }

    /// Keeps `current` (the file as it is on disk before a save) if it is
    /// not kept yet: a change made outside the editor is never lost.
    pub fn keep_before(&self, key: &FileKey, current: Option<&[u8]>) -> Result<(), EditError> {
        let Some(current) = current else {
            return Ok(());
        };
        let note = format!("Keep {key} as it was changed outside the editor");
        match self {
            Self::Published { repo, folder } => {
                let committed = published_commit(folder)
                    .and_then(|commit| show(&Git::Bare(repo), &commit, &repo_path(key)));
                if committed.as_deref() != Some(current) {
                    commit_published(repo, folder, key, Some(current), &note)?;
                }
                Ok(())
            }
            Self::Git { root, content } => {
                let path = path_arg(&content.join(key.as_str()));
                let status = run(
                    &Git::At(root),
                    &["status", "--porcelain", "--", &path],
                    None,
                )?;
                if !status.trim().is_empty() {
                    commit_file(root, &path, &note)?;
                }
                Ok(())
            }
            Self::Folder(folder) => {
                let latest = match self.versions(key)?.first() {
                    Some(latest) => read_kept(folder, key, &latest.id)?,
                    None => None,
                };
                if latest.as_deref() != Some(current) {
                    copy(folder, key, current)?;
                }
                Ok(())
            }
        }
    }

    /// Records the version just written.
    pub fn keep_saved(&self, key: &FileKey, saved: &[u8], note: &str) -> Result<(), EditError> {
        match self {
            Self::Published { repo, folder } => {
                commit_published(repo, folder, key, Some(saved), note)
            }
            Self::Git { root, content } => {
                commit_file(root, &path_arg(&content.join(key.as_str())), note)
            }
            Self::Folder(folder) => copy(folder, key, saved),
        }
    }

    /// Records that the file was removed (its last version is kept by
    /// [`History::keep_before`]; a history folder has nothing more to note).
    pub fn keep_removed(&self, key: &FileKey, note: &str) -> Result<(), EditError> {
        match self {
            Self::Published { repo, folder } => commit_published(repo, folder, key, None, note),
            Self::Git { root, content } => {
                commit_file(root, &path_arg(&content.join(key.as_str())), note)
            }
            Self::Folder(_) => Ok(()),
        }
    }

    /// The file's versions, newest first.
    pub fn versions(&self, key: &FileKey) -> Result<Vec<Version>, EditError> {
        let log = |git: &Git, branch: &str, path: &str| -> Result<Vec<Version>, EditError> {
            let format = "--format=%H%x09%at%x09%s";
            let log = run(git, &["log", format, branch, "--", path], None)?;
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
        };
        match self {
            Self::Published { repo, folder } => match published_commit(folder) {
                Some(_) => {
                    let branch = format!("refs/heads/{}", publish::BRANCH);
                    log(&Git::Bare(repo), &branch, &repo_path(key))
                }
                None => Ok(Vec::new()),
            },
            Self::Git { root, content } => log(
                &Git::At(root),
                "HEAD",
                &path_arg(&content.join(key.as_str())),
            ),
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
        // Ids have the shape `versions` gives them, checked without asking
        // git or the disk: a commit is hex (never an option or a path), a
        // kept copy is digits, `-` and hex (never `..`).
        let hex = |part: &str| !part.is_empty() && part.chars().all(|c| c.is_ascii_hexdigit());
        Ok(match self {
            Self::Published { .. } | Self::Git { .. } if !hex(id) => None,
            Self::Published { repo, .. } => show(&Git::Bare(repo), id, &repo_path(key)),
            Self::Git { root, content } => {
                show(&Git::At(root), id, &path_arg(&content.join(key.as_str())))
            }
            Self::Folder(folder) => match id.split_once('-') {
                Some((nanos, hash)) if nanos.chars().all(|c| c.is_ascii_digit()) && hex(hash) => {
                    read_kept(folder, key, id)?
                }
                _ => None,
            },
        })
    }
}

/// The folder that holds `content/`, where publishing keeps its records.
fn beside(content: &Path) -> PathBuf {
    let absolute = std::path::absolute(content).unwrap_or_else(|_| content.to_path_buf());
    absolute.parent().unwrap_or(Path::new("/")).to_path_buf()
}

/// One copy in the history folder, `None` if there is no such copy.
fn read_kept(folder: &Path, key: &FileKey, id: &str) -> Result<Option<Vec<u8>>, EditError> {
    match std::fs::read(folder.join(key.as_str()).join(id)) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(EditError::io("read the history of", key, err)),
    }
}

/// Keeps `bytes` as the newest copy in the history folder.
fn copy(folder: &Path, key: &FileKey, bytes: &[u8]) -> Result<(), EditError> {
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

/// How git is run: in a work tree, or on a bare repository.
enum Git<'a> {
    At(&'a Path),
    Bare(&'a Path),
}

/// The file's path inside the pushed site folder.
fn repo_path(key: &FileKey) -> String {
    format!("content/{key}")
}

/// A path as git takes it: `/`-separated, relative to the work tree.
fn path_arg(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// The commit published last (`publish.rs` keeps it beside `content/`).
fn published_commit(folder: &Path) -> Option<String> {
    let commit = std::fs::read_to_string(folder.join(publish::PUBLISHED_COMMIT)).ok()?;
    Some(commit.trim().to_string()).filter(|c| !c.is_empty())
}

/// A file's bytes in a commit, `None` if it has no such file.
fn show(git: &Git, commit: &str, path: &str) -> Option<Vec<u8>> {
    let output = command(git)
        .args(["show", &format!("{commit}:{path}")])
        .stderr(Stdio::null())
        .output()
        .ok()?;
    output.status.success().then_some(output.stdout)
}

/// The editor's name on its commits when git knows no one.
const EDITOR_NAME: &str = "Site editor";
const EDITOR_EMAIL: &str = "editor@localhost";

/// Commits one file of a work tree as it is on disk, and nothing else.
fn commit_file(root: &Path, path: &str, message: &str) -> Result<(), EditError> {
    let git = Git::At(root);
    run(&git, &["add", "--", path], None)?;
    if run(&git, &["diff", "--cached", "--name-only", "--", path], None)?
        .trim()
        .is_empty()
    {
        return Ok(());
    }
    let mut commit = command(&git);
    with_identity(&git, &mut commit);
    // Her own hooks and signing are for her commits, not the editor's.
    commit.args([
        "-c",
        "commit.gpgsign=false",
        "commit",
        "--quiet",
        "--no-verify",
    ]);
    commit.args(["--only", "-m", message, "--", path]);
    output(commit, None).map(drop)
}

/// Commits `bytes` as the file (or, with none, its removal) on top of the
/// commit published last, moves `main` there and records it as published:
/// what a push of that one change would have done. Runs under the
/// publishing lock ([`History::hold`]).
fn commit_published(
    repo: &Path,
    folder: &Path,
    key: &FileKey,
    bytes: Option<&[u8]>,
    message: &str,
) -> Result<(), EditError> {
    let git = Git::Bare(repo);
    // The first push replaces every file, so a save before it would be
    // undone by it without a word.
    let Some(parent) = published_commit(folder) else {
        return Err(EditError::Refused(
            "publishing by push is set up, but nothing has been pushed yet: push the site once from the laptop (README, \"Publishing from your laptop\"); the editor then saves each change as a commit the laptop can pull".into(),
        ));
    };
    // A scratch index: the repository is bare and has none of its own.
    let scratch = tempfile::tempdir().map_err(|err| EditError::Git(err.to_string()))?;
    let index = scratch.path().join("index");
    let with_index = |args: &[&str]| {
        let mut command = command(&git);
        command.env("GIT_INDEX_FILE", &index).args(args);
        output(command, None)
    };
    with_index(&["read-tree", &parent])?;
    match bytes {
        Some(bytes) => {
            let blob = run(&git, &["hash-object", "-w", "--stdin"], Some(bytes))?;
            let entry = format!("100644,{},{}", blob.trim(), repo_path(key));
            with_index(&["update-index", "--add", "--cacheinfo", &entry])?;
        }
        None => {
            // `--force-remove` needs a work tree; an entry of mode 0 and
            // the null id removes the path from the index (git-update-index(1)).
            let null_id = "0".repeat(parent.len());
            let entry = format!("0 {null_id}\t{}\n", repo_path(key));
            let mut remove = command(&git);
            remove
                .env("GIT_INDEX_FILE", &index)
                .args(["update-index", "--index-info"]);
            output(remove, Some(entry.as_bytes()))?;
        }
    }
    let tree = with_index(&["write-tree"])?;
    let parent_tree = run(&git, &["rev-parse", &format!("{parent}^{{tree}}")], None)?;
    if tree.trim() == parent_tree.trim() {
        return Ok(());
    }
    let mut commit = command(&git);
    with_identity(&git, &mut commit);
    commit.args(["commit-tree", tree.trim(), "-p", &parent, "-m", message]);
    let commit = output(commit, None)?.trim().to_string();
    // git moves `main` to a pushed commit just after the push's hook ends
    // and frees the lock this save holds; until it has, `main` is not yet
    // the commit published last, and the update waits for it.
    let branch = format!("refs/heads/{}", publish::BRANCH);
    let deadline = Instant::now() + Duration::from_secs(10);
    while let Err(err) = run(&git, &["update-ref", &branch, &commit, &parent], None) {
        if Instant::now() > deadline {
            return Err(err);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    super::write_whole(
        &folder.join(publish::PUBLISHED_COMMIT),
        format!("{commit}\n").as_bytes(),
    )
    .map_err(|err| EditError::Git(format!("cannot record the published commit: {err}")))
}

fn command(git: &Git) -> Command {
    let mut command = Command::new("git");
    match git {
        // Paths are file paths, never patterns.
        Git::At(dir) => command.current_dir(dir).arg("--literal-pathspecs"),
        Git::Bare(repo) => command.arg("--git-dir").arg(repo),
    };
    command
}

/// Her own name when git knows it; the editor's otherwise, so a save never
/// fails for want of a git identity.
fn with_identity(git: &Git, command: &mut Command) {
    if run(git, &["config", "user.email"], None).is_err() {
        for (name, value) in [
            ("GIT_AUTHOR_NAME", EDITOR_NAME),
            ("GIT_AUTHOR_EMAIL", EDITOR_EMAIL),
            ("GIT_COMMITTER_NAME", EDITOR_NAME),
            ("GIT_COMMITTER_EMAIL", EDITOR_EMAIL),
        ] {
            command.env(name, value);
        }
    }
}

fn run(git: &Git, args: &[&str], input: Option<&[u8]>) -> Result<String, EditError> {
    let mut command = command(git);
    command.args(args);
    output(command, input)
}

fn output(mut command: Command, input: Option<&[u8]>) -> Result<String, EditError> {
    let what = format!("{command:?}");
    let mut child = command
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|err| EditError::Git(format!("cannot run git: {err}")))?;
    if let (Some(bytes), Some(mut stdin)) = (input, child.stdin.take()) {
        stdin
            .write_all(bytes)
            .map_err(|err| EditError::Git(format!("cannot give git the text: {err}")))?;
    }
    let output = child
        .wait_with_output()
        .map_err(|err| EditError::Git(format!("git failed: {err}")))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(EditError::Git(format!(
            "{what} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )))
    }
}
