//! Editing a file while the server runs: the edit is served within a second,
//! a broken edit never reaches readers, and the fix does. Its own test binary,
//! so no other test competes with it for the machine while it is timed.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use common::{ContentCopy, get};
use practice_site::live::{Reloader, SystemClock};

const ARTICLE: &str = "blog/kap-vs-iv-ketamine-clinics.md";
const ARTICLE_URL: &str = "/blog/kap-vs-iv-ketamine-clinics";

/// Polls `path` until its body satisfies `done`, or the deadline passes.
async fn wait_for(
    router: &axum::Router,
    path: &str,
    within: Duration,
    done: impl Fn(&str) -> bool,
) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < within {
        if done(&get(router, path).await.body) {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_is_served_within_a_second_and_a_broken_one_never_is() {
    let copy = ContentCopy::new();
    let reloader = Reloader::start(copy.sources(), false, Arc::new(SystemClock)).unwrap();
    let router = common::live_router(&reloader);
    let watching = tokio::spawn(Arc::clone(&reloader).run());
    // Edit only once the watcher is listening.
    reloader.until_watching().await;

    copy.edit(ARTICLE, "My personal journey", "My own personal journey");
    let took = wait_for(&router, ARTICLE_URL, Duration::from_secs(1), |body| {
        body.contains("My own personal journey")
    })
    .await;
    assert!(took.is_some(), "the edit was not served within a second");

    // A broken edit: the last good page keeps serving and the problem is reported.
    let mut status = reloader.status();
    copy.edit(ARTICLE, "title:", "titel:");
    let reported = tokio::time::timeout(
        Duration::from_secs(5),
        status.wait_for(|s| {
            s.problems
                .as_ref()
                .is_some_and(|p| p.to_string().contains("titel"))
        }),
    )
    .await;
    let problems = reported
        .expect("the broken edit is reported")
        .unwrap()
        .problems
        .clone()
        .unwrap();
    let report = problems.to_string();
    let line = copy.line_of(ARTICLE, "titel:");
    assert!(
        report.contains(&format!(
            "{}:{line}: unknown field `titel`; did you mean `title`?",
            copy.path(ARTICLE).display()
        )),
        "{report}"
    );
    let page = get(&router, ARTICLE_URL).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("My own personal journey"),
        "the last good page keeps serving"
    );

    // The fix brings the new page in.
    copy.edit(ARTICLE, "titel:", "title:");
    copy.edit(
        ARTICLE,
        "My own personal journey",
        "My fixed personal journey",
    );
    let took = wait_for(&router, ARTICLE_URL, Duration::from_secs(5), |body| {
        body.contains("My fixed personal journey")
    })
    .await;
    assert!(took.is_some(), "the fixed page was not served");
    assert!(reloader.status().borrow().problems.is_none());
    watching.abort();
}
