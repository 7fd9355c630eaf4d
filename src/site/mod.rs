//! The site as readers get it: every page rendered once into memory, so that
//! a request is a lookup. A `Site` never changes after it is built; a new one
//! is swapped in whole through [`SiteHandle`].

pub mod assets;
pub mod views;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use arc_swap::ArcSwap;
use askama::Template;
use axum::http::{HeaderValue, StatusCode};
use bytes::Bytes;

use crate::config::SiteConfig;
use crate::content::{self, Document, Library};
use crate::diagnostic::{Diagnostic, Diagnostics};
use assets::Assets;
use views::{
    ArticleCard, ArticlePage, BlogIndexPage, ContentPage, ErrorPage, Head, HomePage, Layout,
    NavLink, ServiceCard, TocEntry,
};

/// Where the site's sources live.
#[derive(Debug, Clone)]
pub struct Sources {
    pub config: PathBuf,
    pub content: PathBuf,
    pub static_dir: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// Problems in files the therapist edits: fix them and build again.
    #[error("{0}")]
    Content(Diagnostics),
    /// A template failed to render: a bug in the engine, not in the content.
    #[error("template {template} failed to render: {source}")]
    Template {
        template: &'static str,
        source: askama::Error,
    },
}

impl From<Diagnostics> for BuildError {
    fn from(diagnostics: Diagnostics) -> Self {
        Self::Content(diagnostics)
    }
}

/// One response body, ready to send.
#[derive(Debug, Clone)]
pub struct Resource {
    pub status: StatusCode,
    /// Where a redirect leads.
    pub location: Option<HeaderValue>,
    pub content_type: HeaderValue,
    pub cache_control: HeaderValue,
    pub body: Bytes,
}

const HTML: &str = "text/html; charset=utf-8";
/// Pages may change with any edit: let caches keep them briefly.
const CACHE_PAGE: &str = "public, max-age=300";
/// Hashed asset URLs never change content.
const CACHE_IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Unhashed asset URLs (for old links and tools) revalidate.
const CACHE_REVALIDATE: &str = "public, max-age=0, must-revalidate";

/// The rendered site: every public URL and its body.
#[derive(Debug)]
pub struct Site {
    resources: HashMap<String, Resource>,
    not_found: Resource,
    method_not_allowed: Resource,
    server_error: Resource,
    /// 400, 403, 413 and 429: the answers to forms that cannot be taken.
    form_errors: HashMap<StatusCode, Resource>,
    /// The header and footer, for pages rendered per request (booking, admin).
    layout: Layout,
    /// Each page's rendered body by slug, for pages that wrap it in a form.
    bodies: HashMap<String, PageBody>,
    /// The settings the site was built from.
    config: SiteConfig,
}

/// A page's parts, for a page rendered per request around them.
#[derive(Debug, Clone)]
pub struct PageBody {
    pub head: Head,
    pub title: String,
    pub html: String,
}

impl Site {
    /// Reads settings, content and static files, checks them all, and renders
    /// every page. Every problem in the content is reported at once.
    pub fn load(sources: &Sources) -> Result<Self, BuildError> {
        let config = SiteConfig::load(&sources.config)?;
        let mut problems = Diagnostics::default();
        let library = content::load(&sources.content, &config).map_err(|d| problems.extend(d));
        let assets = Assets::load(&sources.static_dir).map_err(|d| problems.extend(d));
        match (library, assets) {
            (Ok(library), Ok(assets)) => Self::build(&config, &library, &assets),
            _ => Err(BuildError::Content(problems.into_result(()).unwrap_err())),
        }
    }

