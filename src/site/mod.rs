//! The site as readers get it: every page, feed and file rendered once into
//! memory, so that a request is a lookup. A `Site` never changes after it is
//! built; a new one is swapped in whole through [`SiteHandle`].

pub mod assets;
pub mod export;
pub mod feeds;
mod pages;
pub use pages::ARTICLES_PER_PAGE;
pub use pages::NOTICES_PAGE;
pub mod resource;
pub mod structured_data;
pub mod views;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use arc_swap::ArcSwap;
use axum::http::StatusCode;
use bytes::Bytes;
use chrono::{DateTime, Utc};

use crate::config::SiteConfig;
use crate::content::{self, Library, LoadOptions};
use crate::diagnostic::Diagnostics;
use assets::Assets;
pub use resource::{Representation, Resource};
use views::{Head, Layout};

/// Where the site's sources live.
#[derive(Debug, Clone)]
pub struct Sources {
    pub config: PathBuf,
    pub content: PathBuf,
    pub static_dir: PathBuf,
}

impl Sources {
    /// The same sources with the content folder at `content` (a checked
    /// push, the editor's preview, the last good copy): settings kept inside
    /// the content folder (the default, `content/site.toml`) travel with it,
    /// settings outside it and the static files stay where they are.
    pub fn with_content_at(&self, content: PathBuf) -> Self {
        let config = match self.config.strip_prefix(&self.content) {
            Ok(inside) => content.join(inside),
            Err(_) => self.config.clone(),
        };
        Self {
            config,
            content,
            static_dir: self.static_dir.clone(),
        }
    }
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

const EMPTY_PAGE: &str = "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>Preview: the site could not be built</title>\n<script src=\"/_preview/reload.js\" defer></script>\n</head>\n<body>\n<main id=\"main\">\n<h1>The site could not be built yet</h1>\n</main>\n</body>\n</html>\n";

/// The headers every response of the site carries, wherever it is served
/// from (the server, or nginx over the export): the page may load only what
/// this site serves (no third party can be reached, and injected script
/// could not run), is never framed, and tells other sites nothing about
/// which page a reader was on.
pub const SECURITY_HEADERS: [(&str, &str); 6] = [
    (
        "content-security-policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
    ),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
    ("x-frame-options", "DENY"),
    (
        "permissions-policy",
        "camera=(), microphone=(), geolocation=(), payment=(), usb=(), browsing-topics=(), interest-cohort=()",
    ),
    ("cross-origin-opener-policy", "same-origin"),
];

/// HSTS, for a response that reached its reader over https.
pub const STRICT_TRANSPORT_SECURITY: &str = "max-age=31536000; includeSubDomains";

/// Content types of what the site serves.
pub const HTML: &str = "text/html; charset=utf-8";
/// Pages and feeds may change with any edit: caches keep them briefly, then
/// revalidate with the ETag (a cheap 304 when nothing changed).
pub const CACHE_PAGE: &str = "public, max-age=300, must-revalidate";
/// Hashed asset URLs never change content.
pub const CACHE_IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Unhashed asset URLs (for old links and tools) revalidate every time.
pub const CACHE_REVALIDATE: &str = "public, max-age=0, must-revalidate";
/// Error pages: never kept, so a fixed page is seen at once.
pub const CACHE_ERROR: &str = "no-store";

/// The rendered site: every public URL and its response.
#[derive(Debug)]
pub struct Site {
    resources: HashMap<String, Resource>,
    /// What each article page was rendered from, so the next build can
    /// keep the pages whose inputs did not change.
    article_inputs: HashMap<String, u64>,
    /// What loading the content worked out per file, for the next build.
    memo: content::Memo,
    /// 500, and the page for any error without one of its own.
    server_error: Resource,
    /// 404 and 405; 400, 403, 413 and 429, the answers to forms that cannot
    /// be taken; 408 and 503, a request too slow or a server too busy.
    error_pages: HashMap<StatusCode, Resource>,
    /// The header and footer, for pages rendered per request (booking, admin).
    layout: Layout,
    /// Each page's head, title and body by slug, for pages rendered per
    /// request around them (the booking form under the consultation page).
    bodies: HashMap<String, PageBody>,
    /// The settings the site was built from.
    config: Option<SiteConfig>,
    warnings: Diagnostics,
    next_change: Option<DateTime<Utc>>,
}

/// A page's parts, for a page rendered per request around them.
#[derive(Debug, Clone)]
pub struct PageBody {
    pub head: Head,
    pub title: String,
    pub html: String,
}

/// What a build sees: the moment it is built for, and whether it is the
/// therapist's preview (drafts and scheduled pages shown, reload script on).
#[derive(Debug, Clone, Copy)]
pub struct BuildOptions {
    pub now: DateTime<Utc>,
    pub preview: bool,
}

impl BuildOptions {
    /// The site as readers see it at this moment: no drafts, no preview.
    pub fn published_now() -> Self {
        Self {
            now: Utc::now(),
            preview: false,
        }
    }
}

impl Site {
    /// Reads settings, content and static files, checks them all, and renders
    /// and compresses every page, as readers see the site now. Every problem
    /// in the content is reported at once.
    pub fn load(sources: &Sources) -> Result<Self, BuildError> {
        let site = Self::load_with(sources, BuildOptions::published_now())?;
        site.compress_all();
        Ok(site)
    }

