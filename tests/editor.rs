//! The editor under `/admin/content`, over the real binary on a copy of the
//! shipped content: saving byte for byte, a save that goes live and one
//! that cannot, conflicts, history (a folder, and git), new articles, the
//! preview, and what a hostile or careless request gets.

mod common;

use common::editor::{Opened, get, open, post, save};
use common::process::{Server, http, log_in};
use common::{ContentCopy, git};
use scraper::{Html, Selector};

fn start(copy: &ContentCopy) -> (Server, String) {
    let server = Server::start_with_login(&copy.path(""), copy.root().join("practice.db"), &[]);
    let cookie = log_in(server.port);
    (server, cookie)
}

fn shipped_keys(copy: &ContentCopy) -> Vec<String> {
    let mut keys = Vec::new();
    for folder in ["blog", "pages"] {
        for entry in std::fs::read_dir(copy.path(folder)).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if name.ends_with(".md") {
                keys.push(format!("{folder}/{name}"));
            }
        }
    }
    keys.sort();
    keys
}

#[test]
fn every_shipped_file_opened_and_saved_is_byte_identical() {
    let copy = ContentCopy::new();
    let (server, cookie) = start(&copy);
    let keys = shipped_keys(&copy);
    assert!(keys.len() >= 10, "{keys:?}");
    for key in &keys {
        let before = std::fs::read(copy.path(key)).unwrap();
        let opened = open(server.port, &cookie, key);
        assert_eq!(
            opened.text.as_bytes(),
            before,
            "{key}: the textarea holds the file"
        );
        let saved = save(server.port, &cookie, key, &opened, &opened.text);
        assert_eq!(saved.status, 303, "{key}: {}", saved.body);
        assert_eq!(std::fs::read(copy.path(key)).unwrap(), before, "{key}");
    }
    // An edit and its undoing leave the same bytes, and each is a version.
    let key = "blog/what-happens-in-a-kap-session.md";
    let before = copy.read(key);
    let opened = open(server.port, &cookie, key);
    let edited = before.replacen("\n\n", "\n\nA new first paragraph.\n\n", 1);
    assert_eq!(
        save(server.port, &cookie, key, &opened, &edited).status,
        303
    );
    assert_eq!(copy.read(key), edited);
    let opened = open(server.port, &cookie, key);
    assert_eq!(
        save(server.port, &cookie, key, &opened, &before).status,
        303
    );
    assert_eq!(copy.read(key), before);
    let kept = std::fs::read_dir(copy.root().join(".content-history").join(key))
        .unwrap()
        .count();
    assert_eq!(kept, 3, "the original, the edit, and the edit undone");
}

#[test]
fn a_file_with_windows_line_endings_keeps_them() {
    let copy = ContentCopy::new();
    let key = "blog/kap-vs-iv-ketamine-clinics.md";
    let crlf = copy.read(key).replace('\n', "\r\n");
    copy.write(key, &crlf);
    let (server, cookie) = start(&copy);
    // A browser's textarea holds LF, and its form sends CRLF.
    let opened = open(server.port, &cookie, key);
    assert_eq!(opened.text, crlf.replace("\r\n", "\n"));
    let edited = opened.text.replacen("\n\n", "\n\nOne more line.\n\n", 1);
    assert_eq!(
        save(server.port, &cookie, key, &opened, &edited).status,
        303
    );
    assert_eq!(copy.read(key), edited.replace('\n', "\r\n"));
}

