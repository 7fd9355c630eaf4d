//! What a reader's browser is asked to do, checked without a browser: every
//! page loads only from this site, an article and its stylesheet fit in the
//! first round trip, nothing blocks rendering but that one stylesheet, and
//! the page says what a reader came for (the home page's facts, the call to
//! action that fits each article).

mod common;

use axum::http::{HeaderMap, Method, StatusCode, header};
use common::booking_app::{JANE, TestApp, attr, text};
use common::{ContentCopy, Reply, router, shipped_site};
use practice_site::config::SiteConfig;
use practice_site::content;
use scraper::{Html, Selector};

/// A TCP connection's first flight: an initial congestion window of 10
/// segments (RFC 6928) of about 1,460 bytes. Counted as 14 KiB, the usual
/// budget, with the response headers included.
const FIRST_ROUND_TRIP: usize = 14 * 1024;

/// Bytes on the wire, near enough: the status line, every header, the body.
fn wire_bytes(reply: &Reply) -> usize {
    let head: usize = reply
        .headers
        .iter()
        .map(|(name, value)| name.as_str().len() + 2 + value.len() + 2)
        .sum();
    "HTTP/1.1 200 OK\r\n".len() + head + 2 + reply.bytes.len()
}

/// `path` as a client that accepts `encoding` gets it.
async fn fetch(app: &axum::Router, path: &str, encoding: &str) -> Reply {
    common::get_with(app, path, &[("accept-encoding", encoding)]).await
}

/// The page up to the start of its second `<h2>` section (all of it when
/// it has fewer): the head, the header, the title and the opening.
fn first_screen(html: &str) -> &str {
    let second = html
        .match_indices("<h2")
        .filter(|(at, _)| html[..*at].contains("<main"))
        .nth(1);
    second.map_or(html, |(at, _)| &html[..at])
}

/// The size of `text` compressed as the server's gzip would roughly send it.
fn gzip_len(text: &str) -> usize {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(text.as_bytes()).unwrap();
    encoder.finish().unwrap().len()
}

fn stylesheets(html: &Html) -> Vec<String> {
    attr(html, "link[rel~=stylesheet]", "href")
}

#[tokio::test]
async fn every_page_and_its_stylesheet_reach_a_reader_in_the_first_round_trip() {
    let site = shipped_site();
    let mut paths: Vec<String> = site
        .page_paths()
        .into_iter()
        .filter(|p| p.starts_with("/blog/"))
        .map(str::to_string)
        .collect();
    assert!(paths.len() >= 5, "the shipped articles: {paths:?}");
    // The pages a reader lands on first are held to the same budget.
    paths.extend(["/", "/blog", "/about"].map(str::to_string));
    let app = router(site);
    let mut report = Vec::new();
    for path in &paths {
        let plain = fetch(&app, path, "identity").await;
        assert_eq!(plain.status, StatusCode::OK, "{path}");
        let plain_text = plain.body.clone();
        let css = stylesheets(&Html::parse_document(&plain_text));
        assert_eq!(
            css.len(),
            1,
            "{path} must need exactly one stylesheet, the site's own: {css:?}"
        );
        assert!(css[0].starts_with("/static/css/site."), "{path}: {css:?}");
        for encoding in ["br", "gzip"] {
            let page = fetch(&app, path, encoding).await;
            let sheet = fetch(&app, &css[0], encoding).await;
            for (what, reply) in [("page", &page), ("stylesheet", &sheet)] {
                assert_eq!(
                    reply.headers[header::CONTENT_ENCODING],
                    encoding,
                    "{path}: the {what} must be sent compressed"
                );
            }
            let total = wire_bytes(&page) + wire_bytes(&sheet);
            report.push(format!(
                "{path} {encoding}: html {} + css {} bytes, {total} with headers",
                page.bytes.len(),
                sheet.bytes.len()
            ));
            // Every browser asks for brotli over https: the whole page and
            // its stylesheet arrive in the first round trip.
            if encoding == "br" {
                assert!(
                    total < FIRST_ROUND_TRIP,
                    "{path} over {encoding}: {total} bytes (html {}, css {}) do not fit in one round trip of {FIRST_ROUND_TRIP}",
                    page.bytes.len(),
                    sheet.bytes.len()
                );
            }
            // Over either encoding, what a reader sees first (the head, the
            // title and the article up to its second section) does, even in
            // the longest article; the rest streams in while they read.
            let first = wire_bytes(&page) - page.bytes.len()
                + gzip_len(first_screen(&plain_text))
                + wire_bytes(&sheet);
            assert!(
                first < FIRST_ROUND_TRIP,
                "{path} over {encoding}: its first screen and stylesheet take {first} bytes, over one round trip of {FIRST_ROUND_TRIP}"
            );
        }
    }
    eprintln!("{}", report.join("\n"));
}

