//! Renders every page of a [`Library`] through the templates, and the feeds,
//! into the resources of a [`Site`].

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::SystemTime;

use askama::Template;
use axum::http::StatusCode;
use bytes::Bytes;
use chrono::NaiveDate;

use super::assets::Assets;
use super::feeds::{self, SitemapEntry};
use super::structured_data::{self, PageKind, Subject};
use super::views::{
    ArticleCard, ArticlePage, BlogIndexPage, ConsultationPage, ContentPage, ErrorPage, GonePage,
    Head, HomePage, Layout, NavLink, Pager, Reviewed, ServiceCard, TocEntry,
};
use super::{
    BuildError, CACHE_ERROR, CACHE_IMMUTABLE, CACHE_PAGE, CACHE_REVALIDATE, HTML, PageBody,
    Resource, Site,
};
use crate::config::{CallToAction, SiteConfig};
use crate::content::{Document, Library, fingerprint};
use crate::diagnostic::{Diagnostic, Diagnostics};

/// Articles listed under "Articles that link here", newest first.
const LINKED_FROM_SHOWN: usize = 5;

/// How wide the portrait is drawn (the stylesheet's `.portrait`).
const PORTRAIT_SIZES: &str = "(min-width: 40rem) 13rem, 10rem";

/// Articles on each page of the blog index.
pub const ARTICLES_PER_PAGE: usize = 20;

/// The file (in `content/pages/`) of the notices every client is owed: the
/// Good Faith Estimate, fees, and where to take a complaint. Linked from
/// every page's footer when it exists; the launch check asks for it.
pub const NOTICES_PAGE: &str = "notices";

/// The address of page `number` of the blog index.
fn blog_page_path(number: usize) -> String {
    if number == 1 {
        "/blog".to_string()
    } else {
        format!("{OLDER_ARTICLES}{number}")
    }
}

/// Where the blog index's later pages live: `/blog/page/2` and on.
pub const OLDER_ARTICLES: &str = "/blog/page/";

/// The share image used when a page names none.
const DEFAULT_SHARE_IMAGE: &str = "images/share.png";