    pub fn build(
        config: &SiteConfig,
        library: &Library,
        assets: &Assets,
    ) -> Result<Self, BuildError> {
        let layout = layout(config, library, assets)?;
        let mut builder = Builder {
            config,
            library,
            layout: &layout,
            resources: HashMap::new(),
        };
        let bodies = library
            .pages()
            .map(|page| {
                (
                    page.slug.clone(),
                    PageBody {
                        head: Head::new(config, &page.title, &page.description, &page.url),
                        title: page.title.clone(),
                        html: page.html.clone(),
                    },
                )
            })
            .collect();
        builder.pages()?;
        builder.articles()?;
        builder.blog_index()?;
        builder.aliases();
        for (_, asset) in assets.iter() {
            builder.resources.insert(
                asset.hashed_url.clone(),
                resource(
                    StatusCode::OK,
                    asset.content_type,
                    CACHE_IMMUTABLE,
                    asset.body.clone(),
                ),
            );
        }
        for (relative, asset) in assets.iter() {
            builder.resources.insert(
                format!("/static/{relative}"),
                resource(
                    StatusCode::OK,
                    asset.content_type,
                    CACHE_REVALIDATE,
                    asset.body.clone(),
                ),
            );
        }
        let not_found = builder.error_page(
            StatusCode::NOT_FOUND,
            "This page isn’t here",
            "The address may have changed, or there may be a typo in it. These links can help you find your way.",
        )?;
        let method_not_allowed = builder.error_page(
            StatusCode::METHOD_NOT_ALLOWED,
            "That didn’t work",
            "This address can only be opened as a page. These links can help you find your way.",
        )?;
        let server_error = builder.error_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong on our side",
            "Please try again in a moment. If it keeps happening, the practice would be grateful to hear about it.",
        )?;
        let mut form_errors = HashMap::new();
        for (status, heading, message) in [
            (
                StatusCode::BAD_REQUEST,
                "That didn’t work",
                "The form could not be read. Please go back, reload the page and try again.",
            ),
            (
                StatusCode::FORBIDDEN,
                "That form has expired",
                "For your safety, forms on this site only work when sent from the page that showed them. Please go back, reload the page and send it again.",
            ),
            (
                StatusCode::PAYLOAD_TOO_LARGE,
                "That was too long",
                "The form sent more text than it can take. Please shorten the note and send it again.",
            ),
            (
                StatusCode::TOO_MANY_REQUESTS,
                "Please wait a few minutes",
                "This form has been sent many times from your connection. Please try again in a few minutes, or call or email the practice.",
            ),
        ] {
            form_errors.insert(status, builder.error_page(status, heading, message)?);
        }
        Ok(Self {
            resources: builder.resources,
            not_found,
            method_not_allowed,
            server_error,
            form_errors,
            layout,
            bodies,
            config: config.clone(),
        })
    }

    /// The settings this site was built from.
    pub fn config(&self) -> &SiteConfig {
        &self.config
    }

    /// The header and footer every page shares.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// A page's head, title and rendered Markdown, by slug (`consultation`).
    pub fn page_body(&self, slug: &str) -> Option<&PageBody> {
        self.bodies.get(slug)
    }

    pub fn get(&self, path: &str) -> Option<&Resource> {
        self.resources.get(path)
    }

    /// The rendered error page for `status` (400, 403, 404, 405, 413, 429 or
    /// 500; anything else gets 500's page).
    pub fn error_page(&self, status: StatusCode) -> &Resource {
        match status {
            StatusCode::NOT_FOUND => &self.not_found,
            StatusCode::METHOD_NOT_ALLOWED => &self.method_not_allowed,
            other => self.form_errors.get(&other).unwrap_or(&self.server_error),
        }
    }

    /// Every public page path (HTML), sorted: what tests and the sitemap walk.
    pub fn page_paths(&self) -> Vec<&str> {
        let mut paths: Vec<&str> = self
            .resources
            .iter()
            .filter(|(_, r)| r.content_type == HTML && r.status == StatusCode::OK)
            .map(|(path, _)| path.as_str())
            .collect();
        paths.sort_unstable();
        paths
    }
}

fn resource(
    status: StatusCode,
    content_type: &'static str,
    cache: &'static str,
    body: Bytes,
) -> Resource {
    Resource {
        status,
        location: None,
        content_type: HeaderValue::from_static(content_type),
        cache_control: HeaderValue::from_static(cache),
        body,
    }
}

fn layout(config: &SiteConfig, library: &Library, assets: &Assets) -> Result<Layout, Diagnostics> {
    let mut problems = Diagnostics::default();
    let mut asset_url = |relative: &str| {
        assets.url(relative).map(str::to_string).unwrap_or_else(|| {
            problems.push(Diagnostic::new(
                &PathBuf::from("static").join(relative),
                1,
                "this file is missing; every page links to it",
            ));
            String::new()
        })
    };
    let css_url = asset_url("css/site.css");
    let icon_url = asset_url("favicon.svg");
    let known_path =
        |path: &str| path == "/blog" || library.documents.iter().any(|d| !d.draft && d.url == path);
    for link in &config.navigation {
        if !known_path(&link.path) {
            problems.push(config.diagnostic(
                &format!("\"{}\"", link.path),
                format!(
                    "the navigation links to `{}`, which is not a page of this site",
                    link.path
                ),
            ));
        }
    }
    let layout = Layout {
        practice_name: config.practice.name.clone(),
        therapist: config.therapist_with_credential(),
        credential_name: config.therapist.credential_name.clone(),
        license_number: config.therapist.license_number.clone(),
        city: config.practice.city.clone(),
        state: config.practice.state.clone(),
        phone: config.practice.phone.clone(),
        phone_href: config.phone_href(),
        email: config.practice.email.clone(),
        book_label: config.consultation.button.clone(),
        consultation_url: "/consultation",
        privacy_url: "/privacy",
        css_url,
        icon_url,
        navigation: config
            .navigation
            .iter()
            .map(|link| NavLink {
                label: link.label.clone(),
                path: link.path.clone(),
            })
            .collect(),
    };
    problems.into_result(layout)
}

struct Builder<'a> {
    config: &'a SiteConfig,
    library: &'a Library,
    layout: &'a Layout,
    resources: HashMap<String, Resource>,
}

impl<'a> Builder<'a> {
    fn insert_html(
        &mut self,
        path: &str,
        template: &'static str,
        html: askama::Result<String>,
    ) -> Result<(), BuildError> {
        let html = html.map_err(|source| BuildError::Template { template, source })?;
        self.resources.insert(
            path.to_string(),
            resource(StatusCode::OK, HTML, CACHE_PAGE, Bytes::from(html)),
        );
        Ok(())
    }

