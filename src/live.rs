//! Keeping the served site current without a restart: rebuild when a source
//! file changes or when a scheduled page's moment comes, and swap the new
//! site in whole. A build that fails changes nothing readers see: the last
//! good site keeps serving and the problems are logged (and, in preview,
//! shown on every page).

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use std::sync::{Arc, Mutex};

pub use crate::clock::{Clock, ManualClock, SystemClock};
use std::time::Duration;

use notify::{RecursiveMode, Watcher as _};
use tokio::sync::{mpsc, watch};

use crate::diagnostic::Diagnostics;
use crate::last_good::LastGood;
use crate::site::{BuildError, BuildOptions, Site, SiteHandle, Sources};

/// The outcome of the latest build, for preview pages and their reload
/// script, and for `/healthz`.
#[derive(Debug, Clone, Default)]
pub struct BuildStatus {
    /// Counts every build attempt, good or bad, so a page can tell it is stale.
    pub generation: u64,
    /// When the site now serving was built.
    pub built_at: DateTime<Utc>,
    /// The problems of the latest attempt, when it failed.
    pub problems: Option<Arc<Diagnostics>>,
    /// The writing advice of the latest attempt (whether or not it built),
    /// which the preview shows beside the errors.
    pub warnings: Arc<Diagnostics>,
}

/// Logs each piece of advice as `path:line: message` (at WARN level, which
/// already says it is a warning): once per build, so the server's log shows
/// what `check` would say without anyone running it, and not once per request.
fn log_warnings(warnings: &Diagnostics) {
    for warning in warnings.iter().filter(|d| !d.is_error()) {
        tracing::warn!(
            "{}:{}: {}",
            warning.path.display(),
            warning.line,
            warning.message
        );
    }
}

/// A debounce short enough to feel instant, long enough to see an editor's
/// save (often a write and a rename, microseconds apart) as one change.
///
/// Written here rather than taken from `notify-debouncer-full`: that crate
/// runs a thread that wakes every quarter of the debounce (every 5 ms here)
/// for as long as the server runs, edits or not, while this waits on the
/// watcher's channel and sleeps only after an event. An idle server should
/// not wake 200 times a second (`tests/live_reload.rs` counts the wake-ups).
const DEBOUNCE: Duration = Duration::from_millis(20);
/// However far away the next scheduled page is, look at the clock this often.
const CLOCK_CHECK: Duration = Duration::from_secs(60);

pub struct Reloader {
    sources: Sources,
    preview: bool,
    clock: Arc<dyn Clock>,
    site: Arc<SiteHandle>,
    status: watch::Sender<BuildStatus>,
    /// One build at a time: a slow build is never overtaken by an older one.
    building: Mutex<()>,
    /// How often the watcher woke up to look at the files: for tests and
    /// diagnostics, as a watcher that wakes itself would burn a core.
    wakeups: std::sync::atomic::AtomicU64,
    /// True once the watcher is registered: an edit from then on is seen.
    watching: watch::Sender<bool>,
    /// Where each good build's sources are kept for a restart (not in
    /// preview, whose drafts are not the site).
    last_good: Option<LastGood>,
}

impl Reloader {
    /// Builds the first site. In preview a broken first build still starts
    /// (with an empty site that shows the problems); otherwise it is an error.
    pub fn start(
        sources: Sources,
        preview: bool,
        clock: Arc<dyn Clock>,
    ) -> Result<Arc<Self>, BuildError> {
        Self::start_keeping(sources, preview, clock, None)
    }

