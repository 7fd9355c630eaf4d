//! The askama templates and the values they show. Everything here is plain
//! data computed once when the site is built; templates only format it.

use askama::Template;

use crate::config::{CallToAction, SiteConfig};
use crate::content::{Document, Library};

/// What every page shows around its content: header, navigation, footer.
#[derive(Debug, Clone)]
pub struct Layout {
    pub practice_name: String,
    pub therapist: String,
    pub credential_name: String,
    pub license_number: String,
    pub city: String,
    pub state: String,
    pub phone: String,
    pub phone_href: String,
    pub email: String,
    pub book_label: String,
    pub consultation_url: &'static str,
    pub privacy_url: &'static str,
    pub css_url: String,
    pub icon_url: String,
    pub navigation: Vec<NavLink>,
}

#[derive(Debug, Clone)]
pub struct NavLink {
    pub label: String,
    pub path: String,
}

/// The `<head>` of one page.
#[derive(Debug, Clone)]
pub struct Head {
    pub title: String,
    pub description: String,
    pub canonical: String,
    /// The path of the page, to mark the current navigation link.
    pub path: String,
    pub noindex: bool,
}

impl Head {
    pub fn new(config: &SiteConfig, title: &str, description: &str, path: &str) -> Self {
        let practice = &config.practice.name;
        let title = if title.contains(practice.as_str()) || title.contains(&config.therapist.name) {
            title.to_string()
        } else {
            format!("{title} | {practice}")
        };
        Self {
            title,
            description: description.to_string(),
            canonical: config.absolute_url(path),
            path: path.to_string(),
            noindex: false,
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
            .filter(|d| !d.draft)
            .map(Self::new)
            .collect()
    }
}

pub fn display_date(date: chrono::NaiveDate) -> String {
    date.format("%B %-d, %Y").to_string()
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
}

#[derive(Template)]
#[template(path = "blog/index.html")]
pub struct BlogIndexPage<'a> {
    pub layout: &'a Layout,
    pub head: Head,
    pub articles: Vec<ArticleCard>,
}

#[derive(Template)]
#[template(path = "blog/article.html")]
pub struct ArticlePage<'a> {
    pub layout: &'a Layout,
    pub head: Head,
    pub article: &'a Document,
    pub card: ArticleCard,
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
    pub cta: Option<&'a CallToAction>,
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
