//! The askama templates and the values they show. Everything here is plain
//! data computed once when the site is built; templates only format it.

use askama::Template;

use crate::config::{CallToAction, SiteConfig};
use crate::content::{Document, Library};

/// What every page shows around its content: header, navigation, footer.
#[derive(Debug, Clone, Default, Hash)]
pub struct Layout {
    pub practice_name: String,
    pub therapist: String,
    pub credential_name: String,
    /// "Licensed Marriage and Family Therapist, LMFT 123456": shown on
    /// every page, as California asks of a licensee's advertising.
    pub license: String,
    /// Some facts in `site.toml` are still samples: every page says the
    /// site is not live, and asks search engines to keep away.
    pub sample: bool,
    /// The notices for clients (Good Faith Estimate, fees, the Board), when
    /// that page exists.
    pub notices_url: Option<String>,
    pub city: String,
    pub state: String,
    pub phone: String,
    pub phone_href: String,
    pub email: String,
    pub book_label: String,
    pub consultation_url: &'static str,
    pub privacy_url: &'static str,
    pub css_url: String,
    /// The form styles, linked only by the booking and admin pages.
    pub forms_css_url: String,
    /// The script that adds the visitor's own time beside each offered
    /// time, loaded only by the pages that offer times.
    pub local_time_js_url: String,
    /// The editor's script (`/admin/content`).
    pub editor_js_url: String,
    pub icon_url: String,
    pub feed_url: &'static str,
    /// The therapist's preview: pages load the reload script.
    pub preview: bool,
    pub feed_title: String,
    pub navigation: Vec<NavLink>,
}

#[derive(Debug, Clone, Hash)]
pub struct NavLink {
    pub label: String,
    pub path: String,
}

/// The `<head>` of one page: what search engines and link previews read.
#[derive(Debug, Clone, Default)]
pub struct Head {
    /// The full `<title>`, with the practice's name.
    pub title: String,
    /// The page's own title, for link previews.
    pub share_title: String,
    pub description: String,
    pub canonical: String,
    /// The path of the page, to mark the current navigation link.
    pub path: String,
    pub noindex: bool,
    /// Open Graph type: `website`, `article` or `profile`.
    pub og_type: &'static str,
    /// Absolute URL of the share image, and what it shows.
    pub image: String,
    pub image_alt: String,
    /// Article times (ISO dates), for `article:published_time` and friends.
    pub published: Option<String>,
    pub modified: Option<String>,
    /// JSON-LD, already safe to place inside `<script>`.
    pub json_ld: String,
}

impl Head {
    pub fn new(config: &SiteConfig, title: &str, description: &str, path: &str) -> Self {
        let practice = &config.practice.name;
        let full_title =
            if title.contains(practice.as_str()) || title.contains(&config.therapist.name) {
                title.to_string()
            } else {
                format!("{title} | {practice}")
            };
        Self {
            title: full_title,
            share_title: title.to_string(),
            description: description.to_string(),
            canonical: config.absolute_url(path),
            path: path.to_string(),
            noindex: false,
            og_type: "website",
            image: String::new(),
            image_alt: String::new(),
            published: None,
            modified: None,
            json_ld: String::new(),
        }
    }
}

/// An article in a list: blog index, home page, related, linked from.
#[derive(Debug, Clone)]
pub struct ArticleCard {
    pub title: String,
    pub url: String,
    pub description: String,
    pub date_iso: String,
    pub date_display: String,
    pub reading_minutes: usize,
}

impl ArticleCard {
    pub fn new(document: &Document) -> Self {
        let date = document.date.unwrap_or_default();
        Self {
            title: document.title.clone(),
            url: document.url.clone(),
            description: document.description.clone(),
            date_iso: date.format("%Y-%m-%d").to_string(),
            date_display: display_date(date),
            reading_minutes: document.reading_minutes(),
        }
    }

    pub fn list<'a>(library: &'a Library, indices: &'a [usize]) -> Vec<Self> {
        indices
            .iter()
            .map(|&i| &library.documents[i])
            .filter(|d| d.is_published())
            .map(Self::new)
            .collect()
    }
}

pub fn display_date(date: chrono::NaiveDate) -> String {
    date.format("%B %-d, %Y").to_string()
}

/// "Reviewed by {by} on {date}", shown near the byline of a reviewed page.
#[derive(Debug, Clone)]
pub struct Reviewed {
    pub by: String,
    pub date_iso: String,
    pub date_display: String,
}

impl Reviewed {
    pub fn of(document: &Document) -> Option<Self> {
        document.reviewed.map(|date| Self {
            by: document.reviewed_by.clone(),
            date_iso: date.format("%Y-%m-%d").to_string(),
            date_display: display_date(date),
        })
    }
}

/// A service on the home page.
#[derive(Debug, Clone)]
pub struct ServiceCard {
    pub title: String,
    pub url: String,
    pub description: String,
}

#[derive(Debug, Clone)]
pub struct TocEntry {
    pub id: String,
    pub text: String,
}

#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage<'a> {
    pub layout: &'a Layout,
    pub head: Head,
    pub heading: &'a str,
    pub intro_html: &'a str,
    pub services: Vec<ServiceCard>,
    pub featured: Vec<ArticleCard>,
    pub cta: &'a CallToAction,
    /// Her portrait, once she has uploaded one; nothing until then.
    pub portrait: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "blog/index.html")]
pub struct BlogIndexPage<'a> {
    pub layout: &'a Layout,
    pub head: Head,
    pub articles: Vec<ArticleCard>,
    /// Links to the newer and older pages, when the articles fill more than one.
    pub pager: Option<Pager>,
}

/// Where a page of the blog index stands among the others.
#[derive(Debug, Clone)]
pub struct Pager {
    pub number: usize,
    pub count: usize,
    pub newer: Option<String>,
    pub older: Option<String>,
}

#[derive(Template)]
#[template(path = "blog/article.html")]
pub struct ArticlePage<'a> {
    pub layout: &'a Layout,
    pub head: Head,
    pub article: &'a Document,
    pub card: ArticleCard,
    pub reviewed: Option<Reviewed>,
    pub updated: Option<(String, String)>,
    pub toc: Vec<TocEntry>,
    pub linked_from: Vec<ArticleCard>,
    pub related: Vec<ArticleCard>,
    pub cta: &'a CallToAction,
}

#[derive(Template)]
#[template(path = "page.html")]
pub struct ContentPage<'a> {
    pub layout: &'a Layout,
    pub head: Head,
    pub page: &'a Document,
    pub reviewed: Option<Reviewed>,
    pub cta: Option<&'a CallToAction>,
    /// Her portrait, on the About page once she has uploaded one.
    pub portrait: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "consultation.html")]
pub struct ConsultationPage<'a> {
    pub layout: &'a Layout,
    pub head: Head,
    pub page: &'a Document,
    pub minutes: u32,
}

#[derive(Template)]
#[template(path = "gone.html")]
pub struct GonePage<'a> {
    pub layout: &'a Layout,
    pub head: Head,
    pub title: &'a str,
    pub articles: Vec<ArticleCard>,
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub layout: &'a Layout,
    pub head: Head,
    pub status: u16,
    pub heading: &'a str,
    pub message: &'a str,
}
