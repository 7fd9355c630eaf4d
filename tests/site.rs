//! The real router over the shipped content: every page, every link.

mod common;

use std::collections::{BTreeSet, HashMap};

use axum::http::{Method, StatusCode, header};
use common::{ContentCopy, get, request, router, shipped_site};
use practice_site::config::SiteConfig;
use practice_site::content::{self, stated_consultation_lengths};
use scraper::{Html, Selector};

fn select(html: &Html, css: &str) -> Vec<String> {
    let selector = Selector::parse(css).unwrap();
    html.select(&selector)
        .map(|e| e.text().collect::<String>().trim().to_string())
        .collect()
}

fn attrs(html: &Html, css: &str, attr: &str) -> Vec<String> {
    let selector = Selector::parse(css).unwrap();
    html.select(&selector)
        .filter_map(|e| e.value().attr(attr).map(str::to_string))
        .collect()
}

fn visible_text(html: &Html) -> String {
    let body = Selector::parse("body").unwrap();
    html.select(&body)
        .flat_map(|e| e.text())
        .collect::<Vec<_>>()
        .join(" ")
}

#[tokio::test]
async fn every_article_and_page_answers_200_with_its_title() {
    let sources = common::shipped_sources();
    let config = SiteConfig::load(&sources.config).unwrap();
    let library = content::load(&sources.content, &config).unwrap();
    let app = router(shipped_site());
    let mut seen = 0;
    for document in library.articles().chain(library.pages()) {
        let reply = get(&app, &document.url).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", document.url);
        assert_eq!(
            reply.headers[header::CONTENT_TYPE],
            "text/html; charset=utf-8"
        );
        let html = Html::parse_document(&reply.body);
        assert_eq!(
            select(&html, "h1"),
            std::slice::from_ref(&document.title),
            "{}",
            document.url
        );
        let title = select(&html, "title").join("");
        assert!(
            title.contains(document.search_title()),
            "{}: {title}",
            document.url
        );
        let canonical = attrs(&html, "link[rel=canonical]", "href");
        assert_eq!(canonical, [config.absolute_url(&document.url)]);
        seen += 1;
    }
    assert_eq!(library.articles().count(), 5, "the five seed articles");
    assert!(seen >= 12, "articles and pages: {seen}");
    assert_eq!(get(&app, "/blog").await.status, StatusCode::OK);
}

#[tokio::test]
async fn every_internal_link_reaches_a_page_and_an_existing_anchor() {
    let site = shipped_site();
    let paths: Vec<String> = site.page_paths().into_iter().map(str::to_string).collect();
    let app = router(site);
    let mut pages: HashMap<String, Html> = HashMap::new();
    for path in &paths {
        pages.insert(
            path.clone(),
            Html::parse_document(&get(&app, path).await.body),
        );
    }
    let mut checked = BTreeSet::new();
    for (from, html) in &pages {
        let links =
            attrs(html, "a[href]", "href")
                .into_iter()
                .chain(attrs(html, "link[href]", "href"));
        for href in links {
            if href.starts_with("http") || href.starts_with("mailto:") || href.starts_with("tel:") {
                continue;
            }
            let (path, anchor) = match href.split_once('#') {
                Some(("", anchor)) => (from.as_str(), Some(anchor)),
                Some((path, anchor)) => (path, Some(anchor)),
                None => (href.as_str(), None),
            };
            assert!(path.starts_with('/'), "{from}: relative link {href}");
            let reply = get(&app, path).await;
            assert_eq!(reply.status, StatusCode::OK, "{from} links to {href}");
            if let Some(anchor) = anchor {
                let target = Html::parse_document(&reply.body);
                let found = attrs(&target, "[id]", "id").iter().any(|id| id == anchor);
                assert!(
                    found,
                    "{from} links to {href}, but {path} has no id {anchor}"
                );
            }
            checked.insert(href);
        }
    }
    // Cross-links between articles are among them, with anchors.
    assert!(
        checked.contains("/blog/kap-vs-iv-ketamine-clinics#what-kap-adds"),
        "{checked:?}"
    );
    assert!(checked.contains("/blog/ketamine-assisted-psychotherapy-guide"));
    assert!(checked.contains("/consultation"));
}

