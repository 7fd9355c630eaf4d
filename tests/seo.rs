//! What search engines and caches see: sitemap, feed, structured data,
//! canonical addresses, status codes, conditional requests and encodings.

mod common;

use std::collections::BTreeSet;
use std::io::Read as _;

use axum::http::{Method, StatusCode, header};
use common::{ContentCopy, Reply, get, get_with, request, router, shipped_site};
use practice_site::config::SiteConfig;
use practice_site::content;
use practice_site::site::{Site, feeds};
use scraper::{Html, Selector};

const BASE: &str = "https://www.example.com";

fn xml_values(xml: &str, tag: &str) -> Vec<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    xml.split(&open)
        .skip(1)
        .map(|rest| rest.split(&close).next().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn the_sitemap_lists_exactly_the_public_pages_with_their_dates() {
    let sources = common::shipped_sources();
    let config = SiteConfig::load(&sources.config).unwrap();
    let library = content::load(&sources.content, &config).unwrap();
    let site = shipped_site();
    let expected: BTreeSet<String> = site
        .page_paths()
        .iter()
        .map(|p| format!("{BASE}{p}"))
        .collect();
    let app = router(site);
    let reply = get(&app, "/sitemap.xml").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.headers[header::CONTENT_TYPE],
        "application/xml; charset=utf-8"
    );
    let locs: Vec<String> = xml_values(&reply.body, "loc");
    let listed: BTreeSet<String> = locs.iter().cloned().collect();
    assert_eq!(listed.len(), locs.len(), "every page once");
    assert_eq!(listed, expected);
    for article in library.articles() {
        let url = format!("{BASE}{}", article.url);
        let entry = reply
            .body
            .split("<url>")
            .find(|u| u.contains(&format!("<loc>{url}</loc>")))
            .unwrap();
        let lastmod = article.last_modified().unwrap().to_string();
        assert!(
            entry.contains(&format!("<lastmod>{lastmod}</lastmod>")),
            "{url}: {entry}"
        );
    }
    // The blog's date is its newest article's, never the build time.
    let newest = library
        .articles()
        .filter_map(|a| a.last_modified())
        .max()
        .unwrap();
    let blog = reply
        .body
        .split("<url>")
        .find(|u| u.contains(&format!("<loc>{BASE}/blog</loc>")))
        .unwrap();
    assert!(blog.contains(&format!("<lastmod>{newest}</lastmod>")));
    let today = chrono::Utc::now().date_naive().to_string();
    assert!(newest.to_string() == today || !reply.body.contains(&today));
}

#[tokio::test]
async fn robots_names_the_sitemap() {
    // The shipped samples keep every crawler out (tests/launch.rs); a
    // practice with its real facts names the sitemap and hides only the
    // private pages.
    let copy = common::ContentCopy::with_real_facts();
    let app = router(practice_site::site::Site::load(&copy.sources()).unwrap());
    let reply = get(&app, "/robots.txt").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        reply
            .body
            .contains("Sitemap: https://www.alicia-taverner-therapy.com/sitemap.xml")
    );
    assert!(reply.body.contains("Disallow: /admin"));
    assert!(!reply.body.contains("Disallow: /\n"));
}

