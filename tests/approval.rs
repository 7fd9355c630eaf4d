//! Request and approve (`approve_bookings = true`): a booking is held as a
//! request, and the therapist approves it, declines it, or lets it lapse;
//! the client is told each time, and the time is held only while it waits.

mod common;

use chrono::Duration;
use common::booking_app::{JANE, TestApp, attr};
use scraper::Html;

/// The shipped site with approval on, answered within 24 hours.
async fn app_with_approval() -> TestApp {
    let copy = common::ContentCopy::new();
    copy.edit(
        "site.toml",
        "approve_bookings = false",
        "approve_bookings = true",
    );
    let site = practice_site::site::Site::load(&copy.sources()).unwrap();
    TestApp::with(site, common::test_secrets()).await
}

/// One mail's column, by kind (the newest).
async fn mail(app: &TestApp, kind: &str, column: &str) -> Option<String> {
    sqlx::query_scalar(&format!(
        "SELECT COALESCE({column}, '') FROM outbox WHERE kind = $1 ORDER BY id DESC LIMIT 1"
    ))
    .bind(kind)
    .fetch_optional(app.store.pool())
    .await
    .unwrap()
}

/// The private page's path in an email's body.
fn private_path(body: &str) -> String {
    let at = body.find("/booking/").expect("a private link");
    body[at..].split_whitespace().next().unwrap().to_string()
}

/// A client asks for open slot `index`; returns the private page's path.
async fn request(app: &TestApp, index: usize) -> (String, String) {
    let (reply, slot) = app.book_as(&JANE, index).await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    let location = reply.headers["location"].to_str().unwrap();
    (location.split('?').next().unwrap().to_string(), slot)
}

/// Her session and the approve and decline forms' token on a request's page.
async fn her_page(app: &TestApp, id: i64) -> (String, String, Html) {
    let cookie = app.login().await;
    let path = format!("/admin/consultations/{id}");
    let page = app.get_with_cookie(&path, Some(&cookie)).await;
    assert_eq!(page.status, 200);
    let html = Html::parse_document(&page.body);
    let token = attr(&html, "input[name=token]", "value")[0].clone();
    (cookie, token, html)
}

#[tokio::test]
async fn a_request_holds_its_time_and_once_approved_the_client_gets_the_confirmation_and_a_new_link()
 {
    let app = app_with_approval().await;
    let form = app.get("/consultation").await.body;
    assert!(
        form.contains("Request the consultation"),
        "the button says what happens"
    );
    let (private, slot) = request(&app, 6).await;

    // The client sees a request, not a booking.
    let page = app.get(&format!("{private}?done=booked")).await.body;
    assert!(page.contains("Your request is sent"), "{page}");
    assert!(page.contains("The time is held for you."));
    assert!(
        !page.contains("calendar.ics"),
        "no calendar entry for a request"
    );
    assert_eq!(
        app.get(&format!("{private}/calendar.ics")).await.status,
        404
    );
    // The time is held: nobody else is offered it.
    assert!(!app.open_form().await.1.contains(&slot));

    // Both are told; the client's mail says it awaits her answer.
    let received = mail(&app, "request", "body").await.unwrap();
    assert!(
        received.contains("will confirm it by email by"),
        "{received}"
    );
    assert!(received.contains(&private));
    assert_eq!(mail(&app, "request", "ics").await.unwrap(), "");
    let hers = mail(&app, "therapist-request", "body").await.unwrap();
    assert!(
        hers.contains("Approve or decline it on the dashboard"),
        "{hers}"
    );
    assert!(!hers.contains("Jane"), "her email names no client");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'reminder'")
            .await,
        0
    );

    // Her dashboard lists it; its page (the email's link) changes nothing
    // by being opened, and has the button.
    let id: i64 = app.count("SELECT id FROM consultations").await;
    let (cookie, token, html) = her_page(&app, id).await;
    let dashboard = app.get_with_cookie("/admin", Some(&cookie)).await.body;
    assert!(
        dashboard.contains("1 request awaits your answer."),
        "{dashboard}"
    );
    assert_eq!(
        attr(
            &html,
            &format!("form[action='/admin/consultations/{id}/approve']"),
            "method"
        ),
        ["post"]
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM consultations WHERE awaiting_until IS NOT NULL")
            .await,
        1,
        "a GET never approves"
    );

    let approved = app
        .post_as_her(
            &format!("/admin/consultations/{id}/approve"),
            &[("token", &token)],
            &cookie,
        )
        .await;
    assert_eq!(approved.status, 303);
    let confirmation = mail(&app, "confirmation", "body").await.unwrap();
    assert!(
        confirmation.contains("Your free consultation is booked for:"),
        "{confirmation}"
    );
    assert!(
        mail(&app, "confirmation", "ics")
            .await
            .unwrap()
            .contains("METHOD:REQUEST")
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'reminder' AND status = 'pending'")
            .await,
        1,
        "the reminder is queued once it is confirmed"
    );
    // The confirmation brings a new private link (only a link's hash is
    // kept); the request's link, already in the client's inbox, still works.
    let link = private_path(&confirmation);
    assert_ne!(link, private);
    for path in [&link, &private] {
        let page = app.get(path).await.body;
        assert!(
            page.contains("Your consultation is booked"),
            "{path}: {page}"
        );
        assert!(page.contains("calendar.ics"));
    }

    // Approving twice does nothing more.
    app.post_as_her(
        &format!("/admin/consultations/{id}/approve"),
        &[("token", &token)],
        &cookie,
    )
    .await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'confirmation'")
            .await,
        1
    );
}

