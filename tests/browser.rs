//! A real headless Chromium, driven over WebDriver by chromedriver, against
//! the real app served on a loopback port: what a visitor does with the
//! site. Follow the calls to action and the cross-links and come back; book
//! a consultation and see the confirmation; reach the consultation with the
//! keyboard alone; never scroll sideways on a small phone; read lines of a
//! comfortable length; print an article. `scripts/screenshots` saves the main
//! pages at phone and desktop widths to `target/screenshots/` for a person
//! to look at.
//!
//! Needs `chromium` and `chromedriver` (Debian: `chromium`,
//! `chromium-driver`); `scripts/test` installs them. Without them these
//! tests fail and say what to install.

mod common;

use std::future::Future;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::Method;
use base64::Engine;
use chrono::Duration as Span;
use common::booking_app::TestApp;
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use practice_site::clock::ManualClock;
use serde_json::{Value, json};

const MISSING: &str = "The browser tests drive Chromium through chromedriver, and one of them is missing. \
Run scripts/test (as root it installs them with apt-get), or install them yourself: \
sudo apt-get install chromium chromium-driver \
(or set CHROMEDRIVER and CHROME_PATH to the programs).";

/// The pages a visitor sees first, and the ones every screenshot shows.
const HOME: &str = "/";
const GUIDE: &str = "/blog/ketamine-assisted-psychotherapy-guide";
const CONSULTATION: &str = "/consultation";

fn program(env: &str, names: &[&str]) -> PathBuf {
    if let Some(path) = std::env::var_os(env) {
        return PathBuf::from(path);
    }
    let dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    names
        .iter()
        .flat_map(|name| dirs.iter().map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| panic!("{names:?} not found on PATH. {MISSING}"))
}

/// chromedriver on a free loopback port; stopped when dropped.
struct ChromeDriver {
    child: Child,
    url: String,
}

impl ChromeDriver {
    fn start() -> Self {
        let binary = program("CHROMEDRIVER", &["chromedriver"]);
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let child = Command::new(&binary)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {}: {err}. {MISSING}", binary.display()));
        let driver = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen on port {port} within 20 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        driver
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Chrome DevTools command, through chromedriver's `goog/cdp/execute`:
/// screen sizes, colour scheme and print media, full-page screenshots.
#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: Value,
}

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (Method, Option<String>) {
        (
            Method::POST,
            Some(json!({ "cmd": self.cmd, "params": self.params }).to_string()),
        )
    }
}

/// One visitor's browser, pointed at the app.
#[derive(Clone)]
struct Visitor {
    client: Client,
    base: String,
    clock: Arc<ManualClock>,
}

impl Visitor {
    async fn cdp(&self, cmd: &'static str, params: Value) -> Value {
        self.client
            .issue_cmd(Cdp { cmd, params })
            .await
            .unwrap_or_else(|err| panic!("{cmd}: {err}"))
    }

