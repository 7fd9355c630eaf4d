//! The static export: the whole public site as files, for any static host or
//! CDN, with precompressed siblings, a Netlify-style `_redirects` file and an
//! nginx snippet that answers exactly what the server answers.
//!
//! Layout: `/` is `index.html`; a page `/a/b` is `a/b.html`; every other file
//! keeps its path (`/sitemap.xml`, `/static/css/site.<hash>.css`). The 404
//! page is `404.html`; a retired page's 410 body is `<path>.gone.html`.
//! A page the server renders per request (the booking form) is written as
//! its stand-in (`Resource::stand_in`): the consultation page with the
//! practice's phone and email; a static host proxies it to the server to
//! offer online booking (see the nginx snippet).

use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

use axum::http::StatusCode;

use super::{HTML, Resource, Site};

/// What an export wrote, for the command's summary.
#[derive(Debug, Default)]
pub struct Summary {
    pub files: usize,
    pub redirects: usize,
    pub gone: usize,
}

/// The file that holds a 200 resource's body in the export.
pub fn file_for(path: &str, resource: &Resource) -> PathBuf {
    let relative = path.trim_start_matches('/');
    if path == "/" {
        PathBuf::from("index.html")
    } else if resource.content_type == HTML {
        PathBuf::from(format!("{relative}.html"))
    } else {
        PathBuf::from(relative)
    }
}

fn gone_file_for(path: &str) -> String {
    format!("{}.gone.html", path.trim_start_matches('/'))
}

/// How to write an export.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Write `.gz` and `.br` copies beside each compressible file (for
    /// nginx's `gzip_static` and `brotli_static`); a host that compresses on
    /// its own needs none.
    pub compressed_copies: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            compressed_copies: true,
        }
    }
}

/// Writes the whole site, with its compressed copies, into `dir`.
pub fn export(site: &Site, dir: &Path) -> io::Result<Summary> {
    export_with(site, dir, Options::default())
}

pub fn export_with(site: &Site, dir: &Path, options: Options) -> io::Result<Summary> {
    use rayon::prelude::*;
    let mut summary = Summary::default();
    let mut redirects =
        String::from("# Written by `practice-site export`: old addresses and retired pages.\n");
    let mut nginx = nginx_header();
    let mut files: Vec<(PathBuf, &Resource)> = Vec::new();
    for (path, resource) in site.resources() {
        match resource.status {
            StatusCode::OK => {
                files.push((file_for(path, resource), resource));
                summary.files += 1;
            }
            StatusCode::MOVED_PERMANENTLY => {
                let to = resource
                    .location
                    .as_ref()
                    .and_then(|l| l.to_str().ok())
                    .unwrap_or("/");
                writeln!(redirects, "{path} {to} 301").expect("writing to a String");
                writeln!(nginx, "location = {path} {{ return 301 {to}; }}")
                    .expect("writing to a String");
                summary.redirects += 1;
            }
            StatusCode::GONE => {
                let file = gone_file_for(path);
                writeln!(redirects, "{path} /{file} 410").expect("writing to a String");
                writeln!(
                    nginx,
                    "location = {path} {{ error_page 410 /{file}; return 410; }}"
                )
                .expect("writing to a String");
                files.push((PathBuf::from(file), resource));
                summary.gone += 1;
            }
            _ => {}
        }
    }
    files.push((
        PathBuf::from("404.html"),
        site.error_page(StatusCode::NOT_FOUND),
    ));
    // Folders first, once each; then the files, on all cores, each
    // compressed just before it is written, so that one thread's writing
    // overlaps another's compressing.
    let folders: std::collections::BTreeSet<&Path> =
        files.iter().filter_map(|(file, _)| file.parent()).collect();
    for folder in folders {
        std::fs::create_dir_all(dir.join(folder))?;
    }
    files
        .par_iter()
        .try_for_each(|(file, resource)| write_resource(&dir.join(file), resource, options))?;
    std::fs::write(dir.join("_redirects"), redirects)?;
    std::fs::write(dir.join("nginx.conf"), nginx)?;
    Ok(summary)
}

