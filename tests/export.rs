//! The static export serves exactly what the server serves: every file is
//! byte-identical to the live body (and its .gz/.br siblings to the live
//! compressed bodies), and nginx with the exported snippet answers the same
//! pages, redirects and 410s. The booking form, rendered per request, is the
//! one page a static host cannot hold: it gets a static stand-in.

mod common;

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use common::nginx::Nginx;
use common::{ContentCopy, router};
use practice_site::site::Site;
use practice_site::site::export::{export, file_for};

/// Content with an alias and a retired article, so the export has redirects
/// and 410s, and a photo, so it has image variants.
fn content_with_redirects() -> ContentCopy {
    let copy = ContentCopy::new();
    std::fs::create_dir_all(copy.path("images")).unwrap();
    let photo = practice_site::images::testing::phone_photo(700, 500);
    std::fs::write(copy.path("images/office.jpg"), photo).unwrap();
    copy.edit(
        "blog/kap-vs-iv-ketamine-clinics.md",
        "My personal journey",
        "![Two armchairs by a window](/images/office.jpg)\n\nMy personal journey",
    );
    copy.edit(
        "blog/kap-vs-iv-ketamine-clinics.md",
        "cta: kap",
        "cta: kap\naliases: [/blog/iv-vs-kap]",
    );
    copy.write(
        "blog/an-old-announcement.md",
        "---\ntitle: An Old Announcement\ndescription: No longer true.\ndate: 2024-01-01\nretired: true\n---\n\nOld news.\n",
    );
    copy
}

/// `path` as the live server answers it, asked with `accept_encoding`
/// (none when empty): the status, the body as sent, and where it redirects.
async fn live(
    app: &Router,
    path: &str,
    accept_encoding: &str,
) -> (StatusCode, Vec<u8>, Option<String>) {
    let headers: Vec<(&str, &str)> = if accept_encoding.is_empty() {
        vec![]
    } else {
        vec![("accept-encoding", accept_encoding)]
    };
    let reply = common::get_with(app, path, &headers).await;
    let location = reply
        .headers
        .get("location")
        .map(|v| v.to_str().unwrap().to_string());
    (reply.status, reply.bytes, location)
}

