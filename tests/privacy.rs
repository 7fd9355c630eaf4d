//! The privacy page tells the truth: each number and list on it is tied to
//! what the code keeps and sends, so a change to one without the other
//! fails here.

mod common;

use common::booking_app::{JANE, TestApp, attr, text};
use common::{ContentCopy, get, router};
use practice_site::site::Site;
use scraper::Html;

/// The privacy page's text, with typographic apostrophes made plain.
async fn privacy(app: &TestApp) -> String {
    let page = app.get("/privacy").await.body;
    text(&Html::parse_document(&page), "main")
        .join(" ")
        .replace('’', "'")
}

#[tokio::test]
async fn the_retention_period_is_the_setting_not_typed_text() {
    let copy = ContentCopy::new();
    copy.edit("site.toml", "retention_days = 90", "retention_days = 45");
    let app = router(Site::load(&copy.sources()).unwrap());
    let privacy = get(&app, "/privacy").await.body;
    assert!(privacy.contains("deleted automatically 45 days after"));
    assert!(!privacy.contains("90 days"), "no typed period");
}

/// Each field of the booking form, and the words the page's list uses for it.
const FORM_FIELDS: [(&str, &str); 6] = [
    ("name", "your name"),
    ("email", "your email address"),
    ("phone", "your phone number, if you give one"),
    ("contact", "how you'd like to be contacted"),
    ("topic", "what you'd like to talk about"),
    ("note", "a short note"),
];

#[tokio::test]
async fn the_page_lists_every_field_and_choice_the_form_asks_for() {
    let app = TestApp::new().await;
    let privacy = privacy(&app).await.to_lowercase();
    let form = Html::parse_document(&app.get("/consultation").await.body);
    let mut asked: Vec<String> = attr(&form, "form input, form textarea, form select", "name")
        .into_iter()
        // The form's own machinery, not the client's details.
        .filter(|name| !["token", "website", "slot", "consent"].contains(&name.as_str()))
        .collect();
    asked.sort();
    asked.dedup();
    let mut listed: Vec<String> = FORM_FIELDS.iter().map(|(f, _)| f.to_string()).collect();
    listed.sort();
    assert_eq!(
        asked, listed,
        "a new form field needs a line on the privacy page"
    );
    for (_, words) in FORM_FIELDS {
        assert!(privacy.contains(words), "privacy lists {words:?}");
    }
    for choice in text(
        &form,
        "input[name=contact] + label, input[name=topic] + label",
    ) {
        let choice = choice.trim().to_lowercase();
        assert!(
            privacy.contains(&choice),
            "privacy names the choice {choice:?}"
        );
    }
}

#[tokio::test]
async fn mail_and_the_calendar_carry_only_what_the_page_says() {
    let app = TestApp::new().await;
    let privacy = privacy(&app).await;
    assert!(privacy.contains(
        "Never your name, email address, phone number, note or what the consultation is about"
    ));
    assert!(
        privacy.contains(
            "None contains your phone number, your note or what the consultation is about"
        )
    );
    assert!(privacy.contains("your first name and last initial"));

    app.book_as(&JANE, 8).await;
    let mails: Vec<(String, String)> =
        sqlx::query_as("SELECT recipient, subject || ' ' || body FROM outbox")
            .fetch_all(app.store.pool())
            .await
            .unwrap();
    assert!(mails.len() >= 2, "{mails:?}");
    for (recipient, text) in &mails {
        assert!(!text.contains(JANE.note), "no note in mail to {recipient}");
        if recipient != JANE.email {
            for detail in [JANE.name, "Jane", JANE.email] {
                assert!(!text.contains(detail), "{detail} in the therapist's mail");
            }
        }
    }

    let cookie = app.login().await;
    let dashboard = Html::parse_document(&app.get_with_cookie("/admin", Some(&cookie)).await.body);
    let feed_url = text(&dashboard, ".booking-link code")[0].clone();
    let feed = app
        .get(feed_url.strip_prefix("https://www.example.com").unwrap())
        .await
        .body;
    assert!(feed.contains("Jane Q."), "first name and last initial");
    for detail in ["Quinn-Doe", JANE.email, JANE.note] {
        assert!(!feed.contains(detail), "{detail} in the calendar feed");
    }
}

#[tokio::test]
async fn the_spreadsheet_columns_are_the_ones_the_page_names() {
    let app = TestApp::new().await;
    let privacy = privacy(&app).await;
    let csv_paragraph = privacy
        .split("spreadsheet (CSV)")
        .nth(1)
        .expect("the page describes the CSV export")
        .split("automatic deletion")
        .next()
        .unwrap()
        .to_string();
    let cookie = app.login().await;
    let csv = app
        .get_with_cookie("/admin/export.csv", Some(&cookie))
        .await
        .body;
    let header = csv.lines().next().unwrap();
    // Each column, and the words the page uses for it.
    let named = [
        ("id", "number"),
        ("start (local)", "time"),
        ("start (UTC)", "time"),
        ("status", "status"),
        ("name", "name"),
        ("email", "email address"),
        ("phone", "phone number"),
        ("contact by", "contact choice"),
        ("about", "topic"),
        ("note", "note"),
        ("booked at (UTC)", "when you booked"),
    ];
    let columns: Vec<&str> = header.split(',').collect();
    assert_eq!(
        columns,
        named.iter().map(|(c, _)| *c).collect::<Vec<_>>(),
        "a new column needs naming on the privacy page"
    );
    for (column, words) in named {
        assert!(csv_paragraph.contains(words), "{column}: {words:?}");
    }
    assert!(privacy.contains("outside this website"));
}