#[tokio::test]
async fn only_the_booking_and_admin_pages_load_the_form_styles() {
    let test = TestApp::new().await;
    let forms = |body: &str| {
        stylesheets(&Html::parse_document(body))
            .iter()
            .any(|href| href.starts_with("/static/css/forms."))
    };
    for path in ["/consultation", "/admin/login"] {
        let page = test.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(forms(&page.body), "{path} needs the form styles");
    }
    for path in [
        "/",
        "/blog",
        "/blog/ketamine-assisted-psychotherapy-guide",
        "/about",
    ] {
        assert!(!forms(&test.get(path).await.body), "{path}");
    }
}

/// Every page a reader or the therapist can reach, with its HTML: the
/// pre-rendered ones, an error page, and those rendered per request.
async fn every_page() -> Vec<(String, HeaderMap, String)> {
    let test = TestApp::new().await;
    let site = shipped_site();
    let mut paths: Vec<String> = site.page_paths().into_iter().map(str::to_string).collect();
    paths.extend(
        ["/no-such-page", "/consultation", "/admin/login"]
            .iter()
            .map(|p| p.to_string()),
    );
    let mut pages = Vec::new();
    for path in paths {
        let reply = test.get(&path).await;
        pages.push((path, reply.headers, reply.body));
    }
    // A client's private page and its change form, after a real booking.
    let (booked, _) = test.book_as(&JANE, 0).await;
    assert_eq!(booked.status, 303, "{}", booked.body);
    let manage = booked.headers[header::LOCATION].to_str().unwrap();
    let manage = manage.split('?').next().unwrap().to_string();
    for path in [manage.clone(), format!("{manage}/change")] {
        let reply = test.get(&path).await;
        assert_eq!(reply.status, 200, "{path}");
        pages.push((path, reply.headers, reply.body));
    }
    // The therapist's pages.
    let cookie = test.login().await;
    let times = test
        .get_with_cookie("/admin/times", Some(&cookie))
        .await
        .body;
    let by_phone = Html::parse_document(&times)
        .select(&Selector::parse("a[href^='/admin/times/book']").unwrap())
        .next()
        .and_then(|a| a.value().attr("href").map(str::to_string))
        .expect("a time she can enter a phone consultation at");
    for path in [
        "/admin",
        "/admin/times",
        "/admin/consultations/1",
        &by_phone,
    ] {
        let reply = test.get_with_cookie(path, Some(&cookie)).await;
        assert_eq!(reply.status, 200, "{path}");
        pages.push((path.to_string(), reply.headers, reply.body));
    }
    pages
}

/// A URL the browser fetches from this site and no other.
fn from_this_site(url: &str) -> bool {
    url.starts_with('/') && !url.starts_with("//") && !url.contains('\\')
}

#[tokio::test]
async fn no_page_asks_the_browser_for_anything_from_another_site() {
    let pages = every_page().await;
    assert!(pages.len() > 15, "{} pages", pages.len());
    let mut stylesheet_urls = std::collections::BTreeSet::new();
    for (path, headers, body) in &pages {
        assert!(headers.get(header::SET_COOKIE).is_none(), "{path}");
        let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(
            csp.contains("default-src 'self'") && !csp.contains("unsafe-"),
            "{path}: {csp}"
        );
        let html = Html::parse_document(body);
        let mut fetched = Vec::new();
        // Everything a browser loads by itself: images (a tracking pixel is
        // one), scripts, frames, media, stylesheets, icons, preloads.
        for (selector, name) in [
            ("[src]", "src"),
            ("[poster]", "poster"),
            ("object[data]", "data"),
            ("[background]", "background"),
            ("link[href]:not([rel=canonical])", "href"),
            ("form[action]", "action"),
            ("[formaction]", "formaction"),
        ] {
            fetched.extend(attr(&html, selector, name));
        }
        for srcset in attr(&html, "[srcset]", "srcset") {
            fetched.extend(
                srcset.split(',').filter_map(|candidate| {
                    candidate.split_whitespace().next().map(str::to_string)
                }),
            );
        }
        for url in &fetched {
            assert!(
                from_this_site(url),
                "{path} asks the browser for {url}, which is not on this site"
            );
        }
        let none_of = [
            ("iframe, frame, embed, object, portal", "embeds"),
            ("[style], style", "inline styles (the CSP forbids them)"),
            ("[ping]", "pings"),
            ("meta[http-equiv]", "http-equiv headers"),
            ("base", "a base URL"),
        ];
        for (selector, what) in none_of {
            assert!(
                html.select(&Selector::parse(selector).unwrap())
                    .next()
                    .is_none(),
                "{path} has {what}"
            );
        }
        // Only JSON-LD data blocks, which browsers never run, and the
        // site's own local-time script beside the times it offers.
        for src in attr(&html, "script", "src") {
            assert!(common::is_the_local_time_script(&src), "{path} loads {src}");
            assert!(
                body.contains("data-practice-zone"),
                "{path} offers no times"
            );
        }
        for kind in attr(&html, "script:not([src])", "type") {
            assert_eq!(kind, "application/ld+json", "{path}");
        }
        assert_eq!(
            html.select(&Selector::parse("script:not([src])").unwrap())
                .count(),
            attr(&html, "script:not([src])", "type").len(),
            "{path} has an inline script without a type"
        );
        stylesheet_urls.extend(stylesheets(&html));
    }
    // The stylesheets themselves import nothing, load no font and no image.
    let app = router(shipped_site());
    assert_eq!(stylesheet_urls.len(), 2, "{stylesheet_urls:?}");
    for url in &stylesheet_urls {
        let css = fetch(&app, url, "identity").await.body;
        for needle in ["@import", "url(", "@font-face", "//"] {
            let code = strip_css_comments(&css);
            assert!(!code.contains(needle), "{url} contains {needle}");
        }
    }
}