    /// A screen `width` CSS pixels wide: a phone (touch, viewport meta
    /// honoured) below 800, a desktop window above.
    async fn screen(&self, width: u32) {
        self.cdp(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": if width < 800 { 740 } else { 900 },
                    "deviceScaleFactor": 1, "mobile": width < 800 }),
        )
        .await;
    }

    async fn media(&self, media: &str, scheme: &str) {
        self.cdp(
            "Emulation.setEmulatedMedia",
            json!({ "media": media, "features": [{ "name": "prefers-color-scheme", "value": scheme }] }),
        )
        .await;
    }

    async fn open(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap_or_else(|err| panic!("open {path}: {err}"));
        assert_eq!(self.path().await, path);
    }

    async fn path(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        url.path().to_string()
    }

    async fn wait_for_path(&self, expected: impl Fn(&str) -> bool, what: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let path = self.path().await;
            if expected(&path) {
                return path;
            }
            assert!(
                Instant::now() < deadline,
                "still on {path}, waiting for {what}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn js(&self, script: &str) -> Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|err| panic!("{script}: {err}"))
    }

    async fn find(&self, css: &str) -> fantoccini::elements::Element {
        match self.client.find(Locator::Css(css)).await {
            Ok(element) => element,
            Err(err) => panic!("{css} on {}: {err}", self.path().await),
        }
    }

    async fn text(&self, css: &str) -> String {
        let element = self.find(css).await;
        element.text().await.unwrap().trim().to_string()
    }

    /// Scrolls to the element at once, as a reader who got there would
    /// have (WebDriver's own scroll would be animated by the page's smooth
    /// scrolling, and the click would land before it ends), then clicks it.
    async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.client
            .execute(
                "arguments[0].scrollIntoView({ block: 'center', behavior: 'instant' });",
                vec![serde_json::to_value(&element).unwrap()],
            )
            .await
            .unwrap();
        element
            .click()
            .await
            .unwrap_or_else(|err| panic!("click {css}: {err}"));
    }

    async fn press(&self, key: Key) {
        let key = char::from(key);
        let keys = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key });
        self.client.perform_actions(keys).await.unwrap();
    }

    /// The focused element, as a keyboard user sees it.
    async fn focused(&self) -> Value {
        self.js(
            "const e = document.activeElement; const s = getComputedStyle(e); const r = e.getBoundingClientRect();
             return { tag: e.tagName, href: e.getAttribute('href'), text: e.textContent.trim().replace(/\\s+/g, ' '),
                      outline: s.outlineStyle, outlineWidth: parseFloat(s.outlineWidth),
                      inMain: !!e.closest('main'), top: r.top, bottom: r.bottom, height: innerHeight };",
        )
        .await
    }

    /// Runs axe-core (every rule but the experimental ones) on the page and
    /// returns its violations, each as "rule (impact): help: elements".
    async fn axe_violations(&self, axe: &str) -> Vec<String> {
        // Injected through WebDriver, which the page's CSP does not govern.
        self.js(&format!("{axe}\n;return typeof axe;")).await;
        let found = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document).then(r => done(r.violations.map(v =>
                   `${v.id} (${v.impact}): ${v.help}: ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')}`)),
                   e => done([`axe failed: ${e}`]));",
                vec![],
            )
            .await
            .unwrap();
        serde_json::from_value(found).unwrap()
    }

    /// Runs axe on each of `paths` on a phone (light and dark) and a
    /// desktop screen, and fails listing every violation.
    async fn assert_no_axe_violations(&self, axe: &str, paths: &[String]) {
        let mut found = Vec::new();
        for (width, scheme) in [(375, "light"), (375, "dark"), (1280, "light")] {
            self.screen(width).await;
            self.media("", scheme).await;
            for path in paths {
                self.client
                    .goto(&format!("{}{path}", self.base))
                    .await
                    .unwrap();
                for violation in self.axe_violations(axe).await {
                    found.push(format!("{path} at {width} px, {scheme}: {violation}"));
                }
            }
        }
        assert!(found.is_empty(), "axe-core:\n{}", found.join("\n"));
    }

    /// The page's cumulative layout shift since it started loading. Every
    /// shift counts, even those the browser marks `hadRecentInput`: nobody
    /// types here, but chromedriver's navigation counts as input, and the
    /// 500 ms after it are just when a page loads.
    async fn layout_shift(&self) -> (f64, String) {
        let shift = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 if (!PerformanceObserver.supportedEntryTypes.includes('layout-shift')) return done(null);
                 let total = 0; const moved = [];
                 const rect = r => `${r.x},${r.y} ${r.width}x${r.height}`;
                 new PerformanceObserver(list => {
                   for (const e of list.getEntries()) {
                     total += e.value;
                     for (const s of e.sources) moved.push(`${s.node ? s.node.nodeName + '.' + (s.node.className || '') : '?'} ${rect(s.previousRect)} -> ${rect(s.currentRect)} at ${Math.round(e.startTime)} ms`);
                   }
                 }).observe({ type: 'layout-shift', buffered: true });
                 setTimeout(() => done([total, moved.join('; ')]), 300);",
                vec![],
            )
            .await
            .unwrap();
        let total = shift[0]
            .as_f64()
            .expect("this Chromium reports layout shifts (Layout Instability API)");
        (total, shift[1].as_str().unwrap_or_default().to_string())
    }

    /// The whole page, not just the screen, as a PNG.
    async fn screenshot(&self, file: &Path, width: u32) {
        let height = self
            .js("return Math.ceil(document.documentElement.scrollHeight);")
            .await
            .as_f64()
            .unwrap();
        let shot = self
            .cdp(
                "Page.captureScreenshot",
                json!({ "format": "png", "captureBeyondViewport": true,
                        "clip": { "x": 0, "y": 0, "width": width, "height": height, "scale": 1 } }),
            )
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().expect("a screenshot"))
            .unwrap();
        assert!(png.starts_with(b"\x89PNG"), "{}", file.display());
        let shot_width = u32::from_be_bytes(png[16..20].try_into().unwrap());
        assert_eq!(shot_width, width, "{}", file.display());
        std::fs::write(file, png).unwrap();
    }
}

/// Starts chromedriver, the app on a loopback port (with a clock the test
/// moves, so the form's minimum fill time passes without waiting) and one
/// Chromium; runs `body`; always ends the browser, then reports the outcome.
async fn in_browser<F, Fut>(body: F)
where
    F: FnOnce(Visitor) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let app = TestApp::new().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let service = app
        .router
        .clone()
        .into_make_service_with_connect_info::<SocketAddr>();
    let server = tokio::spawn(async move { axum::serve(listener, service).await.unwrap() });
    with_chromium(base, app.clock.clone(), body).await;
    server.abort();
}

/// Starts chromedriver and one Chromium pointed at `base`; runs `body`;
/// always ends the browser, then reports the outcome.
async fn with_chromium<F, Fut>(base: String, clock: Arc<ManualClock>, body: F)
where
    F: FnOnce(Visitor) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let chromium = program("CHROME_PATH", &["chromium", "chromium-browser"]);
    let driver = ChromeDriver::start();
    let profile = tempfile::tempdir().unwrap();
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("browserName".into(), json!("chrome"));
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1280,900",
                format!("--user-data-dir={}", profile.path().display()),
            ],
        }),
    );
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .unwrap_or_else(|err| {
            panic!(
                "chromedriver could not start {}: {err}. {MISSING}",
                chromium.display()
            )
        });

    let visitor = Visitor {
        client: client.clone(),
        base,
        clock,
    };
    let outcome = tokio::spawn(body(visitor)).await;
    let _ = client.close().await;
    drop(driver);
    if let Err(err) = outcome {
        match err.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(err) => panic!("{err}"),
        }
    }
}