#[tokio::test]
async fn the_feed_is_atom_with_full_content_and_stable_ids() {
    let sources = common::shipped_sources();
    let config = SiteConfig::load(&sources.config).unwrap();
    let library = content::load(&sources.content, &config).unwrap();
    let app = router(shipped_site());
    let reply = get(&app, "/feed.xml").await;
    assert_eq!(
        reply.headers[header::CONTENT_TYPE],
        "application/atom+xml; charset=utf-8"
    );
    let feed: atom_syndication::Feed = reply.body.parse().expect("valid Atom");
    assert_eq!(
        feed.entries().len(),
        library.articles().count().min(feeds::FEED_ENTRIES)
    );
    for (entry, article) in feed.entries().iter().zip(library.articles()) {
        assert_eq!(entry.title().as_str(), article.title);
        let content = entry.content().unwrap();
        assert_eq!(content.content_type(), Some("html"));
        assert_eq!(content.value(), Some(&*article.html), "full content");
        assert!(
            entry.id().starts_with("tag:www.example.com,"),
            "{}",
            entry.id()
        );
    }
    // Every page points feed readers at it.
    let home = Html::parse_document(&get(&app, "/").await.body);
    let alternate = Selector::parse("link[rel=alternate][type='application/atom+xml']").unwrap();
    assert_eq!(
        home.select(&alternate).next().unwrap().value().attr("href"),
        Some("/feed.xml")
    );

    // Renaming an article (old address kept as its first alias) keeps its id.
    let guide = "blog/ketamine-assisted-psychotherapy-guide.md";
    let id_before = feed
        .entries()
        .iter()
        .find(|e| e.title().contains("Ultimate Guide"))
        .unwrap()
        .id()
        .to_string();
    let copy = ContentCopy::new();
    copy.edit(
        guide,
        "cta: kap",
        "cta: kap\nslug: kap-guide\naliases: [/blog/ketamine-assisted-psychotherapy-guide]",
    );
    let renamed = router(Site::load(&copy.sources()).unwrap());
    let feed: atom_syndication::Feed = get(&renamed, "/feed.xml").await.body.parse().unwrap();
    let entry = feed
        .entries()
        .iter()
        .find(|e| e.title().contains("Ultimate Guide"))
        .unwrap();
    assert_eq!(entry.id(), id_before);
    assert_eq!(entry.links()[0].href(), format!("{BASE}/blog/kap-guide"));
}

fn json_ld(html: &Html) -> serde_json::Value {
    let selector = Selector::parse("script[type='application/ld+json']").unwrap();
    let blocks: Vec<_> = html.select(&selector).collect();
    assert_eq!(blocks.len(), 1, "one JSON-LD block per page");
    serde_json::from_str(&blocks[0].text().collect::<String>()).expect("JSON-LD parses")
}

