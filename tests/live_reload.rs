//! The writing loop: edits are served without a restart, broken edits never
//! reach readers, scheduled articles appear on their day by themselves, and
//! the preview shows drafts and problems.

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use chrono::{DateTime, TimeZone as _, Utc};
use chrono_tz::America::Los_Angeles;
use common::{ContentCopy, get};
use practice_site::live::{Clock, ManualClock, Reloader, SystemClock};

const ARTICLE: &str = "blog/kap-vs-iv-ketamine-clinics.md";
const ARTICLE_URL: &str = "/blog/kap-vs-iv-ketamine-clinics";

fn start(
    copy: &ContentCopy,
    preview: bool,
    clock: Arc<dyn Clock>,
) -> (Arc<Reloader>, axum::Router) {
    let reloader = Reloader::start(copy.sources(), preview, clock).expect("the copy builds");
    let router = common::live_router(&reloader);
    (reloader, router)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reloading_under_concurrent_requests_never_errors_or_mixes_versions() {
    let copy = ContentCopy::new();
    let (reloader, router) = start(&copy, false, Arc::new(SystemClock));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let router = router.clone();
            let stop = Arc::clone(&stop);
            tokio::spawn(async move {
                let mut seen = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let page = get(&router, ARTICLE_URL).await;
                    assert_eq!(page.status, StatusCode::OK);
                    // The version marker is in the title and in the text: a
                    // page from one build has the same one in both places.
                    let in_title = ["(version A)", "(version B)"]
                        .iter()
                        .position(|v| page.body.contains(&format!("Clinics {v}")));
                    let in_text = ["version-a-text", "version-b-text"]
                        .iter()
                        .position(|v| page.body.contains(v));
                    assert_eq!(in_title, in_text, "a page mixed two builds");
                    seen += usize::from(in_title.is_some());
                    tokio::task::yield_now().await;
                }
                seen
            })
        })
        .collect();
    let original = copy.read(ARTICLE);
    for round in 0..10 {
        let (version, marker) = if round % 2 == 0 {
            ("(version A)", "version-a-text")
        } else {
            ("(version B)", "version-b-text")
        };
        let text = original
            .replacen(
                "IV Ketamine Clinics: What’s the Difference?\"",
                &format!("IV Ketamine Clinics {version}\""),
                1,
            )
            .replacen(
                "My personal journey",
                &format!("My personal journey {marker}"),
                1,
            );
        copy.write(ARTICLE, &text);
        let reloader = Arc::clone(&reloader);
        tokio::task::spawn_blocking(move || reloader.rebuild())
            .await
            .unwrap()
            .unwrap();
        // Kept: the readers' turn with this version before the next build;
        // pages read between and during rebuilds are the point.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut seen = 0;
    for reader in readers {
        seen += reader
            .await
            .expect("no reader saw an error or a mixed page");
    }
    assert!(seen > 0, "readers saw rebuilt versions");
}