#[tokio::test]
async fn a_reader_follows_the_calls_to_action_and_the_cross_links_and_comes_back() {
    in_browser(|v| async move {
        v.open(HOME).await;
        assert!(v.client.title().await.unwrap().contains("Alicia Taverner"));

        // The call to action at the top of the home page opens the booking page.
        v.click(".hero a.button").await;
        v.wait_for_path(|p| p == CONSULTATION, "the consultation page").await;
        assert_eq!(v.text("h1").await, "Book a Free Consultation");
        v.client.back().await.unwrap();
        v.wait_for_path(|p| p == HOME, "the home page again").await;

        // A featured article, read to its end.
        v.click(&format!(".featured a[href='{GUIDE}']")).await;
        v.wait_for_path(|p| p == GUIDE, "the guide").await;
        let title = v.text("h1").await;
        assert!(title.starts_with("The Ultimate Guide to Ketamine-Assisted Psychotherapy"), "{title}");
        assert!(v.text(".toc").await.contains("In this article"));
        let cta = v.text("main > .cta h2").await;
        assert!(cta.contains("KAP"), "a KAP article ends with the KAP call to action: {cta}");

        // A cross-link inside the article, to another article, and back.
        let links = v.js(
            "return [...document.querySelectorAll('.prose a[href^=\"/blog/\"]')].map(a => a.getAttribute('href'));",
        ).await;
        let other = links
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .find(|href| !href.starts_with(GUIDE))
            .expect("the guide links to another article")
            .to_string();
        v.click(&format!(".prose a[href='{other}']")).await;
        let target = other.split('#').next().unwrap().to_string();
        v.wait_for_path(|p| p == target, "the linked article").await;
        let other_title = v.text("h1").await;
        assert_ne!(other_title, title);
        assert!(v.text("main > .cta h2").await.len() > 10);
        v.client.back().await.unwrap();
        v.wait_for_path(|p| p == GUIDE, "the guide again").await;
        assert_eq!(v.text("h1").await, title);

        // The call to action at the end of the article books the consultation.
        v.click("main > .cta a.button").await;
        v.wait_for_path(|p| p == CONSULTATION, "the consultation page").await;
    })
    .await;
}

#[tokio::test]
async fn a_visitor_books_a_consultation_and_sees_the_confirmation() {
    in_browser(|v| async move {
        v.screen(375).await;
        v.open(CONSULTATION).await;
        // The form's own styles apply: the times are large labelled buttons.
        let styled = v.js(
            "const input = document.querySelector('.booking-time input');
             const label = document.querySelector('.booking-time label');
             return { hidden: getComputedStyle(input).opacity === '0', height: label.getBoundingClientRect().height };",
        ).await;
        assert_eq!(styled["hidden"], true, "{styled}");
        assert!(styled["height"].as_f64().unwrap() >= 44.0, "{styled}");

        let day = v.text(".booking-day legend").await;
        // The practice's time, without the visitor's own beside it.
        let time = v
            .js("return document.querySelector('.booking-time label').firstChild.textContent.trim();")
            .await
            .as_str()
            .unwrap()
            .to_string();
        v.click(".booking-time label").await;
        let name = v.find("#field-name").await;
        name.send_keys("Jane Quinn-Doe").await.unwrap();
        let email = v.find("#field-email").await;
        email.send_keys("jane.quinn@example.org").await.unwrap();
        v.click("label[for=contact-email]").await;
        v.click(".booking-choices#field-topic .booking-choice label").await;
        v.click("#field-consent").await;
        // A person takes more than the form's minimum fill time.
        v.clock.advance(Span::seconds(30));
        v.click(".booking-submit").await;

        v.wait_for_path(|p| p.starts_with("/booking/"), "the confirmation").await;
        assert_eq!(v.text("h1").await, "Your consultation is booked");
        let when = v.text(".booking-details dd").await;
        assert!(when.contains(&time), "{when} is not at {time}");
        let weekday = day.split_whitespace().next().unwrap().trim_end_matches(',');
        assert!(when.contains(weekday), "{when} is not on {day}");
        assert!(v.text("main").await.contains("Add to your calendar"));
        // Just booked, the visitor is not offered another booking at the top.
        let offered = v
            .js("return document.querySelectorAll('.site-header a[href=\"/consultation\"]').length;")
            .await;
        assert_eq!(offered, 0, "the confirmation's header offers to book again");
        let dir = screenshot_dir();
        for width in [375, 1280] {
            for scheme in ["light", "dark"] {
                v.screen(width).await;
                v.media("", scheme).await;
                let suffix = if scheme == "dark" { "-dark" } else { "" };
                v.screenshot(&dir.join(format!("confirmation-{width}{suffix}.png")), width)
                    .await;
            }
        }
    })
    .await;
}

#[tokio::test]
async fn the_visitors_own_time_shows_beside_each_time_only_in_another_zone() {
    in_browser(|v| async move {
        // The first time offered is Tuesday, June 2, 9:00 AM Pacific.
        for (zone, first_hint) in [
            ("America/New_York", Some(", 12:00 PM your time")),
            ("Asia/Tokyo", Some(", Wed 1:00 AM your time")),
            ("America/Los_Angeles", None),
        ] {
            v.cdp("Emulation.setTimezoneOverride", json!({ "timezoneId": zone }))
                .await;
            v.open(CONSULTATION).await;
            let seen = v
                .js("const labels = [...document.querySelectorAll('.booking-time label')];
                     return { labels: labels.length,
                              hints: labels.filter(l => l.querySelector('.booking-local')).length,
                              first: labels[0].firstChild.textContent.trim(),
                              hint: labels[0].querySelector('.booking-local')?.textContent ?? null };")
                .await;
            assert_eq!(seen["first"], "9:00 AM", "{zone}: {seen}");
            match first_hint {
                Some(hint) => {
                    assert_eq!(seen["hint"], hint, "{zone}: {seen}");
                    assert_eq!(seen["hints"], seen["labels"], "{zone}: every time has one");
                }
                None => assert_eq!(seen["hints"], 0, "{zone}: {seen}"),
            }
        }
    })
    .await;
}

#[tokio::test]
async fn the_keyboard_alone_reaches_the_content_and_the_consultation() {
    in_browser(|v| async move {
        v.open(HOME).await;
        // First Tab: the skip link, shown and outlined; Enter skips the header.
        v.press(Key::Tab).await;
        let skip = v.focused().await;
        assert_eq!(skip["text"], "Skip to content", "{skip}");
        assert!(
            skip["top"].as_f64().unwrap() >= 0.0,
            "the skip link is on screen: {skip}"
        );
        assert!(
            skip["outline"] != "none" && skip["outlineWidth"].as_f64().unwrap() >= 2.0,
            "{skip}"
        );
        v.press(Key::Enter).await;
        v.press(Key::Tab).await;
        let next = v.focused().await;
        assert_eq!(
            next["inMain"], true,
            "after the skip link, Tab goes into the content: {next}"
        );

        // From the top of the page, Tab reaches the booking button soon,
        // and every stop on the way shows where the focus is.
        v.open(HOME).await;
        let mut stops = Vec::new();
        loop {
            v.press(Key::Tab).await;
            let focus = v.focused().await;
            assert!(
                focus["outline"] != "none" && focus["outlineWidth"].as_f64().unwrap() >= 2.0,
                "no visible focus on {focus}"
            );
            stops.push(focus["text"].as_str().unwrap_or_default().to_string());
            if focus["href"] == CONSULTATION {
                break;
            }
            assert!(
                stops.len() < 12,
                "the consultation is not within reach: {stops:?}"
            );
        }
        v.press(Key::Enter).await;
        v.wait_for_path(|p| p == CONSULTATION, "the consultation page, by keyboard")
            .await;

        // On the booking page, a time can be chosen with the keyboard.
        v.click(".booking-jump a").await;
        v.press(Key::Tab).await;
        let slot = v
            .js(
                "const e = document.activeElement; return { name: e.name, type: e.type,
               outline: getComputedStyle(e.nextElementSibling).outlineStyle };",
            )
            .await;
        assert_eq!(slot["name"], "slot", "{slot}");
        assert_ne!(
            slot["outline"], "none",
            "the focused time is outlined: {slot}"
        );
        v.press(Key::Space).await;
        let checked = v.js("return document.activeElement.checked;").await;
        assert_eq!(checked, true);
    })
    .await;
}