fn node<'a>(graph: &'a serde_json::Value, kind: &str) -> &'a serde_json::Value {
    graph["@graph"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["@type"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in {graph}"))
}

#[tokio::test]
async fn every_page_has_structured_data_and_share_tags() {
    let site = shipped_site();
    let paths: Vec<String> = site.page_paths().into_iter().map(str::to_string).collect();
    let app = router(site);
    for path in &paths {
        let html = Html::parse_document(&get(&app, path).await.body);
        let graph = json_ld(&html);
        assert_eq!(graph["@context"], "https://schema.org");
        let business = node(&graph, "MedicalBusiness");
        assert_eq!(business["address"]["addressLocality"], "Rancho Cucamonga");
        assert_eq!(business["address"]["addressRegion"], "California");
        assert!(business["telephone"].is_string() && business["url"].is_string());
        assert!(business["areaServed"].is_array());
        let person = node(&graph, "Person");
        assert_eq!(person["hasCredential"]["credentialCategory"], "license");
        node(&graph, "WebSite");
        node(&graph, "BreadcrumbList");
        let meta = |property: &str| {
            let selector = Selector::parse(&format!(
                "meta[property='{property}'], meta[name='{property}']"
            ))
            .unwrap();
            html.select(&selector)
                .next()
                .and_then(|m| m.value().attr("content"))
                .map(str::to_string)
        };
        assert_eq!(meta("og:url"), Some(format!("{BASE}{path}")), "{path}");
        for tag in [
            "og:title",
            "og:description",
            "og:image",
            "twitter:card",
            "twitter:image",
            "description",
        ] {
            assert!(meta(tag).is_some_and(|v| !v.is_empty()), "{path}: {tag}");
        }
        assert!(
            meta("og:image")
                .unwrap()
                .starts_with(&format!("{BASE}/static/images/share."))
        );
    }
    let about = Html::parse_document(&get(&app, "/about").await.body);
    let profile = node(&json_ld(&about), "ProfilePage").clone();
    assert_eq!(profile["mainEntity"]["@id"], format!("{BASE}/#therapist"));

    let article = Html::parse_document(&get(&app, "/blog/kap-vs-iv-ketamine-clinics").await.body);
    let graph = json_ld(&article);
    let posting = node(&graph, "BlogPosting");
    for field in [
        "headline",
        "description",
        "datePublished",
        "dateModified",
        "image",
    ] {
        assert!(posting[field].is_string(), "{field}");
    }
    assert_eq!(posting["datePublished"], "2025-10-27");
    assert_eq!(posting["author"]["@id"], format!("{BASE}/#therapist"));
    assert_eq!(posting["publisher"]["@id"], format!("{BASE}/#practice"));
    assert_eq!(
        posting["mainEntityOfPage"]["@id"],
        format!("{BASE}/blog/kap-vs-iv-ketamine-clinics#webpage")
    );
    let crumbs = node(&graph, "BreadcrumbList")["itemListElement"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(crumbs, 3);
    let body = serde_json::to_string(&graph).unwrap();
    assert!(!body.contains("FAQPage") && !body.contains("SearchAction"));
}

/// Search engines are told which pages are health content: a page that
/// names a medication is a MedicalWebPage (an article keeps its
/// BlogPosting), and its review, once dated, is on that node.
#[tokio::test]
async fn pages_about_medication_are_medical_web_pages_with_their_review() {
    let copy = ContentCopy::new();
    copy.edit(
        "blog/kap-vs-iv-ketamine-clinics.md",
        "---\n",
        "---\nreviewed: 2025-11-20\nreviewed_by: \"Sam Ortiz, MD\"\n",
    );
    let site = Site::load(&copy.sources()).unwrap();
    let library = content::load(&copy.sources().content, site.config().unwrap()).unwrap();
    let app = router(site);
    for document in library.documents.iter().filter(|d| d.is_published()) {
        let graph = json_ld(&Html::parse_document(&get(&app, &document.url).await.body));
        let page_types: Vec<&str> = graph["@graph"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|n| {
                n["@id"]
                    .as_str()
                    .filter(|id| id.ends_with("#webpage"))
                    .map(|_| n["@type"].as_str().unwrap())
            })
            .collect();
        let expected = if document.slug == "about" {
            "ProfilePage"
        } else if document.discusses_medication() {
            "MedicalWebPage"
        } else {
            "WebPage"
        };
        assert_eq!(page_types, [expected], "{}", document.url);
    }
    let article = Html::parse_document(&get(&app, "/blog/kap-vs-iv-ketamine-clinics").await.body);
    let graph = json_ld(&article);
    node(&graph, "BlogPosting");
    let page = node(&graph, "MedicalWebPage");
    assert_eq!(page["lastReviewed"], "2025-11-20");
    assert_eq!(
        page["reviewedBy"],
        serde_json::json!({"@type": "Person", "name": "Sam Ortiz, MD"})
    );
    let privacy = Html::parse_document(&get(&app, "/privacy").await.body);
    assert!(
        node(&json_ld(&privacy), "WebPage")
            .get("lastReviewed")
            .is_none()
    );
}

#[tokio::test]
async fn other_spellings_redirect_to_the_canonical_address() {
    let app = router(shipped_site());
    for (given, canonical) in [
        ("/about/", "/about"),
        ("/About", "/about"),
        ("/blog/", "/blog"),
        ("/blog/index.html", "/blog"),
        ("/index.html", "/"),
        (
            "/blog/KAP-vs-IV-Ketamine-Clinics/",
            "/blog/kap-vs-iv-ketamine-clinics",
        ),
        ("/consultation.html", "/consultation"),
    ] {
        let reply = get(&app, given).await;
        assert_eq!(reply.status, StatusCode::MOVED_PERMANENTLY, "{given}");
        assert_eq!(reply.headers[header::LOCATION], canonical, "{given}");
    }
    assert_eq!(
        get(&app, "/nothing-here/").await.status,
        StatusCode::NOT_FOUND
    );
    // A redirect only ever leads to one of this site's own pages, never to
    // an address someone put in a link (no open redirect).
    for given in [
        "//evil.example",
        "//evil.example/about",
        "/\\evil.example/about",
        "/%2F%2Fevil.example/about",
        "/about/%2F%2Fevil.example",
    ] {
        let reply = get(&app, given).await;
        if let Some(location) = reply.headers.get(header::LOCATION) {
            let location = location.to_str().unwrap();
            assert!(
                location.starts_with('/')
                    && !location.starts_with("//")
                    && !location.contains('\\'),
                "{given} -> {location}"
            );
            assert!(!location.contains("evil"), "{given} -> {location}");
        }
    }
    let html = Html::parse_document(&get(&app, "/about").await.body);
    let canonical = Selector::parse("link[rel=canonical]").unwrap();
    assert_eq!(
        html.select(&canonical).next().unwrap().value().attr("href"),
        Some("https://www.example.com/about")
    );
}

#[tokio::test]
async fn retired_articles_answer_410_with_a_helpful_page_and_aliases_301() {
    let copy = ContentCopy::new();
    copy.write(
        "blog/an-old-announcement.md",
        "---\ntitle: An Old Announcement\ndescription: No longer true.\ndate: 2024-01-01\nretired: true\naliases: [/blog/announcement]\n---\n\nOld news.\n",
    );
    copy.edit(
        "blog/kap-vs-iv-ketamine-clinics.md",
        "cta: kap",
        "cta: kap\naliases: [/blog/iv-vs-kap]",
    );
    let site = Site::load(&copy.sources()).unwrap();
    let app = router(site);
    for path in ["/blog/an-old-announcement", "/blog/announcement"] {
        let reply = get(&app, path).await;
        assert_eq!(reply.status, StatusCode::GONE, "{path}");
        assert!(reply.body.contains("An Old Announcement"));
        assert!(reply.body.contains("noindex"));
        assert!(
            reply.body.contains("/blog/kap-vs-iv-ketamine-clinics"),
            "points readers on"
        );
    }
    let reply = get(&app, "/blog/iv-vs-kap").await;
    assert_eq!(reply.status, StatusCode::MOVED_PERMANENTLY);
    assert_eq!(
        reply.headers[header::LOCATION],
        "/blog/kap-vs-iv-ketamine-clinics"
    );
    // Retired and alias addresses are neither listed nor in the sitemap.
    let sitemap = get(&app, "/sitemap.xml").await.body;
    assert!(!sitemap.contains("announcement") && !sitemap.contains("iv-vs-kap"));
    assert!(
        !get(&app, "/blog")
            .await
            .body
            .contains("An Old Announcement")
    );
    assert!(
        !get(&app, "/feed.xml")
            .await
            .body
            .contains("An Old Announcement")
    );
}

#[tokio::test]
async fn conditional_requests_get_304() {
    let app = router(shipped_site());
    let Reply {
        status, headers, ..
    } = get_with(&app, "/blog/kap-vs-iv-ketamine-clinics", &[]).await;
    assert_eq!(status, StatusCode::OK);
    let etag = headers[header::ETAG].to_str().unwrap().to_string();
    assert!(
        etag.starts_with('"') && !etag.starts_with("W/"),
        "strong: {etag}"
    );
    let last_modified = headers[header::LAST_MODIFIED].to_str().unwrap().to_string();
    assert_eq!(last_modified, "Mon, 27 Oct 2025 00:00:00 GMT");
    assert!(
        headers[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .contains("must-revalidate")
    );

    let Reply {
        status,
        headers,
        bytes: body,
        ..
    } = get_with(
        &app,
        "/blog/kap-vs-iv-ketamine-clinics",
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());
    assert_eq!(headers[header::ETAG], etag.as_str());
    let Reply { status, .. } = get_with(
        &app,
        "/blog/kap-vs-iv-ketamine-clinics",
        &[("if-none-match", "\"something-else\"")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let Reply { status, .. } = get_with(
        &app,
        "/blog/kap-vs-iv-ketamine-clinics",
        &[("if-modified-since", &last_modified)],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    let Reply { status, .. } = get_with(
        &app,
        "/blog/kap-vs-iv-ketamine-clinics",
        &[("if-modified-since", "Sun, 26 Oct 2025 00:00:00 GMT")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // Every response body has an ETag: pages, feeds, files.
    for path in [
        "/",
        "/sitemap.xml",
        "/feed.xml",
        "/robots.txt",
        "/static/favicon.svg",
    ] {
        let Reply { headers, .. } = get_with(&app, path, &[]).await;
        assert!(headers.contains_key(header::ETAG), "{path}");
    }
}

#[tokio::test]
async fn the_smallest_accepted_encoding_wins() {
    let app = router(shipped_site());
    let Reply {
        bytes: identity, ..
    } = get_with(&app, "/blog/ketamine-assisted-psychotherapy-guide", &[]).await;
    let cases: [(&str, Option<&str>); 6] = [
        ("", None),
        ("identity", None),
        ("gzip", Some("gzip")),
        ("gzip, br", Some("br")),
        ("br;q=0, gzip", Some("gzip")),
        ("*", Some("br")),
    ];
    for (accept, expected) in cases {
        let headers: Vec<(&str, &str)> = if accept.is_empty() {
            vec![]
        } else {
            vec![("accept-encoding", accept)]
        };
        let Reply {
            status,
            headers: response,
            bytes: body,
            ..
        } = get_with(
            &app,
            "/blog/ketamine-assisted-psychotherapy-guide",
            &headers,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(response[header::VARY], "accept-encoding");
        assert_eq!(
            response
                .get(header::CONTENT_ENCODING)
                .map(|v| v.to_str().unwrap()),
            expected,
            "{accept}"
        );
        let decoded = match expected {
            None => body.clone(),
            Some("gzip") => {
                let mut out = Vec::new();
                flate2::read::GzDecoder::new(&body[..])
                    .read_to_end(&mut out)
                    .unwrap();
                out
            }
            Some(_) => {
                let mut out = Vec::new();
                brotli::Decompressor::new(&body[..], 4096)
                    .read_to_end(&mut out)
                    .unwrap();
                out
            }
        };
        assert_eq!(decoded, identity, "{accept}");
        if expected.is_some() {
            assert!(body.len() < identity.len());
        }
    }
}

#[tokio::test]
async fn status_codes_404_405_and_head() {
    let app = router(shipped_site());
    assert_eq!(
        get(&app, "/no-such-page").await.status,
        StatusCode::NOT_FOUND
    );
    let reply = request(&app, Method::DELETE, "/blog").await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    for path in [
        "/",
        "/blog/kap-vs-iv-ketamine-clinics",
        "/sitemap.xml",
        "/nope",
    ] {
        let full = get(&app, path).await;
        let head = request(&app, Method::HEAD, path).await;
        assert_eq!(head.status, full.status, "{path}");
        assert!(head.body.is_empty(), "{path}");
        assert_eq!(
            head.headers.get(header::ETAG),
            full.headers.get(header::ETAG),
            "{path}"
        );
    }
}

#[tokio::test]
async fn hostile_titles_are_escaped_everywhere() {
    let hostile = "</script><script>alert(1)</script> & \"more\"";
    let copy = ContentCopy::new();
    let file = "blog/kap-vs-iv-ketamine-clinics.md";
    copy.edit(
        file,
        "title: \"Ketamine Therapy vs. IV Ketamine Clinics: What’s the Difference?\"",
        "title: '</script><script>alert(1)</script> & \"more\"'\ntags: [kap, \"a&b</script>\"]",
    );
    copy.edit(
        file,
        "tags: [kap, ketamine, iv-ketamine, integration]\n",
        "",
    );
    copy.edit(
        file,
        "seo_title: \"Ketamine Therapy vs. IV Ketamine Clinics\"\n",
        "",
    );
    // A description that tries to leave its attribute.
    let description = "Quotes \" and ' end attributes\"><script>alert(2)</script> & <b>bold</b>";
    let text = copy.read(file);
    let line = text
        .lines()
        .find(|l| l.starts_with("description:"))
        .unwrap();
    copy.edit(
        file,
        line,
        &format!("description: '{}'", description.replace('\'', "''")),
    );
    let app = router(Site::load(&copy.sources()).unwrap());
    let page = get(&app, "/blog/kap-vs-iv-ketamine-clinics").await.body;
    assert!(!page.contains("<script>alert(1)"), "raw markup in the page");
    assert!(!page.contains("<script>alert(2)"), "raw markup in the page");
    let html = Html::parse_document(&page);
    // Every attribute that carries them reads back exactly as written.
    for (css, expected) in [
        ("meta[name=description]", description),
        ("meta[property='og:description']", description),
        ("meta[property='og:title']", hostile),
    ] {
        let selector = Selector::parse(css).unwrap();
        let element = html.select(&selector).next().expect(css);
        assert_eq!(element.value().attr("content"), Some(expected), "{css}");
    }
    assert_eq!(
        html.select(&Selector::parse("script").unwrap()).count(),
        html.select(&Selector::parse("script[type='application/ld+json']").unwrap())
            .count(),
        "no script element but the JSON-LD"
    );
    let title = Selector::parse("title").unwrap();
    let shown = html
        .select(&title)
        .next()
        .unwrap()
        .text()
        .collect::<String>();
    assert!(shown.starts_with(hostile), "{shown}");
    let graph = json_ld(&html);
    assert_eq!(node(&graph, "BlogPosting")["headline"], hostile);
    assert_eq!(node(&graph, "BlogPosting")["description"], description);
    assert_eq!(node(&graph, "BlogPosting")["keywords"][1], "a&b</script>");
    let feed_xml = get(&app, "/feed.xml").await.body;
    assert!(!feed_xml.contains("<script>"));
    let feed: atom_syndication::Feed = feed_xml.parse().unwrap();
    assert!(feed.entries().iter().any(|e| e.title().as_str() == hostile));
    // Other pages that list the article escape it too.
    for path in ["/blog", "/blog/ketamine-assisted-psychotherapy-guide"] {
        assert!(
            !get(&app, path).await.body.contains("<script>alert(1)"),
            "{path}"
        );
    }
    let sitemap = get(&app, "/sitemap.xml").await.body;
    assert!(!sitemap.contains("<script>"));
}

#[tokio::test]
async fn an_article_can_name_its_own_share_image() {
    let copy = ContentCopy::new();
    let file = "blog/kap-vs-iv-ketamine-clinics.md";
    copy.edit(file, "cta: kap", "cta: kap\nimage: /static/favicon.svg");
    let app = router(Site::load(&copy.sources()).unwrap());
    let html = Html::parse_document(&get(&app, "/blog/kap-vs-iv-ketamine-clinics").await.body);
    let og = Selector::parse("meta[property='og:image']").unwrap();
    let image = html
        .select(&og)
        .next()
        .unwrap()
        .value()
        .attr("content")
        .unwrap();
    assert!(
        image.starts_with(&format!("{BASE}/static/favicon.")),
        "{image}"
    );
    assert_eq!(node(&json_ld(&html), "BlogPosting")["image"], image);

    copy.edit(
        file,
        "image: /static/favicon.svg",
        "image: /static/images/missing.jpg",
    );
    let err = Site::load(&copy.sources()).unwrap_err().to_string();
    let line = copy.line_of(file, "image:");
    assert!(
        err.contains(&format!("{}:{line}: ", copy.path(file).display())),
        "{err}"
    );
    assert!(err.contains("is not a file in static/"), "{err}");
}
