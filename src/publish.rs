//! Publishing by `git push`. The therapist pushes her site folder (the one
//! that holds `content/`, where she runs `serve --preview`) to a bare
//! repository on the server made by `practice-site publish-setup`. Its
//! `pre-receive` hook runs `practice-site publish-receive`, which:
//!
//! 1. takes the pushed `content/` into a folder beside the served one;
//! 2. checks it with [`crate::check::run`], the check `practice-site check`
//!    runs, after adding the server's own record of published addresses,
//!    so a renamed article without an alias is refused even when her copy
//!    of the record is older than the server's;
//! 3. refuses the push with every problem as `path:line: message` (git
//!    shows them in her terminal), or swaps the checked folder in for the
//!    served one in one step. The running server sees the swap and rebuilds
//!    (`live.rs`); readers never see a half-copied folder, because the swap
//!    is one `rename` that exchanges the two folders.
//!
//! A push is accepted only once it is published, and must start from the
//! commit published last, so the repository's `main` is what readers get.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::check::{self, CheckError};
use crate::content::record;
use crate::diagnostic::Diagnostics;
use crate::site::{BuildError, Sources};

/// The one branch that is published.
pub const BRANCH: &str = "main";

/// Beside the served `content/`: the commit published last (a push must
/// start from it), and where the repository is (the editor commits its
/// saves there, `editor/history.rs`).
pub const PUBLISHED_COMMIT: &str = ".published-commit";
pub const REPOSITORY_FILE: &str = ".publish-repository";

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// Refused for a reason the person pushing can act on.
    #[error("{0}")]
    Refused(String),
    /// The pushed files have problems, with paths as in her folder.
    #[error("the pushed files have {} problem(s)", .0.error_count())]
    Problems(Diagnostics),
    /// Something on the server went wrong; nothing was published.
    #[error("{what}: {source}")]
    Server { what: String, source: io::Error },
}

fn server_error(what: impl Into<String>) -> impl FnOnce(io::Error) -> PublishError {
    let what = what.into();
    move |source| PublishError::Server { what, source }
}

/// What a good push published.
#[derive(Debug)]
pub struct Published {
    pub commit: String,
    pub pages: usize,
    /// Writing advice found in the pushed files: shown, never blocking.
    pub warnings: Diagnostics,
}

/// Makes (or, run again after an update, refreshes) the bare repository at
/// `repo` and its hook, which publishes into `live` with `binary`.
pub fn setup(repo: &Path, binary: &Path, live: &Sources) -> Result<PathBuf, PublishError> {
    let live = absolute_sources(live)?;
    // The folders the server serves, named in full: a setup run from the
    // wrong folder must not quietly publish somewhere nobody reads.
    for (what, path, there) in [
        ("content folder", &live.content, live.content.is_dir()),
        ("settings file", &live.config, live.config.is_file()),
        ("static folder", &live.static_dir, live.static_dir.is_dir()),
    ] {
        if !there {
            return Err(PublishError::Refused(format!(
                "the served {what} {} does not exist; give --content, --config and --static as the server's own (DEPLOY.md, section 6)",
                path.display()
            )));
        }
    }
    if !repo.join("HEAD").is_file() {
        git(&["init", "--quiet", "--bare", "--initial-branch", BRANCH])
            .arg(repo)
            .status()
            .map_err(server_error("cannot run git (apt-get install git)"))
            .and_then(|status| {
                status
                    .success()
                    .then_some(())
                    .ok_or_else(|| PublishError::Server {
                        what: format!("git init {}", repo.display()),
                        source: io::Error::other("it failed (its message is above)"),
                    })
            })?;
    }
    // git checks every pushed object before the hook sees it, and refuses a
    // forced push that would drop commits (a save made in the browser
    // editor among them) instead of adding to them.
    for setting in ["receive.fsckObjects", "receive.denyNonFastForwards"] {
        git(&["config", setting, "true"])
            .current_dir(repo)
            .status()
            .map_err(server_error("cannot run git config"))?;
    }
    let hook = repo.join("hooks").join("pre-receive");
    fs::create_dir_all(repo.join("hooks")).map_err(server_error("cannot make the hooks folder"))?;
    let script = format!(
        "#!/bin/sh\n\
         # Written by `practice-site publish-setup`; run it again rather than edit this.\n\
         # Each push to {BRANCH} is checked as `practice-site check` checks: one with\n\
         # problems is refused with their list, a good one replaces the content the\n\
         # site serves.\n\
         exec {} publish-receive --content {} --config {} --static {}\n",
        shell_quote(binary),
        shell_quote(&live.content),
        shell_quote(&live.config),
        shell_quote(&live.static_dir),
    );
    let next = hook.with_extension("next");
    fs::write(&next, script).map_err(server_error("cannot write the hook"))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&next, fs::Permissions::from_mode(0o755))
            .map_err(server_error("cannot make the hook runnable"))?;
    }
    fs::rename(&next, &hook).map_err(server_error("cannot put the hook in place"))?;
    let folder = parent_of(&live.content)?;
    let record = folder.join(REPOSITORY_FILE);
    let repo = std::path::absolute(repo).map_err(server_error("cannot resolve the repository"))?;
    fs::write(&record, format!("{}\n", repo.display()))
        .map_err(server_error(format!("cannot write {}", record.display())))?;
    Ok(hook)
}