/// Every page the site renders once, and `more` (pages rendered per request).
fn every_page_and(more: &[&str]) -> Vec<String> {
    common::shipped_site()
        .page_paths()
        .into_iter()
        .chain(more.iter().copied())
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn no_page_scrolls_sideways_on_a_small_phone() {
    let paths = every_page_and(&[CONSULTATION, "/admin/login"]);
    in_browser(|v| async move {
        for width in [320, 360] {
            v.screen(width).await;
            for path in &paths {
                v.open(path).await;
                let sizes = v.js(
                    "const d = document.documentElement;
                     const wide = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > d.clientWidth + 0.5
                        && !e.closest('.prose > table, .table-wrap, .admin-table-wrap, .booking-hp')).map(e => e.tagName + '.' + e.className).slice(0, 5);
                     const crisis = document.querySelector('.crisis-bar');
                     const box = crisis.getBoundingClientRect();
                     return { scroll: d.scrollWidth, client: d.clientWidth, inner: innerWidth, wide,
                              font: parseFloat(getComputedStyle(document.body).fontSize),
                              crisis: { top: box.top, bottom: box.bottom, size: parseFloat(getComputedStyle(crisis).fontSize),
                                        calls: [...crisis.querySelectorAll('a[href^=\"tel:\"]')].map(a => a.getAttribute('href')) } };",
                ).await;
                assert_eq!(sizes["client"], width, "{path}: {sizes}");
                assert!(
                    sizes["scroll"].as_f64() <= sizes["client"].as_f64(),
                    "{path} scrolls sideways at {width} px: {sizes}"
                );
                assert_eq!(sizes["wide"], json!([]), "{path} at {width} px: {sizes}");
                assert!(sizes["font"].as_f64().unwrap() >= 16.0, "{path}: {sizes}");
                // The crisis line opens every page, small and quiet, in reach.
                let crisis = &sizes["crisis"];
                assert_eq!(crisis["top"], 0.0, "{path}: {sizes}");
                assert!(crisis["bottom"].as_f64().unwrap() <= 80.0, "{path}: {sizes}");
                assert!(crisis["size"].as_f64().unwrap() >= 14.0, "{path}: {sizes}");
                assert_eq!(crisis["calls"], json!(["tel:988", "tel:911"]), "{path}");
            }
        }
    })
    .await;
}

