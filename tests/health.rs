//! What makes a health site trustworthy, through the real router on a copy
//! of the shipped content: who reviewed a page about medication and when
//! (on the page and in its JSON-LD), the advice `check` gives when that
//! review is missing or old or a claim of evidence cites nothing, footnotes
//! as a Sources list, and that advice shown in the preview and the log.

mod common;

use std::sync::{Arc, Mutex};

use chrono::{TimeZone as _, Utc};
use common::{ContentCopy, get, router};
use practice_site::live::{Reloader, SystemClock};
use practice_site::site::{BuildError, BuildOptions, Site};
use scraper::{Html, Selector};

/// A reviewed article about medication, with two sources, one cited twice.
const REVIEWED: &str = "---\ntitle: \"Ketamine and Your Other Medications\"\ndescription: \"What to tell your prescriber before a KAP session.\"\ndate: 2025-09-01\nreviewed: 2025-11-02\nreviewed_by: \"Jordan Lee, MD\"\n---\n\nKetamine can interact with other medication[^fda]. Bring a list[^list].\n\nAsk your prescriber about every dose[^fda].\n\n[^fda]: U.S. Food and Drug Administration, “Spravato label”, https://www.accessdata.fda.gov/drugsatfda_docs/label/2019/211243lbl.pdf\n\n[^list]: A list you keep in your phone is enough.\n\n[Book a free {{consultation_minutes}}-minute consultation](../pages/consultation.md)\n";

fn select(html: &Html, css: &str) -> Vec<String> {
    let selector = Selector::parse(css).unwrap();
    html.select(&selector)
        .map(|e| e.text().collect::<String>())
        .collect()
}

fn json_ld(html: &Html) -> serde_json::Value {
    let text = select(html, "script[type='application/ld+json']").join("");
    serde_json::from_str(&text).unwrap()
}

fn node<'a>(graph: &'a serde_json::Value, kind: &str) -> Option<&'a serde_json::Value> {
    graph["@graph"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["@type"] == kind)
}

/// The site as of a day (noon in California), so "more than 12 months ago" is fixed.
fn load_on(copy: &ContentCopy, y: i32, m: u32, d: u32) -> Result<Site, BuildError> {
    let now = Utc.with_ymd_and_hms(y, m, d, 20, 0, 0).unwrap();
    Site::load_with(
        &copy.sources(),
        BuildOptions {
            now,
            preview: false,
        },
    )
}

fn warnings_for(site: &Site, file: &str) -> Vec<(usize, String)> {
    site.warnings()
        .iter()
        .filter(|d| d.path.ends_with(file))
        .map(|d| (d.line, d.message.clone()))
        .collect()
}

#[tokio::test]
async fn a_reviewed_page_shows_who_reviewed_it_and_says_so_to_search_engines() {
    let copy = ContentCopy::new();
    copy.write("blog/other-medications.md", REVIEWED);
    copy.edit("pages/about.md", "---\n", "---\nreviewed: 2025-10-20\n");
    let site = load_on(&copy, 2026, 1, 10).unwrap();
    assert!(warnings_for(&site, "other-medications.md").is_empty());
    let app = router(site);

    let article = Html::parse_document(&get(&app, "/blog/other-medications").await.body);
    let reviewed = Selector::parse(".article-header p.reviewed").unwrap();
    let line = article.select(&reviewed).next().expect("the review line");
    assert_eq!(
        line.text().collect::<String>(),
        "Reviewed by Jordan Lee, MD on November 2, 2025"
    );
    assert_eq!(
        line.select(&Selector::parse("time").unwrap())
            .next()
            .unwrap()
            .attr("datetime"),
        Some("2025-11-02")
    );
    let graph = json_ld(&article);
    assert!(
        node(&graph, "BlogPosting").is_some(),
        "the article stays a BlogPosting"
    );
    let page = node(&graph, "MedicalWebPage").expect("a MedicalWebPage node");
    assert_eq!(page["lastReviewed"], "2025-11-02");
    assert_eq!(page["reviewedBy"]["@type"], "Person");
    assert_eq!(page["reviewedBy"]["name"], "Jordan Lee, MD");
    assert!(node(&graph, "WebPage").is_none());

    // A page reviewed by the therapist herself names her with her credential.
    let about = Html::parse_document(&get(&app, "/about").await.body);
    assert_eq!(
        select(&about, "p.reviewed"),
        ["Reviewed by Alicia Taverner, LMFT on October 20, 2025"]
    );
    let graph = json_ld(&about);
    let profile = node(&graph, "ProfilePage").expect("about stays a profile");
    assert_eq!(profile["reviewedBy"]["name"], "Alicia Taverner, LMFT");

    // A page that names no medication and has no review says nothing of either.
    let privacy = Html::parse_document(&get(&app, "/privacy").await.body);
    assert!(select(&privacy, "p.reviewed").is_empty());
    let graph = json_ld(&privacy);
    let page = node(&graph, "WebPage").expect("a plain WebPage");
    assert!(page.get("lastReviewed").is_none() && page.get("reviewedBy").is_none());
}

