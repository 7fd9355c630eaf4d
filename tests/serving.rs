//! The server on every core (`server::serve_on_every_core`), over real
//! sockets: many clients at once get every page they ask for, including the
//! pages rendered per request, and a stop ends it with nothing left running.

mod common;

use std::time::Duration;

use common::process::http;
use practice_site::{AppState, PreparedFirst, server};

#[tokio::test]
async fn every_core_answers_many_clients_then_stops() {
    let site = common::shipped_site();
    let expected = site
        .get("/blog/ketamine-assisted-psychotherapy-guide")
        .unwrap()
        .identity
        .body
        .clone();
    let booking = common::test_booking(site.config().unwrap());
    let app = PreparedFirst::new(AppState::new(site, booking));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server::serve_on_every_core(
        listener,
        app,
        server::Limits::default(),
        async {
            let _ = stopped.await;
        },
    ));

    let clients: Vec<_> = (0..16)
        .map(|client| {
            let expected = expected.clone();
            std::thread::spawn(move || {
                for request in 0..10 {
                    let path = if request % 5 == 4 {
                        "/consultation"
                    } else {
                        "/blog/ketamine-assisted-psychotherapy-guide"
                    };
                    let reply = http(port, "GET", path, &[], "")
                        .unwrap_or_else(|| panic!("client {client} got no answer"));
                    assert_eq!(reply.status, 200, "client {client}, {path}");
                    if path != "/consultation" {
                        assert!(reply.body.as_bytes() == expected, "client {client}");
                    } else {
                        assert!(reply.body.contains("booking-form"), "client {client}");
                    }
                }
            })
        })
        .collect();
    for client in clients {
        tokio::task::spawn_blocking(move || client.join().unwrap())
            .await
            .unwrap();
    }

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(15), serving)
        .await
        .expect("the server stops")
        .unwrap();
    assert!(
        http(port, "GET", "/", &[], "").is_none(),
        "nothing answers after the stop"
    );
}
