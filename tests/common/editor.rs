//! The editor's pages (`/admin/content`) as a browser's form uses them,
//! over the real binary ([`super::process`]).

use scraper::{Html, Selector};

use super::process::{HttpReply, http};

/// What the edit page gives a browser: the text as the textarea holds it
/// (the HTML parser drops the newline that follows `<textarea>`), the
/// version it names and the form's token.
pub struct Opened {
    pub text: String,
    pub version: String,
    pub token: String,
}

pub fn open(port: u16, cookie: &str, key: &str) -> Opened {
    let page = get(port, cookie, &format!("/admin/content/{key}"));
    assert_eq!(page.status, 200, "{key}: {}", page.body);
    let html = Html::parse_document(&page.body);
    let one = |css: &str| {
        html.select(&Selector::parse(css).unwrap())
            .next()
            .unwrap_or_else(|| panic!("{key}: no {css}"))
    };
    Opened {
        text: one("textarea#field-text").text().collect(),
        version: one("input[name=version]")
            .attr("value")
            .unwrap()
            .to_string(),
        token: one(".editor-form input[name=token]")
            .attr("value")
            .unwrap()
            .to_string(),
    }
}

pub fn get(port: u16, cookie: &str, path: &str) -> HttpReply {
    http(port, "GET", path, &[("Cookie", cookie)], "").unwrap()
}

pub fn post(port: u16, cookie: &str, path: &str, fields: &[(&str, &str)]) -> HttpReply {
    let body = serde_urlencoded::to_string(fields).unwrap();
    let headers = [
        ("Cookie", cookie),
        ("Content-Type", "application/x-www-form-urlencoded"),
    ];
    http(port, "POST", path, &headers, &body).unwrap()
}

/// Sends the text as a browser's form does: every line break as CRLF.
pub fn save(port: u16, cookie: &str, key: &str, opened: &Opened, text: &str) -> HttpReply {
    let typed = text.replace("\r\n", "\n").replace('\n', "\r\n");
    post(
        port,
        cookie,
        &format!("/admin/content/{key}"),
        &[
            ("text", &typed),
            ("version", &opened.version),
            ("token", &opened.token),
            ("action", "save"),
        ],
    )
}

/// What an upload form sends.
pub struct Photo<'a> {
    pub file_name: &'a str,
    pub bytes: &'a [u8],
    pub alt: &'a str,
    pub portrait: bool,
}

/// Posts `photo` to `/admin/images` as a browser's multipart form does;
/// `json` asks for the answer the editor's script reads.
pub fn upload(port: u16, cookie: &str, token: &str, photo: &Photo, json: bool) -> HttpReply {
    let boundary = "----practice-site-test-boundary-7d1f";
    let mut body = Vec::new();
    let mut field = |name: &str, value: &str| {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    };
    field("token", token);
    field("alt", photo.alt);
    if photo.portrait {
        field("portrait", "yes");
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"{}\"\r\nContent-Type: image/jpeg\r\n\r\n",
            photo.file_name
        )
        .as_bytes(),
    );
    body.extend_from_slice(photo.bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let content_type = format!("multipart/form-data; boundary={boundary}");
    let mut headers = vec![("Cookie", cookie), ("Content-Type", content_type.as_str())];
    if json {
        headers.push(("Accept", "application/json"));
    }
    super::process::http_bytes(port, "POST", "/admin/images", &headers, &body).unwrap()
}

/// The CSRF token of the photos page's form.
pub fn images_token(port: u16, cookie: &str) -> String {
    let page = get(port, cookie, "/admin/images");
    assert_eq!(page.status, 200, "{}", page.body);
    let html = Html::parse_document(&page.body);
    html.select(&Selector::parse(".image-form input[name=token]").unwrap())
        .next()
        .expect("the photo form")
        .attr("value")
        .unwrap()
        .to_string()
}