fn strip_css_comments(css: &str) -> String {
    let mut out = String::new();
    let mut rest = css;
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        rest = rest[start..]
            .find("*/")
            .map_or("", |end| &rest[start + end + 2..]);
    }
    out.push_str(rest);
    out
}

#[tokio::test]
async fn the_home_page_says_who_what_where_and_how_to_begin() {
    let app = router(shipped_site());
    let home = Html::parse_document(&common::get(&app, "/").await.body);
    let main = text(&home, "main").join(" ");
    for fact in [
        "Alicia Taverner",
        "LMFT",
        "Ketamine-Assisted Psychotherapy",
        "individual and couples intensives",
        "Affair Recovery",
        "Rancho Cucamonga, California",
    ] {
        assert!(
            main.to_lowercase().contains(&fact.to_lowercase()),
            "the home page's main text does not say {fact:?}"
        );
    }
    let h1 = text(&home, "h1");
    assert_eq!(h1.len(), 1);
    let featured = attr(&home, ".featured .article-card a", "href");
    assert!(featured.len() >= 3, "{featured:?}");
    assert!(featured.iter().all(|href| href.starts_with("/blog/")));
    // The consultation is offered first in the hero and again at the end.
    assert!(attr(&home, ".hero a.button", "href") == ["/consultation"]);
    assert!(attr(&home, "main > .cta a.button", "href") == ["/consultation"]);
}

#[tokio::test]
async fn each_article_ends_with_the_call_to_action_of_its_topic() {
    let sources = common::shipped_sources();
    let config = SiteConfig::load(&sources.config).unwrap();
    let library = content::load(&sources.content, &config).unwrap();
    let app = router(shipped_site());
    let heading_of = |name: &str| config.calls_to_action[name].heading.clone();
    let mut seen = Vec::new();
    for article in library.articles().filter(|a| a.is_published()) {
        let page = Html::parse_document(&common::get(&app, &article.url).await.body);
        let cta = text(&page, "main > .cta h2");
        assert_eq!(
            cta,
            [heading_of(&article.call_to_action)],
            "{}",
            article.url
        );
        // It follows the article at once, before any further reading.
        let blocks: Vec<String> = page
            .select(&Selector::parse("main > *").unwrap())
            .map(|e| {
                let class = e.value().attr("class").unwrap_or_default();
                format!("{}.{class}", e.value().name())
            })
            .collect();
        assert_eq!(
            blocks[..2],
            ["article.article", "aside.cta"],
            "{}",
            article.url
        );
        // The further reading names each article once.
        let further = text(&page, ".more-reading .article-card-title");
        let unique: std::collections::BTreeSet<_> = further.iter().collect();
        assert_eq!(unique.len(), further.len(), "{}: {further:?}", article.url);
        seen.push((article.url.clone(), cta[0].clone()));
    }
    // The topics the practice writes about get their own wording.
    let expect = [
        (
            "/blog/finding-an-affair-recovery-therapist",
            heading_of("intensives"),
        ),
        (
            "/blog/ketamine-assisted-psychotherapy-guide",
            heading_of("kap"),
        ),
        ("/blog/kap-vs-iv-ketamine-clinics", heading_of("kap")),
    ];
    for (url, heading) in expect {
        assert!(
            seen.contains(&(url.to_string(), heading)),
            "{url}: {seen:?}"
        );
    }
    assert!(heading_of("kap").contains("KAP"));
    assert!(heading_of("intensives").contains("intensive"));

    // An article that names none gets the general one.
    let copy = ContentCopy::new();
    copy.edit("blog/kap-vs-iv-ketamine-clinics.md", "cta: kap\n", "");
    let app = router(practice_site::site::Site::load(&copy.sources()).unwrap());
    let page = Html::parse_document(
        &common::get(&app, "/blog/kap-vs-iv-ketamine-clinics")
            .await
            .body,
    );
    assert_eq!(text(&page, "main > .cta h2"), [heading_of("general")]);
}