#[tokio::test]
async fn articles_read_in_lines_of_a_comfortable_length_and_print_cleanly() {
    in_browser(|v| async move {
        v.screen(1280).await;
        v.open(GUIDE).await;
        // Characters per line, counted from where the browser broke the
        // lines of the article's longer paragraphs: in the font this machine
        // gives the page, then in its generic serif and sans-serif. Which
        // fonts a reader has is unknown (Charter, Georgia, Times, DejaVu...),
        // so the measure must hold in any of them, not just the one here.
        let lines = v.js(
            "const measure = family => {
               document.querySelector('main').style.fontFamily = family;
               const counts = [];
               for (const p of document.querySelectorAll('.prose > p')) {
                 if (p.textContent.length < 150) continue;
                 const tops = new Map();
                 const walker = document.createTreeWalker(p, NodeFilter.SHOW_TEXT);
                 const range = document.createRange();
                 for (let node; (node = walker.nextNode());) {
                   for (let i = 0; i < node.length; i++) {
                     range.setStart(node, i); range.setEnd(node, i + 1);
                     const rect = range.getClientRects()[0];
                     if (!rect) continue;
                     const top = Math.round(rect.top);
                     tops.set(top, (tops.get(top) || 0) + 1);
                   }
                 }
                 counts.push(...[...tops.values()].slice(0, -1));
               }
               return counts;
             };
             const fonts = { page: measure(''), serif: measure('serif'), 'sans-serif': measure('sans-serif') };
             measure('');
             const line = parseFloat(getComputedStyle(document.querySelector('.prose p')).lineHeight);
             const size = parseFloat(getComputedStyle(document.querySelector('.prose p')).fontSize);
             return { fonts, ratio: line / size };",
        ).await;
        for (font, counts) in lines["fonts"].as_object().unwrap() {
            let counts: Vec<f64> = counts
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Value::as_f64)
                .collect();
            assert!(counts.len() > 20, "{font}: {counts:?}");
            let average = counts.iter().sum::<f64>() / counts.len() as f64;
            eprintln!("{font}: lines of {average:.1} characters on average");
            assert!(
                (60.0..=75.0).contains(&average),
                "in the {font} font, lines of {average:.1} characters on average; aim for about 60 to 75"
            );
        }
        let ratio = lines["ratio"].as_f64().unwrap();
        assert!((1.5..=1.8).contains(&ratio), "line height {ratio:.2}");

        // A real type scale: title, section, subsection and text each a
        // clear step apart (a minor third on phones, a major third wider).
        for width in [375, 1280] {
            v.screen(width).await;
            let sizes = v
                .js("return ['h1', '.prose h2', '.prose h3', '.prose p'].map(s =>
                       parseFloat(getComputedStyle(document.querySelector(s)).fontSize));")
                .await;
            let sizes: Vec<f64> = serde_json::from_value(sizes).unwrap();
            for step in sizes.windows(2) {
                let ratio = step[0] / step[1];
                assert!(
                    (1.15..=1.3).contains(&ratio),
                    "at {width} px, font sizes {sizes:?} do not step by a steady ratio"
                );
            }
        }
        v.screen(1280).await;

        // Printed: the article, the crisis line and the note, no navigation.
        v.media("print", "light").await;
        let printed = v.js(
            "const shown = s => { const e = document.querySelector(s); return !!e && getComputedStyle(e).display !== 'none'; };
             return { nav: shown('.site-nav'), cta: shown('main > .cta'), toc: shown('.toc'), button: shown('.button-book'),
                      article: shown('.prose'), crisis: shown('.crisis-bar'), note: shown('.article .disclaimer'),
                      ink: getComputedStyle(document.body).color, paper: getComputedStyle(document.body).backgroundColor };",
        ).await;
        assert_eq!(
            printed,
            json!({ "nav": false, "cta": false, "toc": false, "button": false, "article": true,
                    "crisis": true, "note": true, "ink": "rgb(0, 0, 0)", "paper": "rgb(255, 255, 255)" })
        );
        v.media("", "light").await;
    })
    .await;
}

#[tokio::test]
async fn the_pages_honour_dark_mode_and_reduced_motion() {
    in_browser(|v| async move {
        v.open(GUIDE).await;
        let colours = "return [getComputedStyle(document.body).backgroundColor, getComputedStyle(document.body).color,
                               getComputedStyle(document.documentElement).scrollBehavior];";
        v.media("", "light").await;
        let light = v.js(colours).await;
        v.media("", "dark").await;
        let dark = v.js(colours).await;
        assert_ne!(light[0], dark[0], "a dark background in dark mode");
        assert_ne!(light[1], dark[1], "light text in dark mode");
        assert_eq!(light[2], "smooth");
        v.cdp(
            "Emulation.setEmulatedMedia",
            json!({ "features": [{ "name": "prefers-reduced-motion", "value": "reduce" }] }),
        )
        .await;
        assert_eq!(v.js(colours).await[2], "auto", "no smooth scrolling when motion is reduced");
    })
    .await;
}

/// axe-core's browser build, which `scripts/test` installs (pinned) into
/// `target/tools`.
fn axe_source() -> String {
    let path = common::repo().join("target/tools/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path).unwrap_or_else(|err| {
        panic!(
            "{}: {err}. Run scripts/test (or scripts/install-tools), which installs axe-core",
            path.display()
        )
    })
}

#[tokio::test]
async fn axe_finds_no_accessibility_violation_on_any_page_in_either_scheme() {
    let axe = axe_source();
    let paths = every_page_and(&[CONSULTATION, "/no-such-page"]);
    in_browser(|v| async move { v.assert_no_axe_violations(&axe, &paths).await }).await;
}

#[tokio::test]
async fn nothing_moves_while_a_page_loads() {
    in_browser(|v| async move {
        // First, that the measure sees a shift: a page that pushes its text
        // down 200 px a moment after it is shown.
        v.screen(375).await;
        let moving = "data:text/html,<meta name=viewport content='width=device-width'><p id=a style='margin:0'>Text</p><p>More text</p>\
            <script>setTimeout(() => document.getElementById('a').style.marginTop = '200px', 100)</script>";
        v.client.goto(moving).await.unwrap();
        let (shift, moved) = v.layout_shift().await;
        assert!(shift > 0.01, "the measure missed a shift: {shift} {moved}");
        for width in [375, 1280] {
            v.screen(width).await;
            for path in [HOME, "/blog", GUIDE, CONSULTATION] {
                v.open(path).await;
                let (shift, moved) = v.layout_shift().await;
                if shift < 0.001 {
                    continue;
                }
                // A shift the page's markup or CSS causes happens on every
                // load. Once in many CI runs a 27 KB article shifted by a
                // few pixels (0.003) while this Chromium shared two cores
                // with the other browser tests, and never on the next load:
                // say so, then require the next two loads to be still.
                eprintln!("{path} at {width} px shifted by {shift} once: {moved}");
                for _ in 0..2 {
                    v.open(path).await;
                    let (shift, moved) = v.layout_shift().await;
                    assert!(
                        shift < 0.001,
                        "{path} at {width} px shifts by {shift} while loading: {moved}"
                    );
                }
            }
        }
    })
    .await;
}