#[test]
fn a_good_save_is_live_and_a_broken_one_keeps_the_last_good_page() {
    let copy = ContentCopy::new();
    let (server, cookie) = start(&copy);
    let key = "blog/kap-vs-iv-ketamine-clinics.md";
    let page = "/blog/kap-vs-iv-ketamine-clinics";
    let opened = open(server.port, &cookie, key);
    let edited = opened
        .text
        .replacen("\n\n", "\n\nA sentence added in the browser editor.\n\n", 2);
    let saved = save(server.port, &cookie, key, &opened, &edited);
    assert_eq!(saved.status, 303);
    let location = saved.header("location").unwrap().to_string();
    let after = get(server.port, &cookie, &location);
    assert!(
        after.body.contains("Saved. Readers see it now."),
        "{}",
        after.body
    );
    let live = http(server.port, "GET", page, &[], "").unwrap();
    assert!(
        live.body
            .contains("A sentence added in the browser editor.")
    );

    // The front matter broken: saved as typed, not live, and why, by line.
    let opened = open(server.port, &cookie, key);
    let broken = opened.text.replacen("title:", "title: [unclosed", 1);
    let saved = save(server.port, &cookie, key, &opened, &broken);
    assert_eq!(saved.status, 303);
    assert_eq!(
        copy.read(key),
        broken,
        "a file with problems is still saved"
    );
    let after = get(server.port, &cookie, saved.header("location").unwrap());
    assert!(
        after.body.contains("Saved, but not live yet"),
        "{}",
        after.body
    );
    let html = Html::parse_document(&after.body);
    let lines: Vec<String> = html
        .select(&Selector::parse(".editor-not-live a[data-line]").unwrap())
        .map(|a| a.attr("data-line").unwrap().to_string())
        .collect();
    let title_line = broken
        .lines()
        .position(|l| l.starts_with("title:"))
        .unwrap()
        + 1;
    assert!(
        lines.contains(&title_line.to_string()),
        "{lines:?}, title at {title_line}"
    );
    let live = http(server.port, "GET", page, &[], "").unwrap();
    assert_eq!(live.status, 200);
    assert!(
        live.body
            .contains("A sentence added in the browser editor.")
    );
    // The list says so too.
    let list = get(server.port, &cookie, "/admin/content");
    assert!(list.body.contains("error"), "{}", list.body);
}

#[test]
fn a_save_over_a_file_changed_on_disk_is_refused_and_both_versions_are_kept() {
    let copy = ContentCopy::new();
    let (server, cookie) = start(&copy);
    let key = "pages/about.md";
    let opened = open(server.port, &cookie, key);
    let theirs = opened
        .text
        .replacen("\n\n", "\n\nChanged by a push meanwhile.\n\n", 1);
    copy.write(key, &theirs);
    let mine = opened
        .text
        .replacen("\n\n", "\n\nTyped in the browser.\n\n", 1);
    let refused = save(server.port, &cookie, key, &opened, &mine);
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert_eq!(
        copy.read(key),
        theirs,
        "nothing was written over the change"
    );
    let html = Html::parse_document(&refused.body);
    let area = |css: &str| -> String {
        html.select(&Selector::parse(css).unwrap())
            .next()
            .unwrap()
            .text()
            .collect()
    };
    assert_eq!(area("textarea#field-text").replace("\r\n", "\n"), mine);
    assert_eq!(area("textarea#field-theirs"), theirs);
    // Saving again, knowingly, replaces it; their text stays in the history.
    let again = Opened {
        text: mine.clone(),
        version: html
            .select(&Selector::parse("input[name=version]").unwrap())
            .next()
            .unwrap()
            .attr("value")
            .unwrap()
            .to_string(),
        token: opened.token.clone(),
    };
    assert_eq!(save(server.port, &cookie, key, &again, &mine).status, 303);
    assert_eq!(copy.read(key), mine);
    let kept: Vec<String> = std::fs::read_dir(copy.root().join(".content-history").join(key))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert!(kept.contains(&theirs), "the change made elsewhere is kept");
}

#[test]
fn history_in_git_saves_twice_diffs_and_restores_as_three_commits() {
    let copy = ContentCopy::new();
    copy.in_a_git_repository();
    let (server, cookie) = start(&copy);
    let key = "blog/how-ketamine-therapy-rewires-the-brain.md";
    let original = copy.read(key);
    for sentence in ["First addition.", "Second addition."] {
        let opened = open(server.port, &cookie, key);
        let edited = opened
            .text
            .replacen("\n\n", &format!("\n\n{sentence}\n\n"), 1);
        assert_eq!(
            save(server.port, &cookie, key, &opened, &edited).status,
            303
        );
    }
    let history = get(
        server.port,
        &cookie,
        &format!("/admin/content/{key}/history"),
    );
    assert_eq!(history.status, 200);
    let html = Html::parse_document(&history.body);
    let ids: Vec<String> = html
        .select(&Selector::parse("input[name=from]").unwrap())
        .map(|input| input.attr("value").unwrap().to_string())
        .collect();
    // The file now, the two saves, and the commit the test made.
    assert_eq!(ids.len(), 4, "{ids:?}");
    let diff = get(
        server.port,
        &cookie,
        &format!("/admin/content/{key}/history?from={}&to=current", ids[3]),
    );
    let html = Html::parse_document(&diff.body);
    let inserted: Vec<String> = html
        .select(&Selector::parse(".editor-diff ins").unwrap())
        .map(|ins| ins.text().collect())
        .collect();
    assert!(
        inserted.iter().any(|l| l.contains("First addition.")),
        "{inserted:?}"
    );
    assert!(
        inserted.iter().any(|l| l.contains("Second addition.")),
        "{inserted:?}"
    );

    let token = common::process::input_value(&history.body, "token");
    let restored = post(
        server.port,
        &cookie,
        &format!("/admin/content/{key}/restore"),
        &[("version", &ids[3]), ("token", &token)],
    );
    assert_eq!(restored.status, 303, "{}", restored.body);
    assert_eq!(copy.read(key), original);
    let log = git(
        copy.root(),
        &["log", "--format=%s", "--", &format!("content/{key}")],
    );
    let editor_commits: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("browser editor"))
        .collect();
    assert_eq!(editor_commits.len(), 3, "{log}");
    let status = git(copy.root(), &["status", "--porcelain", "--", "content"]);
    assert!(status.trim().is_empty(), "{status}");
}

