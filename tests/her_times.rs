//! Her availability from the dashboard (`/admin/times`): time off, one slot
//! blocked and reopened, and a consultation arranged by phone, each seen
//! from the public booking page, the database and the dashboard.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::booking_app::{JANE, TestApp, attr, filled, peer, start_time, text};
use scraper::Html;

fn day_of(slot: &str) -> String {
    let seconds: i64 = slot.parse().unwrap();
    DateTime::from_timestamp(seconds, 0)
        .unwrap()
        .with_timezone(&chrono_tz::America::Los_Angeles)
        .format("%Y-%m-%d")
        .to_string()
}

fn slot_of(instant: DateTime<Utc>) -> String {
    instant.timestamp().to_string()
}

/// Her session cookie and a token for the forms of her times page.
async fn her_times(app: &TestApp) -> (String, String) {
    let cookie = app.login().await;
    let token = app.admin_token("/admin/times", &cookie).await;
    (cookie, token)
}

async fn offered(app: &TestApp) -> Vec<String> {
    app.open_form().await.1
}

#[tokio::test]
async fn time_off_closes_its_days_lists_the_bookings_there_and_can_be_removed() {
    let app = TestApp::new().await;
    let (_, booked) = app.book_as(&JANE, 0).await;
    let day = day_of(&booked);
    let (cookie, token) = her_times(&app).await;
    let before = offered(&app).await;
    let on_that_day = before.iter().filter(|s| day_of(s) == day).count();
    assert!(on_that_day > 0, "the day has other times to close");

    // A last day before the first is refused with what she typed kept.
    let refused = app
        .post_as_her(
            "/admin/times/off",
            &[("token", &token), ("first", &day), ("last", "2026-05-01")],
            &cookie,
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(
        refused
            .body
            .contains("The last day off comes before the first")
    );
    let page = Html::parse_document(&refused.body);
    assert_eq!(attr(&page, "#field-first", "value"), [day.as_str()]);
    assert_eq!(offered(&app).await, before, "nothing was closed");

    let added = app
        .post_as_her(
            "/admin/times/off",
            &[("token", &token), ("first", &day), ("last", "")],
            &cookie,
        )
        .await;
    assert_eq!(added.status, 303);
    let after = offered(&app).await;
    assert!(after.iter().all(|s| day_of(s) != day), "the day is closed");
    assert_eq!(after.len(), before.len() - on_that_day, "and only that day");

    // The booking already there stays, and she is shown it.
    let dashboard = app.get_with_cookie("/admin", Some(&cookie)).await.body;
    assert!(
        dashboard.contains("1 booking no longer fits your times."),
        "{dashboard}"
    );
    assert!(dashboard.contains("in time off you entered"));

    // Removing the time off offers the day again.
    let times = Html::parse_document(
        &app.get_with_cookie("/admin/times", Some(&cookie))
            .await
            .body,
    );
    let ids = attr(
        &times,
        ".admin-list form[action='/admin/times/reopen'] input[name=id]",
        "value",
    );
    assert_eq!(ids.len(), 1, "one span of time off is listed");
    let removed = app
        .post_as_her(
            "/admin/times/reopen",
            &[("token", &token), ("id", &ids[0])],
            &cookie,
        )
        .await;
    assert_eq!(removed.status, 303);
    assert_eq!(offered(&app).await, before);
    assert_eq!(app.count("SELECT COUNT(*) FROM time_off").await, 0);

    // Time off beyond the weeks offered is listed too, to see and remove.
    app.post_as_her(
        "/admin/times/off",
        &[
            ("token", &token),
            ("first", "2026-09-01"),
            ("last", "2026-09-04"),
        ],
        &cookie,
    )
    .await;
    let times = app
        .get_with_cookie("/admin/times", Some(&cookie))
        .await
        .body;
    assert!(
        times.contains("Tuesday, September 1 to Friday, September 4"),
        "{times}"
    );
}

#[tokio::test]
async fn one_slot_blocked_is_not_offered_nor_booked_from_a_form_opened_before_and_reopens() {
    let app = TestApp::new().await;
    let (cookie, token) = her_times(&app).await;
    // A client opens the form, with the slot on it.
    let (form_token, before) = app.open_form().await;
    let slot = before[1].clone();

    let blocked = app
        .post_as_her(
            "/admin/times/block",
            &[("token", &token), ("slot", &slot)],
            &cookie,
        )
        .await;
    assert_eq!(blocked.status, 303);
    let after = offered(&app).await;
    assert!(!after.contains(&slot));
    assert_eq!(after.len(), before.len() - 1, "only that time is closed");

    // The form opened before posts that time: refused, nothing booked.
    app.clock.advance(Duration::seconds(20));
    let refused = app
        .post("/consultation", &filled(&JANE, &slot, &form_token))
        .await;
    assert_eq!(refused.status, 409);
    assert_eq!(app.count("SELECT COUNT(*) FROM consultations").await, 0);

    // Her page shows it blocked, with a button to reopen it.
    let times = Html::parse_document(
        &app.get_with_cookie("/admin/times", Some(&cookie))
            .await
            .body,
    );
    let rows = text(&times, ".admin-list li");
    assert_eq!(
        rows.iter().filter(|r| r.contains("Blocked by you")).count(),
        1,
        "{rows:?}"
    );
    let id = attr(
        &times,
        "form[action='/admin/times/reopen'] input[name=id]",
        "value",
    );
    let reopened = app
        .post_as_her(
            "/admin/times/reopen",
            &[("token", &token), ("id", &id[0])],
            &cookie,
        )
        .await;
    assert_eq!(reopened.status, 303);
    assert_eq!(offered(&app).await, before);

    // A second click on Block does nothing more: one click on Reopen opens it.
    for expected in [303, 404] {
        let reply = app
            .post_as_her(
                "/admin/times/block",
                &[("token", &token), ("slot", &slot)],
                &cookie,
            )
            .await;
        assert_eq!(reply.status, expected);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM time_off").await, 1);
    let times = Html::parse_document(
        &app.get_with_cookie("/admin/times", Some(&cookie))
            .await
            .body,
    );
    let id = attr(
        &times,
        "form[action='/admin/times/reopen'] input[name=id]",
        "value",
    );
    app.post_as_her(
        "/admin/times/reopen",
        &[("token", &token), ("id", &id[0])],
        &cookie,
    )
    .await;
    assert_eq!(offered(&app).await, before);

    // A time that is not one of her slots is not a thing to block.
    let odd = slot_of(start_time() + Duration::minutes(7));
    let not_a_slot = app
        .post_as_her(
            "/admin/times/block",
            &[("token", &token), ("slot", &odd)],
            &cookie,
        )
        .await;
    assert_eq!(not_a_slot.status, 404);
    // Without her session, nothing changes.
    let anonymous = app
        .post_from(
            peer(9),
            "/admin/times/block",
            &[("token", &token), ("slot", &slot)],
            None,
        )
        .await;
    assert_eq!(anonymous.status, 403);
    assert_eq!(app.count("SELECT COUNT(*) FROM time_off").await, 0);
}

#[tokio::test]
async fn a_consultation_arranged_by_phone_is_booked_even_sooner_than_online_and_mails_only_the_client()
 {
    let app = TestApp::new().await;
    let (cookie, _) = her_times(&app).await;
    // Monday 8:00 AM; 9:00 AM is sooner than the day's notice online.
    let nine = start_time() + Duration::hours(1);
    let slot = slot_of(nine);
    assert!(!offered(&app).await.contains(&slot));
    let times = app
        .get_with_cookie("/admin/times", Some(&cookie))
        .await
        .body;
    let link = format!("/admin/times/book?slot={slot}");
    assert!(times.contains(&link), "{times}");
    assert!(times.contains("Too soon to be offered online"));

    let token = app.admin_token(&link, &cookie).await;
    let form = app.get_with_cookie(&link, Some(&cookie)).await.body;
    assert!(
        form.contains("Monday, June 1, 2026 at 9:00 AM Pacific Time"),
        "{form}"
    );
    let fields = |consent: &'static str| {
        vec![
            ("token", token.clone()),
            ("slot", slot.clone()),
            ("name", "Sam Rivera".to_string()),
            ("email", "sam@example.org".to_string()),
            ("phone", String::new()),
            ("contact", "phone".to_string()),
            ("topic", "kap".to_string()),
            ("consent", consent.to_string()),
        ]
    };
    let post = |fields: Vec<(&'static str, String)>| {
        let cookie = cookie.clone();
        let app = &app;
        async move {
            let borrowed: Vec<(&str, &str)> =
                fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.post_as_her("/admin/times/book", &borrowed, &cookie)
                .await
        }
    };

    // Her form speaks of the client, and keeps what she typed.
    let refused = post(fields("")).await;
    assert_eq!(refused.status, 422);
    let page = Html::parse_document(&refused.body);
    let messages = text(&page, ".booking-errors li");
    assert_eq!(
        messages,
        [
            "Enter a phone number, or choose email as the way to reach them.",
            "Tick the box once you have told them how their details are kept."
        ]
    );
    assert_eq!(attr(&page, "#field-name", "value"), ["Sam Rivera"]);
    assert_eq!(app.count("SELECT COUNT(*) FROM consultations").await, 0);

    let mut good = fields("yes");
    good[4].1 = "(909) 555-0142".to_string();
    let entered = post(good.clone()).await;
    assert_eq!(entered.status, 303, "{}", entered.body);
    let location = entered.headers["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("/admin/consultations/"));
    let detail = app.get_with_cookie(&location, Some(&cookie)).await.body;
    assert!(detail.contains("Sam Rivera") && detail.contains("(909) 555-0142"));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'confirmation' AND recipient = 'sam@example.org'")
            .await,
        1,
        "the client gets the confirmation and private link"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'therapist-new'")
            .await,
        0,
        "she is not told what she did herself"
    );

    // Her page now shows that time booked, with nothing to do there.
    let times = Html::parse_document(
        &app.get_with_cookie("/admin/times", Some(&cookie))
            .await
            .body,
    );
    let nine_row: Vec<String> = text(&times, ".admin-list li")
        .into_iter()
        .filter(|row| row.starts_with("9:00 AM"))
        .take(1)
        .collect();
    assert_eq!(nine_row, ["9:00 AM Booked"]);
    assert!(!attr(&times, "a", "href").contains(&link));

    // The same time again is taken.
    let again = post(good).await;
    assert_eq!(again.status, 409);
    assert!(again.body.contains("That time is no longer free."));
    assert_eq!(app.count("SELECT COUNT(*) FROM consultations").await, 1);
}