#[tokio::test]
async fn unknown_paths_get_the_404_page() {
    let app = router(shipped_site());
    for path in ["/nope", "/blog/nope", "/static/nope.css", "/a/b/c"] {
        let reply = get(&app, path).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        let html = Html::parse_document(&reply.body);
        assert_eq!(select(&html, "h1"), ["This page isn’t here"], "{path}");
        assert_eq!(attrs(&html, "meta[name=robots]", "content"), ["noindex"]);
        assert!(visible_text(&html).contains("988"));
    }
}

#[tokio::test]
async fn wrong_method_gets_405_and_head_gets_no_body() {
    let app = router(shipped_site());
    let reply = request(&app, Method::POST, "/about").await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(reply.body.contains("988"));
    let allow = reply.headers[header::ALLOW].to_str().unwrap();
    assert!(allow.contains("GET"), "{allow}");

    let head = request(&app, Method::HEAD, "/about").await;
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.body.is_empty());
}

#[tokio::test]
async fn every_page_carries_the_crisis_line_and_the_education_note() {
    let site = shipped_site();
    let paths: Vec<String> = site.page_paths().into_iter().map(str::to_string).collect();
    let app = router(site);
    for path in paths.iter().map(String::as_str).chain(["/missing"]) {
        let html = Html::parse_document(&get(&app, path).await.body);
        let text = visible_text(&html);
        assert!(text.contains("988"), "{path}");
        assert!(text.contains("911"), "{path}");
        assert!(text.contains("education, not medical advice"), "{path}");
        assert!(
            !attrs(&html, "a[href='tel:988']", "href").is_empty(),
            "{path}"
        );
    }
}

#[tokio::test]
async fn no_page_states_a_consultation_length_other_than_the_setting() {
    let site = shipped_site();
    let paths: Vec<String> = site.page_paths().into_iter().map(str::to_string).collect();
    let app = router(site);
    let mut stated = 0;
    for path in &paths {
        let text = visible_text(&Html::parse_document(&get(&app, path).await.body));
        for minutes in stated_consultation_lengths(&text) {
            assert_eq!(minutes, 15, "{path} states a {minutes}-minute consultation");
            stated += 1;
        }
    }
    assert!(
        stated >= paths.len(),
        "every page states the length at least once (the button)"
    );
}

#[tokio::test]
async fn changing_the_one_setting_changes_every_page() {
    let copy = ContentCopy::new();
    copy.edit("site.toml", "minutes = 15", "minutes = 20");
    let site = practice_site::site::Site::load(&copy.sources()).unwrap();
    let paths: Vec<String> = site.page_paths().into_iter().map(str::to_string).collect();
    let app = router(site);
    for path in &paths {
        let text = visible_text(&Html::parse_document(&get(&app, path).await.body));
        let lengths = stated_consultation_lengths(&text);
        assert!(!lengths.is_empty(), "{path}");
        assert!(lengths.iter().all(|&m| m == 20), "{path}: {lengths:?}");
    }
}

