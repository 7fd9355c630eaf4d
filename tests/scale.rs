//! A site with many articles, from the benchmarks' corpus generator: it
//! builds without errors, the blog index is split into pages that together
//! list every article once, the feed stays small, and every link on every
//! page (cross-links and their anchors included) leads somewhere.

mod common;
#[path = "../benches/corpus/mod.rs"]
mod corpus;

use std::collections::BTreeSet;

use axum::http::StatusCode;
use common::{get, router};
use practice_site::site::{ARTICLES_PER_PAGE, Site, Sources, feeds};
use scraper::{Html, Selector};

const GENERATED: usize = 45;

fn corpus_site() -> (tempfile::TempDir, Site) {
    let dir = tempfile::tempdir().unwrap();
    corpus::write(dir.path(), GENERATED, 7).unwrap();
    let sources = Sources {
        config: dir.path().join("site.toml"),
        content: dir.path().to_path_buf(),
        static_dir: common::repo().join("static"),
    };
    let site = Site::load(&sources).unwrap_or_else(|err| panic!("the corpus must build:\n{err}"));
    (dir, site)
}

fn all(html: &Html, css: &str, attr: &str) -> Vec<String> {
    html.select(&Selector::parse(css).unwrap())
        .filter_map(|e| e.value().attr(attr).map(str::to_string))
        .collect()
}

#[tokio::test]
async fn the_blog_index_is_split_into_pages_that_list_every_article_once() {
    let (_dir, site) = corpus_site();
    let articles: BTreeSet<String> = site
        .page_paths()
        .into_iter()
        .filter(|p| p.starts_with("/blog/") && !p.starts_with("/blog/page/"))
        .map(str::to_string)
        .collect();
    let total = GENERATED + common::shipped_articles();
    assert_eq!(articles.len(), total);
    let pages = total.div_ceil(ARTICLES_PER_PAGE);
    assert!(pages >= 3);
    let app = router(site);

    let mut listed = Vec::new();
    let mut titles = BTreeSet::new();
    for number in 1..=pages {
        let path = if number == 1 {
            "/blog".to_string()
        } else {
            format!("/blog/page/{number}")
        };
        let reply = get(&app, &path).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        let html = Html::parse_document(&reply.body);
        let cards = all(&html, ".article-card-title a", "href");
        let expected = if number < pages {
            ARTICLES_PER_PAGE
        } else {
            total - ARTICLES_PER_PAGE * (pages - 1)
        };
        assert_eq!(cards.len(), expected, "{path}");
        listed.extend(cards);
        // Each page is its own page for search engines.
        let canonical = all(&html, "link[rel=canonical]", "href");
        assert_eq!(canonical, [format!("https://www.example.com{path}")]);
        let title = html
            .select(&Selector::parse("title").unwrap())
            .next()
            .unwrap()
            .text()
            .collect::<String>();
        assert!(
            titles.insert(title.clone()),
            "{path}: {title} is not unique"
        );
        // Newer and older pages are linked, as far as they exist.
        let newer = all(&html, ".pager a[rel=prev]", "href");
        let older = all(&html, ".pager a[rel=next]", "href");
        let newer_expected: Vec<String> = match number {
            1 => vec![],
            2 => vec!["/blog".into()],
            n => vec![format!("/blog/page/{}", n - 1)],
        };
        assert_eq!(newer, newer_expected, "{path}");
        let older_expected: Vec<String> = if number < pages {
            vec![format!("/blog/page/{}", number + 1)]
        } else {
            vec![]
        };
        assert_eq!(older, older_expected, "{path}");
    }
    let unique: BTreeSet<String> = listed.iter().cloned().collect();
    assert_eq!(unique.len(), listed.len(), "an article is listed twice");
    assert_eq!(unique, articles, "every article is listed");
    for missing in [format!("/blog/page/{}", pages + 1), "/blog/page/0".into()] {
        assert_eq!(get(&app, &missing).await.status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn every_link_on_every_page_of_a_large_site_leads_somewhere() {
    let (_dir, site) = corpus_site();
    let paths: Vec<String> = site.page_paths().into_iter().map(str::to_string).collect();
    let app = router(site);
    let mut ids_by_page = std::collections::HashMap::new();
    let mut links = Vec::new();
    for path in &paths {
        let html = Html::parse_document(&get(&app, path).await.body);
        ids_by_page.insert(path.clone(), BTreeSet::from_iter(all(&html, "[id]", "id")));
        for href in all(&html, "a[href]", "href") {
            if href.starts_with('/') {
                links.push((path.clone(), href));
            }
        }
        let related = html
            .select(&Selector::parse(".more-reading li").unwrap())
            .count();
        // At most five that link here and three related.
        assert!(related <= 8, "{path}: {related} further articles");
    }
    let mut anchors = 0;
    for (from, href) in &links {
        let (target, anchor) = href.split_once('#').unwrap_or((href, ""));
        let reply = get(&app, target).await;
        assert!(
            reply.status == StatusCode::OK,
            "{from} links to {href}: {}",
            reply.status
        );
        if !anchor.is_empty()
            && let Some(ids) = ids_by_page.get(target)
        {
            assert!(ids.contains(anchor), "{from} links to {href}: no such id");
            anchors += 1;
        }
    }
    assert!(
        anchors > GENERATED,
        "only {anchors} anchored cross-links checked"
    );

    let feed: atom_syndication::Feed = get(&app, "/feed.xml").await.body.parse().unwrap();
    assert_eq!(feed.entries().len(), feeds::FEED_ENTRIES);
}

/// `check` records every published address; the blog index's later pages
/// are not among them (they shift as articles come and go), so checking a
/// large site twice, or after retiring articles, still passes.
#[test]
fn checking_a_large_site_again_passes_and_records_no_index_pages() {
    let dir = tempfile::tempdir().unwrap();
    corpus::write(dir.path(), GENERATED, 7).unwrap();
    let check = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_practice-site"))
            .arg("check")
            .arg("--content")
            .arg(dir.path())
            .arg("--config")
            .arg(dir.path().join("site.toml"))
            .arg("--static")
            .arg(common::repo().join("static"))
            .output()
            .unwrap()
    };
    for run in ["first", "second"] {
        let output = check();
        assert!(
            output.status.success(),
            "the {run} check failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let record = std::fs::read_to_string(dir.path().join("published-urls.txt")).unwrap();
    assert!(record.contains("/blog/ketamine-assisted-psychotherapy-guide"));
    assert!(!record.contains("/blog/page/"), "{record}");
}