/// The hook's work: `updates` is what git gives `pre-receive` on standard
/// input (`<old> <new> <ref>` per line). `Ok(None)` when nothing was pushed
/// to [`BRANCH`] (tags are kept, and publish nothing).
pub fn receive(updates: &str, live: &Sources) -> Result<Option<Published>, PublishError> {
    let mut update = None;
    for line in updates.lines().filter(|l| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [old, new, name] = fields[..] else {
            return Err(PublishError::Refused(format!(
                "git sent a line this hook cannot read: {line:?}"
            )));
        };
        if name.starts_with("refs/tags/") {
            continue;
        }
        if name != format!("refs/heads/{BRANCH}") {
            return Err(PublishError::Refused(format!(
                "only the branch {BRANCH} is published, and this push updates {name}; push with `git push <remote> HEAD:{BRANCH}`"
            )));
        }
        if is_no_commit(new) {
            return Err(PublishError::Refused(format!(
                "deleting {BRANCH} would take every page down; it is refused"
            )));
        }
        update = Some((old.to_string(), new.to_string()));
    }
    let Some((old, commit)) = update else {
        return Ok(None);
    };
    let live = absolute_sources(live)?;
    let folder = parent_of(&live.content)?;
    // One publisher at a time, and no server rebuild during a swap (the
    // server takes this lock shared: `live.rs`).
    let lock = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(lock_path(&folder))
        .map_err(server_error("cannot open the publishing lock"))?;
    lock.lock()
        .map_err(server_error("cannot take the publishing lock"))?;
    recover_from_a_crash(&folder, &live.content)?;

    // git moves `main` only after this hook ends and the lock is free, so
    // two pushes made from the same commit could both pass and the second
    // be published while git refuses to record it. The commit published
    // last is kept here, and a push must start from it.
    let published_file = folder.join(PUBLISHED_COMMIT);
    let published = fs::read_to_string(&published_file).ok();
    if let Some(published) = published.as_deref().map(str::trim)
        && published != old
        && published != commit
    {
        return Err(PublishError::Refused(format!(
            "the site changed after the commit this push starts from (another push, or a save in the browser editor); fetch and merge it (`git pull <remote> {BRANCH}`), then push again"
        )));
    }

    // git refuses a forced push only after this hook has run (its
    // `denyNonFastForwards` is checked per ref, later), so the hook must
    // refuse it itself, before publishing anything.
    if !is_no_commit(&old) && old != commit {
        let ancestor = git(&["merge-base", "--is-ancestor", &old, &commit])
            .status()
            .map_err(server_error("cannot run git merge-base"))?;
        if !ancestor.success() {
            return Err(PublishError::Refused(format!(
                "this push would drop changes the site has (a forced push); fetch and merge them (`git pull <remote> {BRANCH}`), then push again"
            )));
        }
    }

    let staging = Staging::new(folder.join(format!("{STAGING_PREFIX}{}", std::process::id())))?;
    take_content(&commit, staging.path())?;
    refuse_links(staging.path(), staging.path())?;
    // Settings outside the content folder are not published by a push, and
    // static files come with the program: both stay the served ones.
    let staged = live.with_content_at(staging.path().join("content"));
    let urls = record::urls(&live.content);
    record::update(&staged.content, urls.iter().map(String::as_str))
        .map_err(server_error("cannot add the server's published addresses"))?;
    let site = check::run(&staged).map_err(|err| match err {
        CheckError::Build(BuildError::Content(problems)) => {
            PublishError::Problems(problems.relative_to(staging.path()))
        }
        CheckError::Build(err @ BuildError::Template { .. }) => PublishError::Server {
            what: "the server cannot build pages".into(),
            source: io::Error::other(err.to_string()),
        },
        CheckError::Record { path, source } => PublishError::Server {
            what: format!("cannot update {}", path.display()),
            source,
        },
    })?;
    swap_in(&staged.content, &live.content)?;
    let next = published_file.with_extension("next");
    fs::write(&next, format!("{commit}\n"))
        .and_then(|()| fs::rename(&next, &published_file))
        .map_err(server_error("cannot record the published commit"))?;
    Ok(Some(Published {
        commit,
        pages: site.page_paths().len(),
        warnings: site.warnings().clone().relative_to(staging.path()),
    }))
}