#[tokio::test]
async fn every_exported_file_is_byte_identical_to_the_live_response() {
    let copy = content_with_redirects();
    let site = Site::load(&copy.sources()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let summary = export(&site, dir.path()).unwrap();
    assert_eq!(summary.redirects, 1);
    assert_eq!(summary.gone, 1);
    let resources: Vec<(String, PathBuf, bool, bool)> = site
        .resources()
        .into_iter()
        .filter(|(_, r)| r.status == StatusCode::OK && !r.stand_in)
        .map(|(path, r)| {
            (
                path.to_string(),
                file_for(path, r),
                r.gzip().is_some(),
                r.brotli().is_some(),
            )
        })
        .collect();
    let app = router(site);
    let mut compared = 0;
    for (path, file, has_gzip, has_brotli) in &resources {
        let (status, body, _) = live(&app, path, "").await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(
            std::fs::read(dir.path().join(file)).unwrap() == body,
            "{path}: the exported file differs"
        );
        for (has, coding, extension) in [(has_gzip, "gzip", "gz"), (has_brotli, "br", "br")] {
            let sibling = dir.path().join(format!("{}.{extension}", file.display()));
            assert_eq!(*has, sibling.exists(), "{path} .{extension}");
            if *has {
                let (_, encoded, _) = live(&app, path, coding).await;
                assert!(
                    std::fs::read(&sibling).unwrap() == encoded,
                    "{path} {coding}: the exported sibling differs"
                );
            }
        }
        compared += 1;
    }
    assert!(compared > 20, "{compared}");
    let redirects = std::fs::read_to_string(dir.path().join("_redirects")).unwrap();
    assert!(redirects.contains("/blog/iv-vs-kap /blog/kap-vs-iv-ketamine-clinics 301"));
    assert!(
        redirects.contains("/blog/an-old-announcement /blog/an-old-announcement.gone.html 410")
    );
}

const BROTLI_MODULE: &str = "/usr/lib/nginx/modules/ngx_http_brotli_static_module.so";

/// nginx over the export at `root`, with the export's own snippet.
fn start_nginx(root: &Path) -> Nginx {
    assert!(
        Path::new(BROTLI_MODULE).exists(),
        "nginx's brotli_static module is missing; run: apt-get install libnginx-mod-http-brotli-static"
    );
    // nginx's workers run as an unprivileged user: let them read the export.
    make_world_readable(root);
    let root = root.display();
    Nginx::start(
        &format!("load_module {BROTLI_MODULE};"),
        "",
        &format!("root {root};\n        include {root}/nginx.conf;"),
    )
}

fn make_world_readable(path: &Path) {
    let metadata = std::fs::metadata(path).unwrap();
    let mode = if metadata.is_dir() { 0o755 } else { 0o644 };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    if metadata.is_dir() {
        for entry in std::fs::read_dir(path).unwrap() {
            make_world_readable(&entry.unwrap().path());
        }
    }
}

/// A plain HTTP/1.1 GET on a connection that closes after it (nginx sends
/// static files with a Content-Length): status, headers (lowercased names), body.
fn http_get(port: u16, path: &str, accept_encoding: &str) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    if !accept_encoding.is_empty() {
        request.push_str(&format!("Accept-Encoding: {accept_encoding}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let body = raw[split + 4..].to_vec();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers, body)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn nginx_serves_the_export_exactly_as_the_server_does() {
    let copy = content_with_redirects();
    let site = Site::load(&copy.sources()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    export(&site, dir.path()).unwrap();
    let paths: Vec<String> = site
        .resources()
        .into_iter()
        .filter(|(_, r)| r.status == StatusCode::OK && !r.stand_in)
        .map(|(path, _)| path.to_string())
        .collect();
    let app = router(site);
    let nginx = start_nginx(dir.path());

    for path in &paths {
        for coding in ["", "gzip", "br"] {
            let (status, body, _) = live(&app, path, coding).await;
            let (nginx_status, headers, nginx_body) = http_get(nginx.port, path, coding);
            assert_eq!(nginx_status, status.as_u16(), "{path} {coding}");
            assert!(
                nginx_body == body,
                "{path} with Accept-Encoding {coding:?}: nginx sent {} bytes ({:?}), the server {} bytes",
                nginx_body.len(),
                header(&headers, "content-encoding"),
                body.len()
            );
            for (name, value) in practice_site::site::SECURITY_HEADERS {
                assert_eq!(header(&headers, name), Some(value), "{path}: {name}");
            }
            if path.starts_with("/images/") {
                let kept = header(&headers, "cache-control");
                assert_eq!(kept, Some(practice_site::site::CACHE_IMMUTABLE), "{path}");
            }
        }
    }
    assert!(
        paths.iter().filter(|p| p.starts_with("/images/")).count() == 4,
        "the photo's variants are exported: {paths:?}"
    );
    for (path, expected_status) in [
        ("/blog/iv-vs-kap", 301),
        ("/blog/an-old-announcement", 410),
        ("/no-such-page", 404),
        ("/about/", 301),
        ("/blog/index.html", 301),
        ("/index.html", 301),
        ("/blog/kap-vs-iv-ketamine-clinics.html", 301),
    ] {
        let (status, body, location) = live(&app, path, "").await;
        assert_eq!(status.as_u16(), expected_status, "{path}");
        let (nginx_status, headers, nginx_body) = http_get(nginx.port, path, "");
        assert_eq!(nginx_status, expected_status, "{path}");
        if let Some(location) = location {
            let nginx_location = header(&headers, "location").unwrap();
            assert!(
                nginx_location.ends_with(&location),
                "{path}: {nginx_location} vs {location}"
            );
        } else {
            assert!(nginx_body == body, "{path}: the bodies differ");
        }
    }
}

/// For a host that compresses on its own, the export can leave out the
/// compressed copies; every file is still there, byte for byte the same.
#[test]
fn an_export_without_compressed_copies_has_the_same_files_and_no_copies() {
    use practice_site::site::export::{Options, export_with};
    let site = common::shipped_site();
    let with = tempfile::tempdir().unwrap();
    let without = tempfile::tempdir().unwrap();
    export(&site, with.path()).unwrap();
    export_with(
        &site,
        without.path(),
        Options {
            compressed_copies: false,
        },
    )
    .unwrap();
    let files = |root: &Path| {
        let mut all = Vec::new();
        let mut pending = vec![root.to_path_buf()];
        while let Some(dir) = pending.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    pending.push(path);
                } else {
                    all.push(path.strip_prefix(root).unwrap().to_path_buf());
                }
            }
        }
        all.sort();
        all
    };
    let plain: Vec<PathBuf> = files(with.path())
        .into_iter()
        .filter(|f| !matches!(f.extension().and_then(|e| e.to_str()), Some("gz" | "br")))
        .collect();
    assert!(
        plain.len() < files(with.path()).len(),
        "the full export has copies"
    );
    assert_eq!(files(without.path()), plain);
    for file in &plain {
        assert_eq!(
            std::fs::read(with.path().join(file)).unwrap(),
            std::fs::read(without.path().join(file)).unwrap(),
            "{}",
            file.display()
        );
    }
}
