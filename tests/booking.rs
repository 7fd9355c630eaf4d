//! The booking flow through the real router on a real SQLite file, with a
//! clock the tests move: booking, the private link, the dashboard, every
//! refusal (validation, bots, CSRF, rate limit, size), and the race for one slot.

mod common;

use axum::http::{StatusCode, header};
use chrono::Duration;
use common::booking_app::{Client, JANE, TestApp, attr, filled, peer, post_request, text};
use scraper::Html;

fn doc(body: &str) -> Html {
    Html::parse_document(body)
}

/// The private path from a 303's `Location` (`/booking/<token>?done=booked`).
fn location(reply: &common::Reply) -> String {
    reply.headers[header::LOCATION]
        .to_str()
        .unwrap()
        .to_string()
}

fn manage_path(reply: &common::Reply) -> String {
    location(reply).split('?').next().unwrap().to_string()
}

#[tokio::test]
async fn book_confirm_see_in_admin_cancel_by_link_and_the_slot_opens_again() {
    let app = TestApp::new().await;
    let (page_token, slots) = app.open_form().await;
    assert!(!slots.is_empty(), "the shipped hours offer times");
    let page = app.get("/consultation").await;
    assert!(
        page.headers.get(header::SET_COOKIE).is_none(),
        "no cookie for readers"
    );
    assert_eq!(page.headers[header::CACHE_CONTROL], "no-store");
    drop(page_token);

    // Book the first slot.
    let (reply, slot) = app.book_as(&JANE, 0).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert!(reply.headers.get(header::SET_COOKIE).is_none());
    let private = manage_path(&reply);
    assert!(
        private.starts_with("/booking/") && private.len() > 40,
        "{private}"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM consultations WHERE status = 'booked'")
            .await,
        1
    );

    // The confirmation page: noindex, Pacific time, calendar file, crisis line, private link.
    let confirmation = app.get(&location(&reply)).await;
    assert_eq!(confirmation.status, StatusCode::OK);
    assert!(confirmation.headers.get(header::SET_COOKIE).is_none());
    assert_eq!(confirmation.headers[header::REFERRER_POLICY], "no-referrer");
    let html = doc(&confirmation.body);
    assert_eq!(attr(&html, "meta[name=robots]", "content"), ["noindex"]);
    assert_eq!(text(&html, "h1"), ["Your consultation is booked"]);
    let details = text(&html, ".booking-details").join(" ");
    // The shipped hours open Tuesday June 2 at 9:00 (24 hours' notice from Monday 8:00).
    assert!(
        details.contains("Tuesday, June 2, 2026 at 9:00 AM Pacific Time"),
        "{details}"
    );
    assert!(text(&html, ".notice").join(" ").contains("988"));
    assert!(text(&html, ".notice").join(" ").contains("911"));
    assert!(text(&html, ".booking-link").join("").ends_with(&private));
    let ics_url = attr(&html, "a[download]", "href")[0].clone();
    assert_eq!(ics_url, format!("{private}/calendar.ics"));

    // The calendar file is valid iCalendar with the booked time.
    let ics = app.get(&ics_url).await;
    assert_eq!(ics.status, StatusCode::OK);
    assert!(
        ics.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/calendar")
    );
    let calendar: icalendar::Calendar = ics.body.parse().expect("the .ics parses");
    let event = calendar.events().next().expect("one event");
    use icalendar::Component;
    assert_eq!(
        event.get_start(),
        Some(icalendar::DatePerhapsTime::DateTime(
            icalendar::CalendarDateTime::Utc(
                chrono::DateTime::from_timestamp(slot.parse().unwrap(), 0).unwrap()
            )
        ))
    );
    assert!(event.get_summary().unwrap().contains("Alicia Taverner"));
    assert!(
        !ics.body.contains(JANE.note),
        "the note never leaves the dashboard"
    );

    // The slot is no longer offered to anyone.
    let (_, after) = app.open_form().await;
    assert!(!after.contains(&slot));

    // The therapist sees it.
    let cookie = app.login().await;
    let dashboard = app.get_with_cookie("/admin", Some(&cookie)).await;
    assert_eq!(dashboard.status, StatusCode::OK);
    let dash = doc(&dashboard.body);
    assert!(
        text(&dash, "#upcoming-heading + .admin-table-wrap td")
            .join(" ")
            .contains(JANE.name)
    );
    assert_eq!(attr(&dash, "meta[name=robots]", "content"), ["noindex"]);
    let detail_url = attr(&dash, ".admin-table a", "href")[0].clone();
    let detail = app.get_with_cookie(&detail_url, Some(&cookie)).await;
    assert!(detail.body.contains(JANE.email));
    assert!(detail.body.contains(JANE.note));

    // The client cancels through the private link, asked once more on a
    // page whose button stands apart from keeping it or moving it.
    let asked = doc(&app.get(&format!("{private}/cancel")).await.body);
    assert_eq!(
        attr(&asked, "a", "href")
            .iter()
            .filter(|h| *h == &private)
            .count(),
        1,
        "a way to keep it"
    );
    assert!(attr(&asked, "a", "href").contains(&format!("{private}/change")));
    assert_eq!(text(&asked, "form button"), ["Yes, cancel it"]);
    let token = app.cancel_token(&private).await;
    let cancelled = app
        .post(&format!("{private}/cancel"), &[("token", &token)])
        .await;
    assert_eq!(
        cancelled.status,
        StatusCode::SEE_OTHER,
        "{}",
        cancelled.body
    );
    let page = doc(&app.get(&location(&cancelled)).await.body);
    assert_eq!(text(&page, "h1"), ["Your consultation is cancelled"]);
    // Its calendar file cancels the event the client's calendar holds.
    let files: Vec<String> =
        sqlx::query_scalar("SELECT ics FROM outbox WHERE ics IS NOT NULL ORDER BY id")
            .fetch_all(app.store.pool())
            .await
            .unwrap();
    let (booked, cancel) = (&files[0], files.last().unwrap());
    assert!(booked.contains("METHOD:REQUEST") && booked.contains("SEQUENCE:0"));
    assert!(cancel.contains("METHOD:CANCEL") && cancel.contains("STATUS:CANCELLED"));
    assert!(cancel.contains("SEQUENCE:1"), "{cancel}");
    let uid = |ics: &str| {
        ics.lines()
            .find(|l| l.starts_with("UID:"))
            .map(str::to_string)
    };
    assert_eq!(uid(booked), uid(cancel), "the same event");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM consultations WHERE status = 'booked'")
            .await,
        0
    );

    // The time is open again for everyone, and the dashboard says who cancelled.
    let (_, reopened) = app.open_form().await;
    assert!(reopened.contains(&slot));
    let detail = app.get_with_cookie(&detail_url, Some(&cookie)).await;
    assert!(detail.body.contains("Cancelled by the client"));
    // Both sides are told, through the outbox.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'cancellation'")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'therapist-cancelled'")
            .await,
        1
    );
}