    fn cta(&self, document: &Document) -> &'a crate::config::CallToAction {
        &self.config.calls_to_action[&document.call_to_action]
    }

    fn pages(&mut self) -> Result<(), BuildError> {
        let library = self.library;
        for page in library.pages() {
            let head = Head::new(self.config, &page.title, &page.description, &page.url);
            let (template, html) = match page.slug.as_str() {
                "home" => ("home.html", self.home(page, head)),
                // The booking page itself is rendered per request around this
                // body (`routes::booking`); this copy is for `check` and listings.
                "consultation" => (
                    "page.html",
                    ContentPage {
                        layout: self.layout,
                        head,
                        page,
                        cta: None,
                    }
                    .render(),
                ),
                slug => (
                    "page.html",
                    ContentPage {
                        layout: self.layout,
                        head,
                        page,
                        cta: (slug != "privacy").then(|| self.cta(page)),
                    }
                    .render(),
                ),
            };
            self.insert_html(&page.url, template, html)?;
        }
        Ok(())
    }

    fn home(&self, page: &Document, mut head: Head) -> askama::Result<String> {
        // The home page's <title> leads with the practice, as searchers look for it.
        head.title = format!("{} | {}", self.config.practice.name, page.title);
        let services = self
            .config
            .home
            .services
            .iter()
            .filter_map(|slug| self.library.page(slug))
            .map(|service| ServiceCard {
                title: service.title.clone(),
                url: service.url.clone(),
                description: service.description.clone(),
            })
            .collect();
        let featured = self
            .config
            .home
            .featured
            .iter()
            .filter_map(|slug| self.library.article(slug))
            .map(ArticleCard::new)
            .collect();
        HomePage {
            layout: self.layout,
            head,
            heading: &page.title,
            intro_html: &page.html,
            services,
            featured,
            cta: self.cta(page),
        }
        .render()
    }

    fn articles(&mut self) -> Result<(), BuildError> {
        let library = self.library;
        for article in library.articles() {
            let head = Head::new(
                self.config,
                &article.title,
                &article.description,
                &article.url,
            );
            let html = ArticlePage {
                layout: self.layout,
                head,
                article,
                card: ArticleCard::new(article),
                updated: article
                    .updated
                    .filter(|updated| Some(*updated) != article.date)
                    .map(|d| (d.format("%Y-%m-%d").to_string(), views::display_date(d))),
                toc: article
                    .table_of_contents()
                    .into_iter()
                    .map(|h| TocEntry {
                        id: h.id.clone(),
                        text: h.text.clone(),
                    })
                    .collect(),
                linked_from: ArticleCard::list(library, &article.linked_from),
                related: ArticleCard::list(library, &article.related),
                cta: self.cta(article),
            }
            .render();
            self.insert_html(&article.url, "blog/article.html", html)?;
        }
        Ok(())
    }

    /// Each old address of a page answers a permanent redirect to it.
    fn aliases(&mut self) {
        let library = self.library;
        for document in library.articles().chain(library.pages()) {
            for alias in &document.aliases {
                let mut redirect = resource(
                    StatusCode::MOVED_PERMANENTLY,
                    HTML,
                    CACHE_PAGE,
                    Bytes::new(),
                );
                redirect.location = HeaderValue::from_str(&document.url).ok();
                self.resources.insert(alias.clone(), redirect);
            }
        }
    }

    fn blog_index(&mut self) -> Result<(), BuildError> {
        let head = Head::new(
            self.config,
            "Articles",
            &format!(
                "Articles by {} on Ketamine-Assisted Psychotherapy, intensives and affair recovery in {}, {}.",
                self.config.therapist_with_credential(),
                self.config.practice.city,
                self.config.practice.state
            ),
            "/blog",
        );
        let html = BlogIndexPage {
            layout: self.layout,
            head,
            articles: self.library.articles().map(ArticleCard::new).collect(),
        }
        .render();
        self.insert_html("/blog", "blog/index.html", html)
    }

    fn error_page(
        &self,
        status: StatusCode,
        heading: &str,
        message: &str,
    ) -> Result<Resource, BuildError> {
        let mut head = Head::new(self.config, heading, message, "/");
        head.noindex = true;
        head.path = String::new();
        let html = ErrorPage {
            layout: self.layout,
            head,
            status: status.as_u16(),
            heading,
            message,
        }
        .render()
        .map_err(|source| BuildError::Template {
            template: "error.html",
            source,
        })?;
        Ok(resource(status, HTML, "no-store", Bytes::from(html)))
    }
}

/// The current site, replaced whole and atomically: a request holds the
/// version it started with until it finishes.
#[derive(Debug)]
pub struct SiteHandle(ArcSwap<Site>);

impl SiteHandle {
    pub fn new(site: Site) -> Self {
        Self(ArcSwap::from_pointee(site))
    }

    pub fn current(&self) -> Arc<Site> {
        self.0.load_full()
    }

    pub fn replace(&self, site: Site) {
        self.0.store(Arc::new(site));
    }
}