/// Writes a body and, beside it, its `.gz` and `.br` forms if wanted.
fn write_resource(target: &Path, resource: &Resource, options: Options) -> io::Result<()> {
    std::fs::write(target, &resource.identity.body)?;
    if !options.compressed_copies {
        return Ok(());
    }
    resource.compress();
    let sibling = |extension: &str| {
        let mut name = target.as_os_str().to_owned();
        name.push(extension);
        PathBuf::from(name)
    };
    if let Some(gzip) = resource.gzip() {
        std::fs::write(sibling(".gz"), &gzip.body)?;
    }
    if let Some(brotli) = resource.brotli() {
        std::fs::write(sibling(".br"), &brotli.body)?;
    }
    Ok(())
}

/// The nginx snippet's fixed part, with the site's security headers and
/// cache policies (the server's own constants, so the two cannot drift) on
/// every answer (nginx drops a level's `add_header`s where a location has
/// its own, so each location repeats them).
fn nginx_header() -> String {
    let security: Vec<String> = super::SECURITY_HEADERS
        .iter()
        .map(|(name, value)| format!("add_header {name} \"{value}\" always;"))
        .collect();
    NGINX_HEADER
        .replace("@security@", &security.join(" "))
        .replace("@hsts@", super::STRICT_TRANSPORT_SECURITY)
        .replace("@page@", super::CACHE_PAGE)
        .replace("@immutable@", super::CACHE_IMMUTABLE)
        .replace("@error@", super::CACHE_ERROR)
}

const NGINX_HEADER: &str = r#"# Written by `practice-site export`. Include it inside a `server { }` block
# whose `root` is this folder:   root /srv/site;  include /srv/site/nginx.conf;
# brotli_static needs ngx_brotli (Debian: libnginx-mod-http-brotli-static).
# Served over https, also add in that server block:
#   add_header Strict-Transport-Security "@hsts@" always;
charset utf-8;
charset_types text/css text/plain text/xml application/xml application/atom+xml image/svg+xml;
gzip_static on;
brotli_static on;
gzip_vary on;
@security@
error_page 404 /404.html;

location = /feed.xml { default_type application/atom+xml; @security@ add_header Cache-Control "@page@"; }
location = /404.html { internal; @security@ add_header Cache-Control "@error@"; }
location ~ \.gone\.html$ { internal; @security@ }
location ~ "^/static/.+\.[0-9a-f]{10}\.[a-z0-9]+$" { @security@ add_header Cache-Control "@immutable@"; }
location ~ "^/images/.+\.[0-9a-f]{10}\.[0-9]+\.(webp|jpg|png)$" { @security@ add_header Cache-Control "@immutable@"; }
location / {
    # One spelling per page: no trailing slash, no index.html, no .html.
    rewrite ^(/.*)/index\.html$ $1 permanent;
    rewrite ^(/.+)\.html$ $1 permanent;
    rewrite ^(/.+)/$ $1 permanent;
    default_type text/html;
    @security@
    add_header Cache-Control "@page@";
    try_files $uri $uri.html =404;
}
location = /index.html { return 301 /; }
location = / { @security@ add_header Cache-Control "@page@"; try_files /index.html =404; }

# Online booking needs the server itself. To offer it, send these to it:
#   location = /consultation { proxy_pass http://127.0.0.1:3000; }
#   location /booking/ { proxy_pass http://127.0.0.1:3000; }
#   location /admin { proxy_pass http://127.0.0.1:3000; }
# Without that, /consultation is the page with the practice's phone and email.

# Old addresses (301) and retired pages (410):
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn file_names_follow_the_documented_layout() {
        let page = Resource::new(StatusCode::OK, HTML, "no-cache", Bytes::from("x"));
        let css = Resource::new(
            StatusCode::OK,
            "text/css; charset=utf-8",
            "no-cache",
            Bytes::from("x"),
        );
        assert_eq!(file_for("/", &page), PathBuf::from("index.html"));
        assert_eq!(file_for("/blog", &page), PathBuf::from("blog.html"));
        assert_eq!(
            file_for("/blog/guide", &page),
            PathBuf::from("blog/guide.html")
        );
        assert_eq!(
            file_for("/static/css/site.abc.css", &css),
            PathBuf::from("static/css/site.abc.css")
        );
        assert_eq!(gone_file_for("/blog/old"), "blog/old.gone.html");
    }
}
