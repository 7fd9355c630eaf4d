//! Photos, over the real binary on a copy of the shipped content: an upload
//! from the editor becomes a `<picture>` with `srcset`, `width` and `height`,
//! and no byte a reader can fetch carries the phone's GPS position; hostile
//! uploads are refused with a plain message and nothing written; her
//! portrait appears on the home and About pages once there is one; `check`
//! names a missing photo and one without alt text at their lines.

mod common;

use std::time::Duration;

use common::editor::{Photo, images_token, open, save, upload};
use common::process::{Server, http, log_in};
use common::{ContentCopy, eventually, git, run_cli};
use practice_site::images::testing::{bomb_png, has_exif, phone_photo, photo_in};
use practice_site::images::{Format, MAX_UPLOAD_BYTES};
use scraper::{Html, Selector};

fn start(copy: &ContentCopy) -> (Server, String) {
    let server = Server::start_with_login(&copy.path(""), copy.root().join("practice.db"), &[]);
    let cookie = log_in(server.port);
    (server, cookie)
}

fn files_in(copy: &ContentCopy, folder: &str) -> Vec<String> {
    std::fs::read_dir(copy.path(folder))
        .map(|entries| {
            let mut names: Vec<String> = entries
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            names.sort();
            names
        })
        .unwrap_or_default()
}

/// Uploads `sent` as the editor's script does; the JSON answer of a
/// photo taken.
fn add(port: u16, cookie: &str, token: &str, sent: &Photo) -> serde_json::Value {
    let added = upload(port, cookie, token, sent, true);
    assert_eq!(added.status, 200, "{}: {}", sent.file_name, added.body);
    serde_json::from_str(&added.body).unwrap()
}

/// The subjects of the commits that touched `file`, newest first; nothing
/// under `content/` is left uncommitted.
fn committed(copy: &ContentCopy, file: &str) -> Vec<String> {
    let status = git(copy.root(), &["status", "--porcelain", "--", "content"]);
    assert!(status.trim().is_empty(), "{status}");
    let log = git(copy.root(), &["log", "--format=%s", "--", file]);
    log.lines().map(str::to_string).collect()
}