    /// The site as it is at `now` (scheduled articles appear on their day),
    /// with its compressed forms still to be made ([`Site::compress_all`]).
    pub fn load_with(sources: &Sources, options: BuildOptions) -> Result<Self, BuildError> {
        Self::build_from(sources, options, None)
    }

    /// The site as [`Site::load_with`] builds it, doing again only the work
    /// an edit made necessary: files, pages and compressed forms whose
    /// inputs did not change since `previous` are taken from it.
    pub fn rebuild(
        sources: &Sources,
        options: BuildOptions,
        previous: &Site,
    ) -> Result<Self, BuildError> {
        Self::build_from(sources, options, Some(previous))
    }

    fn build_from(
        sources: &Sources,
        options: BuildOptions,
        previous: Option<&Site>,
    ) -> Result<Self, BuildError> {
        let config = SiteConfig::load(&sources.config)?;
        let mut problems = Diagnostics::default();
        if !options.preview
            && let Err(refused) = refuse_samples_on_a_real_address(&config)
        {
            // Reported with the content's own problems, so one run shows all.
            problems.extend(refused);
        }
        let load = LoadOptions {
            today: config.today(options.now),
            preview: options.preview,
        };
        let nothing = content::Memo::default();
        let known = previous.map_or(&nothing, |site| &site.memo);
        let (library, memo) = content::load_reusing(&sources.content, &config, load, known);
        let library = library.map_err(|d| problems.extend(d));
        let assets = Assets::load(&sources.static_dir).map_err(|d| problems.extend(d));
        let (Ok(library), Ok(assets), false) = (library, assets, problems.has_errors()) else {
            return Err(BuildError::Content(problems.sorted()));
        };
        let mut site = pages::build(&config, &library, &assets, previous)?;
        site.finish(&config, &library);
        site.memo = memo;
        if let Some(previous) = previous {
            site.adopt_encodings(previous);
        }
        Ok(site)
    }

    fn finish(&mut self, config: &SiteConfig, library: &Library) {
        self.warnings = library.warnings.clone();
        self.next_change = library.next_change().map(|day| config.start_of(day));
    }