#[tokio::test]
async fn articles_show_reading_time_links_and_related_reading() {
    let app = router(shipped_site());
    let guide = Html::parse_document(
        &get(&app, "/blog/ketamine-assisted-psychotherapy-guide")
            .await
            .body,
    );
    assert!(
        !select(&guide, "nav.toc li").is_empty(),
        "the long guide has a table of contents"
    );
    assert!(select(&guide, ".meta").join(" ").contains("min read"));
    assert_eq!(
        select(&guide, ".prose table").len(),
        1,
        "the rebuilt comparison table"
    );
    let linked_from = select(&guide, "#linked-from-heading + ul .article-card-title");
    assert!(
        linked_from
            .iter()
            .any(|t| t.contains("What Really Happens")),
        "the session article links to the guide: {linked_from:?}"
    );
    assert!(!select(&guide, "#related-heading + ul li").is_empty());
    // External links open nothing of ours to the other site.
    for anchor in attrs(&guide, ".prose a[href^='http']", "rel") {
        assert_eq!(anchor, "noopener");
    }
    // Headings have ids and anchor links.
    let ids = attrs(&guide, ".prose h2", "id");
    assert!(ids.len() >= 4);
    assert!(
        attrs(&guide, ".prose h2 a.heading-anchor", "href")
            .iter()
            .all(|h| h.starts_with('#'))
    );
}