/// The lock beside the served content that a publish holds for its whole
/// run, and the server holds shared while it rebuilds and keeps a copy.
pub fn lock_path(folder: &Path) -> PathBuf {
    folder.join(".publish.lock")
}

const STAGING_PREFIX: &str = ".publish-";

/// git's name for "no commit" (a created or deleted branch): all zeros.
fn is_no_commit(id: &str) -> bool {
    id.bytes().all(|b| b == b'0')
}

/// A publish killed half-way leaves its staging folder, and, if it was
/// killed between the two renames of the fallback swap, no served folder
/// at all: the previous content is then put back.
fn recover_from_a_crash(folder: &Path, live: &Path) -> Result<(), PublishError> {
    let entries =
        fs::read_dir(folder).map_err(server_error(format!("cannot read {}", folder.display())))?;
    for entry in entries.flatten() {
        let path = entry.path();
        let is_staging = entry
            .file_name()
            .to_string_lossy()
            .starts_with(STAGING_PREFIX)
            && entry.file_type().is_ok_and(|t| t.is_dir());
        if !is_staging {
            continue;
        }
        let previous = path.join(PREVIOUS);
        if !live.exists() && previous.is_dir() {
            fs::rename(&previous, live)
                .map_err(server_error(format!("cannot put back {}", live.display())))?;
        }
        let _ = fs::remove_dir_all(&path);
    }
    Ok(())
}

/// Refuses a pushed tree holding anything but files and folders: a
/// symbolic link could make the check, or the record's update, read or
/// write outside the pushed content as the site's own user.
fn refuse_links(root: &Path, dir: &Path) -> Result<(), PublishError> {
    let entries =
        fs::read_dir(dir).map_err(server_error(format!("cannot read {}", dir.display())))?;
    for entry in entries {
        let entry = entry.map_err(server_error(format!("cannot read {}", dir.display())))?;
        let kind = entry.file_type().map_err(server_error(format!(
            "cannot read {}",
            entry.path().display()
        )))?;
        if kind.is_dir() {
            refuse_links(root, &entry.path())?;
        } else if !kind.is_file() {
            let path = entry.path();
            let shown = path.strip_prefix(root).unwrap_or(&path);
            return Err(PublishError::Refused(format!(
                "{} is a link, not a file; only files and folders are published",
                shown.display()
            )));
        }
    }
    Ok(())
}

/// A folder removed when publishing ends, however it ends (after a swap it
/// holds the content that was served before).
struct Staging(PathBuf);