    /// A site with no pages, for a preview whose first build failed: every
    /// address answers a bare page on which the preview shows the problems.
    pub fn empty() -> Self {
        let page = |status| {
            Resource::new(
                status,
                HTML,
                CACHE_ERROR,
                Bytes::from_static(EMPTY_PAGE.as_bytes()),
            )
        };
        Self {
            resources: HashMap::new(),
            article_inputs: HashMap::new(),
            memo: content::Memo::default(),
            server_error: page(StatusCode::INTERNAL_SERVER_ERROR),
            error_pages: [StatusCode::NOT_FOUND, StatusCode::METHOD_NOT_ALLOWED]
                .into_iter()
                .map(|status| (status, page(status)))
                .collect(),
            layout: Layout::default(),
            bodies: HashMap::new(),
            config: None,
            warnings: Diagnostics::default(),
            next_change: None,
        }
    }

    /// The settings this site was built from (none for [`Site::empty`]).
    pub fn config(&self) -> Option<&SiteConfig> {
        self.config.as_ref()
    }

    /// The header and footer every page shares (blank for [`Site::empty`]).
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// A page's head, title and rendered Markdown, by slug (`consultation`).
    pub fn page_body(&self, slug: &str) -> Option<&PageBody> {
        self.bodies.get(slug)
    }

    /// Writing advice found while building: shown by `check`, never blocking.
    pub fn warnings(&self) -> &Diagnostics {
        &self.warnings
    }

    /// When a scheduled page next appears or an expiring one comes down.
    pub fn next_change(&self) -> Option<DateTime<Utc>> {
        self.next_change
    }

    /// What the server answers for `path`: every prepared page and file but
    /// the stand-ins for pages it renders per request.
    pub fn get(&self, path: &str) -> Option<&Resource> {
        self.resources
            .get(path)
            .filter(|resource| !resource.stand_in)
    }

    /// What each Markdown file became in this build (by its path), for the
    /// editor's list and preview.
    pub fn documents(&self) -> &content::Memo {
        &self.memo
    }

    /// Every resource, error pages included, in no order.
    fn all_resources(&self) -> impl Iterator<Item = &Resource> {
        self.resources
            .values()
            .chain(self.error_pages.values())
            .chain([&self.server_error])
    }

    /// Makes every compressed form not made yet, on all cores. The server
    /// runs this in the background after a build; the export before writing.
    /// Returns how many resources it compressed.
    pub fn compress_all(&self) -> usize {
        use rayon::prelude::*;
        let pending: Vec<&Resource> = self
            .all_resources()
            .filter(|r| r.needs_compression())
            .collect();
        pending.par_iter().for_each(|resource| resource.compress());
        pending.len()
    }

    /// The bytes of every body the site holds: identity, and compressed so far.
    /// Bodies shared by two addresses (a file under its hashed and plain
    /// URL) count once.
    pub fn held_bytes(&self) -> (usize, usize) {
        let mut seen = std::collections::HashSet::new();
        let mut held = (0, 0);
        for resource in self.all_resources() {
            for (body, compressed) in std::iter::once((&resource.identity.body, false))
                .chain(resource.gzip().map(|g| (&g.body, true)))
                .chain(resource.brotli().map(|b| (&b.body, true)))
            {
                if seen.insert(body.as_ptr()) {
                    if compressed {
                        held.1 += body.len();
                    } else {
                        held.0 += body.len();
                    }
                }
            }
        }
        held
    }

    /// Takes over the compressed forms `previous` already made for bodies
    /// that did not change, so a rebuild compresses only what an edit changed.
    pub fn adopt_encodings(&mut self, previous: &Site) {
        for (path, resource) in &mut self.resources {
            if let Some(old) = previous.resources.get(path) {
                resource.adopt_encodings(old);
            }
        }
        for (status, resource) in &mut self.error_pages {
            if let Some(old) = previous.error_pages.get(status) {
                resource.adopt_encodings(old);
            }
        }
        self.server_error.adopt_encodings(&previous.server_error);
    }

    /// The rendered error page for `status` (400, 403, 404, 405, 408, 413,
    /// 429, 500 or 503; anything else gets 500's page).
    pub fn error_page(&self, status: StatusCode) -> &Resource {
        self.error_pages.get(&status).unwrap_or(&self.server_error)
    }