#[tokio::test]
async fn hashed_assets_are_immutable_and_pages_use_them() {
    let app = router(shipped_site());
    let home = Html::parse_document(&get(&app, "/").await.body);
    let css = attrs(&home, "link[rel=stylesheet]", "href");
    assert_eq!(css.len(), 1);
    assert!(css[0].starts_with("/static/css/site.") && css[0].len() > "/static/css/site.css".len());
    let reply = get(&app, &css[0]).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.headers[header::CONTENT_TYPE],
        "text/css; charset=utf-8"
    );
    assert!(
        reply.headers[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    assert_eq!(reply.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
}

#[tokio::test]
async fn pages_are_plain_html_with_no_scripts_or_third_party_requests() {
    let site = shipped_site();
    let paths: Vec<String> = site.page_paths().into_iter().map(str::to_string).collect();
    let app = router(site);
    for path in &paths {
        let reply = get(&app, path).await;
        assert!(reply.headers.get(header::SET_COOKIE).is_none(), "{path}");
        let html = Html::parse_document(&reply.body);
        // At most the site's own local-time script, beside offered times.
        for src in attrs(&html, "script", "src") {
            assert!(common::is_the_local_time_script(&src), "{path}: {src}");
        }
        // Otherwise only JSON-LD data blocks, which browsers never execute.
        let scripts = attrs(&html, "script:not([src])", "type");
        assert_eq!(
            select(&html, "script:not([src])").len(),
            scripts.len(),
            "{path}"
        );
        assert!(scripts.iter().all(|t| t == "application/ld+json"), "{path}");
        let loaded = attrs(&html, "[src]", "src").into_iter().chain(attrs(
            &html,
            "link[href]:not([rel=canonical])",
            "href",
        ));
        for src in loaded {
            assert!(
                src.starts_with('/') && !src.starts_with("//"),
                "{path}: {src}"
            );
        }
    }
}

#[tokio::test]
async fn aliases_redirect_permanently_and_drafts_stay_hidden() {
    let copy = ContentCopy::new();
    copy.edit(
        "blog/ketamine-assisted-psychotherapy-guide.md",
        "cta: kap",
        "cta: kap\naliases: [/blog/kap-guide/, \"https://www.example.com/kap\"]",
    );
    copy.write(
        "blog/unfinished.md",
        "---\ntitle: Unfinished Thoughts\ndescription: Not ready.\ndate: 2025-01-01\ndraft: true\n---\n\nSoon.\n",
    );
    let app = router(practice_site::site::Site::load(&copy.sources()).unwrap());
    for old in ["/blog/kap-guide", "/kap"] {
        let reply = get(&app, old).await;
        assert_eq!(reply.status, StatusCode::MOVED_PERMANENTLY, "{old}");
        assert_eq!(
            reply.headers[header::LOCATION],
            "/blog/ketamine-assisted-psychotherapy-guide"
        );
    }
    assert_eq!(
        get(&app, "/blog/unfinished").await.status,
        StatusCode::NOT_FOUND
    );
    assert!(
        !get(&app, "/blog")
            .await
            .body
            .contains("Unfinished Thoughts")
    );
}

#[tokio::test]
async fn every_response_carries_the_security_headers_and_no_cookie() {
    let app = router(shipped_site());
    for path in [
        "/",
        "/blog/kap-vs-iv-ketamine-clinics",
        "/nope",
        "/feed.xml",
        "/static/favicon.svg",
    ] {
        let reply = get(&app, path).await;
        let csp = reply.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap();
        assert!(csp.contains("default-src 'self'"), "{path}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}");
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
            "{path}"
        );
        assert_eq!(reply.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(reply.headers[header::REFERRER_POLICY], "same-origin");
        assert!(reply.headers.contains_key("permissions-policy"));
        assert_eq!(reply.headers[header::X_FRAME_OPTIONS], "DENY", "{path}");
        // Nothing says what runs the site, and no other origin may read it.
        for name in ["server", "x-powered-by", "access-control-allow-origin"] {
            assert!(reply.headers.get(name).is_none(), "{path}: {name}");
        }
        assert!(reply.headers.get(header::SET_COOKIE).is_none(), "{path}");
        assert!(
            reply
                .headers
                .get(header::STRICT_TRANSPORT_SECURITY)
                .is_none(),
            "not over plain http"
        );
    }
    let over_https = common::get_with(&app, "/", &[("x-forwarded-proto", "https")]).await;
    assert!(
        over_https.headers[header::STRICT_TRANSPORT_SECURITY]
            .to_str()
            .unwrap()
            .starts_with("max-age=")
    );
}

/// The server answers prepared pages before routing (`PreparedFirst`), with
/// the same function the router's fallback calls; this holds the router's
/// layers (trace, security headers, error pages, limits) to leaving such an
/// answer alone: for every path the site prepared, with and without
/// compression, conditional and HEAD requests, byte for byte.
#[tokio::test]
async fn prepared_pages_are_answered_exactly_as_the_router_answers_them() {
    use practice_site::{AppState, PreparedFirst, app};

    let site = shipped_site();
    // Every prepared path but those the router renders per request.
    let paths: Vec<String> = site
        .resources()
        .iter()
        .filter(|(_, resource)| !resource.stand_in)
        .map(|(p, _)| p.to_string())
        .collect();
    let guide_etag = site
        .get("/blog/ketamine-assisted-psychotherapy-guide")
        .unwrap()
        .identity
        .etag
        .to_str()
        .unwrap()
        .to_string();
    let booking = common::test_booking(site.config().unwrap());
    let state = AppState::new(site, booking);
    let router = app(state.clone());
    let prepared = PreparedFirst::new(state);
    let mut compared = 0;
    for path in paths
        .iter()
        .map(String::as_str)
        // Answers that are not prepared pages: a redirect and a 404.
        .chain(["/About/", "/nope"])
    {
        for method in [Method::GET, Method::HEAD] {
            for headers in [
                vec![],
                vec![("accept-encoding", "gzip, br")],
                vec![("accept-encoding", "gzip")],
                vec![("if-none-match", guide_etag.as_str())],
                vec![("x-forwarded-proto", "https")],
            ] {
                let request = || common::bare(method.clone(), path, &headers);
                let expected = common::send(&router, request()).await;
                let got = common::send(&prepared, request()).await;
                let what = format!("{method} {path} {headers:?}");
                assert_eq!(got.status, expected.status, "{what}");
                let mut expected_headers = expected.headers.clone();
                let mut got_headers = got.headers.clone();
                // The order of headers is not part of an answer.
                expected_headers.remove(header::DATE);
                got_headers.remove(header::DATE);
                let sorted = |h: &axum::http::HeaderMap| {
                    let mut all: Vec<(String, String)> = h
                        .iter()
                        .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_string()))
                        .collect();
                    all.sort();
                    all
                };
                assert_eq!(sorted(&got_headers), sorted(&expected_headers), "{what}");
                assert!(got.bytes == expected.bytes, "{what}: the bodies differ");
                compared += 1;
            }
        }
    }
    assert!(compared > 100, "{compared} answers compared");
}