fn pacific(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Los_Angeles
        .with_ymd_and_hms(y, m, d, h, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

#[tokio::test]
async fn a_scheduled_article_appears_on_its_day_and_an_expiring_one_leaves() {
    let copy = ContentCopy::new();
    copy.write(
        "blog/coming-soon.md",
        "---\ntitle: Coming Soon\ndescription: Appears on its day.\ndate: 2027-03-10\ntags: [kap, ketamine, neuroscience, intensives]\n---\n\nSee [the guide](ketamine-assisted-psychotherapy-guide.md). [Book](../pages/consultation.md)\n",
    );
    copy.write(
        "blog/seasonal.md",
        "---\ntitle: A Seasonal Note\ndescription: Comes down on its day.\ndate: 2026-01-01\nexpires: 2027-03-12\ntags: [kap]\n---\n\nText. [Book](../pages/consultation.md)\n",
    );
    let clock = Arc::new(ManualClock::new(pacific(2027, 3, 9, 23)));
    let (reloader, router) = start(&copy, false, clock.clone());

    let listed = |body: &str, title: &str| body.contains(title);
    assert_eq!(
        get(&router, "/blog/coming-soon").await.status,
        StatusCode::NOT_FOUND
    );
    for path in [
        "/blog",
        "/sitemap.xml",
        "/feed.xml",
        "/blog/ketamine-assisted-psychotherapy-guide",
    ] {
        assert!(
            !listed(&get(&router, path).await.body, "Coming Soon"),
            "{path}"
        );
    }
    assert_eq!(
        reloader.site().current().next_change(),
        Some(pacific(2027, 3, 10, 0))
    );
    assert!(!reloader.rebuild_if_due(), "not yet");

    // Midnight in the practice's time zone: no edit, no restart.
    clock.set(pacific(2027, 3, 10, 0));
    assert!(reloader.rebuild_if_due());
    assert_eq!(
        get(&router, "/blog/coming-soon").await.status,
        StatusCode::OK
    );
    assert!(listed(&get(&router, "/blog").await.body, "Coming Soon"));
    assert!(listed(
        &get(&router, "/sitemap.xml").await.body,
        "/blog/coming-soon"
    ));
    assert!(listed(&get(&router, "/feed.xml").await.body, "Coming Soon"));
    // It shares a tag with the guide, so the guide now lists it as related.
    let guide = get(&router, "/blog/ketamine-assisted-psychotherapy-guide")
        .await
        .body;
    assert!(listed(&guide, "Coming Soon"), "related lists include it");

    assert_eq!(get(&router, "/blog/seasonal").await.status, StatusCode::OK);
    clock.set(pacific(2027, 3, 12, 0));
    assert!(reloader.rebuild_if_due());
    assert_eq!(
        get(&router, "/blog/seasonal").await.status,
        StatusCode::GONE
    );
    assert!(!listed(
        &get(&router, "/blog").await.body,
        "A Seasonal Note"
    ));
    assert!(!listed(
        &get(&router, "/feed.xml").await.body,
        "A Seasonal Note"
    ));
}

#[tokio::test]
async fn drafts_stay_hidden_outside_the_preview_and_show_with_a_badge_in_it() {
    let copy = ContentCopy::new();
    copy.write(
        "blog/half-written.md",
        "---\ntitle: Half Written\ndescription: Not ready.\ndate: 2025-01-01\ndraft: true\ntags: [kap]\n---\n\nSoon. [Book](../pages/consultation.md)\n",
    );
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let (_, live) = start(&copy, false, clock.clone());
    assert_eq!(
        get(&live, "/blog/half-written").await.status,
        StatusCode::NOT_FOUND
    );
    for path in [
        "/blog",
        "/sitemap.xml",
        "/feed.xml",
        "/",
        "/blog/ketamine-assisted-psychotherapy-guide",
    ] {
        assert!(
            !get(&live, path).await.body.contains("Half Written"),
            "{path}"
        );
    }
    let page = get(&live, "/").await;
    assert!(
        !page.body.contains("/_preview/reload.js"),
        "no preview script for readers"
    );
    assert_eq!(
        get(&live, "/_preview/reload.js").await.status,
        StatusCode::NOT_FOUND
    );

    let (_, preview) = start(&copy, true, clock);
    let page = get(&preview, "/blog/half-written").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("class=\"preview-badge\">Draft"),
        "draft badge"
    );
    assert!(get(&preview, "/blog").await.body.contains("Half Written"));
    assert!(
        page.body
            .contains("<script src=\"/_preview/reload.js\" defer></script>")
    );
    let script = get(&preview, "/_preview/reload.js").await;
    assert_eq!(script.status, StatusCode::OK);
    assert!(script.body.contains("EventSource(\"/_preview/events\")"));
}

#[tokio::test]
async fn the_preview_lists_the_problems_on_every_page_until_they_are_fixed() {
    let copy = ContentCopy::new();
    let (reloader, preview) = start(&copy, true, Arc::new(SystemClock));
    copy.edit(
        ARTICLE,
        "[What Happens in a KAP Session?](what-happens-in-a-kap-session.md)",
        "[What Happens in a KAP Session?](what-happens-in-a-kap-sesion.md)",
    );
    assert!(reloader.rebuild().is_err());
    let line = copy.line_of(ARTICLE, "(what-happens-in-a-kap-sesion.md)");
    for path in ["/", "/about", ARTICLE_URL, "/no-such-page"] {
        let page = get(&preview, path).await;
        assert!(page.body.contains("class=\"preview-problems\""), "{path}");
        assert!(
            page.body
                .contains(&format!("kap-vs-iv-ketamine-clinics.md:{line}</code>")),
            "{path}"
        );
        assert!(
            page.body
                .contains("did you mean content/blog/what-happens-in-a-kap-session.md?"),
            "{path}"
        );
    }
    copy.edit(
        ARTICLE,
        "(what-happens-in-a-kap-sesion.md)",
        "(what-happens-in-a-kap-session.md)",
    );
    reloader.rebuild().unwrap();
    assert!(
        !get(&preview, "/about")
            .await
            .body
            .contains("preview-problems")
    );
}

#[tokio::test]
async fn a_preview_starts_even_when_the_content_is_broken() {
    let copy = ContentCopy::new();
    copy.edit(ARTICLE, "date: 2025-10-27", "date: someday");
    assert!(
        Reloader::start(copy.sources(), false, Arc::new(SystemClock)).is_err(),
        "serve refuses"
    );
    let (reloader, preview) = start(&copy, true, Arc::new(SystemClock));
    let page = get(&preview, "/").await;
    assert!(
        page.body.contains("`date: someday` is not a date"),
        "{}",
        page.body
    );
    copy.edit(ARTICLE, "date: someday", "date: 2025-10-27");
    reloader.rebuild().unwrap();
    assert_eq!(get(&preview, "/").await.status, StatusCode::OK);
}

/// Building and checking the site opens and reads every file; the watcher
/// must not take that for an edit, or it wakes itself without end (it once
/// walked the sources about 100 times a second on an idle server).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_watcher_stays_asleep_and_an_edit_wakes_it() {
    let copy = ContentCopy::new();
    let (reloader, router) = start(&copy, false, Arc::new(SystemClock));
    let watching = tokio::spawn(Arc::clone(&reloader).run());
    reloader.until_watching().await;
    // Reading every page, as readers do.
    for path in ["/", ARTICLE_URL, "/blog", "/feed.xml"] {
        assert_eq!(get(&router, path).await.status, StatusCode::OK);
    }
    // A build opens and reads every source file, as `check` does.
    practice_site::site::Site::load(&copy.sources()).unwrap();
    // Kept: a quiet window. That the watcher does not wake within it is what
    // is checked, so there is no event to wait for; a time is the point.
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        reloader.wakeups(),
        0,
        "the watcher woke with nothing edited"
    );

    copy.edit(ARTICLE, "My personal journey", "My own personal journey");
    let mut status = reloader.status();
    tokio::time::timeout(Duration::from_secs(5), status.changed())
        .await
        .expect("the edit is rebuilt")
        .unwrap();
    // The rebuild reads every file again; that must not wake it once more.
    // Kept: a quiet window for such a wake-up to show, as above.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after_edit = reloader.wakeups();
    assert!(
        (1..=2).contains(&after_edit),
        "{after_edit} wake-ups for one edit"
    );
    watching.abort();
}