    /// Every public HTML page's path, sorted: what tests and the export walk.
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

    /// The pages whose address must keep working once published: every
    /// page but the blog index's later pages, which come and go (and shift)
    /// as articles are added or retired.
    pub fn published_paths(&self) -> Vec<&str> {
        let mut paths = self.page_paths();
        paths.retain(|path| !path.starts_with(pages::OLDER_ARTICLES));
        paths
    }

    /// Every path the site answers, with its resource, sorted by path.
    pub fn resources(&self) -> Vec<(&str, &Resource)> {
        let mut all: Vec<(&str, &Resource)> = self
            .resources
            .iter()
            .map(|(p, r)| (p.as_str(), r))
            .collect();
        all.sort_unstable_by_key(|(path, _)| *path);
        all
    }

    /// Where another spelling of a page's address should send the reader:
    /// `/About/`, `/blog/index.html` and `/blog/guide.html` all have one
    /// canonical form. `None` when the path is already canonical or names nothing.
    pub fn canonical_redirect(&self, path: &str) -> Option<&str> {
        let canonical = canonical_form(path);
        if canonical == path {
            return None;
        }
        let (key, resource) = self.resources.get_key_value(canonical.as_str())?;
        match &resource.location {
            // Straight to the final address: no redirect chains.
            Some(location) => location.to_str().ok(),
            None => Some(key.as_str()),
        }
    }
}

/// The one spelling of a path: lowercase, no `index.html` or `.html`, no
/// trailing or doubled slashes. Static files keep their case.
/// A site with sample facts is a demo: it may run on a reserved address
/// (example.com, this machine) or as a preview, but never on the practice's
/// real address, where readers and search engines would take the samples
/// for facts. Each sample is named, at its line.
fn refuse_samples_on_a_real_address(config: &SiteConfig) -> Result<(), Diagnostics> {
    if config.has_reserved_address() || !config.is_sample() {
        return Ok(());
    }
    let mut problems = Diagnostics::default();
    problems.push(config.setting_diagnostic(
        "practice.base_url",
        format!(
            "base_url {} is a real address, but sample facts remain (listed here); replace each one before serving or exporting the site there (`serve --preview` still works)",
            config.practice.base_url
        ),
    ));
    for fact in config.sample_facts() {
        problems.push(fact.clone());
    }
    Err(problems.sorted())
}

fn canonical_form(path: &str) -> String {
    let mut path = if path.starts_with("/static/") {
        path.to_string()
    } else {
        path.to_lowercase()
    };
    while path.contains("//") {
        path = path.replace("//", "/");
    }
    if let Some(stripped) = path.strip_suffix("index.html") {
        path = stripped.to_string();
    } else if !path.starts_with("/static/")
        && let Some(stripped) = path.strip_suffix(".html")
    {
        path = stripped.to_string();
    }
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        "/".to_string()
    } else {
        trimmed.to_string()
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

    /// The current site for a short look (one request's lookup): cheaper
    /// than [`SiteHandle::current`], as no reference count is shared
    /// between threads.
    pub fn load(&self) -> arc_swap::Guard<Arc<Site>> {
        self.0.load()
    }

    pub fn replace(&self, site: Site) {
        self.0.store(Arc::new(site));
    }
}

#[cfg(test)]
mod tests {
    use super::canonical_form;

    #[test]
    fn canonical_forms() {
        for (given, canonical) in [
            ("/", "/"),
            ("/index.html", "/"),
            ("/About", "/about"),
            ("/about/", "/about"),
            ("/blog/", "/blog"),
            ("/blog/index.html", "/blog"),
            ("/blog/Guide.html", "/blog/guide"),
            ("//blog//guide/", "/blog/guide"),
            ("/static/css/Site.css", "/static/css/Site.css"),
        ] {
            assert_eq!(canonical_form(given), canonical, "{given}");
        }
    }
}