#[tokio::test]
async fn every_table_names_its_columns() {
    // An empty header cell leaves a screen reader with nothing to announce
    // for its column (axe: empty-table-header).
    let site = shipped_site();
    let paths: Vec<String> = site.page_paths().into_iter().map(str::to_string).collect();
    let app = router(site);
    let mut tables = 0;
    for path in &paths {
        let page = Html::parse_document(&common::get(&app, path).await.body);
        tables += text(&page, "table").len();
        for header in text(&page, "th") {
            assert!(!header.is_empty(), "{path} has a table header without text");
        }
    }
    assert!(tables > 0, "the guide's comparison table");
}

/// The page with the booking form's token cut out: it is new on every render.
fn without_token(html: &str) -> String {
    let marker = "name=\"token\" value=\"";
    match html.split_once(marker) {
        Some((before, after)) => {
            let rest = after.split_once('"').map_or("", |(_, rest)| rest);
            format!("{before}{marker}{rest}")
        }
        None => html.to_string(),
    }
}

fn decode(encoding: &str, body: &[u8]) -> String {
    use std::io::Read as _;
    let mut out = String::new();
    match encoding {
        "br" => brotli::Decompressor::new(body, 4096)
            .read_to_string(&mut out)
            .unwrap(),
        "gzip" => flate2::read::GzDecoder::new(body)
            .read_to_string(&mut out)
            .unwrap(),
        other => panic!("{other}"),
    };
    out
}

#[tokio::test]
async fn the_booking_pages_are_sent_compressed_and_fit_the_first_round_trip() {
    let test = TestApp::new().await;
    let (booked, _) = test.book_as(&JANE, 0).await;
    assert_eq!(booked.status, 303, "{}", booked.body);
    let manage = booked.headers[header::LOCATION].to_str().unwrap();
    let manage = manage.split('?').next().unwrap().to_string();
    let mut report = Vec::new();
    for path in ["/consultation".to_string(), manage.clone()] {
        let plain = fetch(&test.router, &path, "identity").await;
        assert_eq!(plain.status, StatusCode::OK, "{path}");
        assert!(plain.headers.get(header::CONTENT_ENCODING).is_none());
        assert_eq!(plain.headers[header::VARY], "accept-encoding", "{path}");
        let plain_text = plain.body.clone();
        let css = stylesheets(&Html::parse_document(&plain_text));
        assert_eq!(
            css.len(),
            2,
            "{path}: the site's and the form styles: {css:?}"
        );
        // A browser's own header (gzip: it is cheaper to make per request),
        // and a client that takes only brotli.
        for (accept, encoding) in [("gzip, deflate, br, zstd", "gzip"), ("gzip;q=0, br", "br")] {
            let page = fetch(&test.router, &path, accept).await;
            assert_eq!(page.status, StatusCode::OK, "{path}");
            assert_eq!(
                page.headers[header::CONTENT_ENCODING],
                encoding,
                "{path} asked with {accept}"
            );
            assert_eq!(page.headers[header::VARY], "accept-encoding", "{path}");
            assert_eq!(
                without_token(&decode(encoding, &page.bytes)),
                without_token(&plain.body),
                "{path} over {encoding} is the same page"
            );
            let mut total = wire_bytes(&page);
            for sheet in &css {
                total += wire_bytes(&fetch(&test.router, sheet, encoding).await);
            }
            report.push(format!(
                "{path} {encoding}: html {} of {} bytes, {total} with the stylesheets and headers",
                page.bytes.len(),
                plain.bytes.len()
            ));
            assert!(
                total < FIRST_ROUND_TRIP,
                "{path} over {encoding}: {total} bytes with its stylesheets do not fit in one round trip"
            );
        }
    }
    eprintln!("{}", report.join("\n"));
    // The therapist's pages stay uncompressed (see routes/compress.rs).
    let cookie = test.login().await;
    let headers = [("cookie", cookie.as_str()), ("accept-encoding", "br, gzip")];
    let dashboard = test
        .send(common::bare(Method::GET, "/admin", &headers))
        .await;
    assert_eq!(dashboard.status, 200);
    assert!(dashboard.headers.get(header::CONTENT_ENCODING).is_none());
}
