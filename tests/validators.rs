//! The exported site passes the W3C Nu HTML checker with no errors, and the
//! sitemap validates against the sitemaps.org schema. Both tools are real
//! programs that `scripts/test` installs.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::booking_app::{JANE, TestApp};
use practice_site::site::export::export;

fn tool(relative: &str) -> PathBuf {
    let path = common::repo()
        .join("target/tools/node_modules")
        .join(relative);
    assert!(
        path.exists(),
        "{} is missing: run scripts/test, which installs it (npm install --prefix target/tools vnu-jar sitemap)",
        path.display()
    );
    path
}

fn exported_site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    export(&common::shipped_site(), dir.path()).unwrap();
    dir
}

/// The export, plus the pages the server renders per request, as the live
/// router answers them: the booking form, the form sent back with errors,
/// and the confirmation.
async fn every_page() -> tempfile::TempDir {
    let dir = exported_site();
    let app = TestApp::new().await;
    let write = |name: &str, body: &str| std::fs::write(dir.path().join(name), body).unwrap();
    write(
        "live-consultation.html",
        &app.get("/consultation").await.body,
    );
    let (token, _) = app.open_form().await;
    app.clock.advance(chrono::Duration::seconds(20));
    let errors = app
        .post(
            "/consultation",
            &[("token", token.as_str()), ("email", "not-an-email")],
        )
        .await;
    assert_eq!(errors.status, 422);
    write("live-consultation-errors.html", &errors.body);
    let (booked, _) = app.book_as(&JANE, 0).await;
    let confirmation = booked.headers["location"].to_str().unwrap().to_string();
    write("live-confirmation.html", &app.get(&confirmation).await.body);
    let cookie = app.login().await;
    for (name, path) in [
        ("live-dashboard.html", "/admin"),
        ("live-times.html", "/admin/times"),
        ("live-consultation-detail.html", "/admin/consultations/1"),
    ] {
        let reply = app.get_with_cookie(path, Some(&cookie)).await;
        assert_eq!(reply.status, 200, "{path}");
        write(name, &reply.body);
    }
    editor_pages(&write);
    dir
}

/// The editor's pages, from the real binary (the editor needs a live
/// server): the list, a file, its preview's page, a save refused over a
/// change made elsewhere, its history with a diff, and the photos page.
fn editor_pages(write: &dyn Fn(&str, &str)) {
    use common::editor::{get, open, save};
    let copy = common::ContentCopy::new();
    let server = common::process::Server::start_with_login(
        &copy.path(""),
        copy.root().join("practice.db"),
        &[],
    );
    let (port, cookie) = (server.port, common::process::log_in(server.port));
    let key = "blog/what-happens-in-a-kap-session.md";
    let edit = format!("/admin/content/{key}");
    write(
        "editor-list.html",
        &get(port, &cookie, "/admin/content").body,
    );
    let page = get(port, &cookie, &edit).body;
    write("editor-edit.html", &page);
    let frame = scraper::Html::parse_document(&page);
    let srcdoc = frame
        .select(&scraper::Selector::parse("iframe").unwrap())
        .next()
        .and_then(|f| f.attr("srcdoc").map(str::to_string))
        .expect("the preview's page");
    write("editor-preview-frame.html", &srcdoc);
    let opened = open(port, &cookie, key);
    copy.write(
        key,
        &opened
            .text
            .replacen("\n\n", "\n\nChanged elsewhere.\n\n", 1),
    );
    let conflict = save(port, &cookie, key, &opened, "A new text.\n");
    assert_eq!(conflict.status, 409);
    write("editor-conflict.html", &conflict.body);
    let opened = open(port, &cookie, key);
    assert_eq!(
        save(
            port,
            &cookie,
            key,
            &opened,
            &format!("{}\nMore.\n", opened.text)
        )
        .status,
        303
    );
    let history = format!("{edit}/history");
    let versions = get(port, &cookie, &history).body;
    let versions = scraper::Html::parse_document(&versions);
    let oldest = versions
        .select(&scraper::Selector::parse("input[name=from]").unwrap())
        .filter_map(|input| input.attr("value"))
        .next_back()
        .expect("a kept version")
        .to_string();
    let diff = get(
        port,
        &cookie,
        &format!("{history}?from=current&to={oldest}"),
    );
    assert!(diff.body.contains("<del>"), "{}", diff.body);
    write("editor-history.html", &diff.body);
    // The photos page: after a photo is added (its line to copy, the list),
    // and after one is refused (the message, the form again).
    use common::editor::{Photo, images_token, upload};
    let token = images_token(port, &cookie);
    let photo = practice_site::images::testing::phone_photo(640, 480);
    let mut sent = Photo {
        file_name: "office.jpg",
        bytes: &photo,
        alt: "Two armchairs by a window",
        portrait: false,
    };
    let added = upload(port, &cookie, &token, &sent, false);
    assert_eq!(added.status, 200, "{}", added.body);
    write("editor-photo-added.html", &added.body);
    sent.alt = "";
    let refused = upload(port, &cookie, &token, &sent, false);
    assert_eq!(refused.status, 422, "{}", refused.body);
    write("editor-photo-refused.html", &refused.body);
}

#[tokio::test]
async fn every_page_is_valid_html() {
    let vnu = tool("vnu-jar/build/dist/vnu.jar");
    let dir = every_page().await;
    let output = Command::new("java")
        .arg("-jar")
        .arg(&vnu)
        .args(["--errors-only", "--skip-non-html", "--format", "text"])
        .arg(dir.path())
        .output()
        .expect("java is needed for the Nu HTML checker: apt-get install default-jre-headless");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "the Nu HTML checker found errors:\n{report}"
    );
    let pages = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "html")
        })
        .count();
    assert!(pages >= 8, "checked {pages} pages");
}

#[test]
fn the_sitemap_is_valid_against_the_sitemaps_org_schema() {
    let schema = tool("sitemap/schema/sitemap.xsd");
    let dir = exported_site();
    let output = Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(&schema)
        .arg(dir.path().join("sitemap.xml"))
        .output()
        .expect("xmllint is needed: apt-get install libxml2-utils");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