/// Every `(url, width)` of a `srcset`.
fn srcset(value: &str) -> Vec<(String, u32)> {
    value
        .split(", ")
        .map(|candidate| {
            let (url, width) = candidate.split_once(' ').unwrap();
            (
                url.to_string(),
                width.trim_end_matches('w').parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn an_uploaded_photo_is_served_in_sizes_with_its_shape_and_no_gps() {
    let copy = ContentCopy::new();
    let (server, cookie) = start(&copy);
    let token = images_token(server.port, &cookie);
    // Stored sideways by the "camera" (orientation 6): 2000 × 1000 pixels
    // that are drawn 1000 wide and 2000 tall.
    let photo = phone_photo(2000, 1000);
    assert!(has_exif(&photo), "the test photo carries GPS");
    let sent = Photo {
        file_name: "IMG 0423.JPG",
        bytes: &photo,
        alt: "Two armchairs by a window",
        portrait: false,
    };
    let answer = add(server.port, &cookie, &token, &sent);
    assert_eq!(answer["name"], "img-0423.jpg");
    let line = answer["markdown"].as_str().unwrap();
    assert_eq!(line, "![Two armchairs by a window](/images/img-0423.jpg)");
    let kept = std::fs::read(copy.path("images/img-0423.jpg")).unwrap();
    assert!(!has_exif(&kept), "the kept file has no EXIF");
    // The same photo again is the same file, not a second one.
    let again = upload(server.port, &cookie, &token, &sent, true);
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(files_in(&copy, "images"), ["img-0423.jpg"]);

    // In an article, saved through the editor.
    let key = "blog/what-happens-in-a-kap-session.md";
    let opened = open(server.port, &cookie, key);
    let text = opened.text.replacen("\n\n", &format!("\n\n{line}\n\n"), 2);
    assert_eq!(save(server.port, &cookie, key, &opened, &text).status, 303);
    let url = "/blog/what-happens-in-a-kap-session";
    let page = eventually(Duration::from_secs(10), Duration::from_millis(50), || {
        let page = http(server.port, "GET", url, &[], "").unwrap();
        page.body.contains("<picture>").then_some(page.body)
    })
    .expect("the article shows the photo");
    let html = Html::parse_document(&page);
    let img = html
        .select(&Selector::parse("picture img").unwrap())
        .next()
        .unwrap();
    assert_eq!(img.attr("alt"), Some("Two armchairs by a window"));
    assert_eq!(img.attr("width"), Some("1000"));
    assert_eq!(img.attr("height"), Some("2000"));
    assert!(img.attr("sizes").is_some());
    let source = html
        .select(&Selector::parse("picture source[type='image/webp']").unwrap())
        .next()
        .unwrap();
    let mut candidates = srcset(img.attr("srcset").unwrap());
    candidates.extend(srcset(source.attr("srcset").unwrap()));
    assert_eq!(
        candidates.len(),
        6,
        "480, 960 and 1000 wide, in JPEG and WebP"
    );
    for (url, width) in candidates {
        let variant = http(server.port, "GET", &url, &[], "").unwrap();
        assert_eq!(variant.status, 200, "{url}");
        let format = Format::sniff(&variant.bytes).unwrap();
        assert_eq!(variant.header("content-type"), Some(format.content_type()));
        assert!(
            variant
                .header("cache-control")
                .unwrap()
                .contains("immutable")
        );
        assert!(!has_exif(&variant.bytes), "{url} carries EXIF");
        let drawn = image::load_from_memory(&variant.bytes).unwrap();
        assert_eq!(drawn.width(), width, "{url}");
        assert_eq!(drawn.height(), width * 2, "{url}: upright");
    }
    // The photos page lists it with its line.
    let listed = common::editor::get(server.port, &cookie, "/admin/images");
    assert!(
        listed.body.contains("images/img-0423.jpg"),
        "{}",
        listed.body
    );
}

#[test]
fn hostile_uploads_are_refused_plainly_and_nothing_is_written() {
    let copy = ContentCopy::new();
    let (server, cookie) = start(&copy);
    let token = images_token(server.port, &cookie);
    let photo = phone_photo(64, 48);
    let mut html_as_png = b"\x89PNG\r\n\x1a\n".to_vec();
    html_as_png.extend_from_slice(b"<html><script>alert(1)</script></html>");
    let bomb = bomb_png(9_000, 9_000);
    let huge = vec![0xFFu8; 50 * 1024 * 1024];
    assert!(huge.len() > MAX_UPLOAD_BYTES);
    let cases: [(&str, &[u8], &str, u16, &str); 6] = [
        (
            "bomb.png",
            &bomb,
            "A grey square",
            422,
            "more than the 50 megapixels",
        ),
        (
            "photo.png",
            &html_as_png,
            "A photo",
            422,
            "could not be read",
        ),
        (
            "page.png",
            b"<!doctype html><p>hello",
            "A photo",
            415,
            "not a JPEG, PNG or WebP",
        ),
        ("big.jpg", &huge, "A big photo", 413, "a photo over 10 MB"),
        (
            "../../etc/x.jpg",
            &photo,
            "A photo",
            400,
            "may not name a folder",
        ),
        (
            "photo.jpg",
            &photo,
            "   ",
            422,
            "the description (alt text)",
        ),
    ];
    for (file_name, bytes, alt, status, message) in cases {
        let sent = Photo {
            file_name,
            bytes,
            alt,
            portrait: false,
        };
        for json in [true, false] {
            let refused = upload(server.port, &cookie, &token, &sent, json);
            assert_eq!(refused.status, status, "{file_name}: {}", refused.body);
            {
                assert!(
                    refused.body.contains(message),
                    "{file_name} ({json}): {}",
                    refused.body
                );
            }
            if !json && status != 413 {
                // The form comes back with what she typed.
                let html = Html::parse_document(&refused.body);
                let typed = html
                    .select(&Selector::parse("#field-alt").unwrap())
                    .next()
                    .and_then(|field| field.attr("value"))
                    .map(str::to_string);
                assert_eq!(typed.as_deref(), Some(alt), "{file_name}");
            }
        }
        assert!(
            files_in(&copy, "images").is_empty(),
            "{file_name} wrote a file"
        );
    }
    // Without the form's token, or without a session, nothing is written.
    let sent = Photo {
        file_name: "photo.jpg",
        bytes: &photo,
        alt: "A photo",
        portrait: false,
    };
    assert_eq!(
        upload(server.port, &cookie, "forged", &sent, true).status,
        403
    );
    assert_eq!(
        upload(server.port, "session=none", &token, &sent, true).status,
        403
    );
    assert!(files_in(&copy, "images").is_empty());
}

#[test]
fn png_and_webp_are_kept_in_their_format_whatever_their_name_says() {
    let copy = ContentCopy::new();
    let (server, cookie) = start(&copy);
    let token = images_token(server.port, &cookie);
    for (file_name, format, kept) in [
        ("Chart.PNG", Format::Png, "chart.png"),
        ("diagram.webp", Format::Webp, "diagram.webp"),
        // The type comes from the bytes: a PNG named .jpg is a PNG.
        ("scan.jpg", Format::Png, "scan.png"),
    ] {
        let bytes = photo_in(format, 300, 200);
        let sent = Photo {
            file_name,
            bytes: &bytes,
            alt: "A chart",
            portrait: false,
        };
        let answer = add(server.port, &cookie, &token, &sent);
        assert_eq!(answer["name"], kept, "{file_name}");
        let written = std::fs::read(copy.path(&format!("images/{kept}"))).unwrap();
        assert_eq!(Format::sniff(&written), Some(format), "{file_name}");
    }
    // A photo named like her portrait is not her portrait.
    let bytes = phone_photo(100, 100);
    let sent = Photo {
        file_name: "portrait.jpg",
        bytes: &bytes,
        alt: "A painted portrait in the waiting room",
        portrait: false,
    };
    assert_eq!(
        upload(server.port, &cookie, &token, &sent, true).status,
        200
    );
    assert_eq!(
        files_in(&copy, "images"),
        [
            "chart.png",
            "diagram.webp",
            "portrait-photo.jpg",
            "scan.png"
        ]
    );
}

#[test]
fn her_portrait_shows_on_home_and_about_once_there_is_one() {
    let copy = ContentCopy::new();
    let (server, cookie) = start(&copy);
    let portrait = Selector::parse(".portrait picture img").unwrap();
    for url in ["/", "/about"] {
        let page = http(server.port, "GET", url, &[], "").unwrap();
        let html = Html::parse_document(&page.body);
        assert!(
            html.select(&portrait).next().is_none(),
            "{url} shows a portrait"
        );
    }
    let token = images_token(server.port, &cookie);
    let photo = phone_photo(1200, 1200);
    let sent = Photo {
        file_name: "me.png",
        bytes: &photo,
        alt: "",
        portrait: true,
    };
    let added = upload(server.port, &cookie, &token, &sent, false);
    assert_eq!(added.status, 200, "{}", added.body);
    assert_eq!(files_in(&copy, "images"), ["portrait.jpg"]);
    for url in ["/", "/about"] {
        let alt = eventually(Duration::from_secs(10), Duration::from_millis(50), || {
            let page = http(server.port, "GET", url, &[], "").unwrap();
            let html = Html::parse_document(&page.body);
            let img = html.select(&portrait).next()?;
            assert!(img.attr("width").is_some() && img.attr("height").is_some());
            img.attr("alt").map(str::to_string)
        })
        .unwrap_or_else(|| panic!("{url} has no portrait"));
        assert!(alt.starts_with("Portrait of "), "{alt}");
    }
}

#[test]
fn check_names_a_missing_photo_and_one_without_alt_text_at_their_lines() {
    let copy = ContentCopy::new();
    std::fs::create_dir_all(copy.path("images")).unwrap();
    std::fs::write(copy.path("images/office.jpg"), phone_photo(800, 600)).unwrap();
    let key = "blog/what-happens-in-a-kap-session.md";
    let text = copy.read(key);
    let text = text.replacen(
        "\n\n",
        "\n\n![Our office](/images/Office.jpeg)\n\n![](/images/office.jpg)\n\n",
        1,
    );
    copy.write(key, &text);
    let missing = copy.line_of(key, "Office.jpeg");
    let no_alt = copy.line_of(key, "![](/images/office.jpg)");
    let (ok, out, err) = run_cli(&copy, &["check"]);
    assert!(!ok, "{out}{err}");
    let report = format!("{out}{err}");
    assert!(
        report.contains(&format!(
            "{key}:{missing}: there is no image content/images/Office.jpeg"
        )),
        "{report}"
    );
    assert!(report.contains("(there is office.jpg)"), "{report}");
    assert!(
        report.contains(&format!(
            "{key}:{no_alt}: the image `/images/office.jpg` has no alt text"
        )),
        "{report}"
    );
}

#[test]
fn each_photo_is_a_commit_when_the_content_is_a_git_repository() {
    let copy = ContentCopy::new();
    copy.in_a_git_repository();
    let (server, cookie) = start(&copy);
    let token = images_token(server.port, &cookie);
    for (bytes, portrait) in [(phone_photo(300, 300), true), (phone_photo(320, 320), true)] {
        let sent = Photo {
            file_name: "me.jpg",
            bytes: &bytes,
            alt: "",
            portrait,
        };
        assert_eq!(
            upload(server.port, &cookie, &token, &sent, true).status,
            200
        );
    }
    assert_eq!(
        committed(&copy, "content/images/portrait.jpg"),
        [
            "Add the photo images/portrait.jpg in the browser editor",
            "Add the photo images/portrait.jpg in the browser editor"
        ]
    );
}

#[test]
fn a_photo_is_removed_only_once_no_file_shows_it_and_the_history_keeps_it() {
    let copy = ContentCopy::new();
    copy.in_a_git_repository();
    let (server, cookie) = start(&copy);
    let token = images_token(server.port, &cookie);
    let photo = phone_photo(600, 400);
    let sent = Photo {
        file_name: "office.jpg",
        bytes: &photo,
        alt: "Two armchairs by a window",
        portrait: false,
    };
    let line = add(server.port, &cookie, &token, &sent)["markdown"]
        .as_str()
        .unwrap()
        .to_string();
    let key = "blog/what-happens-in-a-kap-session.md";
    let opened = open(server.port, &cookie, key);
    let original = opened.text.clone();
    let shown = original.replacen("\n\n", &format!("\n\n{line}\n\n"), 1);
    assert_eq!(save(server.port, &cookie, key, &opened, &shown).status, 303);
    let remove = |token: &str| {
        common::editor::post(
            server.port,
            &cookie,
            "/admin/images/remove",
            &[("name", "office.jpg"), ("token", token)],
        )
    };
    assert_eq!(remove("forged").status, 403);
    let refused = remove(&token);
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused.body.contains(&format!("{key} shows it")),
        "{}",
        refused.body
    );
    assert_eq!(files_in(&copy, "images"), ["office.jpg"]);
    let variant = {
        let page = http(
            server.port,
            "GET",
            "/blog/what-happens-in-a-kap-session",
            &[],
            "",
        );
        let html = Html::parse_document(&page.unwrap().body);
        let img = html
            .select(&Selector::parse("picture img").unwrap())
            .next()
            .unwrap();
        img.attr("src").unwrap().to_string()
    };
    // Its line taken out, it goes; the history has its last version.
    let opened = open(server.port, &cookie, key);
    assert_eq!(
        save(server.port, &cookie, key, &opened, &original).status,
        303
    );
    let removed = remove(&token);
    assert_eq!(removed.status, 200, "{}", removed.body);
    assert!(
        removed.body.contains("is removed from the site"),
        "{}",
        removed.body
    );
    assert!(files_in(&copy, "images").is_empty());
    let gone = eventually(Duration::from_secs(10), Duration::from_millis(50), || {
        let status = http(server.port, "GET", &variant, &[], "").unwrap().status;
        (status == 404).then_some(())
    });
    assert!(gone.is_some(), "{variant} is still served");
    assert_eq!(
        committed(&copy, "content/images/office.jpg"),
        [
            "Remove the photo images/office.jpg in the browser editor",
            "Add the photo images/office.jpg in the browser editor"
        ]
    );
}
