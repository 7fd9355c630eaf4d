//! Go-live safety: sample facts are visible and can never go live, the
//! launch check lists everything left (with lines, and a real conversation
//! with a mail server), and a filled-in copy passes it.

mod common;

use std::collections::HashMap;

use common::smtp::SmtpServer;
use common::{ContentCopy, get, router, run_cli, shipped_site};
use practice_site::booking::store::Database;
use practice_site::launch::{self, Report};
use practice_site::site::Site;
use scraper::{Html, Selector};

/// Every HTML page a reader can reach on `site`.
async fn html_pages(site: Site) -> Vec<(String, String)> {
    let paths: Vec<String> = site.page_paths().into_iter().map(String::from).collect();
    let app = router(site);
    let mut pages = Vec::new();
    for path in paths.into_iter().chain(["/consultation".to_string()]) {
        let reply = get(&app, &path).await;
        let is_html = reply
            .headers
            .get("content-type")
            .is_some_and(|t| t.to_str().unwrap().starts_with("text/html"));
        if is_html {
            pages.push((path, reply.body));
        }
    }
    assert!(pages.len() > 10, "{} pages", pages.len());
    pages
}

fn select(html: &str, css: &str) -> Vec<String> {
    let html = Html::parse_document(html);
    html.select(&Selector::parse(css).unwrap())
        .map(|element| element.text().collect::<String>())
        .collect()
}