#[tokio::test]
async fn a_declined_request_tells_the_client_with_her_note_and_frees_the_time() {
    let app = app_with_approval().await;
    let (_, slot) = request(&app, 2).await;
    let id: i64 = app.count("SELECT id FROM consultations").await;
    let (cookie, token, html) = her_page(&app, id).await;
    assert!(
        html.root_element()
            .text()
            .any(|t| t.contains("Decline and email the client")),
        "her page offers to decline"
    );
    let declined = app
        .post_as_her(
            &format!("/admin/consultations/{id}/cancel"),
            &[("token", &token), ("note", "I have no opening that week.")],
            &cookie,
        )
        .await;
    assert_eq!(declined.status, 303);
    let body = mail(&app, "cancellation", "body").await.unwrap();
    assert!(
        body.contains("Alicia cannot offer you the free consultation you asked for on"),
        "{body}"
    );
    assert!(body.contains("We are sorry.\n\nI have no opening that week."));
    assert_eq!(
        mail(&app, "cancellation", "subject")
            .await
            .unwrap()
            .split(':')
            .next(),
        Some("Request not confirmed")
    );
    assert!(
        app.open_form().await.1.contains(&slot),
        "the time is offered again"
    );
    let detail = app
        .get_with_cookie(&format!("/admin/consultations/{id}"), Some(&cookie))
        .await
        .body;
    assert!(detail.contains("Declined by you"));
}

#[tokio::test]
async fn a_request_left_unanswered_lapses_once_the_client_is_told_and_cannot_be_approved_after() {
    let app = app_with_approval().await;
    let (private, slot) = request(&app, 8).await;
    let id: i64 = app.count("SELECT id FROM consultations").await;

    // Not yet: it waits its 24 hours.
    app.clock.advance(Duration::hours(23));
    assert_eq!(app.booking.lapse_requests().await.unwrap(), 0);
    app.clock.advance(Duration::hours(1));
    // Past its time, she can no longer approve it, even before the
    // release has run.
    assert!(!app.booking.approve(id).await.unwrap());
    assert_eq!(app.booking.lapse_requests().await.unwrap(), 1);
    assert_eq!(app.booking.lapse_requests().await.unwrap(), 0, "once");

    let body = mail(&app, "cancellation", "body").await.unwrap();
    assert!(body.contains("could not be confirmed in time"), "{body}");
    assert!(
        mail(&app, "therapist-cancelled", "subject")
            .await
            .unwrap()
            .ends_with("lapsed")
    );
    assert!(
        app.open_form().await.1.contains(&slot),
        "the time is offered again"
    );
    let page = app.get(&private).await.body;
    assert!(page.contains("Your request was not confirmed"), "{page}");

    // Her late approval changes nothing, and her page says why.
    assert!(!app.booking.approve(id).await.unwrap());
    let (_, _, html) = her_page(&app, id).await;
    assert!(
        html.root_element()
            .text()
            .any(|t| t.contains("Lapsed: not answered in time")),
        "her page says it lapsed"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM consultations WHERE status = 'booked'")
            .await,
        0
    );
}

#[tokio::test]
async fn the_client_can_withdraw_a_request_but_not_move_it() {
    let app = app_with_approval().await;
    let (private, slot) = request(&app, 3).await;
    let page = Html::parse_document(&app.get(&private).await.body);
    assert_eq!(
        attr(&page, &format!("a[href='{private}/cancel']"), "href").len(),
        1,
        "the page links to withdrawing it"
    );
    assert!(attr(&page, &format!("a[href='{private}/change']"), "href").is_empty());
    let asked = Html::parse_document(&app.get(&format!("{private}/cancel")).await.body);
    assert_eq!(
        common::booking_app::text(&asked, "h1"),
        ["Withdraw your request?"]
    );
    let token = attr(&asked, "form[action$='/cancel'] input[name=token]", "value")[0].clone();
    let withdrawn = app
        .post(&format!("{private}/cancel"), &[("token", &token)])
        .await;
    assert_eq!(withdrawn.status, 303);
    let body = mail(&app, "cancellation", "body").await.unwrap();
    assert!(
        body.contains("your request for a free consultation on"),
        "{body}"
    );
    assert!(body.contains("is withdrawn."));
    assert_eq!(mail(&app, "cancellation", "ics").await.unwrap(), "");
    assert!(
        mail(&app, "therapist-cancelled", "subject")
            .await
            .unwrap()
            .ends_with("withdrawn")
    );
    assert!(app.open_form().await.1.contains(&slot));
}