#[tokio::test]
async fn wrong_input_comes_back_with_every_field_kept_and_explained() {
    let app = TestApp::new().await;
    let (token, slots) = app.open_form().await;
    app.clock.advance(Duration::seconds(10));
    let reply = app
        .post(
            "/consultation",
            &[
                ("token", &token),
                ("slot", &slots[1]),
                ("name", "Sam <b>Lee</b>"),
                ("email", "sam-at-example"),
                ("phone", ""),
                ("contact", "text"),
                ("topic", "kap"),
                ("note", "Mornings & \"quiet\" please"),
                ("website", ""),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = doc(&reply.body);
    // The summary links to each field with a problem, in page order.
    let links = attr(&html, ".booking-errors a", "href");
    assert_eq!(links, ["#field-email", "#field-phone", "#field-consent"]);
    for id in ["field-email", "field-phone", "field-consent"] {
        assert_eq!(attr(&html, &format!("#{id}"), "id").len(), 1, "{id} exists");
    }
    assert_eq!(attr(&html, ".booking-errors", "role"), ["alert"]);
    // Each field says what is wrong, tied to it for screen readers.
    assert_eq!(
        attr(&html, "#field-email", "aria-describedby"),
        ["field-email-hint field-email-error"]
    );
    assert!(text(&html, "#field-email-error")[0].contains("name@example.com"));
    assert_eq!(attr(&html, "#field-email", "aria-invalid"), ["true"]);
    // Everything typed is kept, escaped.
    assert_eq!(attr(&html, "#field-name", "value"), ["Sam <b>Lee</b>"]);
    assert!(
        reply.body.contains("Sam &#60;b&#62;Lee&#60;/b&#62;")
            || reply.body.contains("Sam &lt;b&gt;")
    );
    assert_eq!(attr(&html, "#field-email", "value"), ["sam-at-example"]);
    assert_eq!(text(&html, "#field-note"), ["Mornings & \"quiet\" please"]);
    assert_eq!(attr(&html, "input[name=topic][checked]", "value"), ["kap"]);
    assert_eq!(
        attr(&html, "input[name=contact][checked]", "value"),
        ["text"]
    );
    assert_eq!(
        attr(&html, "input[name=slot][checked]", "value"),
        [slots[1].clone()]
    );
    // The health-details line stays next to the note, the crisis line above the form.
    assert!(text(&html, "#field-note-hint")[0].contains("health details"));
    assert!(text(&html, ".notice")[0].contains("988"));
    assert_eq!(app.count("SELECT COUNT(*) FROM consultations").await, 0);
}

#[tokio::test]
async fn the_honeypot_and_the_minimum_fill_time_stop_bots_without_a_captcha() {
    let app = TestApp::new().await;
    let (token, slots) = app.open_form().await;
    // Sent at once: faster than a person.
    let reply = app
        .post("/consultation", &filled(&JANE, &slots[0], &token))
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = doc(&reply.body);
    assert!(text(&html, ".booking-errors li")[0].contains("send the form again"));
    assert_eq!(
        attr(&html, "#field-name", "value"),
        [JANE.name],
        "input kept"
    );
    app.clock.advance(Duration::seconds(2));
    let reply = app
        .post("/consultation", &filled(&JANE, &slots[0], &token))
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "2 s is still too fast"
    );

    // The hidden field filled in: refused, and the field comes back empty.
    app.clock.advance(Duration::seconds(30));
    let mut fields = filled(&JANE, &slots[0], &token);
    fields.retain(|(name, _)| *name != "website");
    fields.push(("website", "http://spam.example"));
    let reply = app.post("/consultation", &fields).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(attr(&doc(&reply.body), "#website", "value"), [""]);
    assert_eq!(app.count("SELECT COUNT(*) FROM consultations").await, 0);

    // The same form, by a person, after 3 seconds: booked.
    let reply = app
        .post("/consultation", &filled(&JANE, &slots[0], &token))
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(app.count("SELECT COUNT(*) FROM consultations").await, 1);
}

#[tokio::test]
async fn public_posts_are_rate_limited_per_client_address() {
    let app = TestApp::new().await;
    let (token, _) = app.open_form().await;
    app.clock.advance(Duration::seconds(10));
    let empty = [("token", token.as_str())];
    for attempt in 1..=10 {
        let reply = app.post_from(peer(9), "/consultation", &empty, None).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "attempt {attempt}"
        );
    }
    let limited = app.post_from(peer(9), "/consultation", &empty, None).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.headers[header::RETRY_AFTER], "120");
    assert!(text(&doc(&limited.body), "h1")[0].contains("Please wait"));
    // Another address is not affected; the first recovers with time.
    let other = app.post_from(peer(10), "/consultation", &empty, None).await;
    assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY);
    app.clock.advance(Duration::minutes(2));
    let later = app.post_from(peer(9), "/consultation", &empty, None).await;
    assert_eq!(later.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn forms_without_a_token_signed_here_are_refused() {
    let app = TestApp::new().await;
    let (token, slots) = app.open_form().await;
    app.clock.advance(Duration::seconds(10));
    let forged = {
        let mut parts: Vec<&str> = token.split('.').collect();
        parts[0] = "1";
        parts.join(".")
    };
    for bad in ["", "garbage", forged.as_str()] {
        let reply = app
            .post("/consultation", &filled(&JANE, &slots[0], bad))
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{bad:?}");
        assert!(text(&doc(&reply.body), "h1")[0].contains("expired"));
    }
    // A token for another form (the login form) does not book either.
    let login = app.get("/admin/login").await;
    let login_token = attr(&doc(&login.body), "input[name=token]", "value")[0].clone();
    let reply = app
        .post("/consultation", &filled(&JANE, &slots[0], &login_token))
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(app.count("SELECT COUNT(*) FROM consultations").await, 0);

    // Two bookings: a private page's token cannot cancel the other booking.
    let (first, _) = app.book_as(&JANE, 0).await;
    let (second, _) = app.book_as(&JANE, 1).await;
    let first_token = app.cancel_token(&manage_path(&first)).await;
    let reply = app
        .post(
            &format!("{}/cancel", manage_path(&second)),
            &[("token", &first_token)],
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM consultations WHERE status = 'booked'")
            .await,
        2
    );

    // An admin form needs the session's own token, not just the cookie.
    let cookie = app.login().await;
    let reply = app
        .post_from(
            peer(1),
            "/admin/consultations/1/cancel",
            &[("token", &first_token)],
            Some(&cookie),
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    // Every form she can post, refused before its handler runs: without her
    // session (even with a token of hers), and with her session but no
    // token, a client page's token, the token of another of her sessions,
    // or a forged one. (Without an editor here, its forms would answer 404
    // if they got through; tests/editor.rs posts them to a real editor.)
    let other_token = app.cancel_token(&manage_path(&first)).await;
    let second_session = app.login().await;
    let her_other_token = app.admin_token("/admin", &second_session).await;
    let her_token = app.admin_token("/admin", &cookie).await;
    let posts: [(&str, &[(&str, &str)]); 15] = [
        ("/admin/logout", &[]),
        ("/admin/consultations/1/approve", &[]),
        ("/admin/consultations/1/cancel", &[("note", "x")]),
        ("/admin/consultations/1/delete", &[("confirm", "yes")]),
        ("/admin/feed-address", &[]),
        ("/admin/times/off", &[("first", "2026-06-01")]),
        ("/admin/times/block", &[("slot", slots[2].as_str())]),
        ("/admin/times/reopen", &[("id", "1")]),
        (
            "/admin/times/book",
            &[("slot", slots[3].as_str()), ("name", "A")],
        ),
        ("/admin/content/new", &[("title", "A new article")]),
        ("/admin/content/pages/about.md", &[("text", "x")]),
        ("/admin/content/pages/about.md/preview", &[("text", "x")]),
        ("/admin/content/pages/about.md/restore", &[("version", "x")]),
        ("/admin/content/pages/about.md/address", &[("slug", "x")]),
        ("/admin/images/remove", &[("name", "x.jpg")]),
    ];
    for (path, fields) in posts {
        for (cookie, token) in [
            (None, her_token.as_str()),
            (Some(cookie.as_str()), ""),
            (Some(cookie.as_str()), other_token.as_str()),
            (Some(cookie.as_str()), her_other_token.as_str()),
            (Some(cookie.as_str()), forged.as_str()),
        ] {
            let mut sent = fields.to_vec();
            sent.push(("token", token));
            let reply = app.post_from(peer(1), path, &sent, cookie).await;
            assert_eq!(
                reply.status,
                StatusCode::FORBIDDEN,
                "{path} with session {} and token {token:?}",
                cookie.is_some()
            );
        }
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM consultations WHERE status = 'booked'")
            .await,
        2
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM time_off").await, 0);
    // Still logged in: the logout was refused too.
    assert_eq!(
        app.get_with_cookie("/admin", Some(&cookie)).await.status,
        200
    );
}

#[tokio::test]
async fn admin_pages_refuse_without_a_session() {
    let app = TestApp::new().await;
    app.book_as(&JANE, 0).await;
    for path in ["/admin", "/admin/consultations/1", "/admin/export.csv"] {
        let reply = app.get(path).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(reply.headers[header::LOCATION], "/admin/login");
        assert!(!reply.body.contains(JANE.name));
        let forged = app
            .get_with_cookie(
                path,
                Some("admin_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
            )
            .await;
        assert_eq!(
            forged.status,
            StatusCode::SEE_OTHER,
            "{path} with a made-up session"
        );
    }
    for path in [
        "/admin/consultations/1/cancel",
        "/admin/consultations/1/delete",
        "/admin/logout",
    ] {
        let reply = app.post(path, &[("token", "x"), ("confirm", "yes")]).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM consultations WHERE status = 'booked'")
            .await,
        1
    );
    // The feed answers only at its secret address.
    assert_eq!(
        app.get("/admin/feed/guess.ics").await.status,
        StatusCode::NOT_FOUND
    );

    // A wrong password is refused; login attempts are rate-limited.
    let login = app.get("/admin/login").await;
    assert_eq!(
        attr(&doc(&login.body), "meta[name=robots]", "content"),
        ["noindex"]
    );
    // Password managers may fill it in (ASVS V2.1.11).
    assert_eq!(
        attr(&doc(&login.body), "input[name=password]", "autocomplete"),
        ["current-password"]
    );
    let token = attr(&doc(&login.body), "input[name=token]", "value")[0].clone();
    let fields = [("password", "guess"), ("token", token.as_str())];
    let attempt = || app.post_from(peer(77), "/admin/login", &fields, None);
    for _ in 0..5 {
        let reply = attempt().await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
        assert!(reply.headers.get(header::SET_COOKIE).is_none());
        assert!(reply.body.contains("That password is not right"));
    }
    assert_eq!(attempt().await.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn the_session_cookie_is_http_only_strict_secure_and_scoped_to_admin() {
    let app = TestApp::new().await;
    let page = app.get("/admin/login").await;
    let token = attr(&doc(&page.body), "input[name=token]", "value")[0].clone();
    let reply = app
        .post(
            "/admin/login",
            &[("password", common::ADMIN_PASSWORD), ("token", &token)],
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    let cookie = reply.headers[header::SET_COOKIE].to_str().unwrap();
    for part in ["HttpOnly", "SameSite=Strict", "Path=/admin", "Secure"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    // Logging out ends the session on the server too.
    let session = cookie.split(';').next().unwrap().to_string();
    let csrf = app.admin_token("/admin", &session).await;
    let out = app
        .post_from(
            peer(1),
            "/admin/logout",
            &[("token", &csrf)],
            Some(&session),
        )
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(
        out.headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(
        app.get_with_cookie("/admin", Some(&session)).await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn twenty_clients_race_for_one_slot_and_exactly_one_wins() {
    let app = TestApp::new().await;
    let (token, slots) = app.open_form().await;
    app.clock.advance(Duration::seconds(10));
    let slot = slots[0].clone();
    let mut tasks = Vec::new();
    for n in 0..20u8 {
        let router = app.router.clone();
        let fields: Vec<(String, String)> = filled(&JANE, &slot, &token)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        tasks.push(tokio::spawn(async move {
            let borrowed: Vec<(&str, &str)> = fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let request = post_request(peer(100 + n), "/consultation", &borrowed, None);
            let reply = common::send(&router, request).await;
            (reply.status, reply.body)
        }));
    }
    let mut won = 0;
    let mut taken = 0;
    for task in tasks {
        let (status, body) = task.await.unwrap();
        match status {
            StatusCode::SEE_OTHER => won += 1,
            StatusCode::CONFLICT => {
                assert!(body.contains("that time was just taken"), "{body}");
                // The form comes back with input kept and fresh slots without the taken one.
                let html = doc(&body);
                assert_eq!(attr(&html, "#field-name", "value"), [JANE.name]);
                assert!(!attr(&html, "input[name=slot]", "value").contains(&slot));
                taken += 1;
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!((won, taken), (1, 19));
    assert_eq!(app.count("SELECT COUNT(*) FROM consultations").await, 1);
}

#[tokio::test]
async fn bodies_over_the_form_limit_get_413() {
    let app = TestApp::new().await;
    let (token, slots) = app.open_form().await;
    app.clock.advance(Duration::seconds(10));
    let long = "x".repeat(9 * 1024);
    let mut fields = filled(&JANE, &slots[0], &token);
    fields.push(("extra", &long));
    let reply = app.post("/consultation", &fields).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(text(&doc(&reply.body), "h1")[0].contains("too long"));
    let huge = "x".repeat(40 * 1024);
    let reply = app.post("/consultation", &[("note", huge.as_str())]).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        reply.body.contains("<h1>"),
        "the site's page, not plain text"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM consultations").await, 0);
}

#[tokio::test]
async fn a_client_moves_the_booking_and_the_old_time_opens() {
    let app = TestApp::new().await;
    let (reply, old_slot) = app.book_as(&JANE, 0).await;
    let private = manage_path(&reply);
    let change = app.get(&format!("{private}/change")).await;
    assert_eq!(change.status, StatusCode::OK);
    let html = doc(&change.body);
    assert_eq!(attr(&html, "meta[name=robots]", "content"), ["noindex"]);
    let token = attr(&html, "input[name=token]", "value")[0].clone();
    let new_slot = attr(&html, "input[name=slot]", "value")[2].clone();
    let moved = app
        .post(
            &format!("{private}/change"),
            &[("token", &token), ("slot", &new_slot)],
        )
        .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.body);
    let (_, open) = app.open_form().await;
    assert!(open.contains(&old_slot));
    assert!(!open.contains(&new_slot));
    let ics = app.get(&format!("{private}/calendar.ics")).await.body;
    assert!(
        ics.contains("SEQUENCE:1"),
        "calendars update the event: {ics}"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'therapist-moved'")
            .await,
        1
    );
}

/// Moves the consultation behind `private` to the `index`th offered time;
/// the reply to the move.
async fn move_to(app: &TestApp, private: &str, index: usize) -> common::Reply {
    let change = app.get(&format!("{private}/change")).await;
    let html = doc(&change.body);
    let token = attr(&html, "input[name=token]", "value")[0].clone();
    let slot = attr(&html, "input[name=slot]", "value")[index].clone();
    app.post(
        &format!("{private}/change"),
        &[("token", &token), ("slot", &slot)],
    )
    .await
}

#[tokio::test]
async fn moves_are_capped_and_changes_close_the_notice_before_the_start() {
    // The shipped settings: change_notice_hours = 12, max_moves = 2.
    let app = TestApp::new().await;
    let (reply, _) = app.book_as(&JANE, 0).await;
    let private = manage_path(&reply);
    let starts = || async {
        sqlx::query_scalar::<_, i64>("SELECT starts_at FROM consultations")
            .fetch_one(app.store.pool())
            .await
            .unwrap()
    };
    let confirmation: String =
        sqlx::query_scalar("SELECT body FROM outbox WHERE kind = 'confirmation'")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert!(
        confirmation.contains("use your private link, until 12 hours before it starts"),
        "{confirmation}"
    );

    for index in [3, 1] {
        let moved = move_to(&app, &private, index).await;
        assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.body);
    }
    // A third move is not offered, and not taken if sent anyway.
    let page = app.get(&private).await;
    assert!(
        page.body.contains("moved as many times as it can be here"),
        "{}",
        page.body
    );
    let html = doc(&page.body);
    assert!(attr(&html, &format!("a[href='{private}/change']"), "href").is_empty());
    assert_eq!(
        attr(&html, &format!("a[href='{private}/cancel']"), "href").len(),
        1,
        "cancelling stays open"
    );
    let change = app.get(&format!("{private}/change")).await;
    assert_eq!(change.status, StatusCode::SEE_OTHER);
    let before = starts().await;
    let refused = app
        .post(
            &format!("{private}/change"),
            &[("token", "x"), ("slot", "1")],
        )
        .await;
    assert_ne!(refused.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(starts().await, before, "a third move was taken");

    // Within 12 hours of the start: the page points to the phone and email,
    // and a cancel sent anyway changes nothing.
    let cancel_token = app.cancel_token(&private).await;
    let start = chrono::DateTime::from_timestamp(before, 0).unwrap();
    app.clock.set(start - Duration::hours(11));
    let page = app.get(&private).await;
    assert!(
        page.body
            .contains("until 12 hours before it starts. To change it now, please call"),
        "{}",
        page.body
    );
    assert!(
        attr(
            &doc(&page.body),
            &format!("a[href='{private}/cancel']"),
            "href"
        )
        .is_empty()
    );
    let closed = app.get(&format!("{private}/cancel")).await;
    assert_eq!(
        closed.status,
        StatusCode::SEE_OTHER,
        "the question is no longer asked"
    );
    app.post(&format!("{private}/cancel"), &[("token", &cancel_token)])
        .await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM consultations WHERE status = 'booked'")
            .await,
        1
    );
}

#[tokio::test]
async fn each_reminder_is_queued_moved_with_its_consultation_and_withdrawn_on_cancel() {
    let copy = common::ContentCopy::new();
    copy.edit(
        "site.toml",
        "reminder_hours = [24]",
        "reminder_hours = [24, 2]",
    );
    let site = practice_site::site::Site::load(&copy.sources()).unwrap();
    let app = TestApp::with(site, common::test_secrets()).await;
    let (reply, _) = app.book_as(&JANE, 8).await;
    let private = manage_path(&reply);
    let pending = || async {
        sqlx::query_as::<_, (i64, String, String)>(
            "SELECT next_attempt_at, subject, body FROM outbox WHERE kind = 'reminder' AND status = 'pending' ORDER BY next_attempt_at",
        )
        .fetch_all(app.store.pool())
        .await
        .unwrap()
    };
    let start = || async {
        sqlx::query_scalar::<_, i64>("SELECT starts_at FROM consultations")
            .fetch_one(app.store.pool())
            .await
            .unwrap()
    };
    let check = |reminders: Vec<(i64, String, String)>, start: i64| {
        assert_eq!(reminders.len(), 2, "{reminders:?}");
        assert_eq!(reminders[0].0, start - 24 * 3600);
        assert_eq!(reminders[1].0, start - 2 * 3600);
        assert!(reminders[0].1.contains("tomorrow at") && reminders[0].1.ends_with("Pacific Time"));
        assert!(reminders[1].1.contains("today at") && reminders[1].1.ends_with("Pacific Time"));
        for (_, _, body) in &reminders {
            assert!(body.contains("Pacific Time"), "{body}");
            assert!(body.contains(&private), "the private link: {body}");
        }
        // Two hours before, the link no longer takes changes (12 hours).
        assert!(reminders[1].2.contains("please call"));
    };
    check(pending().await, start().await);

    // Moved: the old reminders are withdrawn, two new ones follow the time.
    let moved = move_to(&app, &private, 5).await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.body);
    check(pending().await, start().await);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'reminder' AND status = 'cancelled'")
            .await,
        2
    );

    // Cancelled: none is left to send.
    let token = app.cancel_token(&private).await;
    app.post(&format!("{private}/cancel"), &[("token", &token)])
        .await;
    assert!(pending().await.is_empty());
}

#[tokio::test]
async fn the_therapist_cancels_exports_subscribes_and_deletes() {
    let app = TestApp::new().await;
    let sam = Client {
        name: "=cmd|' /C calc'!A0",
        email: "sam@example.net",
        note: "",
    };
    // Jane books days ahead, so a reminder is queued for the day before.
    app.book_as(&JANE, 8).await;
    app.book_as(&sam, 1).await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'reminder' AND status = 'pending'")
            .await,
        1
    );
    let cookie = app.login().await;

    // Cancel, with a note the form warns must hold no clinical details:
    // the client is emailed (queued) with it, the reminder withdrawn.
    let detail = app
        .get_with_cookie("/admin/consultations/1", Some(&cookie))
        .await;
    assert!(detail.body.contains("no clinical or health details"));
    let token = app.admin_token("/admin/consultations/1", &cookie).await;
    let reply = app
        .post_from(
            peer(1),
            "/admin/consultations/1/cancel",
            &[
                ("token", &token),
                ("note", "I will call you on Monday to find a new time."),
            ],
            Some(&cookie),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'cancellation' AND recipient = 'jane.quinn@example.org' AND body LIKE '%We are sorry for the change.%I will call you on Monday to find a new time.%'").await,
        1
    );
    assert!(
        app.get_with_cookie("/admin/consultations/1", Some(&cookie))
            .await
            .body
            .contains("Cancelled by you")
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'reminder' AND status = 'cancelled' AND body = ''").await,
        1,
        "the reminder is withdrawn and its text forgotten"
    );

    // CSV export: everything, quoted, no formulas.
    let csv = app
        .get_with_cookie("/admin/export.csv", Some(&cookie))
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(
        csv.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    assert!(csv.body.contains(JANE.email));
    assert!(csv.body.contains(&format!("\"{}\"", JANE.note)) || csv.body.contains(JANE.note));
    assert!(
        csv.body.contains("'=cmd"),
        "formula neutralised: {}",
        csv.body
    );

    // The feed: at the address shown on the dashboard, short names only.
    let dashboard = doc(&app.get_with_cookie("/admin", Some(&cookie)).await.body);
    let feed_url = text(&dashboard, ".booking-link code")[0].clone();
    let feed_path = feed_url.strip_prefix("https://www.example.com").unwrap();
    let feed = app.get(feed_path).await;
    assert_eq!(feed.status, StatusCode::OK);
    let calendar: icalendar::Calendar = feed.body.parse().expect("the feed parses");
    assert_eq!(calendar.events().count(), 2);
    assert!(feed.body.contains("Consultation: Jane Q."));
    for private in [JANE.email, JANE.note, "Couples", "sam@example.net"] {
        assert!(!feed.body.contains(private), "{private} in the feed");
    }

    // Delete needs the box ticked; then every detail is gone.
    let token = app.admin_token("/admin/consultations/2", &cookie).await;
    let unticked = app
        .post_from(
            peer(1),
            "/admin/consultations/2/delete",
            &[("token", &token)],
            Some(&cookie),
        )
        .await;
    assert_eq!(unticked.status, StatusCode::UNPROCESSABLE_ENTITY);
    let deleted = app
        .post_from(
            peer(1),
            "/admin/consultations/2/delete",
            &[("token", &token), ("confirm", "yes")],
            Some(&cookie),
        )
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM consultations WHERE email = 'sam@example.net'")
            .await,
        0
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE recipient = 'sam@example.net'")
            .await,
        0
    );
    assert_eq!(
        app.get_with_cookie("/admin/consultations/2", Some(&cookie))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn consultations_past_the_retention_period_are_purged() {
    let app = TestApp::new().await;
    app.book_as(&JANE, 0).await;
    app.clock.advance(Duration::days(30));
    app.booking.purge().await.unwrap();
    assert_eq!(
        app.count("SELECT COUNT(*) FROM consultations").await,
        1,
        "kept within 90 days"
    );
    app.clock.advance(Duration::days(62));
    let purged = app.booking.purge().await.unwrap();
    assert_eq!(purged.consultations, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM consultations").await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox").await,
        0,
        "its mail too"
    );
    // Deleted means gone from the file too (secure_delete), as the privacy
    // page says: no trace of the client's name or address is left to read.
    let Some(file) = app.store.database().file() else {
        return; // PostgreSQL's files are its own (DEPLOY.md: VACUUM)
    };
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(app.store.pool())
        .await
        .unwrap();
    let mut bytes = std::fs::read(file).unwrap();
    bytes.extend(std::fs::read(file.with_extension("db-wal")).unwrap_or_default());
    for trace in [JANE.email, JANE.name] {
        assert!(
            !bytes.windows(trace.len()).any(|w| w == trace.as_bytes()),
            "{trace} is still in the database file after the purge"
        );
    }
}

#[tokio::test]
async fn private_links_that_do_not_exist_are_404() {
    let app = TestApp::new().await;
    for path in [
        "/booking/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "/booking/short",
        "/booking/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/calendar.ics",
    ] {
        assert_eq!(app.get(path).await.status, StatusCode::NOT_FOUND, "{path}");
    }
}

#[cfg(unix)]
#[tokio::test]
async fn the_database_file_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let app = TestApp::new().await;
    app.book_as(&JANE, 0).await;
    let Some(file) = app.store.database().file() else {
        return; // a SQLite file's test
    };
    for suffix in ["", "-wal", "-shm"] {
        let mut path = file.as_os_str().to_owned();
        path.push(suffix);
        if let Ok(meta) = std::fs::metadata(&path) {
            assert_eq!(meta.permissions().mode() & 0o077, 0, "{path:?}");
        }
    }
}

#[tokio::test]
async fn the_pages_describe_the_real_booking_flow_and_retention() {
    let app = TestApp::new().await;
    let privacy = app.get("/privacy").await.body;
    let days = app.booking.setup().rules.retention.num_days();
    assert!(
        privacy.contains(&format!("deleted automatically {days} days after")),
        "privacy.md must state the retention set in site.toml ({days} days)"
    );
    let booking = app.get("/consultation").await.body;
    assert!(!booking.contains("coming soon"));
    assert!(booking.contains("Please don’t include health details here"));
    let html = doc(&booking);
    // Slots are radio buttons in one fieldset per day, labelled.
    let days_legends = text(&html, "fieldset.booking-day > legend");
    assert!(!days_legends.is_empty());
    assert!(
        days_legends[0].starts_with("Tuesday, June 2"),
        "{days_legends:?}"
    );
    assert!(text(&html, "#field-slot > legend")[0].contains("Pacific Time"));
    for id in attr(&html, "input[name=slot]", "id") {
        assert_eq!(
            attr(&html, &format!("label[for='{id}']"), "for").len(),
            1,
            "{id} has a label"
        );
    }
    // The honeypot is out of reach for people and assistive technology.
    assert_eq!(attr(&html, ".booking-hp", "aria-hidden"), ["true"]);
    assert_eq!(attr(&html, "#website", "tabindex"), ["-1"]);
    // One script of this site's own, deferred, adds the visitor's time
    // (the form works without it); the other script element is JSON-LD data.
    let sources = attr(&html, "script", "src");
    assert_eq!(sources.len(), 1, "{sources:?}");
    assert!(
        sources[0].starts_with("/static/js/local-time."),
        "{sources:?}"
    );
    assert_eq!(attr(&html, "script[src]", "defer").len(), 1);
    assert!(
        attr(&html, "script:not([src])", "type")
            .iter()
            .all(|t| t == "application/ld+json")
    );
    assert_eq!(
        attr(&html, "script:not([src])", "type").len(),
        text(&html, "script:not([src])").len()
    );
}

#[tokio::test]
async fn later_dates_fold_away_but_stay_open_when_chosen() {
    let app = TestApp::new().await;
    let (token, slots) = app.open_form().await;
    let page = doc(&app.get("/consultation").await.body);
    assert_eq!(
        text(&page, "details.booking-more > summary"),
        ["More dates"]
    );
    assert!(
        attr(&page, "details.booking-more", "open").is_empty(),
        "closed at first"
    );
    // A later time chosen with a mistake elsewhere: the fold opens on it.
    let later = slots.last().unwrap().clone();
    app.clock.advance(Duration::seconds(10));
    let mut fields = filled(&JANE, &later, &token);
    fields.retain(|(name, _)| *name != "consent");
    let reply = app.post("/consultation", &fields).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = doc(&reply.body);
    assert_eq!(attr(&html, "details.booking-more", "open").len(), 1);
    assert_eq!(
        attr(&html, "details.booking-more input[checked]", "value"),
        [later]
    );
}

#[tokio::test]
async fn the_cookie_is_secure_over_https_only_when_the_site_or_proxy_says_so() {
    let copy = common::ContentCopy::new();
    copy.edit(
        "site.toml",
        "base_url = \"https://www.example.com\"",
        "base_url = \"http://127.0.0.1:3000\"",
    );
    let site = practice_site::site::Site::load(&copy.sources()).unwrap();
    let app = TestApp::with(site, common::test_secrets()).await;
    let login = |proto: Option<&'static str>| {
        let app = &app;
        async move {
            let page = app.get("/admin/login").await;
            let token = attr(&doc(&page.body), "input[name=token]", "value")[0].clone();
            let mut request = post_request(
                peer(50),
                "/admin/login",
                &[("password", common::ADMIN_PASSWORD), ("token", &token)],
                None,
            );
            if let Some(proto) = proto {
                request
                    .headers_mut()
                    .insert("x-forwarded-proto", proto.parse().unwrap());
            }
            let reply = app.send(request).await;
            assert_eq!(reply.status, StatusCode::SEE_OTHER);
            reply.headers[header::SET_COOKIE]
                .to_str()
                .unwrap()
                .to_string()
        }
    };
    assert!(
        !login(None).await.contains("Secure"),
        "plain http, no proxy"
    );
    assert!(
        login(Some("https")).await.contains("Secure"),
        "behind an https proxy"
    );
}

#[test]
fn hash_password_reads_stdin_and_prints_a_verifiable_hash() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let run = |input: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_practice-site"))
            .arg("hash-password")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let output = run("a long enough password\n");
    assert!(output.status.success());
    let hash = String::from_utf8(output.stdout).unwrap();
    let hash = hash.trim();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(practice_site::booking::admin::verify_password(
        hash,
        "a long enough password"
    ));
    let short = run("short\n");
    assert!(!short.status.success());
    assert!(short.stdout.is_empty());
    // Typed twice, as on a terminal: both must match.
    assert!(
        run("a long enough password\na long enough password\n")
            .status
            .success()
    );
    let differ = run("a long enough password\na long enough pasword\n");
    assert!(!differ.status.success());
    assert!(differ.stdout.is_empty());
    assert!(String::from_utf8_lossy(&differ.stderr).contains("differ"));
}

#[cfg(unix)]
#[test]
fn the_server_creates_a_private_database_says_mail_is_off_and_stops_cleanly() {
    use std::io::{BufRead, BufReader};
    use std::os::unix::fs::PermissionsExt;
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("data").join("practice.db");
    let repo = common::repo();
    let mut child = Command::new(env!("CARGO_BIN_EXE_practice-site"))
        .current_dir(&repo)
        .args(["--port", "0", "--database"])
        .arg(&db)
        .env_remove("SMTP_URL")
        .env_remove("SMTP_HOST")
        .env_remove("ADMIN_PASSWORD_HASH")
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        seen.push(line.clone());
        if line.contains("serving the site") {
            break;
        }
    }
    let log = seen.join("\n");
    assert!(
        log.contains("email is off; the dashboard is the source of truth"),
        "{log}"
    );
    assert!(log.contains("the /admin login is off"), "{log}");
    let mode = std::fs::metadata(&db).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{log}");
    // SIGTERM: requests finish, workers stop, the pool closes, exit 0.
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(exit.success(), "{exit:?}: {rest:?}");
    assert!(rest.iter().any(|l| l.contains("shutting down")), "{rest:?}");
}

#[tokio::test]
async fn a_new_feed_address_retires_the_old_one() {
    let app = TestApp::new().await;
    let cookie = app.login().await;
    let feed_path = |dashboard: &str| {
        let url = text(&doc(dashboard), ".booking-link code")[0].clone();
        url.strip_prefix("https://www.example.com")
            .unwrap()
            .to_string()
    };
    let old = feed_path(&app.get_with_cookie("/admin", Some(&cookie)).await.body);
    assert_eq!(app.get(&old).await.status, StatusCode::OK);

    // Without the page's token, nothing changes.
    let forged = app
        .post_from(
            peer(1),
            "/admin/feed-address",
            &[("token", "x")],
            Some(&cookie),
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get(&old).await.status, StatusCode::OK);

    let token = app.admin_token("/admin", &cookie).await;
    let rotated = app
        .post_from(
            peer(1),
            "/admin/feed-address",
            &[("token", &token)],
            Some(&cookie),
        )
        .await;
    assert_eq!(rotated.status, StatusCode::SEE_OTHER);
    let new = feed_path(&app.get_with_cookie("/admin", Some(&cookie)).await.body);
    assert_ne!(new, old);
    assert_eq!(app.get(&old).await.status, StatusCode::NOT_FOUND);
    let feed = app.get(&new).await;
    assert_eq!(feed.status, StatusCode::OK);
    assert_eq!(feed.headers[header::REFERRER_POLICY], "no-referrer");
}

/// Every answer that holds a client's details (ASVS V8.2.1, V14.4): never
/// kept by a cache, never framed, running no script, sending no referrer.
#[tokio::test]
async fn private_and_admin_answers_are_never_cached_framed_or_scripted() {
    let app = TestApp::new().await;
    let (reply, _) = app.book_as(&JANE, 0).await;
    let private = manage_path(&reply);
    let cookie = app.login().await;
    let dashboard = doc(&app.get_with_cookie("/admin", Some(&cookie)).await.body);
    let feed_url = text(&dashboard, ".booking-link code")[0].clone();
    let feed = feed_url.strip_prefix("https://www.example.com").unwrap();
    for path in [
        "/consultation",
        private.as_str(),
        &format!("{private}/calendar.ics"),
        "/admin/login",
        "/admin",
        "/admin/consultations/1",
        "/admin/export.csv",
        feed,
    ] {
        let reply = app.get_with_cookie(path, Some(&cookie)).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        let headers = &reply.headers;
        assert_eq!(headers[header::CACHE_CONTROL], "no-store", "{path}");
        assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY", "{path}");
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{path}");
        assert_eq!(headers[header::REFERRER_POLICY], "no-referrer", "{path}");
        let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        for part in [
            "script-src 'self'",
            "frame-ancestors 'none'",
            "form-action 'self'",
        ] {
            assert!(csp.contains(part), "{path}: {csp}");
        }
    }
}

/// A login lasts 12 hours, then the session is refused on the server
/// whatever the browser keeps (ASVS V3.3.1); each login is a new token.
#[tokio::test]
async fn a_session_ends_after_twelve_hours() {
    let app = TestApp::new().await;
    let cookie = app.login().await;
    assert_ne!(app.login().await, cookie, "a new token for each login");
    app.clock
        .advance(Duration::hours(12) - Duration::minutes(1));
    let reply = app.get_with_cookie("/admin", Some(&cookie)).await;
    assert_eq!(reply.status, StatusCode::OK);
    app.clock.advance(Duration::minutes(2));
    let reply = app.get_with_cookie("/admin", Some(&cookie)).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.headers[header::LOCATION], "/admin/login");
}

/// What a client typed is stored exactly as typed (queries are bound, not
/// built from text), is shown escaped in the dashboard, and fields the form
/// does not have change nothing (ASVS V5.1.2, V5.3.3, V5.3.4).
#[tokio::test]
async fn hostile_input_is_stored_as_typed_and_shown_escaped_in_the_dashboard() {
    let app = TestApp::new().await;
    let hostile = Client {
        name: "<script>alert(1)</script> O'Brien",
        email: "ob@example.net",
        note: "x'); DROP TABLE consultations; -- <img src=x onerror=alert(2)>",
    };
    let (token, slots) = app.open_form().await;
    app.clock.advance(Duration::seconds(20));
    let mut fields = filled(&hostile, &slots[0], &token);
    fields.extend([("status", "cancelled"), ("id", "42"), ("created_at", "0")]);
    let reply = app.post("/consultation", &fields).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM consultations WHERE id = 1 AND status = 'booked'")
            .await,
        1,
        "extra fields are ignored"
    );
    let stored: (String, String) =
        sqlx::query_as("SELECT name, note FROM consultations WHERE id = 1")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!(stored, (hostile.name.to_string(), hostile.note.to_string()));
    let cookie = app.login().await;
    for path in ["/admin", "/admin/consultations/1"] {
        let page = app.get_with_cookie(path, Some(&cookie)).await;
        assert!(!page.body.contains("<script>alert"), "{path}");
        assert!(!page.body.contains("<img src=x"), "{path}");
        assert!(
            doc(&page.body)
                .root_element()
                .text()
                .collect::<String>()
                .contains(hostile.name),
            "{path} shows the name as text"
        );
    }
}