#[test]
fn check_advises_on_a_medication_page_with_no_review_or_an_old_one() {
    let copy = ContentCopy::new();
    let file = "blog/other-medications.md";
    copy.write(
        file,
        &REVIEWED.replace(
            "reviewed: 2025-11-02\nreviewed_by: \"Jordan Lee, MD\"\n",
            "",
        ),
    );
    let site = load_on(&copy, 2026, 1, 10).unwrap();
    let advice = warnings_for(&site, file);
    assert_eq!(advice.len(), 1, "{advice:?}");
    assert_eq!(advice[0].0, copy.line_of(file, "title:"));
    assert!(
        advice[0]
            .1
            .contains("discusses medication (“Ketamine”, line 7) but has no `reviewed:` date"),
        "{advice:?}"
    );

    copy.write(file, REVIEWED);
    let reviewed_line = copy.line_of(file, "reviewed:");
    assert!(warnings_for(&load_on(&copy, 2026, 11, 2).unwrap(), file).is_empty());
    let a_year_on = warnings_for(&load_on(&copy, 2026, 11, 3).unwrap(), file);
    assert_eq!(a_year_on.len(), 1, "{a_year_on:?}");
    assert_eq!(a_year_on[0].0, reviewed_line);
    assert!(
        a_year_on[0]
            .1
            .starts_with("`reviewed: 2025-11-02` is more than 12 months ago"),
        "{a_year_on:?}"
    );
}

#[test]
fn check_advises_on_claims_of_evidence_that_cite_nothing() {
    let copy = ContentCopy::new();
    let file = "blog/claims.md";
    copy.write(
        file,
        "---\ntitle: Claims\ndescription: d\ndate: 2025-09-01\n---\n\nStudies show couples heal.\n\nResearch suggests so, says [a review](https://example.org/review).\n\nIntensives are clinically proven[^1].\n\nAbout 80% of clients\nfeel closer.\n\nHer case studies showcase hope.\n\n[^1]: Research shows this, in a trial.\n\n[Book a consultation](../pages/consultation.md)\n",
    );
    let site = load_on(&copy, 2026, 1, 10).unwrap();
    let advice = warnings_for(&site, file);
    let lines: Vec<usize> = advice.iter().map(|(line, _)| *line).collect();
    assert_eq!(
        lines,
        [
            copy.line_of(file, "Studies show"),
            copy.line_of(file, "80% of clients")
        ],
        "{advice:?}"
    );
    assert!(
        advice[0]
            .1
            .contains("says “studies show” but cites nothing")
    );
    assert!(advice[1].1.contains("says “80%” but cites nothing"));
}

