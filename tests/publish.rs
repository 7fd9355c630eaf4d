//! Publishing by `git push`, as the therapist would: a real bare repository
//! made by `publish-setup`, a clone of it as her laptop, real pushes through
//! the hook, and the real server binary serving the content the hook
//! replaces. A push with a problem is refused with `path:line` messages and
//! changes nothing; a good push is served within 2 seconds; a rename
//! without an alias is refused, even when only the server knew the address.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::process::{Server, http};
use common::{ContentCopy, eventually, repo};

/// `git` in `dir`, as someone with a name and an email set.
fn git(dir: &Path, args: &[&str]) -> Output {
    Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=Therapist",
            "-c",
            "user.email=t@example.org",
        ])
        .args(args)
        .output()
        .expect("git runs")
}

fn succeeded(output: &Output) -> bool {
    output.status.success()
}

/// What a refused push told her terminal; fails the test, saying `what`
/// happened, if the push was accepted.
fn refused(output: &Output, what: &str) -> String {
    let told = stderr(output);
    assert!(!succeeded(output), "{what}: {told}");
    told
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Her laptop: her folder of content, a git repository whose `origin` is
/// the server's (as DEPLOY.md sets it up).
struct Laptop {
    copy: ContentCopy,
}

impl Laptop {
    fn new(remote: &Path) -> Self {
        let copy = ContentCopy::new();
        let dir = copy.root();
        assert!(succeeded(&git(
            dir,
            &["init", "--quiet", "--initial-branch", "main"]
        )));
        assert!(succeeded(&git(
            dir,
            &["remote", "add", "origin", remote.to_str().unwrap()]
        )));
        Self { copy }
    }

    /// A second laptop: a clone of what the server has now.
    fn cloned(remote: &Path) -> Self {
        let copy = ContentCopy::new();
        std::fs::remove_dir_all(copy.root().join("content")).unwrap();
        let cloned = git(
            copy.root(),
            &["clone", "--quiet", remote.to_str().unwrap(), "."],
        );
        assert!(succeeded(&cloned), "{}", stderr(&cloned));
        Self { copy }
    }

    fn commit_and_push(&self, message: &str) -> Output {
        let dir = self.copy.root();
        assert!(succeeded(&git(dir, &["add", "--all"])));
        assert!(succeeded(&git(dir, &["commit", "--quiet", "-m", message])));
        git(dir, &["push", "origin", "main"])
    }

    fn undo_last_commit(&self) {
        assert!(succeeded(&git(
            self.copy.root(),
            &["reset", "--quiet", "--hard", "HEAD~1"]
        )));
    }

    fn head(&self) -> String {
        let out = git(self.copy.root(), &["rev-parse", "HEAD"]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

/// The commit the server's repository has on main.
fn published_commit(remote: &Path) -> String {
    let out = git(remote, &["rev-parse", "main"]);
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Waits up to 2 s (the promise) for `path` to answer `status` with a body
/// containing `needle`; the time it took.
fn served_within_2s(server: &Server, path: &str, status: u16, needle: &str) -> Duration {
    let pushed = Instant::now();
    eventually(Duration::from_secs(2), Duration::from_millis(20), || {
        http(server.port, "GET", path, &[], "")
            .filter(|reply| reply.status == status && reply.body.contains(needle))
    })
    .unwrap_or_else(|| panic!("{path} did not answer {status} with {needle:?} within 2 s"));
    pushed.elapsed()
}

struct ServerSide {
    _dir: tempfile::TempDir,
    content: PathBuf,
    repo: PathBuf,
    database: PathBuf,
}

fn server_side() -> ServerSide {
    let dir = tempfile::tempdir().unwrap();
    let content = dir.path().join("site/content");
    common::copy_dir(&repo().join("content"), &content);
    let repo_dir = dir.path().join("site.git");
    let setup = Command::new(env!("CARGO_BIN_EXE_practice-site"))
        .arg("publish-setup")
        .arg("--repo")
        .arg(&repo_dir)
        .arg("--content")
        .arg(&content)
        .arg("--config")
        .arg(content.join("site.toml"))
        .arg("--static")
        .arg(repo().join("static"))
        .output()
        .unwrap();
    assert!(succeeded(&setup), "{}", stderr(&setup));
    let told = String::from_utf8_lossy(&setup.stdout);
    assert!(told.contains("git push origin main"), "{told}");
    ServerSide {
        database: dir.path().join("data/practice.db"),
        content,
        repo: repo_dir,
        _dir: dir,
    }
}

const GUIDE: &str = "blog/ketamine-assisted-psychotherapy-guide.md";

#[test]
fn pushes_are_checked_then_published_and_broken_ones_change_nothing() {
    let side = server_side();
    std::fs::create_dir_all(side.database.parent().unwrap()).unwrap();
    let server = Server::start(
        &side.content,
        &side.database,
        &[("RUST_LOG", "error".into())],
    );
    let laptop = Laptop::new(&side.repo);

    // The first push: what the server already serves.
    let first = laptop.commit_and_push("The site as it is");
    assert!(succeeded(&first), "{}", stderr(&first));
    assert!(
        stderr(&first).contains("remote: Published"),
        "{}",
        stderr(&first)
    );

    // A good edit is served within 2 s.
    laptop.copy.edit(
        GUIDE,
        "## What Is Ketamine-Assisted Psychotherapy (KAP)?",
        "## What Is Ketamine-Assisted Psychotherapy (KAP), Published by Push?",
    );
    let pushed = laptop.commit_and_push("A clearer heading");
    assert!(succeeded(&pushed), "{}", stderr(&pushed));
    let took = served_within_2s(
        &server,
        "/blog/ketamine-assisted-psychotherapy-guide",
        200,
        "Published by Push",
    );
    eprintln!(
        "a good push was served {} ms after git push returned",
        took.as_millis()
    );
    let good = laptop.head();
    assert_eq!(published_commit(&side.repo), good);

    // A broken push: refused with the file and line, the site unchanged.
    let line = laptop.copy.line_of(GUIDE, "date:");
    laptop.copy.edit(GUIDE, "date: ", "date: someday ");
    let broken = laptop.commit_and_push("A typo in the date");
    let told = stderr(&broken);
    eprintln!("what a broken push tells:\n{told}");
    assert!(!succeeded(&broken), "a broken push was accepted: {told}");
    assert!(
        told.contains(&format!("remote: content/{GUIDE}:{line}: ")),
        "no path:line for the broken date in: {told}"
    );
    assert!(told.contains("Not published"), "{told}");
    assert_eq!(published_commit(&side.repo), good, "the repository moved");
    std::thread::sleep(Duration::from_millis(300));
    let page = http(
        server.port,
        "GET",
        "/blog/ketamine-assisted-psychotherapy-guide",
        &[],
        "",
    )
    .unwrap();
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Published by Push"));
    let health = http(server.port, "GET", "/healthz", &[], "").unwrap();
    assert!(!health.body.contains("degraded"), "{}", health.body);
    laptop.undo_last_commit();

    // A new article: the server now knows its address, her copy of the
    // record does not (she never ran `check`).
    laptop.copy.write(
        "blog/a-note-on-scheduling.md",
        "---\ntitle: \"A Note on Scheduling\"\ndescription: \"How to find a time for a first conversation.\"\ndate: 2025-01-06\ntags: [intensives]\n---\n\nA short note on finding a time that works.\n",
    );
    let added = laptop.commit_and_push("A new note");
    assert!(succeeded(&added), "{}", stderr(&added));
    served_within_2s(
        &server,
        "/blog/a-note-on-scheduling",
        200,
        "A Note on Scheduling",
    );
    assert!(
        !laptop
            .copy
            .read("published-urls.txt")
            .contains("/blog/a-note-on-scheduling"),
        "the laptop's record was expected to be behind the server's"
    );

    // Renamed without an alias: refused, by the server's record.
    let renamed = laptop.copy.path("blog/finding-a-time.md");
    std::fs::rename(laptop.copy.path("blog/a-note-on-scheduling.md"), &renamed).unwrap();
    let renamed_push = laptop.commit_and_push("Rename the note");
    let told = refused(&renamed_push, "a rename without an alias was accepted");
    assert!(
        told.contains("remote: content/published-urls.txt:")
            && told.contains("/blog/a-note-on-scheduling was published but now leads nowhere"),
        "{told}"
    );
    assert_eq!(
        http(server.port, "GET", "/blog/a-note-on-scheduling", &[], "")
            .unwrap()
            .status,
        200
    );

    // The same rename with the alias the message asks for: published, and
    // the old address leads to the new one.
    laptop.copy.edit(
        "blog/finding-a-time.md",
        "tags: [intensives]",
        "tags: [intensives]\naliases: [/blog/a-note-on-scheduling]",
    );
    assert!(succeeded(&git(
        laptop.copy.root(),
        &["commit", "--quiet", "--all", "--amend", "--no-edit"]
    )));
    let fixed = git(laptop.copy.root(), &["push", "origin", "main"]);
    assert!(succeeded(&fixed), "{}", stderr(&fixed));
    served_within_2s(&server, "/blog/finding-a-time", 200, "A Note on Scheduling");
    let moved = http(server.port, "GET", "/blog/a-note-on-scheduling", &[], "").unwrap();
    assert_eq!(moved.status, 301);
    assert_eq!(moved.header("location"), Some("/blog/finding-a-time"));

    // Nothing of the publishing is left beside the served content.
    let beside: Vec<String> = std::fs::read_dir(side.content.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| {
            ![
                "content",
                ".publish.lock",
                ".published-commit",
                ".publish-repository",
            ]
            .contains(&name.as_str())
        })
        .collect();
    assert!(beside.is_empty(), "left behind: {beside:?}");
}

/// The served copy of the guide, as readers' next page will be built from.
fn served_guide(side: &ServerSide) -> String {
    std::fs::read_to_string(side.content.join(GUIDE)).unwrap()
}

#[test]
fn only_main_is_published_tags_are_kept_and_a_push_without_content_is_refused() {
    let side = server_side();
    let laptop = Laptop::new(&side.repo);
    let dir = laptop.copy.root();
    assert!(succeeded(&git(dir, &["add", "--all"])));
    assert!(succeeded(&git(dir, &["commit", "--quiet", "-m", "first"])));
    let other = git(dir, &["push", "origin", "main:drafts"]);
    assert!(!succeeded(&other));
    assert!(
        stderr(&other).contains("only the branch main is published"),
        "{}",
        stderr(&other)
    );

    // A tag alone publishes nothing and is kept.
    assert!(succeeded(&git(dir, &["tag", "before-launch"])));
    let tagged = git(dir, &["push", "origin", "before-launch"]);
    assert!(succeeded(&tagged), "{}", stderr(&tagged));
    assert!(
        !stderr(&tagged).contains("Published"),
        "{}",
        stderr(&tagged)
    );

    // A folder without content/ (she pushed the wrong folder).
    let served = served_guide(&side);
    std::fs::rename(dir.join("content"), dir.join("articles")).unwrap();
    let wrong = laptop.commit_and_push("moved");
    assert!(!succeeded(&wrong));
    assert!(
        stderr(&wrong).contains("no content/ folder"),
        "{}",
        stderr(&wrong)
    );
    assert_eq!(served_guide(&side), served, "the served content changed");
}

#[test]
fn a_push_holding_a_link_is_refused_and_writes_nothing_through_it() {
    let side = server_side();
    // What a link could reach: a file the site's user may write.
    let outside = side
        .content
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("bookings.db");
    std::fs::write(&outside, "the bookings").unwrap();
    let laptop = Laptop::new(&side.repo);
    let record = laptop.copy.path("published-urls.txt");
    std::fs::remove_file(&record).unwrap();
    std::os::unix::fs::symlink(&outside, &record).unwrap();
    let served = served_guide(&side);

    let pushed = laptop.commit_and_push("A link");
    let told = refused(&pushed, "a push with a link was accepted");
    assert!(
        told.contains("content/published-urls.txt is a link, not a file"),
        "{told}"
    );
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "the bookings");
    assert_eq!(served_guide(&side), served);
}

/// The processes of `publish-receive` running for `side` now.
fn hooks_running(side: &ServerSide) -> usize {
    let content = side.content.to_string_lossy().into_owned();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| std::fs::read(entry.ok()?.path().join("cmdline")).ok())
        .map(|raw| String::from_utf8_lossy(&raw).replace('\0', " "))
        .filter(|line| line.contains("publish-receive") && line.contains(&content))
        .count()
}

#[test]
fn of_two_pushes_made_from_the_same_commit_one_is_published_and_recorded() {
    let side = server_side();
    let first = Laptop::new(&side.repo);
    let pushed = first.commit_and_push("The site as it is");
    assert!(succeeded(&pushed), "{}", stderr(&pushed));
    let second = Laptop::cloned(&side.repo);
    first
        .copy
        .edit(GUIDE, "## What Is", "## From the First Laptop: What Is");
    second
        .copy
        .edit(GUIDE, "## What Is", "## From the Second Laptop: What Is");

    // Both pushes reach the hook while a publish holds the lock, as two
    // pushes a moment apart would; then the lock is let go.
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(side.content.parent().unwrap().join(".publish.lock"))
        .unwrap();
    lock.lock().unwrap();
    let pushes: Vec<_> = [first, second]
        .into_iter()
        .map(|laptop| {
            std::thread::spawn(move || {
                let output = laptop.commit_and_push("An edit");
                (laptop.head(), output)
            })
        })
        .collect();
    eventually(Duration::from_secs(30), Duration::from_millis(20), || {
        (hooks_running(&side) == 2).then_some(())
    })
    .expect("both pushes reach the hook");
    lock.unlock().unwrap();
    let results: Vec<(String, Output)> = pushes.into_iter().map(|t| t.join().unwrap()).collect();

    let accepted: Vec<&(String, Output)> = results.iter().filter(|(_, o)| succeeded(o)).collect();
    assert_eq!(accepted.len(), 1, "exactly one push is accepted");
    let refused = results.iter().find(|(_, o)| !succeeded(o)).unwrap();
    assert!(
        stderr(&refused.1).contains("the site changed after the commit this push starts from"),
        "{}",
        stderr(&refused.1)
    );
    // What readers get is what the repository says was published.
    let (published, _) = accepted[0];
    assert_eq!(&published_commit(&side.repo), published);
    let shown = git(
        &side.repo,
        &["show", &format!("{published}:content/{GUIDE}")],
    );
    assert_eq!(String::from_utf8_lossy(&shown.stdout), served_guide(&side));
}

#[test]
fn a_save_in_the_browser_is_published_as_a_commit_and_a_push_from_before_it_pulls_it_first() {
    let side = server_side();
    std::fs::create_dir_all(side.database.parent().unwrap()).unwrap();
    let server = Server::start_with_login(
        &side.content,
        &side.database,
        &[("RUST_LOG", "error".into())],
    );
    let cookie = common::process::log_in(server.port);
    // Before the first push (which replaces every file), a save is refused
    // with what to do, and her text comes back.
    let opened = common::editor::open(server.port, &cookie, GUIDE);
    let early = common::editor::save(server.port, &cookie, GUIDE, &opened, "Too early.\n");
    assert_eq!(early.status, 422);
    assert!(
        early.body.contains("nothing has been pushed yet"),
        "{}",
        early.body
    );
    assert!(early.body.contains("Too early."));
    assert!(!served_guide(&side).contains("Too early."));

    let laptop = Laptop::new(&side.repo);
    let first = laptop.commit_and_push("The site as it is");
    assert!(succeeded(&first), "{}", stderr(&first));

    // She edits the guide in the browser.
    let opened = common::editor::open(server.port, &cookie, GUIDE);
    let edited = opened
        .text
        .replacen("\n---\n\n", "\n---\n\nEdited in the browser.\n\n", 1);
    let saved = common::editor::save(server.port, &cookie, GUIDE, &opened, &edited);
    assert_eq!(saved.status, 303, "{}", saved.body);
    let commit = published_commit(&side.repo);
    assert_ne!(commit, laptop.head(), "the save is a commit on main");
    let log = git(&side.repo, &["log", "-1", "--format=%s", "main"]);
    assert_eq!(
        String::from_utf8_lossy(&log.stdout).trim(),
        format!("Edit {GUIDE} in the browser editor")
    );

    // A push from her laptop, made before the save, is refused, and the
    // browser's text stays.
    laptop.copy.edit(
        "pages/about.md",
        "---\n\n",
        "---\n\nEdited on the laptop.\n\n",
    );
    // (git itself refuses it before the hook runs: `main` moved on.)
    let told = refused(
        &laptop.commit_and_push("About, from the laptop"),
        "a push from before the browser's save",
    );
    assert!(told.contains("git pull"), "{told}");
    let forced = git(laptop.copy.root(), &["push", "--force", "origin", "main"]);
    refused(&forced, "a forced push over the browser's save");
    assert_eq!(published_commit(&side.repo), commit);
    assert!(served_guide(&side).contains("Edited in the browser."));

    // Pulled, both are published.
    let pulled = git(
        laptop.copy.root(),
        &[
            "pull",
            "--quiet",
            "--no-rebase",
            "--no-edit",
            "origin",
            "main",
        ],
    );
    assert!(succeeded(&pulled), "{}", stderr(&pulled));
    assert!(laptop.copy.read(GUIDE).contains("Edited in the browser."));
    let pushed = git(laptop.copy.root(), &["push", "origin", "main"]);
    assert!(succeeded(&pushed), "{}", stderr(&pushed));
    served_within_2s(&server, "/about", 200, "Edited on the laptop.");
    assert!(served_guide(&side).contains("Edited in the browser."));

    // The editor's history is the repository's.
    let history = common::editor::get(
        server.port,
        &cookie,
        &format!("/admin/content/{GUIDE}/history"),
    );
    assert!(
        history
            .body
            .contains(&format!("Edit {GUIDE} in the browser editor")),
        "{}",
        history.body
    );

    // A photo added, then removed, in the browser: each is a commit on
    // main, so the laptop's next pull brings both.
    let in_main = |path: &str| {
        succeeded(&git(
            &side.repo,
            &["cat-file", "-e", &format!("main:{path}")],
        ))
    };
    let token = common::editor::images_token(server.port, &cookie);
    let photo = practice_site::images::testing::phone_photo(300, 200);
    let sent = common::editor::Photo {
        file_name: "office.jpg",
        bytes: &photo,
        alt: "Two armchairs by a window",
        portrait: false,
    };
    let added = common::editor::upload(server.port, &cookie, &token, &sent, true);
    assert_eq!(added.status, 200, "{}", added.body);
    assert!(
        in_main("content/images/office.jpg"),
        "the photo is a commit"
    );
    let removed = common::editor::post(
        server.port,
        &cookie,
        "/admin/images/remove",
        &[("name", "office.jpg"), ("token", &token)],
    );
    assert_eq!(removed.status, 200, "{}", removed.body);
    assert!(
        !in_main("content/images/office.jpg"),
        "its removal is a commit"
    );
    let log = git(&side.repo, &["log", "-2", "--format=%s", "main"]);
    assert_eq!(
        String::from_utf8_lossy(&log.stdout).trim(),
        "Remove the photo images/office.jpg in the browser editor\nAdd the photo images/office.jpg in the browser editor"
    );
}