fn robots_meta(html: &str) -> Vec<String> {
    let html = Html::parse_document(html);
    html.select(&Selector::parse(r#"meta[name="robots"]"#).unwrap())
        .filter_map(|element| element.value().attr("content").map(String::from))
        .collect()
}

#[tokio::test]
async fn every_shipped_page_says_it_is_a_sample_and_keeps_search_engines_away() {
    for (path, body) in html_pages(shipped_site()).await {
        let strip = select(&body, ".sample-bar");
        assert_eq!(strip.len(), 1, "{path} has no sample strip");
        assert!(strip[0].contains("not live"), "{path}: {}", strip[0]);
        assert!(
            robots_meta(&body).iter().any(|c| c.contains("noindex")),
            "{path} is not noindex"
        );
    }
    let robots = get(&router(shipped_site()), "/robots.txt").await.body;
    assert!(robots.lines().any(|line| line == "Disallow: /"), "{robots}");
}

#[tokio::test]
async fn a_filled_in_copy_has_no_strip_and_no_noindex_on_its_public_pages() {
    let copy = ContentCopy::filled_in();
    let site = Site::load(&copy.sources()).unwrap();
    for (path, body) in html_pages(site).await {
        assert!(select(&body, ".sample-bar").is_empty(), "{path}");
        // The booking form and the error pages stay out of search on purpose.
        if path != "/consultation" {
            assert!(robots_meta(&body).is_empty(), "{path} is noindex");
        }
        let license = select(&body, "footer .license");
        assert_eq!(
            license,
            ["Licensed Marriage and Family Therapist, LMFT 98765"],
            "{path}: the licence in the footer"
        );
    }
    let robots = get(&router(Site::load(&copy.sources()).unwrap()), "/robots.txt")
        .await
        .body;
    assert!(
        !robots.lines().any(|line| line == "Disallow: /"),
        "{robots}"
    );
}

#[tokio::test]
async fn the_licence_is_in_the_json_ld_and_on_about() {
    let copy = ContentCopy::filled_in();
    let app = router(Site::load(&copy.sources()).unwrap());
    let about = get(&app, "/about").await.body;
    assert!(
        about.contains("Licensed Marriage and Family Therapist, LMFT 98765"),
        "About shows the licence"
    );
    let json_ld = select(&about, r#"script[type="application/ld+json"]"#).join("");
    let graph: serde_json::Value = serde_json::from_str(&json_ld).unwrap();
    let credential = graph["@graph"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|node| node.get("hasCredential"))
        .expect("a Person with hasCredential");
    assert_eq!(credential["identifier"], "98765");
}

#[tokio::test]
async fn the_notices_page_is_reachable_from_every_page_and_from_the_consultation() {
    for (path, body) in html_pages(shipped_site()).await {
        let html = Html::parse_document(&body);
        let footer_link = html
            .select(&Selector::parse(r#"footer a[href="/notices"]"#).unwrap())
            .count();
        assert_eq!(footer_link, 1, "{path} has no footer link to the notices");
        if path == "/consultation" {
            let in_text = html
                .select(&Selector::parse(r#"main a[href="/notices"]"#).unwrap())
                .count();
            assert!(in_text >= 1, "/consultation links the notices in its text");
        }
    }
    let notices = get(&router(shipped_site()), "/notices").await;
    assert_eq!(notices.status, 200);
    assert!(notices.body.contains("Good Faith Estimate"));
    assert!(notices.body.contains("Board of Behavioral Sciences"));
}

fn env_from(pairs: &[(&str, String)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    move |name| map.get(name).cloned()
}

/// The launch check of `copy` with nothing set in the environment.
async fn check_bare(copy: &ContentCopy) -> Report {
    let database = copy.root().join("practice.db");
    launch::check(
        &copy.sources(),
        &Database::Sqlite(database.clone()),
        env_from(&[]),
    )
    .await
}

fn places(report: &Report) -> Vec<String> {
    report.blockers.iter().map(ToString::to_string).collect()
}

#[tokio::test]
async fn the_launch_check_names_each_sample_fact_at_its_line() {
    let copy = ContentCopy::new();
    let report = check_bare(&copy).await;
    assert!(!report.is_ready());
    let blockers = places(&report);
    let settings = copy.path("site.toml");
    for (needle, words) in [
        ("phone =", "555-01xx"),
        ("email =", "example"),
        ("base_url =", "reserved"),
        ("license_number =", "licence number is empty"),
        ("hours_confirmed =", "not confirmed"),
        ("[fees]", "fees sentence"),
    ] {
        let place = format!(
            "{}:{}: ",
            settings.display(),
            copy.line_of("site.toml", needle)
        );
        assert!(
            blockers
                .iter()
                .any(|b| b.starts_with(&place) && b.contains(words)),
            "{needle} at {place}: {blockers:#?}"
        );
    }
    for variable in ["ADMIN_PASSWORD_HASH", "THERAPIST_EMAIL", "SMTP_URL"] {
        assert!(
            blockers
                .iter()
                .any(|b| b.starts_with(&format!("environment {variable}: "))),
            "{variable}: {blockers:#?}"
        );
    }
}

#[test]
fn the_launch_command_fails_on_the_shipped_content_listing_its_blockers() {
    let copy = ContentCopy::new();
    let database = copy.root().join("practice.db");
    let (ok, stdout, _) = run_cli(
        &copy,
        &[
            "check",
            "--launch",
            "--database",
            database.to_str().unwrap(),
        ],
    );
    assert!(!ok, "check --launch must fail:\n{stdout}");
    assert!(stdout.starts_with("Blockers ("), "{stdout}");
    assert!(stdout.contains("555-01xx"), "{stdout}");
    assert!(stdout.contains("Not ready to launch"), "{stdout}");
}

/// The filled-in copy with everything a deployment sets, and mail at `smtp`.
fn deployment(smtp_url: String) -> Vec<(&'static str, String)> {
    vec![
        (
            "ADMIN_PASSWORD_HASH",
            practice_site::booking::admin::hash_password("a long enough password").unwrap(),
        ),
        (
            "THERAPIST_EMAIL",
            "alicia@alicia-taverner-therapy.com".into(),
        ),
        ("SMTP_URL", smtp_url),
        ("TRUST_PROXY", "1".into()),
    ]
}

#[tokio::test]
async fn a_filled_in_copy_with_working_mail_is_ready_to_launch() {
    let smtp = SmtpServer::start_with_login("site", "right password").await;
    let copy = ContentCopy::filled_in();
    let database = copy.root().join("practice.db");
    let env = deployment(format!(
        "smtp://site:right%20password@127.0.0.1:{}",
        smtp.port
    ));
    let report = launch::check(
        &copy.sources(),
        &Database::Sqlite(database.clone()),
        env_from(&env),
    )
    .await;
    assert!(report.is_ready(), "{report}");
    assert!(smtp.messages().is_empty(), "the check sends nothing");
}

#[tokio::test]
async fn her_calendar_is_fetched_once_and_one_that_cannot_be_read_blocks() {
    let smtp = SmtpServer::start_with_login("site", "right password").await;
    let copy = ContentCopy::filled_in();
    let database = copy.root().join("practice.db");
    let mut env = deployment(format!(
        "smtp://site:right%20password@127.0.0.1:{}",
        smtp.port
    ));
    let report = launch::check(
        &copy.sources(),
        &Database::Sqlite(database.clone()),
        env_from(&env),
    )
    .await;
    assert!(
        report.to_string().contains("BUSY_CALENDAR_URLS: not set"),
        "a warning without one: {report}"
    );

    let calendar = copy.root().join("ehr.ics");
    std::fs::write(
        &calendar,
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nEND:VCALENDAR\r\n",
    )
    .unwrap();
    env.push((
        "BUSY_CALENDAR_URLS",
        format!("file://{}", calendar.display()),
    ));
    let report = launch::check(
        &copy.sources(),
        &Database::Sqlite(database.clone()),
        env_from(&env),
    )
    .await;
    assert!(report.is_ready(), "{report}");
    assert!(
        !report.to_string().contains("BUSY_CALENDAR_URLS"),
        "{report}"
    );

    std::fs::remove_file(&calendar).unwrap();
    let report = launch::check(
        &copy.sources(),
        &Database::Sqlite(database.clone()),
        env_from(&env),
    )
    .await;
    let blockers = places(&report);
    assert_eq!(blockers.len(), 1, "{blockers:#?}");
    assert!(
        blockers[0].starts_with(
            "environment BUSY_CALENDAR_URLS: calendar 1 (a file) could not be read (cannot read it:"
        ),
        "{blockers:#?}"
    );
}

#[tokio::test]
async fn a_wrong_mail_password_is_named_as_a_login_failure() {
    let smtp = SmtpServer::start_with_login("site", "right password").await;
    let copy = ContentCopy::filled_in();
    let database = copy.root().join("practice.db");
    let env = deployment(format!("smtp://site:wrong@127.0.0.1:{}", smtp.port));
    let report = launch::check(
        &copy.sources(),
        &Database::Sqlite(database.clone()),
        env_from(&env),
    )
    .await;
    let blockers = places(&report);
    assert_eq!(blockers.len(), 1, "{blockers:#?}");
    assert!(
        blockers[0].starts_with("environment SMTP_URL: the mail server refused the login"),
        "{blockers:#?}"
    );
    assert!(!blockers[0].contains("wrong"), "no password in the report");
}

#[tokio::test]
async fn a_closed_mail_port_is_named_as_unreachable() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let copy = ContentCopy::filled_in();
    let database = copy.root().join("practice.db");
    let env = deployment(format!("smtp://site:pw@127.0.0.1:{port}"));
    let report = launch::check(
        &copy.sources(),
        &Database::Sqlite(database.clone()),
        env_from(&env),
    )
    .await;
    let blockers = places(&report);
    assert_eq!(blockers.len(), 1, "{blockers:#?}");
    assert!(blockers[0].contains("cannot be reached"), "{blockers:#?}");
}

#[cfg(unix)]
#[tokio::test]
async fn a_database_folder_that_is_not_writable_blocks() {
    use std::os::unix::fs::PermissionsExt as _;
    let copy = ContentCopy::filled_in();
    let folder = copy.root().join("readonly");
    std::fs::create_dir(&folder).unwrap();
    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o555)).unwrap();
    // Root writes anywhere: there, the check has nothing to find.
    let probe = folder.join("probe");
    if std::fs::write(&probe, b"").is_ok() {
        std::fs::remove_file(&probe).unwrap();
        return;
    }
    let report = launch::check(
        &copy.sources(),
        &Database::Sqlite(folder.join("practice.db")),
        env_from(&[]),
    )
    .await;
    assert!(
        places(&report)
            .iter()
            .any(|b| b.starts_with("database ") && b.contains("not writable")),
        "{report}"
    );
}

#[tokio::test]
async fn a_missing_notices_page_and_an_unlinked_one_block() {
    let copy = ContentCopy::filled_in();
    let consultation = copy.read("pages/consultation.md");
    let unlinked = consultation.replace("(notices.md)", "(privacy.md)");
    assert_ne!(consultation, unlinked);
    copy.write("pages/consultation.md", &unlinked);
    let report = check_bare(&copy).await;
    assert!(
        places(&report)
            .iter()
            .any(|b| b
                .contains("consultation.md:1: the consultation page does not link to the notices")),
        "{report}"
    );

    // Gone altogether: the file, the links to it and its published record.
    std::fs::remove_file(copy.path("pages/notices.md")).unwrap();
    copy.edit("pages/privacy.md", "(notices.md)", "(consultation.md)");
    copy.edit("published-urls.txt", "/notices\n", "");
    let report = check_bare(&copy).await;
    assert!(
        places(&report)
            .iter()
            .any(|b| b.contains("notices.md: the notices page is missing")),
        "{report}"
    );
}

/// `serve` and `export` on a real address while samples remain: refused,
/// with the samples listed, and nothing written.
#[test]
fn serve_and_export_refuse_a_real_address_with_sample_facts() {
    let copy = ContentCopy::new();
    copy.edit(
        "site.toml",
        "https://www.example.com",
        "https://www.alicia-taverner-therapy.com",
    );
    let out = copy.root().join("out");
    let (ok, _, stderr) = run_cli(&copy, &["export", out.to_str().unwrap()]);
    assert!(!ok, "export must refuse");
    assert!(
        stderr.contains("is a real address, but sample facts remain"),
        "{stderr}"
    );
    assert!(stderr.contains("555-01xx"), "{stderr}");
    assert!(!out.join("index.html").exists(), "nothing exported");

    let database = copy.root().join("practice.db");
    let (ok, _, stderr) = run_cli(&copy, &["serve", "--database", database.to_str().unwrap()]);
    assert!(!ok, "serve must refuse");
    assert!(stderr.contains("licence number is empty"), "{stderr}");
    assert!(stderr.contains("The site was not started."), "{stderr}");

    // The preview is for writing, and still runs (stopped here at once).
    let site = Site::load_with(
        &copy.sources(),
        practice_site::site::BuildOptions {
            now: chrono::Utc::now(),
            preview: true,
        },
    );
    assert!(
        site.is_ok(),
        "preview builds with samples on a real address"
    );
}

#[tokio::test]
async fn the_sample_confirmation_says_no_one_receives_the_request() {
    use common::booking_app::{JANE, TestApp};
    for (site, sample) in [
        (shipped_site(), true),
        (
            Site::load(&ContentCopy::filled_in().sources()).unwrap(),
            false,
        ),
    ] {
        let app = TestApp::with(site, common::test_secrets()).await;
        let (reply, _) = app.book_as(&JANE, 0).await;
        assert_eq!(reply.status, 303);
        let location = reply.headers["location"].to_str().unwrap().to_string();
        let confirmation = app.get(&location).await.body;
        assert!(confirmation.contains("Your consultation is booked"));
        assert_eq!(
            confirmation.contains("No one will receive this request"),
            sample,
            "sample: {sample}"
        );
    }
}

#[tokio::test]
async fn a_medication_page_nobody_reviewed_blocks_the_launch() {
    let copy = ContentCopy::filled_in();
    let guide = "blog/ketamine-assisted-psychotherapy-guide.md";
    let text = copy.read(guide);
    let unreviewed: String = text
        .lines()
        .filter(|line| !line.starts_with("reviewed:"))
        .map(|line| format!("{line}\n"))
        .collect();
    copy.write(guide, &unreviewed);
    let report = check_bare(&copy).await;
    // One blocker, at the title line, where `reviewed:` goes; and not the
    // same advice again among the warnings.
    let file = copy.path(guide).display().to_string();
    let place = format!("{file}:{}: ", copy.line_of(guide, "title:"));
    let about_the_guide: Vec<String> = places(&report)
        .into_iter()
        .filter(|b| b.starts_with(&file))
        .collect();
    assert_eq!(about_the_guide.len(), 1, "{report}");
    assert!(about_the_guide[0].starts_with(&place), "{report}");
    assert!(
        about_the_guide[0].contains("no `reviewed:` date"),
        "{report}"
    );
    assert!(
        !report
            .warnings
            .iter()
            .any(|w| w.place.starts_with(&file) && w.message.contains("reviewed:")),
        "{report}"
    );
    // The shipped KAP page and guide are not reviewed yet, so they block too.
    let shipped = ContentCopy::new();
    let report = check_bare(&shipped).await;
    for file in [guide, "pages/ketamine-assisted-psychotherapy.md"] {
        let place = format!(
            "{}:{}: ",
            shipped.path(file).display(),
            shipped.line_of(file, "title:")
        );
        assert!(
            places(&report).iter().any(|b| b.starts_with(&place)),
            "{file}: {report}"
        );
    }
}

/// `send-test-email` sends one message through the real settings, now; a
/// refused login is named and nothing is sent.
#[tokio::test]
async fn a_test_email_goes_through_the_mail_settings_or_says_why_not() {
    let smtp = SmtpServer::start_with_login("site", "right password").await;
    let copy = ContentCopy::new();
    let send = |url: String| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_practice-site"));
        command
            .args(["send-test-email", "alicia@example.org", "--config"])
            .arg(copy.path("site.toml"))
            .env("SMTP_URL", url)
            .env("SMTP_FROM", "Website <site@example.org>");
        async move {
            tokio::task::spawn_blocking(move || command.output().unwrap())
                .await
                .unwrap()
        }
    };
    let sent = send(format!(
        "smtp://site:right%20password@127.0.0.1:{}",
        smtp.port
    ))
    .await;
    assert!(
        sent.status.success(),
        "{}",
        String::from_utf8_lossy(&sent.stderr)
    );
    let messages = smtp.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].to, ["alicia@example.org"]);
    assert!(
        messages[0]
            .data
            .contains("Subject: Test email from the practice's website")
    );

    let refused = send(format!("smtp://site:wrong@127.0.0.1:{}", smtp.port)).await;
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("the mail server refused the login"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("wrong"),
        "no password in the message: {stderr}"
    );
    assert_eq!(smtp.messages().len(), 1, "nothing more was sent");
}