/// Renders every page. Article pages whose inputs are the same as in
/// `previous` are taken from it instead of being rendered again.
pub fn build(
    config: &SiteConfig,
    library: &Library,
    assets: &Assets,
    previous: Option<&Site>,
) -> Result<Site, BuildError> {
    let layout = layout(config, library, assets)?;
    let share_images = share_images(config, library, assets)?;
    let portrait = (library.pictures.portrait()).map(|picture| {
        let alt = format!("Portrait of {}", config.therapist.name);
        picture.html_sized(&alt, true, PORTRAIT_SIZES)
    });
    let mut builder = Builder {
        config,
        portrait,
        library,
        layout: &layout,
        share_images: &share_images,
        // Everything every article page shows besides its own content.
        context: fingerprint((
            config.fingerprint(),
            &layout,
            &share_images.default,
            library.options.preview,
        )),
        previous,
        resources: HashMap::new(),
        article_inputs: HashMap::new(),
    };
    builder.pages()?;
    builder.articles()?;
    builder.blog_index()?;
    builder.retired()?;
    builder.aliases();
    builder.feeds();
    builder.pictures()?;
    for (relative, asset) in assets.iter() {
        builder.resources.insert(
            asset.hashed_url.clone(),
            Resource::new(
                StatusCode::OK,
                asset.content_type,
                CACHE_IMMUTABLE,
                asset.body.clone(),
            ),
        );
        builder.resources.insert(
            format!("/static/{relative}"),
            Resource::new(
                StatusCode::OK,
                asset.content_type,
                CACHE_REVALIDATE,
                asset.body.clone(),
            ),
        );
    }
    let server_error = builder.error_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong on our side",
        "Please try again in a moment. If it keeps happening, the practice would be grateful to hear about it.",
    )?;
    let mut error_pages = HashMap::new();
    for (status, heading, message) in [
        (
            StatusCode::NOT_FOUND,
            "This page isn’t here",
            "The address may have changed, or there may be a typo in it. These links can help you find your way.",
        ),
        (
            StatusCode::METHOD_NOT_ALLOWED,
            "That didn’t work",
            "This address can only be opened as a page. These links can help you find your way.",
        ),
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
            "The form sent more than it can take: a note too long, or a photo over 10 MB. Please shorten the note, or export the photo smaller, and send it again.",
        ),
        (
            StatusCode::TOO_MANY_REQUESTS,
            "Please wait a few minutes",
            "This form has been sent many times from your connection. Please try again in a few minutes, or call or email the practice.",
        ),
        (
            StatusCode::REQUEST_TIMEOUT,
            "That took too long",
            "The connection was too slow to finish sending the request. Please try again; nothing was saved.",
        ),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "The site is busy",
            "Many people are visiting at this moment. Please try again in a few seconds.",
        ),
    ] {
        error_pages.insert(status, builder.error_page(status, heading, message)?);
    }
    let bodies = library
        .pages()
        .map(|page| {
            let kind = PageKind::Page;
            let body = PageBody {
                head: builder.head(
                    kind,
                    Some(page),
                    page.search_title(),
                    &page.description,
                    &page.url,
                ),
                title: page.title.clone(),
                html: page.html.to_string(),
            };
            (page.slug.clone(), body)
        })
        .collect();
    Ok(Site {
        article_inputs: builder.article_inputs,
        memo: crate::content::Memo::default(),
        resources: builder.resources,
        server_error,
        error_pages,
        layout: layout.clone(),
        bodies,
        config: Some(config.clone()),
        warnings: Diagnostics::default(),
        next_change: None,
    })
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
    let forms_css_url = asset_url("css/forms.css");
    let local_time_js_url = asset_url("js/local-time.js");
    let editor_js_url = asset_url("js/editor.js");
    let icon_url = asset_url("favicon.svg");
    let known_path = |path: &str| {
        path == "/blog"
            || library
                .documents
                .iter()
                .any(|d| d.is_published() && d.url == path)
    };
    for (index, link) in config.navigation.iter().enumerate() {
        if !known_path(&link.path) {
            problems.push(config.setting_diagnostic(
                &format!("navigation.{index}.path"),
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
        license: config.license_line(),
        sample: config.is_sample(),
        notices_url: library
            .page(NOTICES_PAGE)
            .filter(|page| page.is_published())
            .map(|page| page.url.clone()),
        city: config.practice.city.clone(),
        state: config.practice.state.clone(),
        phone: config.practice.phone.clone(),
        phone_href: config.phone_href(),
        email: config.practice.email.clone(),
        book_label: config.consultation.button.clone(),
        consultation_url: "/consultation",
        privacy_url: "/privacy",
        css_url,
        forms_css_url,
        local_time_js_url,
        editor_js_url,
        icon_url,
        feed_url: "/feed.xml",
        preview: library.options.preview,
        feed_title: format!("{}: articles", config.practice.name),
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

/// The absolute share-image URL of every document that names one, and of the
/// default; a named image must be a file in `static/`.
struct ShareImages {
    default: String,
    by_url: HashMap<String, String>,
}

fn share_images(
    config: &SiteConfig,
    library: &Library,
    assets: &Assets,
) -> Result<ShareImages, Diagnostics> {
    let mut problems = Diagnostics::default();
    let default = match assets.url(DEFAULT_SHARE_IMAGE) {
        Some(url) => config.absolute_url(url),
        None => {
            problems.push(Diagnostic::new(
                &PathBuf::from("static").join(DEFAULT_SHARE_IMAGE),
                1,
                "this file is missing; link previews of every page show it",
            ));
            String::new()
        }
    };
    let mut by_url = HashMap::new();
    for document in &library.documents {
        let Some((image, line)) = &document.image else {
            continue;
        };
        let relative = image.strip_prefix("/static/").unwrap_or(image);
        match assets.url(relative) {
            Some(url) => {
                by_url.insert(document.url.clone(), config.absolute_url(url));
            }
            None => problems.push(Diagnostic::new(
                &document.source,
                *line,
                format!("`image: {image}` is not a file in static/; put the image in static/images/ and write /static/images/<name>"),
            )),
        }
    }
    problems.into_result(ShareImages { default, by_url })
}

struct Builder<'a> {
    config: &'a SiteConfig,
    /// Her portrait's `<picture>`, for the home and About pages, once
    /// `content/images/` has one.
    portrait: Option<String>,
    library: &'a Library,
    layout: &'a Layout,
    share_images: &'a ShareImages,
    context: u64,
    previous: Option<&'a Site>,
    resources: HashMap<String, Resource>,
    /// The fingerprint of what each article page was rendered from.
    article_inputs: HashMap<String, u64>,
}

impl<'a> Builder<'a> {
    fn insert_html(
        &mut self,
        path: &str,
        template: &'static str,
        html: askama::Result<String>,
        last_modified: Option<NaiveDate>,
    ) -> Result<(), BuildError> {
        let html = html.map_err(|source| BuildError::Template { template, source })?;
        let resource = Resource::new(StatusCode::OK, HTML, CACHE_PAGE, Bytes::from(html))
            .with_last_modified(last_modified.map(system_time));
        self.resources.insert(path.to_string(), resource);
        Ok(())
    }

    fn cta(&self, document: &Document) -> &'a CallToAction {
        &self.config.calls_to_action[&document.call_to_action]
    }

    /// The head of a page, with its link-preview tags and structured data.
    fn head(
        &self,
        kind: PageKind<'_>,
        document: Option<&Document>,
        title: &str,
        description: &str,
        path: &str,
    ) -> Head {
        let mut head = Head::new(self.config, title, description, path);
        let image = self
            .share_images
            .by_url
            .get(path)
            .unwrap_or(&self.share_images.default);
        head.image = image.clone();
        head.image_alt = format!("{}: {}", self.config.practice.name, title);
        head.og_type = match kind {
            PageKind::Article(_) => "article",
            PageKind::Profile => "profile",
            _ => "website",
        };
        if let PageKind::Article(article) = kind {
            head.published = article.date.map(|d| d.to_string());
            head.modified = article.last_modified().map(|d| d.to_string());
        }
        head.json_ld = structured_data::json_ld(
            self.config,
            &Subject {
                kind,
                document,
                path,
                title,
                description,
                image,
                practice_image: &self.share_images.default,
            },
        );
        head
    }

    fn pages(&mut self) -> Result<(), BuildError> {
        let library = self.library;
        for page in library.pages() {
            let kind = if page.slug == "home" {
                PageKind::Home
            } else if page.slug == "about" {
                PageKind::Profile
            } else {
                PageKind::Page
            };
            let head = self.head(
                kind,
                Some(page),
                page.search_title(),
                &page.description,
                &page.url,
            );
            let (template, html) = match page.slug.as_str() {
                "home" => ("home.html", self.home(page, head)),
                "consultation" => (
                    "consultation.html",
                    ConsultationPage {
                        layout: self.layout,
                        head,
                        page,
                        minutes: self.config.consultation.minutes,
                    }
                    .render(),
                ),
                slug => (
                    "page.html",
                    ContentPage {
                        layout: self.layout,
                        head,
                        page,
                        reviewed: Reviewed::of(page),
                        cta: (slug != "privacy").then(|| self.cta(page)),
                        portrait: self.portrait.as_deref().filter(|_| slug == "about"),
                    }
                    .render(),
                ),
            };
            self.insert_html(&page.url, template, html, None)?;
            if page.slug == "consultation" {
                // Live, the booking form answers here; this is the export's page.
                if let Some(stand_in) = self.resources.get_mut(&page.url) {
                    stand_in.stand_in = true;
                }
            }
        }
        Ok(())
    }

    fn home(&self, page: &Document, mut head: Head) -> askama::Result<String> {
        // The home page's <title> leads with the practice, as searchers look for it.
        head.title = format!("{} | {}", self.config.practice.name, page.search_title());
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
        HomePage {
            layout: self.layout,
            head,
            heading: &page.title,
            intro_html: &page.html,
            services,
            featured: self.featured().map(ArticleCard::new).collect(),
            cta: self.cta(page),
            portrait: self.portrait.as_deref(),
        }
        .render()
    }

    /// Every photo's variants, made on all cores (or taken from the cache),
    /// under their content-hashed URLs: every photo of `content/images/`,
    /// so one uploaded a moment ago can be shown in the editor's preview
    /// before the text naming it is saved. A photo whose variants cannot be
    /// made (a damaged file) stops the build only if a page shows it.
    fn pictures(&mut self) -> Result<(), BuildError> {
        use rayon::prelude::*;
        let pictures: Vec<_> = self.library.pictures.iter().collect();
        let made: Vec<_> = pictures
            .par_iter()
            .map(|picture| (picture, crate::images::variants::of(picture)))
            .collect();
        let mut problems = Diagnostics::default();
        for (picture, variants) in made {
            match variants {
                Ok(variants) => {
                    for (variant, bytes) in variants {
                        let resource = Resource::new(
                            StatusCode::OK,
                            variant.format.content_type(),
                            CACHE_IMMUTABLE,
                            bytes,
                        );
                        self.resources.insert(variant.url, resource);
                    }
                }
                Err(why) => {
                    let shown = self.portrait_name() == Some(picture.name.as_str())
                        || (self.library.documents.iter())
                            .any(|d| d.pictures.iter().any(|(name, _)| *name == picture.name));
                    if shown {
                        problems.push(Diagnostic::new(&picture.path, 1, why));
                    } else {
                        tracing::warn!("{}: {why}; no page shows it", picture.path.display());
                    }
                }
            }
        }
        crate::images::variants::retain(&self.library.pictures);
        problems.into_result(()).map_err(BuildError::Content)
    }

    fn portrait_name(&self) -> Option<&str> {
        self.library.pictures.portrait().map(|p| p.name.as_str())
    }

    fn featured(&self) -> impl Iterator<Item = &'a Document> {
        let library = self.library;
        self.config
            .home
            .featured
            .iter()
            .filter_map(move |slug| library.article(slug))
    }

    /// Every article's page, rendered on all cores.
    fn articles(&mut self) -> Result<(), BuildError> {
        use rayon::prelude::*;
        let articles: Vec<&Document> = self.library.articles().collect();
        let pages: Vec<(String, u64, Resource)> = articles
            .par_iter()
            .map(|article| {
                let inputs = self.article_inputs(article);
                if let Some(previous) = self.previous
                    && previous.article_inputs.get(&article.url) == Some(&inputs)
                    && let Some(resource) = previous.get(&article.url)
                {
                    return Ok((article.url.clone(), inputs, resource.clone()));
                }
                let html = self
                    .article(article)
                    .map_err(|source| BuildError::Template {
                        template: "blog/article.html",
                        source,
                    })?;
                let resource = Resource::new(StatusCode::OK, HTML, CACHE_PAGE, Bytes::from(html))
                    .with_last_modified(article.last_modified().map(system_time));
                Ok((article.url.clone(), inputs, resource))
            })
            .collect::<Result<_, BuildError>>()?;
        for (url, inputs, resource) in pages {
            self.article_inputs.insert(url.clone(), inputs);
            self.resources.insert(url, resource);
        }
        Ok(())
    }

    /// A fingerprint of everything an article's page shows: the site
    /// around it, the article, and the articles it lists. Equal
    /// fingerprints mean equal pages.
    fn article_inputs(&self, article: &Document) -> u64 {
        let documents = &self.library.documents;
        let listed = |indices: &[usize]| -> Vec<u64> {
            indices.iter().map(|&i| documents[i].fingerprint).collect()
        };
        fingerprint((
            self.context,
            article.fingerprint,
            self.share_images.by_url.get(&article.url),
            listed(&article.linked_from),
            listed(&article.related),
        ))
    }

    fn article(&self, article: &Document) -> askama::Result<String> {
        let library = self.library;
        // The newest few: an article many others link to keeps a short page.
        let linked_from = &article.linked_from[..article.linked_from.len().min(LINKED_FROM_SHOWN)];
        let head = self.head(
            PageKind::Article(article),
            Some(article),
            article.search_title(),
            &article.description,
            &article.url,
        );
        ArticlePage {
            layout: self.layout,
            head,
            article,
            card: ArticleCard::new(article),
            reviewed: Reviewed::of(article),
            updated: article
                .updated
                .filter(|updated| Some(*updated) != article.date)
                .map(|d| {
                    (
                        d.format("%Y-%m-%d").to_string(),
                        super::views::display_date(d),
                    )
                }),
            toc: article
                .table_of_contents()
                .into_iter()
                .map(|h| TocEntry {
                    id: h.id.clone(),
                    text: h.text.clone(),
                })
                .collect(),
            linked_from: ArticleCard::list(library, linked_from),
            // An article already listed as linking here is not listed twice.
            related: ArticleCard::list(library, &article.related)
                .into_iter()
                .filter(|card| {
                    !linked_from
                        .iter()
                        .any(|&i| library.documents[i].url == card.url)
                })
                .collect(),
            cta: self.cta(article),
        }
        .render()
    }

    /// The blog index: the newest articles at `/blog`, older ones on
    /// `/blog/page/2` and on, so no page grows with the number of articles.
    fn blog_index(&mut self) -> Result<(), BuildError> {
        let description = format!(
            "Articles by {} on Ketamine-Assisted Psychotherapy, intensives and affair recovery in {}, {}.",
            self.config.therapist_with_credential(),
            self.config.practice.city,
            self.config.practice.state
        );
        let articles: Vec<&Document> = self.library.articles().collect();
        let count = articles.len().div_ceil(ARTICLES_PER_PAGE).max(1);
        for number in 1..=count {
            let path = blog_page_path(number);
            let first = (number - 1) * ARTICLES_PER_PAGE;
            let shown = &articles[first..articles.len().min(first + ARTICLES_PER_PAGE)];
            let title = if number == 1 {
                "Articles".to_string()
            } else {
                format!("Articles, page {number} of {count}")
            };
            let head = self.head(PageKind::BlogIndex, None, &title, &description, &path);
            let html = BlogIndexPage {
                layout: self.layout,
                head,
                articles: shown.iter().copied().map(ArticleCard::new).collect(),
                pager: (count > 1).then(|| Pager {
                    number,
                    count,
                    newer: (number > 1).then(|| blog_page_path(number - 1)),
                    older: (number < count).then(|| blog_page_path(number + 1)),
                }),
            }
            .render();
            self.insert_html(&path, "blog/index.html", html, None)?;
        }
        Ok(())
    }

    /// A retired article's address, and its old addresses, answer 410 Gone
    /// with a page that points readers to what is there now.
    fn retired(&mut self) -> Result<(), BuildError> {
        let library = self.library;
        for document in library.retired() {
            let mut head = Head::new(
                self.config,
                &document.title,
                &document.description,
                &document.url,
            );
            head.noindex = true;
            let html = GonePage {
                layout: self.layout,
                head,
                title: &document.title,
                articles: library.articles().take(5).map(ArticleCard::new).collect(),
            }
            .render()
            .map_err(|source| BuildError::Template {
                template: "gone.html",
                source,
            })?;
            let gone = Resource::new(StatusCode::GONE, HTML, CACHE_PAGE, Bytes::from(html));
            for path in std::iter::once(&document.url).chain(&document.aliases) {
                self.resources.insert(path.clone(), gone.clone());
            }
        }
        Ok(())
    }

    /// Each old address of a page answers a permanent redirect to it.
    fn aliases(&mut self) {
        let library = self.library;
        for document in library.articles().chain(library.pages()) {
            for alias in &document.aliases {
                self.resources.insert(
                    alias.clone(),
                    Resource::redirect(StatusCode::MOVED_PERMANENTLY, &document.url),
                );
            }
        }
    }

    fn feeds(&mut self) {
        let library = self.library;
        let newest = |articles: &mut dyn Iterator<Item = &Document>| {
            articles.filter_map(Document::last_modified).max()
        };
        let mut entries = Vec::new();
        for page in library.pages() {
            let last_modified = if page.slug == "home" {
                page.last_modified()
                    .or_else(|| newest(&mut self.featured()))
            } else {
                page.last_modified()
            };
            entries.push(SitemapEntry {
                path: page.url.clone(),
                last_modified,
            });
        }
        entries.push(SitemapEntry {
            path: "/blog".to_string(),
            last_modified: newest(&mut library.articles()),
        });
        entries.extend(library.articles().map(|article| SitemapEntry {
            path: article.url.clone(),
            last_modified: article.last_modified(),
        }));
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        let files = [
            (
                "/sitemap.xml",
                "application/xml; charset=utf-8",
                feeds::sitemap(self.config, &entries),
            ),
            (
                "/feed.xml",
                "application/atom+xml; charset=utf-8",
                feeds::atom(self.config, library),
            ),
            (
                "/robots.txt",
                "text/plain; charset=utf-8",
                feeds::robots(self.config),
            ),
        ];
        for (path, content_type, body) in files {
            self.resources.insert(
                path.to_string(),
                Resource::new(StatusCode::OK, content_type, CACHE_PAGE, Bytes::from(body)),
            );
        }
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
        Ok(Resource::new(status, HTML, CACHE_ERROR, Bytes::from(html)))
    }
}

fn system_time(date: NaiveDate) -> SystemTime {
    let seconds = date
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc()
        .timestamp();
    SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(seconds).unwrap_or(0))
}