impl Staging {
    fn new(path: PathBuf) -> Result<Self, PublishError> {
        let _ = fs::remove_dir_all(&path);
        fs::create_dir(&path).map_err(server_error(format!("cannot make {}", path.display())))?;
        Ok(Self(path))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Writes the pushed commit's `content/` into `into` with `git archive`
/// (which reads the pushed objects even before git has accepted them).
fn take_content(commit: &str, into: &Path) -> Result<(), PublishError> {
    let has_content = git(&["cat-file", "-e", &format!("{commit}:content")])
        .stderr(Stdio::null())
        .status()
        .map_err(server_error("cannot run git"))?;
    if !has_content.success() {
        return Err(PublishError::Refused(
            "the pushed folder has no content/ folder: push the folder that holds content/ (the one `serve --preview` runs in)".into(),
        ));
    }
    let mut archive = git(&["archive", "--format=tar", commit, "content"])
        .stdout(Stdio::piped())
        .spawn()
        .map_err(server_error("cannot run git archive"))?;
    let stdout = archive.stdout.take().expect("piped");
    // `-m`: each file gets the time of the publish, not of its commit, so
    // the server's cache (which trusts size and time) never keeps an old
    // parse of a same-size edit made within the same second.
    let unpacked = Command::new("tar")
        .arg("-xm")
        .arg("-C")
        .arg(into)
        .stdin(stdout)
        .status()
        .map_err(server_error("cannot run tar"))?;
    let archived = archive.wait().map_err(server_error("git archive"))?;
    if archived.success() && unpacked.success() {
        Ok(())
    } else {
        Err(PublishError::Server {
            what: "the server could not unpack the pushed content".into(),
            source: io::Error::other("git archive or tar failed (their message is above)"),
        })
    }
}

/// `git` with `args`, where the hook runs it: in the repository.
fn git(args: &[&str]) -> Command {
    let mut command = Command::new("git");
    command.args(args);
    command
}

/// Where the fallback swap keeps the served folder between its renames,
/// inside the staging folder (see [`recover_from_a_crash`]).
const PREVIOUS: &str = "content.previous";

/// Puts `checked` where `live` is in one step: the two folders exchange
/// names (Linux's `renameat2`), so the served path always names a whole
/// folder. `checked` then holds what was served before.
fn swap_in(checked: &Path, live: &Path) -> Result<(), PublishError> {
    if !live.exists() {
        return fs::rename(checked, live).map_err(server_error(format!(
            "cannot move the content to {}",
            live.display()
        )));
    }
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{CWD, RenameFlags, renameat_with};
        match renameat_with(CWD, checked, CWD, live, RenameFlags::EXCHANGE) {
            Ok(()) => return Ok(()),
            // A file system without the exchange: two renames below.
            Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS) => {}
            Err(err) => {
                return Err(PublishError::Server {
                    what: format!("cannot swap in the new content at {}", live.display()),
                    source: err.into(),
                });
            }
        }
    }
    let previous = checked.with_file_name(PREVIOUS);
    let _ = fs::remove_dir_all(&previous);
    fs::rename(live, &previous)
        .and_then(|()| fs::rename(checked, live))
        .and_then(|()| fs::rename(&previous, checked))
        .map_err(server_error(format!(
            "cannot move the new content to {}",
            live.display()
        )))
}

fn absolute_sources(sources: &Sources) -> Result<Sources, PublishError> {
    let absolute = |path: &Path| {
        std::path::absolute(path)
            .map_err(server_error(format!("cannot resolve {}", path.display())))
    };
    Ok(Sources {
        config: absolute(&sources.config)?,
        content: absolute(&sources.content)?,
        static_dir: absolute(&sources.static_dir)?,
    })
}

fn parent_of(content: &Path) -> Result<PathBuf, PublishError> {
    content.parent().map(Path::to_path_buf).ok_or_else(|| {
        PublishError::Refused(format!(
            "{} has no parent folder to publish beside",
            content.display()
        ))
    })
}

/// `path` in single quotes for `sh`.
fn shell_quote(path: &Path) -> String {
    format!("'{}'", path.to_string_lossy().replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_quoted_for_the_shell() {
        assert_eq!(shell_quote(Path::new("/srv/it's")), r"'/srv/it'\''s'");
    }

    #[test]
    fn only_main_is_published_and_never_deleted() {
        let live = Sources {
            config: "/nowhere/content/site.toml".into(),
            content: "/nowhere/content".into(),
            static_dir: "/nowhere/static".into(),
        };
        let zero = "0".repeat(40);
        let some = "a".repeat(40);
        let refused = |updates: &str| match receive(updates, &live) {
            Err(PublishError::Refused(message)) => message,
            other => panic!("{updates}: {other:?}"),
        };
        assert!(refused(&format!("{zero} {some} refs/heads/master")).contains("HEAD:main"));
        assert!(refused(&format!("{some} {zero} refs/heads/main")).contains("deleting"));
        assert!(refused("garbage").contains("cannot read"));
        assert!(matches!(receive("", &live), Ok(None)));
    }

    #[test]
    fn settings_outside_the_content_stay_the_served_ones() {
        let live = Sources {
            config: "/srv/site.toml".into(),
            content: "/srv/content".into(),
            static_dir: "/opt/static".into(),
        };
        let staged = live.with_content_at("/srv/.publish-1/content".into());
        assert_eq!(staged.config, Path::new("/srv/site.toml"));
        assert_eq!(staged.content, Path::new("/srv/.publish-1/content"));
        let inside = Sources {
            config: "/srv/content/site.toml".into(),
            ..live
        };
        let staged = inside.with_content_at("/srv/.publish-1/content".into());
        assert_eq!(
            staged.config,
            Path::new("/srv/.publish-1/content/site.toml")
        );
        assert_eq!(staged.static_dir, Path::new("/opt/static"));
    }
}