    /// [`Reloader::start`], keeping each good build's sources in
    /// `last_good`: a first build that fails then serves the last good copy
    /// (degraded, its problems in the status) instead of refusing to start.
    pub fn start_keeping(
        sources: Sources,
        preview: bool,
        clock: Arc<dyn Clock>,
        last_good: Option<LastGood>,
    ) -> Result<Arc<Self>, BuildError> {
        let options = BuildOptions {
            now: clock.now(),
            preview,
        };
        let last_good = last_good.filter(|_| !preview);
        let (site, problems) = match Site::load_with(&sources, options) {
            Ok(site) => {
                if let Some(kept) = &last_good {
                    keep(kept, &sources, &site);
                }
                (site, None)
            }
            Err(BuildError::Content(problems)) if preview => {
                (Site::empty(), Some(Arc::new(problems)))
            }
            Err(BuildError::Content(problems)) => {
                let Some(site) = last_good
                    .as_ref()
                    .and_then(|kept| serve_kept(kept, &sources, options))
                else {
                    return Err(BuildError::Content(problems));
                };
                for problem in problems.iter().filter(|p| p.is_error()) {
                    tracing::warn!("{problem}");
                }
                tracing::warn!(
                    "the site's files have problems; serving the last good version until they are fixed"
                );
                (site, Some(Arc::new(problems)))
            }
            Err(err) => return Err(err),
        };
        let warnings = Arc::new(match &problems {
            Some(problems) => problems.warnings(),
            None => site.warnings().clone(),
        });
        log_warnings(&warnings);
        let (status, _) = watch::channel(BuildStatus {
            generation: 1,
            built_at: clock.now(),
            problems,
            warnings,
        });
        let reloader = Arc::new(Self {
            sources,
            preview,
            clock,
            site: Arc::new(SiteHandle::new(site)),
            status,
            building: Mutex::new(()),
            wakeups: std::sync::atomic::AtomicU64::new(0),
            watching: watch::Sender::new(false),
            last_good,
        });
        Ok(reloader)
    }

    /// Makes the current site's compressed forms on other threads. Until
    /// they are made, readers get the same pages uncompressed. Each rebuild
    /// does this by itself; the first site waits for the server to call it
    /// once it can serve, so a start-up that fails (port taken, database
    /// unreadable) does no work for nothing and its error stays the last
    /// line printed.
    pub fn compress_in_background(&self) {
        let site = self.site.current();
        let spawned = std::thread::Builder::new()
            .name("compress".to_string())
            .spawn(move || {
                let started = std::time::Instant::now();
                let count = site.compress_all();
                if count > 0 {
                    let (identity, compressed) = site.held_bytes();
                    tracing::info!(
                        "compressed {count} pages and files in {} ms; the site holds {} KiB of bodies and {} KiB compressed",
                        started.elapsed().as_millis(),
                        identity / 1024,
                        compressed / 1024
                    );
                }
            });
        if let Err(err) = spawned {
            tracing::warn!("cannot start compressing: {err}; pages are sent uncompressed");
        }
    }

    pub fn site(&self) -> Arc<SiteHandle> {
        Arc::clone(&self.site)
    }

    pub fn status(&self) -> watch::Receiver<BuildStatus> {
        self.status.subscribe()
    }

    pub fn sources(&self) -> &Sources {
        &self.sources
    }