#[test]
fn a_new_article_starts_as_a_draft_and_a_taken_address_is_refused() {
    let copy = ContentCopy::new();
    let (server, cookie) = start(&copy);
    let list = get(server.port, &cookie, "/admin/content");
    let token = common::process::input_value(&list.body, "token");
    let fields = [
        ("title", "Coming Home After an Intensive"),
        ("token", token.as_str()),
    ];
    let started = post(server.port, &cookie, "/admin/content/new", &fields);
    assert_eq!(started.status, 303, "{}", started.body);
    let location = started.header("location").unwrap();
    assert_eq!(
        location,
        "/admin/content/blog/coming-home-after-an-intensive.md"
    );
    let text = copy.read("blog/coming-home-after-an-intensive.md");
    assert!(text.contains("draft: true"), "{text}");
    assert_eq!(get(server.port, &cookie, location).status, 200);
    // Not live: a draft.
    let page = http(
        server.port,
        "GET",
        "/blog/coming-home-after-an-intensive",
        &[],
        "",
    )
    .unwrap();
    assert_eq!(page.status, 404);

    let again = post(server.port, &cookie, "/admin/content/new", &fields);
    assert_eq!(again.status, 422);
    assert!(
        again
            .body
            .contains("blog/coming-home-after-an-intensive.md already exists"),
        "{}",
        again.body
    );
    let root = copy.root().display().to_string();
    let at = again.body.find(&root);
    assert!(
        at.is_none(),
        "a server path: {}",
        &again.body[at.unwrap_or(0)..]
    );
    assert!(
        again.body.contains("Coming Home After an Intensive"),
        "the title is kept"
    );
}

#[test]
fn the_preview_renders_unsaved_text_through_the_real_templates() {
    let copy = ContentCopy::new();
    let (server, cookie) = start(&copy);
    let key = "blog/finding-an-affair-recovery-therapist.md";
    let opened = open(server.port, &cookie, key);
    let before = copy.read(key);
    let text = opened
        .text
        .replacen("\n\n", "\n\n## A heading only in the preview\n\n", 1);
    let fields = [("text", text.as_str()), ("token", opened.token.as_str())];
    let pane = post(
        server.port,
        &cookie,
        &format!("/admin/content/{key}/preview"),
        &fields,
    );
    assert_eq!(pane.status, 200, "{}", pane.body);
    let html = Html::parse_fragment(&pane.body);
    let frame = html
        .select(&Selector::parse("iframe.editor-frame").unwrap())
        .next()
        .expect("the page in a frame");
    assert_eq!(frame.attr("sandbox"), Some(""), "nothing in it runs");
    let page = Html::parse_document(frame.attr("srcdoc").unwrap());
    let headings: Vec<String> = page
        .select(&Selector::parse("main h2").unwrap())
        .map(|h| h.text().collect())
        .collect();
    assert!(
        headings
            .iter()
            .any(|h| h.starts_with("A heading only in the preview")),
        "{headings:?}"
    );
    assert_eq!(copy.read(key), before, "a preview writes nothing");

    // Without JavaScript: the Preview button posts the form.
    let fields = [
        ("text", text.as_str()),
        ("version", opened.version.as_str()),
        ("token", opened.token.as_str()),
        ("action", "preview"),
    ];
    let page = post(
        server.port,
        &cookie,
        &format!("/admin/content/{key}"),
        &fields,
    );
    assert_eq!(page.status, 200);
    assert!(page.body.contains("A heading only in the preview"));
    assert_eq!(copy.read(key), before);

    // A broken text: its problem by line, and no page.
    let broken = opened.text.replacen(
        "\n---\n\n",
        "\n---\n\n[a link to nowhere](nowhere.md)\n\n",
        1,
    );
    let fields = [("text", broken.as_str()), ("token", opened.token.as_str())];
    let pane = post(
        server.port,
        &cookie,
        &format!("/admin/content/{key}/preview"),
        &fields,
    );
    let html = Html::parse_fragment(&pane.body);
    let problems: Vec<String> = html
        .select(&Selector::parse(".editor-problems li").unwrap())
        .map(|li| li.text().collect())
        .collect();
    let line = broken
        .lines()
        .position(|l| l.contains("nowhere.md"))
        .unwrap()
        + 1;
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with(&format!("Line {line}:")) && p.contains("nowhere")),
        "{problems:?}"
    );
}

