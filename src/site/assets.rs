//! Files from `static/`, held in memory under content-hashed URLs so a browser
//! may keep them for a year: a changed file gets a new URL.

use std::collections::BTreeMap;
use std::path::Path;

use bytes::Bytes;

use crate::diagnostic::{Diagnostic, Diagnostics};

/// Every static file, by its path inside `static/` (`css/site.css`).
#[derive(Debug, Clone, Default)]
pub struct Assets {
    files: BTreeMap<String, Asset>,
}

#[derive(Debug, Clone)]
pub struct Asset {
    pub body: Bytes,
    pub content_type: &'static str,
    /// `/static/css/site.1a2b3c4d5e.css`
    pub hashed_url: String,
}

/// Deeper folders than this are not read: `static/` is a few stylesheets and images.
const MAX_DEPTH: usize = 8;

impl Assets {
    pub fn load(static_dir: &Path) -> Result<Self, Diagnostics> {
        let mut assets = Self::default();
        let mut problems = Diagnostics::default();
        assets.read_folder(static_dir, static_dir, 0, &mut problems);
        problems.into_result(assets)
    }

    fn read_folder(
        &mut self,
        root: &Path,
        folder: &Path,
        depth: usize,
        problems: &mut Diagnostics,
    ) {
        let entries = match std::fs::read_dir(folder) {
            Ok(entries) => entries,
            Err(err) => {
                problems.push(Diagnostic::new(
                    folder,
                    1,
                    format!("cannot read this folder: {err}"),
                ));
                return;
            }
        };
        let mut paths: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
        paths.sort();
        for path in paths {
            // Symlinks are skipped so nothing outside static/ is ever served.
            let Ok(kind) = std::fs::symlink_metadata(&path).map(|m| m.file_type()) else {
                continue;
            };
            let hidden = path
                .file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with('.'));
            if hidden || kind.is_symlink() {
                continue;
            }
            if kind.is_dir() && depth < MAX_DEPTH {
                self.read_folder(root, &path, depth + 1, problems);
            } else if kind.is_file() {
                match std::fs::read(&path) {
                    Ok(body) => {
                        let relative = path
                            .strip_prefix(root)
                            .expect("walked below root")
                            .to_string_lossy()
                            .replace('\\', "/");
                        self.insert(relative, body);
                    }
                    Err(err) => problems.push(Diagnostic::new(
                        &path,
                        1,
                        format!("cannot read this file: {err}"),
                    )),
                }
            }
        }
    }

    pub fn insert(&mut self, relative: String, body: Vec<u8>) {
        // The stylesheet's comments are for whoever edits it, not for a
        // reader's first round trip (an article and its CSS fit in 14 KiB).
        let body = if relative.ends_with(".css") {
            without_css_comments(&body)
        } else {
            body
        };
        let hash = blake3::hash(&body).to_hex();
        let hashed_url = match relative.rsplit_once('.') {
            Some((stem, ext)) if !stem.ends_with('/') => {
                format!("/static/{stem}.{}.{ext}", &hash[..10])
            }
            _ => format!("/static/{relative}.{}", &hash[..10]),
        };
        let content_type = content_type_of(&relative);
        self.files.insert(
            relative,
            Asset {
                body: Bytes::from(body),
                content_type,
                hashed_url,
            },
        );
    }

    /// The hashed URL of a file, for templates.
    pub fn url(&self, relative: &str) -> Option<&str> {
        self.files.get(relative).map(|a| a.hashed_url.as_str())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Asset)> {
        self.files.iter()
    }
}

/// CSS with its `/* … */` comments taken out; a comment's opening inside a
/// quoted string (`content: "/*"`) is text and stays.
fn without_css_comments(css: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(css.len());
    let mut quote = None;
    let mut i = 0;
    while i < css.len() {
        let byte = css[i];
        match quote {
            Some(_) if byte == b'\\' && i + 1 < css.len() => {
                out.extend_from_slice(&css[i..i + 2]);
                i += 2;
                continue;
            }
            Some(q) if byte == q => quote = None,
            Some(_) => {}
            None if byte == b'"' || byte == b'\'' => quote = Some(byte),
            None if css[i..].starts_with(b"/*") => {
                let end = css[i + 2..]
                    .windows(2)
                    .position(|pair| pair == b"*/")
                    .map_or(css.len(), |at| i + 2 + at + 2);
                i = end;
                continue;
            }
            None => {}
        }
        out.push(byte);
        i += 1;
    }
    out
}

fn content_type_of(path: &str) -> &'static str {
    match path
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .as_deref()
    {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("txt") => "text/plain; charset=utf-8",
        Some("xml") => "application/xml; charset=utf-8",
        Some("webmanifest") => "application/manifest+json",
        _ => mime_guess::from_path(path)
            .first_raw()
            .unwrap_or("application/octet-stream"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_urls_change_with_content() {
        let mut a = Assets::default();
        a.insert("css/site.css".into(), b"body{}".to_vec());
        let first = a.url("css/site.css").unwrap().to_string();
        assert!(first.starts_with("/static/css/site."), "{first}");
        assert!(first.ends_with(".css"));
        a.insert("css/site.css".into(), b"body{color:red}".to_vec());
        assert_ne!(a.url("css/site.css").unwrap(), first);
    }

    #[test]
    fn stylesheet_comments_are_left_out_but_strings_kept() {
        let css = b"/* tokens */\na { content: \"/* not a comment */\"; } /* end */b{}".to_vec();
        assert_eq!(
            without_css_comments(&css),
            b"\na { content: \"/* not a comment */\"; } b{}".to_vec()
        );
        assert_eq!(
            without_css_comments(b"a{} /* never closed"),
            b"a{} ".to_vec()
        );
        assert_eq!(
            without_css_comments(b"a{content:'\\'/*'}"),
            b"a{content:'\\'/*'}".to_vec()
        );
    }

    #[test]
    fn content_types() {
        assert_eq!(content_type_of("a/b.css"), "text/css; charset=utf-8");
        assert_eq!(content_type_of("x.PNG"), "image/png");
        assert_eq!(content_type_of("icon.svg"), "image/svg+xml");
        assert_eq!(content_type_of("noext"), "application/octet-stream");
    }
}