    /// How many times the file watcher has woken up so far.
    pub fn wakeups(&self) -> u64 {
        self.wakeups.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Resolves once [`Reloader::run`] watches the files, so a caller (a
    /// test) can edit knowing the change will be seen, without guessing a
    /// delay.
    pub async fn until_watching(&self) {
        let mut watching = self.watching.subscribe();
        // The sender lives as long as `self`, so this cannot fail.
        let _ = watching.wait_for(|&on| on).await;
    }

    pub fn is_preview(&self) -> bool {
        self.preview
    }

    /// Builds the site from the sources as they are now and, if it builds,
    /// swaps it in. Requests in flight keep the site they started with.
    pub fn rebuild(&self) -> Result<(), Arc<Diagnostics>> {
        let _one_at_a_time = self.building.lock().expect("build lock");
        let _not_while_publishing = self.wait_for_publishing();
        let options = BuildOptions {
            now: self.clock.now(),
            preview: self.preview,
        };
        let started = std::time::Instant::now();
        let mut warnings = Diagnostics::default();
        let outcome = match Site::rebuild(&self.sources, options, &self.site.current()) {
            Ok(site) => {
                warnings = site.warnings().clone();
                self.site.replace(site);
                tracing::info!("site rebuilt in {} ms", started.elapsed().as_millis());
                // After the swap: readers never wait for the copy.
                if let Some(kept) = &self.last_good {
                    keep(kept, &self.sources, &self.site.current());
                }
                log_warnings(&warnings);
                self.compress_in_background();
                Ok(())
            }
            Err(BuildError::Content(problems)) => {
                for problem in problems.iter().filter(|p| p.is_error()) {
                    tracing::warn!("{problem}");
                }
                warnings = problems.warnings();
                log_warnings(&warnings);
                tracing::warn!("the site was not updated; the last good version keeps serving");
                Err(Arc::new(problems))
            }
            Err(err) => {
                tracing::error!("{err}");
                Err(Arc::new(Diagnostics::default()))
            }
        };
        let built = outcome.is_ok().then_some(options.now);
        self.status.send_modify(|status| {
            status.generation += 1;
            status.built_at = built.unwrap_or(status.built_at);
            status.problems = outcome.as_ref().err().cloned();
            status.warnings = Arc::new(warnings);
        });
        outcome
    }

    /// Where publishing by push is set up (`publish.rs`), waits until no
    /// publish is swapping the content folder, and keeps it from starting
    /// one until the returned lock is dropped: a build, and the copy kept
    /// after it, then read one folder, never half of each.
    fn wait_for_publishing(&self) -> Option<std::fs::File> {
        let folder = self.sources.content.parent()?;
        let lock = std::fs::File::open(crate::publish::lock_path(folder)).ok()?;
        lock.lock_shared().ok()?;
        Some(lock)
    }

    /// Rebuilds when a scheduled page's moment has come; `true` if it did.
    pub fn rebuild_if_due(&self) -> bool {
        let due = self
            .site
            .current()
            .next_change()
            .is_some_and(|at| at <= self.clock.now());
        if due {
            let _ = self.rebuild();
        }
        due
    }

    /// Watches the sources and the clock until the task is dropped.
    pub async fn run(self: Arc<Self>) {
        let (changed, mut changes) = mpsc::channel::<()>(1);
        let mut watching = Watching::start(&self.watched_paths(), &changed);
        self.watching.send_replace(true);
        loop {
            let wait = self
                .site
                .current()
                .next_change()
                .and_then(|at| (at - self.clock.now()).to_std().ok())
                .map_or(CLOCK_CHECK, |until| until.min(CLOCK_CHECK));
            tokio::select! {
                change = changes.recv() => {
                    if change.is_none() {
                        return;
                    }
                    // An editor's save is often a write and a rename: let it
                    // finish, and take what came meanwhile as the same change.
                    tokio::time::sleep(DEBOUNCE).await;
                    while changes.try_recv().is_ok() {}
                    self.wakeups.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    // Before the build, so an edit during it is seen.
                    if watching.folders_replaced() {
                        watching = Watching::start(&self.watched_paths(), &changed);
                    }
                    let this = Arc::clone(&self);
                    let _ = tokio::task::spawn_blocking(move || this.rebuild()).await;
                }
                () = tokio::time::sleep(wait) => {
                    // A replaced folder whose move went unseen (it moved
                    // while a new watcher started) is caught here at the latest.
                    if watching.folders_replaced() {
                        watching = Watching::start(&self.watched_paths(), &changed);
                        let this = Arc::clone(&self);
                        let _ = tokio::task::spawn_blocking(move || this.rebuild()).await;
                    }
                    let this = Arc::clone(&self);
                    let _ = tokio::task::spawn_blocking(move || this.rebuild_if_due()).await;
                }
            }
        }
    }

    fn watched_paths(&self) -> Vec<PathBuf> {
        let mut paths = vec![
            self.sources.content.clone(),
            self.sources.static_dir.clone(),
        ];
        if let Some(folder) = self.sources.config.parent()
            && !self.sources.config.starts_with(&self.sources.content)
        {
            paths.push(folder.to_path_buf());
        }
        paths
    }
}

/// The file watcher over the source folders, and which folder each path
/// named when it started. Publishing (`publish.rs`) swaps a whole new
/// content folder in under the same name; the watcher, which follows the
/// folder and not its name, reports the move and then would watch the old
/// folder, so a replaced folder means a new watcher. A new one rather than
/// watching again: the old watcher still tracks the old folder by its path
/// and would drop the new watch when the old folder is deleted.
struct Watching {
    _watcher: Option<notify::RecommendedWatcher>,
    folders: Vec<(PathBuf, Option<FolderId>)>,
}

/// A folder's identity: its device and inode.
type FolderId = (u64, u64);

fn folder_id(path: &std::path::Path) -> Option<FolderId> {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

impl Watching {
    fn start(paths: &[PathBuf], changed: &mpsc::Sender<()>) -> Self {
        // Before watching: a folder replaced in between then differs from
        // what is recorded, and the next look replaces this watcher too.
        let folders = paths.iter().map(|p| (p.clone(), folder_id(p))).collect();
        let changed = changed.clone();
        // Opening and reading a file is not changing it: those events (which
        // every build causes) are ignored, or the watcher would wake itself
        // for ever. This filter is the watcher's whole change detection:
        // what changed inside the files is the content `Memo`'s job.
        let watcher = notify::recommended_watcher(move |result: notify::Result<notify::Event>| {
            if let Ok(event) = result
                && is_change(event.kind)
                && event.paths.iter().any(|path| is_source(path))
            {
                // A full channel already means "rebuild soon": nothing is lost.
                let _ = changed.try_send(());
            }
        });
        let watcher = match watcher {
            Ok(mut watcher) => {
                for path in paths {
                    if let Err(err) = watcher.watch(path, RecursiveMode::Recursive) {
                        tracing::warn!(
                            "cannot watch {}: {err}; edits there need a restart",
                            path.display()
                        );
                    }
                }
                Some(watcher)
            }
            Err(err) => {
                tracing::warn!("cannot watch files: {err}; edits need a restart");
                None
            }
        };
        Self {
            _watcher: watcher,
            folders,
        }
    }

    /// Whether a watched path now names another folder than at the start.
    fn folders_replaced(&self) -> bool {
        self.folders.iter().any(|(path, id)| folder_id(path) != *id)
    }
}

/// Whether an event changed a file: anything but opening or reading it (a
/// file closed after writing counts: that is a save ending).
fn is_change(kind: notify::EventKind) -> bool {
    use notify::event::{AccessKind, AccessMode, EventKind};
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        _ => true,
    }
}

/// After a good build of the served site: adds its addresses to the record
/// of published ones (so deleting a published article without an alias is
/// caught however the change arrives), then saves `sources` as the last
/// good copy. A failure costs only the record or the copy.
fn keep(kept: &LastGood, sources: &Sources, site: &Site) {
    use crate::content::record;
    if let Err(err) = record::update(&sources.content, site.published_paths()) {
        tracing::warn!(
            "cannot update {}: {err}",
            record::path(&sources.content).display()
        );
    }
    if let Err(err) = kept.save(sources) {
        tracing::warn!(
            "cannot keep a copy of this good version in {}: {err}; a restart with a broken file would not start",
            kept.dir().display()
        );
    }
}

/// The site built from the last good copy, if there is one and it builds.
fn serve_kept(kept: &LastGood, live: &Sources, options: BuildOptions) -> Option<Site> {
    let copy = kept.sources(live)?;
    match Site::load_with(&copy, options) {
        Ok(site) => Some(site),
        Err(err) => {
            tracing::error!(
                "the last good copy in {} does not build either: {err}",
                kept.dir().display()
            );
            None
        }
    }
}

/// Files whose change can change the site: not editor backups or the
/// record of published addresses (which `check` writes).
fn is_source(path: &std::path::Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    !(name.starts_with('.')
        || name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".tmp")
        || name.ends_with(".next")
        || name == crate::content::record::FILE_NAME)
}