#[test]
fn hostile_and_careless_requests_change_nothing() {
    let copy = ContentCopy::new();
    let (server, cookie) = start(&copy);
    let port = server.port;
    let opened = open(port, &cookie, "pages/about.md");
    let fields = |text: &str| {
        vec![
            ("text".to_string(), text.to_string()),
            ("version".to_string(), opened.version.clone()),
            ("token".to_string(), opened.token.clone()),
            ("action".to_string(), "save".to_string()),
        ]
    };
    let body = |text: &str| serde_urlencoded::to_string(fields(text)).unwrap();
    let form = |cookie: &str| {
        vec![
            ("Cookie".to_string(), cookie.to_string()),
            (
                "Content-Type".to_string(),
                "application/x-www-form-urlencoded".to_string(),
            ),
        ]
    };
    let send = |path: &str, cookie: &str, text: &str| {
        let headers = form(cookie);
        let headers: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        http(port, "POST", path, &headers, &body(text)).unwrap()
    };
    let keys = shipped_keys(&copy);
    let snapshot = || {
        keys.iter()
            .map(|key| (key.clone(), copy.read(key)))
            .chain([("site.toml".to_string(), copy.read("site.toml"))])
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    let before = snapshot();
    // Paths outside her Markdown files.
    for path in [
        "/admin/content/blog/..%2Fsite.toml",
        "/admin/content/pages/..%2F..%2Fsite.toml",
        "/admin/content/static/site.md",
        "/admin/content/blog/.hidden.md",
        "/admin/content/blog/notes.txt",
        "/admin/content/..%2Fcontent/about.md",
    ] {
        assert_eq!(get(port, &cookie, path).status, 404, "GET {path}");
        assert_eq!(send(path, &cookie, "x").status, 404, "POST {path}");
    }
    // A new file is started, never saved into being: the text comes back.
    let missing = send("/admin/content/blog/new-file.md", &cookie, "x");
    assert_eq!(missing.status, 409);
    assert!(missing.body.contains("Not saved"), "{}", missing.body);
    assert!(!copy.path("blog/new-file.md").exists());
    // No session, or a session without the form's token.
    assert_eq!(get(port, "", "/admin/content").status, 303);
    assert_eq!(send("/admin/content/pages/about.md", "", "x").status, 403);
    let forged = serde_urlencoded::to_string([
        ("text", "x"),
        ("version", &opened.version),
        ("token", "forged"),
        ("action", "save"),
    ])
    .unwrap();
    let headers = [
        ("Cookie", cookie.as_str()),
        ("Content-Type", "application/x-www-form-urlencoded"),
    ];
    assert_eq!(
        http(
            port,
            "POST",
            "/admin/content/pages/about.md",
            &headers,
            &forged
        )
        .unwrap()
        .status,
        403
    );
    // Each of her forms with a real editor behind it: without a session,
    // with the token of another of her sessions, and with a forged one. The
    // fields would save, start, preview, move, restore and remove if the
    // token were hers.
    let other_session = log_in(port);
    let other_token = open(port, &other_session, "pages/about.md").token;
    let about = "/admin/content/pages/about.md";
    let forms: [(String, Vec<(&str, &str)>); 6] = [
        (
            about.into(),
            vec![
                ("text", "x"),
                ("version", &opened.version),
                ("action", "save"),
            ],
        ),
        (
            "/admin/content/new".into(),
            vec![("title", "A new article")],
        ),
        (format!("{about}/preview"), vec![("text", "x")]),
        (
            format!("{about}/address"),
            vec![("slug", "x"), ("version", &opened.version)],
        ),
        (
            format!("{about}/restore"),
            vec![("version", &opened.version)],
        ),
        (
            "/admin/images/remove".into(),
            vec![("name", "portrait.jpg")],
        ),
    ];
    for (path, fields) in &forms {
        for (who, token) in [
            ("", opened.token.as_str()),
            (cookie.as_str(), other_token.as_str()),
            (cookie.as_str(), "forged"),
        ] {
            let mut sent = fields.clone();
            sent.push(("token", token));
            let reply = post(port, who, path, &sent);
            assert_eq!(
                reply.status,
                403,
                "{path}, session {:?}, token {token:?}",
                !who.is_empty()
            );
        }
    }
    assert!(snapshot() == before, "{:?}", changed(&before, &snapshot()));
    // A text over the limit.
    let huge = "a".repeat(600 * 1024);
    assert_eq!(
        send("/admin/content/pages/about.md", &cookie, &huge).status,
        413
    );
    let oversized = "a".repeat(2 * 1024 * 1024);
    assert_eq!(
        send("/admin/content/pages/about.md", &cookie, &oversized).status,
        413
    );
    assert!(snapshot() == before, "{:?}", changed(&before, &snapshot()));
    // A symbolic link among her files is never opened or written through.
    std::os::unix::fs::symlink(copy.path("site.toml"), copy.path("pages/link.md")).unwrap();
    assert_eq!(
        get(port, &cookie, "/admin/content/pages/link.md").status,
        404
    );
    assert_eq!(
        send("/admin/content/pages/link.md", &cookie, "x").status,
        404
    );
    assert!(snapshot() == before, "{:?}", changed(&before, &snapshot()));
}

fn changed(
    before: &std::collections::BTreeMap<String, String>,
    after: &std::collections::BTreeMap<String, String>,
) -> Vec<String> {
    after
        .iter()
        .filter(|(key, text)| before.get(*key) != Some(*text))
        .map(|(key, _)| key.clone())
        .collect()
}

#[test]
fn a_new_address_for_an_article_keeps_the_old_one_as_an_alias() {
    let copy = ContentCopy::new();
    let (server, cookie) = start(&copy);
    let key = "blog/kap-vs-iv-ketamine-clinics.md";
    let opened = open(server.port, &cookie, key);
    let before = copy.read(key);
    let change = |slug: &str, version: &str| {
        post(
            server.port,
            &cookie,
            &format!("/admin/content/{key}/address"),
            &[
                ("slug", slug),
                ("version", version),
                ("token", &opened.token),
            ],
        )
    };
    // Taken, or not an address: refused, with the reason and her input.
    let taken = change("what-happens-in-a-kap-session", &opened.version);
    assert_eq!(taken.status, 422);
    assert!(taken.body.contains("is taken"), "{}", taken.body);
    let bad = change("Ketamine vs IV!", &opened.version);
    assert_eq!(bad.status, 422);
    assert!(
        bad.body.contains("value=\"Ketamine vs IV!\""),
        "{}",
        bad.body
    );
    assert_eq!(copy.read(key), before);

    let moved = change("ketamine-vs-iv-clinics", &opened.version);
    assert_eq!(moved.status, 303, "{}", moved.body);
    assert_eq!(
        moved.header("location"),
        Some("/admin/content/blog/kap-vs-iv-ketamine-clinics.md?renamed=1")
    );
    assert_eq!(
        copy.read(key),
        before.replacen(
            "\n---\n",
            "\nslug: \"ketamine-vs-iv-clinics\"\naliases: [\"/blog/kap-vs-iv-ketamine-clinics\"]\n---\n",
            1
        ),
        "two lines added, nothing else moved"
    );
    let new = http(server.port, "GET", "/blog/ketamine-vs-iv-clinics", &[], "").unwrap();
    assert_eq!(new.status, 200);
    let old = http(
        server.port,
        "GET",
        "/blog/kap-vs-iv-ketamine-clinics",
        &[],
        "",
    )
    .unwrap();
    assert_eq!(old.status, 301);
    assert_eq!(old.header("location"), Some("/blog/ketamine-vs-iv-clinics"));
    // Links to it from other articles now lead to the new address.
    let linking = http(
        server.port,
        "GET",
        "/blog/ketamine-assisted-psychotherapy-guide",
        &[],
        "",
    )
    .unwrap();
    assert!(
        !linking
            .body
            .contains("href=\"/blog/kap-vs-iv-ketamine-clinics\"")
    );
    // A page's address is not changed here.
    let about = open(server.port, &cookie, "pages/about.md");
    let page = post(
        server.port,
        &cookie,
        "/admin/content/pages/about.md/address",
        &[
            ("slug", "about-me"),
            ("version", &about.version),
            ("token", &about.token),
        ],
    );
    assert_eq!(page.status, 422);
    assert_eq!(copy.read("pages/about.md"), about.text);
}