fn screenshot_dir() -> PathBuf {
    let dir = common::repo().join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Not a test (a picture proves nothing by itself): `scripts/screenshots`
/// runs it for a person to look at the pages.
#[tokio::test]
#[ignore = "takes screenshots for a person to look at: run scripts/screenshots"]
async fn screenshots_of_home_the_blog_an_article_and_the_consultation_page() {
    in_browser(|v| async move {
        let dir = screenshot_dir();
        for (name, path) in [
            ("home", HOME),
            ("blog", "/blog"),
            ("article", GUIDE),
            ("consultation", CONSULTATION),
        ] {
            for width in [375, 1280] {
                for scheme in ["light", "dark"] {
                    v.screen(width).await;
                    v.media("", scheme).await;
                    v.open(path).await;
                    let suffix = if scheme == "dark" { "-dark" } else { "" };
                    v.screenshot(&dir.join(format!("{name}-{width}{suffix}.png")), width)
                        .await;
                }
            }
        }
    })
    .await;
}

/// The real binary on a copy of the shipped content, with her login on:
/// the editor needs a live server (files, rebuilds).
fn editing_server() -> (common::ContentCopy, common::process::Server, String) {
    let copy = common::ContentCopy::new();
    let server = common::process::Server::start_with_login(
        &copy.path(""),
        copy.root().join("practice.db"),
        &[],
    );
    let base = format!("http://127.0.0.1:{}", server.port);
    (copy, server, base)
}

fn any_clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(chrono::Utc::now()))
}

const EDITED: &str = "/admin/content/blog/kap-vs-iv-ketamine-clinics.md";
const EDITED_PAGE: &str = "/blog/kap-vs-iv-ketamine-clinics";

impl Visitor {
    async fn log_in(&self) {
        self.open("/admin/login").await;
        self.find("#field-password")
            .await
            .send_keys(common::ADMIN_PASSWORD)
            .await
            .unwrap();
        self.click(".admin-login button").await;
        self.wait_for_path(|p| p == "/admin", "the dashboard").await;
    }

    /// Saves the edited article once, so its history has versions: the
    /// history page's address, and that of a diff from the oldest version.
    async fn save_once_for_a_history(&self) -> (String, String) {
        self.open(EDITED).await;
        self.js(
            "const t = document.getElementById('field-text'); t.value += '\\nOne more line.\\n';",
        )
        .await;
        self.save_in_editor().await;
        let history = format!("{EDITED}/history");
        self.open(&history).await;
        let oldest = self
            .js("const r = document.querySelectorAll('input[name=from]'); return r[r.length - 1].value;")
            .await;
        let diff = format!("{history}?from={}&to=current", oldest.as_str().unwrap());
        (history, diff)
    }

    /// Clicks Save in the editor and waits for the page that follows.
    async fn save_in_editor(&self) {
        self.click(".editor-form button[value=save]").await;
        self.until(
            "return location.search === '?saved=1';",
            "the page after saving",
        )
        .await;
    }

    /// Waits until the editor's preview shows `text`.
    async fn until_preview_has(&self, text: &str, what: &str) {
        let script = format!(
            "const f = document.querySelector('.editor-frame'); return !!f && f.srcdoc.includes({});",
            serde_json::to_string(text).unwrap()
        );
        self.until(&script, what).await;
    }

