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