#[tokio::test]
async fn footnotes_are_the_articles_sources_at_its_end() {
    let copy = ContentCopy::new();
    copy.write("blog/other-medications.md", REVIEWED);
    let app = router(load_on(&copy, 2026, 1, 10).unwrap());
    let page = get(&app, "/blog/other-medications").await.body;
    let html = Html::parse_document(&page);
    let cites: Vec<(String, String)> = html
        .select(&Selector::parse(".prose sup").unwrap())
        .map(|sup| {
            let link = sup.select(&Selector::parse("a").unwrap()).next().unwrap();
            (
                sup.attr("id").unwrap().to_string(),
                link.attr("href").unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        cites,
        [
            ("cite-1".into(), "#source-1".into()),
            ("cite-2".into(), "#source-2".into()),
            ("cite-1-2".into(), "#source-1".into()),
        ]
    );
    let sources =
        Selector::parse(".prose section.sources[aria-labelledby='sources'] > ol > li").unwrap();
    let items: Vec<_> = html.select(&sources).collect();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].attr("id"), Some("source-1"));
    assert!(
        items[0]
            .text()
            .collect::<String>()
            .contains("Spravato label")
    );
    let back: Vec<&str> = items[0]
        .select(&Selector::parse("a[aria-label^='Back to where source 1 is cited']").unwrap())
        .map(|a| a.attr("href").unwrap())
        .collect();
    assert_eq!(back, ["#cite-1", "#cite-1-2"]);
    // The list ends the article's words, after the last paragraph.
    assert!(page.find("id=\"sources\"").unwrap() > page.find("Ask your prescriber").unwrap());
    assert!(page.find("id=\"sources\"").unwrap() < page.find("class=\"disclaimer\"").unwrap());
    assert!(select(&html, "nav.toc a").iter().all(|t| t != "Sources"));

    // A reference to a footnote never written is an error at its line.
    let broken = REVIEWED.replace("a list[^list]", "a list[^lsit]");
    copy.write("blog/other-medications.md", &broken);
    let Err(BuildError::Content(problems)) = load_on(&copy, 2026, 1, 10) else {
        panic!("an undefined footnote must not build");
    };
    let line = copy.line_of("blog/other-medications.md", "[^lsit]");
    let text = problems.to_string();
    assert!(
        text.contains(&format!(
            "other-medications.md:{line}: the footnote [^lsit] is never defined"
        )),
        "{text}"
    );
    assert!(
        text.contains("warning: the footnote [^list] is never referred to"),
        "{text}"
    );
}

/// A log writer tests can read.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().write(bytes)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test]
async fn the_preview_and_the_log_show_the_advice_of_each_build() {
    let log = Captured::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    // This test's thread only (a current-thread runtime): the rebuild and
    // the requests below all log here.
    let _logging = tracing::subscriber::set_default(subscriber);

    let copy = ContentCopy::new();
    let reloader = Reloader::start(copy.sources(), true, Arc::new(SystemClock)).unwrap();
    let preview = common::live_router(&reloader);
    let file = "blog/claims.md";
    copy.write(
        file,
        "---\ntitle: Claims\ndescription: d\ndate: 2025-09-01\n---\n\nStudies show couples heal.\n\n[Book a consultation](../pages/consultation.md)\n",
    );
    reloader.rebuild().unwrap();
    let expected = format!(
        "{}:7: this paragraph says “studies show”",
        copy.path(file).display()
    );
    let logged = log.text().matches(&expected).count();
    assert_eq!(
        logged,
        1,
        "the rebuild logs its advice once:\n{}",
        log.text()
    );

    let page = get(&preview, "/blog/claims").await.body;
    let html = Html::parse_document(&page);
    let advice = select(&html, "section.preview-advice h2");
    assert_eq!(advice.len(), 1, "{page}");
    assert!(
        advice[0].starts_with("Advice (the site works either way)"),
        "{advice:?}"
    );
    assert!(
        select(&html, "section.preview-advice li")
            .iter()
            .any(|li| li.starts_with(&format!(
                "{}:7 this paragraph says “studies show”",
                copy.path(file).display()
            ))),
        "{page}"
    );
    assert!(
        select(&html, "section.preview-problems").is_empty(),
        "no errors to show"
    );
    get(&preview, "/").await;
    assert_eq!(
        log.text().matches(&expected).count(),
        logged,
        "requests do not log the advice again"
    );

    // A broken edit: its errors lead, apart from the advice, which stays.
    copy.edit(file, "date: 2025-09-01", "date: soon");
    assert!(reloader.rebuild().is_err());
    let html = Html::parse_document(&get(&preview, "/").await.body);
    let headings = select(&html, "main section h2");
    assert!(
        headings[0].starts_with("Errors (the site keeps the last good version): 1 problem"),
        "{headings:?}"
    );
    assert!(
        headings[1].starts_with("Advice (the site works either way)"),
        "{headings:?}"
    );
    assert_eq!(log.text().matches(&expected).count(), logged + 1);
}