    /// Waits until the page at `path` holds `text` (after a rebuild),
    /// asking the server, not the browser, which may keep a page 5 minutes.
    async fn until_page(&self, path: &str, text: &str) {
        let port: u16 = self.base.rsplit(':').next().unwrap().parse().unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let page = common::process::http(port, "GET", path, &[], "").unwrap();
            if page.body.contains(text) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "waited 10 s for {text} on {path}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until `script` returns true.
    async fn until(&self, script: &str, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.js(script).await != Value::Bool(true) {
            assert!(Instant::now() < deadline, "waited 10 s for {what}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The textarea's line the cursor is on.
    async fn cursor_line(&self) -> u64 {
        self.js("const t = document.getElementById('field-text');
             return t.value.slice(0, t.selectionStart).split('\\n').length;")
            .await
            .as_u64()
            .unwrap()
    }
}

#[tokio::test]
async fn she_edits_sees_the_preview_follow_and_saves_and_readers_see_it() {
    let (_copy, _server, base) = editing_server();
    with_chromium(base, any_clock(), |v| async move {
        v.log_in().await;
        v.click("a[href='/admin/content']").await;
        v.wait_for_path(|p| p == "/admin/content", "the list of files")
            .await;
        v.click(&format!("a[href='{EDITED}']")).await;
        v.wait_for_path(|p| p == EDITED, "the editor").await;
        // The cursor after the front matter, then typing.
        v.js(
            "const t = document.getElementById('field-text');
              const at = t.value.indexOf('\\n---\\n') + 6; t.focus(); t.setSelectionRange(at, at);",
        )
        .await;
        v.find("#field-text")
            .await
            .send_keys("Typed in Chromium just now. ")
            .await
            .unwrap();
        v.until_preview_has(
            "Typed in Chromium just now.",
            "the preview to follow the typing",
        )
        .await;
        v.save_in_editor().await;
        let status = v.text(".booking-status").await;
        assert!(status.starts_with("Saved. Readers see it now."), "{status}");
        v.open(EDITED_PAGE).await;
        let first = v.text(".prose p").await;
        assert!(
            first.starts_with("Typed in Chromium just now. My personal journey"),
            "{first}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_broken_edit_shows_its_line_and_readers_keep_the_last_good_page() {
    let (_copy, _server, base) = editing_server();
    with_chromium(base, any_clock(), |v| async move {
        v.log_in().await;
        v.open(EDITED).await;
        // The title's closing quote lost: the front matter cannot be read.
        v.js("const t = document.getElementById('field-text');
              t.value = t.value.replace('Difference?\"', 'Difference?');
              t.dispatchEvent(new Event('input'));")
            .await;
        v.until(
            "return !!document.querySelector('.editor-preview-body .editor-problems a[data-line]');",
            "the problem in the preview",
        )
        .await;
        v.click(".editor-preview-body .editor-problems a[data-line]").await;
        let line: u64 = v
            .js("return +document.querySelector('.editor-preview-body a[data-line]').dataset.line;")
            .await
            .as_u64()
            .unwrap();
        assert_eq!(v.cursor_line().await, line, "the cursor moved to the problem's line");
        let focused = v.js("return document.activeElement.id;").await;
        assert_eq!(focused, "field-text");
        v.save_in_editor().await;
        let notice = v.text(".editor-not-live").await;
        assert!(notice.starts_with("Saved, but not live yet."), "{notice}");
        assert!(notice.contains(&format!("Line {line}:")), "{notice}");
        v.open(EDITED_PAGE).await;
        let title = v.text("h1").await;
        assert_eq!(title, "Ketamine Therapy vs. IV Ketamine Clinics: What’s the Difference?");
    })
    .await;
}

#[tokio::test]
async fn the_editor_works_by_keyboard_alone_on_a_small_phone_and_pasted_rich_text_becomes_markdown()
{
    let (copy, _server, base) = editing_server();
    with_chromium(base, any_clock(), |v| async move {
        v.log_in().await;
        v.screen(375).await;
        for path in ["/admin/content", EDITED] {
            v.open(path).await;
            let sideways = v
                .js("return document.documentElement.scrollWidth - innerWidth;")
                .await;
            assert_eq!(sideways, 0, "{path} scrolls sideways at 375 px");
        }
        // From the top: Tab reaches the text, typing goes in, Tab reaches
        // Save, Enter saves; every stop shows its focus.
        v.open(EDITED).await;
        let mut stops = 0;
        loop {
            v.press(Key::Tab).await;
            let focus = v.focused().await;
            assert!(
                focus["outline"] != "none" && focus["outlineWidth"].as_f64().unwrap() >= 2.0,
                "no visible focus on {focus}"
            );
            stops += 1;
            if v.js("return document.activeElement.id;").await == "field-text" {
                break;
            }
            assert!(stops < 25, "the text is not within reach by Tab");
        }
        v.js("const t = document.activeElement; t.setSelectionRange(t.value.length, t.value.length);")
            .await;
        let keys = KeyActions::new("keyboard".into());
        let keys = "\nAdded by keyboard.\n".chars().fold(keys, |keys, c| {
            let c = if c == '\n' { char::from(Key::Enter) } else { c };
            keys.then(KeyAction::Down { value: c })
                .then(KeyAction::Up { value: c })
        });
        v.client.perform_actions(keys).await.unwrap();
        v.press(Key::Tab).await;
        let save = v.js("return document.activeElement.textContent;").await;
        assert_eq!(save, "Save");
        v.press(Key::Enter).await;
        v.until("return location.search === '?saved=1';", "the save by keyboard")
            .await;
        let saved = copy.read("blog/kap-vs-iv-ketamine-clinics.md");
        assert!(saved.ends_with("\nAdded by keyboard.\n"), "{}", &saved[saved.len() - 80..]);

        // Rich text as Google Docs puts it on the clipboard.
        v.open(EDITED).await;
        let pasted = v
            .js(r#"const t = document.getElementById('field-text');
                 t.focus(); t.setSelectionRange(t.value.length, t.value.length);
                 const data = new DataTransfer();
                 data.setData('text/html', '<meta charset="utf-8"><b style="font-weight:normal;" id="docs-internal-guid-1"><h2 dir="ltr"><span style="font-size:16pt;">What to bring</span></h2><p dir="ltr"><span style="font-weight:700;">Comfortable</span><span> clothes and </span><span style="font-style:italic;">an open mind</span><span>; see </span><a href="https://www.example.org/guide"><span>the guide</span></a><span>.</span></p><ul><li dir="ltr"><p dir="ltr"><span>A journal</span></p></li><li dir="ltr"><p dir="ltr"><span>Water</span></p></li></ul><p><span style="color:#ff0000">Red *stars*</span></p></b>');
                 data.setData('text/plain', 'plain');
                 t.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
                 return t.value.slice(t.value.lastIndexOf('### What to bring'));"#)
            .await;
        assert_eq!(
            pasted.as_str().unwrap(),
            "### What to bring\n\n**Comfortable** clothes and *an open mind*; see [the guide](https://www.example.org/guide).\n\n- A journal\n- Water\n\nRed \\*stars\\*",
        );
    })
    .await;
}

/// A phone's photo, stored sideways with its GPS position, in a file the
/// browser can pick: 1600 × 1200 stored, drawn 1200 wide and 1600 tall.
fn photo_file(copy: &common::ContentCopy) -> String {
    let path = copy.root().join("office photo.jpg");
    std::fs::write(
        &path,
        practice_site::images::testing::phone_photo(1600, 1200),
    )
    .unwrap();
    path.to_string_lossy().into_owned()
}

#[tokio::test]
async fn she_adds_a_photo_only_with_words_for_it_and_readers_get_it_sized_without_a_shift() {
    let (copy, _server, base) = editing_server();
    let photo = photo_file(&copy);
    let images = copy.path("images");
    with_chromium(base, any_clock(), |v| async move {
        v.log_in().await;
        v.screen(375).await;
        v.open(EDITED).await;
        // The cursor after the front matter, where the photo will go.
        v.js("const t = document.getElementById('field-text');
              const at = t.value.indexOf('\\n---\\n') + 5; t.focus(); t.setSelectionRange(at, at);")
            .await;
        v.click(".editor-image summary").await;
        v.find("#field-photo").await.send_keys(&photo).await.unwrap();
        // Without words for it, the photo is not taken.
        v.click(".image-form button").await;
        let refused = v
            .js("return [document.getElementById('field-alt').matches(':invalid'),
                         document.getElementById('field-text').value.includes('/images/')];")
            .await;
        assert_eq!(refused, serde_json::json!([true, false]));
        assert!(!images.exists(), "a photo was written without its description");
        v.find("#field-alt")
            .await
            .send_keys("Two armchairs by a window")
            .await
            .unwrap();
        v.click(".image-form button").await;
        v.until(
            "return document.getElementById('field-text').value
               .includes('\\n\\n![Two armchairs by a window](/images/office-photo.jpg)\\n\\n');",
            "the photo's line in the text",
        )
        .await;
        let status = v.text(".image-form-status").await;
        assert!(status.contains("Save to publish it"), "{status}");
        v.until_preview_has("<picture>", "the preview to show the photo").await;
        v.save_in_editor().await;
        for width in [375, 1280] {
            v.screen(width).await;
            v.open(EDITED_PAGE).await;
            let (shift, moved) = v.layout_shift().await;
            assert!(shift < 0.001, "the page shifts by {shift} at {width} px: {moved}");
            v.until(
                "const i = document.querySelector('.prose picture img');
                 return !!i && i.complete && i.naturalWidth > 0;",
                "the photo to load",
            )
            .await;
            let shown = v
                .js("const i = document.querySelector('.prose picture img');
                     const r = i.getBoundingClientRect();
                     return [i.getAttribute('width'), i.getAttribute('height'), i.alt,
                             i.currentSrc.endsWith('.webp'), Math.round(r.height / r.width * 100)];")
                .await;
            assert_eq!(
                shown,
                serde_json::json!(["1200", "1600", "Two armchairs by a window", true, 133]),
                "at {width} px"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn axe_finds_no_violation_on_the_editor_pages() {
    let axe = axe_source();
    let (copy, _server, base) = editing_server();
    // A photo, so the photos page has its list and its buttons.
    std::fs::create_dir_all(copy.path("images")).unwrap();
    let photo = practice_site::images::testing::phone_photo(400, 300);
    std::fs::write(copy.path("images/office.jpg"), photo).unwrap();
    with_chromium(base, any_clock(), |v| async move {
        v.log_in().await;
        let (history, diff) = v.save_once_for_a_history().await;
        // (The save rebuilt the site, photo included.)
        v.open("/admin/images").await;
        let listed = v
            .js("return !!document.querySelector('.photo-remove');")
            .await;
        assert_eq!(listed, Value::Bool(true), "the photos page lists the photo");
        let paths = [
            "/admin/content".to_string(),
            EDITED.to_string(),
            history,
            diff,
            "/admin/images".to_string(),
        ];
        v.assert_no_axe_violations(&axe, &paths).await;
    })
    .await;
}

/// Not a test either: the editor's pages for a person to look at
/// (`scripts/screenshots`).
#[tokio::test]
#[ignore = "takes screenshots for a person to look at: run scripts/screenshots"]
async fn screenshots_of_the_editor() {
    let (copy, _server, base) = editing_server();
    with_chromium(base, any_clock(), |v| async move {
        let dir = screenshot_dir();
        v.log_in().await;
        let (_, diff) = v.save_once_for_a_history().await;
        // Her portrait, and a photo in the article (test pictures: colour
        // gradients, for where they sit and how big they are drawn).
        std::fs::create_dir_all(copy.path("images")).unwrap();
        let photo = practice_site::images::testing::phone_photo;
        std::fs::write(copy.path("images/portrait.jpg"), photo(900, 900)).unwrap();
        std::fs::write(copy.path("images/office.jpg"), photo(1600, 1200)).unwrap();
        copy.edit(
            "blog/kap-vs-iv-ketamine-clinics.md",
            "My personal journey",
            "![Two armchairs by a window](/images/office.jpg)\n\nMy personal journey",
        );
        v.until_page(EDITED_PAGE, "<picture>").await;
        for (name, path) in [
            ("photo-article", EDITED_PAGE),
            ("portrait-home", "/"),
            ("portrait-about", "/about"),
            ("editor-list", "/admin/content"),
            ("editor", EDITED),
            ("editor-history", diff.as_str()),
            ("editor-photos", "/admin/images"),
        ] {
            for width in [375, 1280] {
                v.screen(width).await;
                // The page's load event waits for its frame too.
                v.client.goto(&format!("{}{path}", v.base)).await.unwrap();
                v.screenshot(&dir.join(format!("{name}-{width}.png")), width)
                    .await;
            }
        }
        // A save with a problem, and an address already taken.
        for width in [375, 1280] {
            v.screen(width).await;
            v.open(EDITED).await;
            v.js("const t = document.getElementById('field-text');
                  t.value = t.value.replace('Difference?\"', 'Difference?');")
                .await;
            v.save_in_editor().await;
            v.screenshot(&dir.join(format!("editor-not-live-{width}.png")), width)
                .await;
            v.js("document.querySelector('.editor-rename').open = true;
                  document.getElementById('field-slug').value = 'what-happens-in-a-kap-session';
                  document.querySelector('.editor-rename form').submit();")
                .await;
            v.until(
                "return !!document.getElementById('field-slug-error');",
                "the refusal",
            )
            .await;
            v.screenshot(
                &dir.join(format!("editor-address-refused-{width}.png")),
                width,
            )
            .await;
        }
        // The photos page after a photo is added (without the script's
        // help: its line to copy), and after a removal it refuses.
        let photo = photo_file(&copy);
        for width in [375, 1280] {
            v.screen(width).await;
            v.open("/admin/images").await;
            v.find("#field-photo").await.send_keys(&photo).await.unwrap();
            v.find("#field-alt").await.send_keys("My office").await.unwrap();
            v.click(".image-form button").await;
            v.until("return !!document.getElementById('added-line');", "the added photo")
                .await;
            v.screenshot(&dir.join(format!("editor-photo-added-{width}.png")), width)
                .await;
            v.js("document.querySelector('.photo-remove input[name=name][value=\"office.jpg\"]').form.submit();")
                .await;
            v.until("return !!document.getElementById('upload-error-title');", "the refusal")
                .await;
            v.screenshot(&dir.join(format!("editor-photo-refused-{width}.png")), width)
                .await;
        }
    })
    .await;
}
