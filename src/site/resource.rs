//! One response body, prepared when the site is built: its strong ETag, its
//! caching policy and, made once and then kept, its compressed forms.
//! Requests only choose among what is here.
//!
//! Compression is the one costly part of a build (brotli and gzip of every
//! page), so it is kept off the path from a saved file to a served page: a
//! build makes identity bodies and empty slots for the compressed forms, and
//! [`Resource::compress`] fills them afterwards (on a background thread in
//! the server, before writing in the export). Until a slot is filled,
//! requests get the identity body. Slots are shared, through an `Arc`, with
//! the next build's resource of the same body ([`Resource::adopt_encodings`]),
//! so an edit compresses only the pages it changed.

use std::io::Write as _;
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use axum::http::{HeaderValue, StatusCode};
use bytes::Bytes;

/// A body in one content coding, with the strong ETag that names it.
#[derive(Debug, Clone)]
pub struct Representation {
    pub body: Bytes,
    pub etag: HeaderValue,
}

#[derive(Debug, Clone)]
pub struct Resource {
    pub status: StatusCode,
    pub content_type: HeaderValue,
    pub cache_control: HeaderValue,
    /// Where a redirect leads.
    pub location: Option<HeaderValue>,
    /// When the content last changed, for `If-Modified-Since` (articles only).
    pub last_modified: Option<SystemTime>,
    /// The same, formatted once for the `Last-Modified` header.
    pub last_modified_header: Option<HeaderValue>,
    pub identity: Representation,
    /// The compressed forms of a compressible body (none for small or binary ones).
    encodings: Option<Arc<Encodings>>,
    /// The static stand-in for a page the server renders per request (the
    /// booking form): only the export serves it; the server never does.
    pub stand_in: bool,
}

/// The compressed forms of one body, each made at most once. `None` in a
/// filled slot means that coding did not make the body smaller.
#[derive(Debug)]
struct Encodings {
    gzip: OnceLock<Option<Representation>>,
    brotli: OnceLock<Option<Representation>>,
}

/// Bodies smaller than this are not worth a compressed copy.
pub const MIN_COMPRESSIBLE: usize = 512;
/// Brotli's quality (0–11): 5 is within half a percent of 9's size on these
/// pages (31.6 KB against 31.5 KB for the articles and stylesheet) at a
/// fourteenth of the time; see BENCHMARKS.md.
const BROTLI_QUALITY: u32 = 5;
const BROTLI_WINDOW: u32 = 22;
/// gzip's level: 6 gives these pages the same size as 9.
const GZIP_LEVEL: u32 = 6;

impl Resource {
    pub fn new(
        status: StatusCode,
        content_type: &'static str,
        cache_control: &'static str,
        body: Bytes,
    ) -> Self {
        let hash = blake3::hash(&body).to_hex();
        let compressible = is_compressible(content_type) && body.len() >= MIN_COMPRESSIBLE;
        Self {
            status,
            content_type: HeaderValue::from_static(content_type),
            cache_control: HeaderValue::from_static(cache_control),
            location: None,
            last_modified: None,
            last_modified_header: None,
            identity: representation(body, &hash[..20], ""),
            encodings: compressible.then(|| {
                Arc::new(Encodings {
                    gzip: OnceLock::new(),
                    brotli: OnceLock::new(),
                })
            }),
            stand_in: false,
        }
    }

    pub fn redirect(status: StatusCode, to: &str) -> Self {
        let mut resource = Self::new(
            status,
            "text/plain; charset=utf-8",
            "public, max-age=3600",
            Bytes::new(),
        );
        resource.location = HeaderValue::from_str(to).ok();
        resource
    }

    pub fn with_last_modified(mut self, when: Option<SystemTime>) -> Self {
        self.last_modified = when;
        self.last_modified_header =
            when.and_then(|when| HeaderValue::from_str(&httpdate::fmt_http_date(when)).ok());
        self
    }

    /// Whether compressed forms are (or will be) offered, so caches must key
    /// on `Accept-Encoding`.
    pub fn varies_by_encoding(&self) -> bool {
        self.encodings.is_some()
    }

    /// The gzip form, once made and when smaller than the body.
    pub fn gzip(&self) -> Option<&Representation> {
        self.encodings.as_ref()?.gzip.get()?.as_ref()
    }

    /// The brotli form, once made and when smaller than the body.
    pub fn brotli(&self) -> Option<&Representation> {
        self.encodings.as_ref()?.brotli.get()?.as_ref()
    }

    /// Whether a compressed form is still to be made.
    pub fn needs_compression(&self) -> bool {
        self.encodings
            .as_ref()
            .is_some_and(|e| e.gzip.get().is_none() || e.brotli.get().is_none())
    }

    /// Makes the compressed forms that are not made yet (at most once each,
    /// whoever asks first; a second caller waits for the first).
    pub fn compress(&self) {
        let Some(encodings) = &self.encodings else {
            return;
        };
        let body = &self.identity.body;
        let tag = self.tag();
        encodings.brotli.get_or_init(|| {
            smaller(brotli(body), body.len()).map(|b| representation(b, tag, "-br"))
        });
        encodings
            .gzip
            .get_or_init(|| smaller(gzip(body), body.len()).map(|b| representation(b, tag, "-gz")));
    }

    /// Takes over `previous`'s compressed forms when both have the same body,
    /// so a rebuild compresses only what changed.
    pub fn adopt_encodings(&mut self, previous: &Resource) {
        if self.encodings.is_some()
            && previous.encodings.is_some()
            && previous.identity.etag == self.identity.etag
        {
            self.encodings.clone_from(&previous.encodings);
        }
    }

    /// Every representation made so far, for `If-None-Match` and the export.
    pub fn representations(&self) -> impl Iterator<Item = &Representation> {
        std::iter::once(&self.identity)
            .chain(self.gzip())
            .chain(self.brotli())
    }

    /// The body's hash as it appears in every ETag of this resource.
    fn tag(&self) -> &str {
        self.identity
            .etag
            .to_str()
            .expect("ETags are ASCII")
            .trim_matches('"')
    }
}

fn representation(body: Bytes, tag: &str, suffix: &str) -> Representation {
    Representation {
        body,
        etag: HeaderValue::from_str(&format!("\"{tag}{suffix}\"")).expect("hex is a valid header"),
    }
}

fn is_compressible(content_type: &str) -> bool {
    content_type.starts_with("text/")
        || content_type.starts_with("application/xml")
        || content_type.starts_with("application/atom+xml")
        || content_type.starts_with("application/json")
        || content_type.starts_with("application/manifest+json")
        || content_type.starts_with("image/svg+xml")
}

fn smaller(compressed: Vec<u8>, original: usize) -> Option<Bytes> {
    (compressed.len() < original).then(|| Bytes::from(compressed))
}

/// `body` in gzip, at the level every compressed form of the site uses.
pub fn gzip(body: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 3),
        flate2::Compression::new(GZIP_LEVEL),
    );
    encoder
        .write_all(body)
        .expect("writing to memory cannot fail");
    encoder.finish().expect("writing to memory cannot fail")
}

/// `body` in brotli, at the quality every compressed form of the site uses.
pub fn brotli(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() / 3);
    {
        let mut writer =
            brotli::CompressorWriter::new(&mut out, 4096, BROTLI_QUALITY, BROTLI_WINDOW);
        writer
            .write_all(body)
            .expect("writing to memory cannot fail");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read as _;

    fn page() -> Bytes {
        Bytes::from("<p>calm words</p>\n".repeat(100))
    }

    #[test]
    fn compressed_forms_decode_to_the_same_body() {
        let resource = Resource::new(
            StatusCode::OK,
            "text/html; charset=utf-8",
            "no-cache",
            page(),
        );
        assert!(resource.gzip().is_none(), "compressed only when asked");
        resource.compress();
        let gz = resource.gzip().unwrap();
        let mut decoded = Vec::new();
        flate2::read::GzDecoder::new(&gz.body[..])
            .read_to_end(&mut decoded)
            .unwrap();
        assert_eq!(decoded, page());
        let br = resource.brotli().unwrap();
        let mut decoded = Vec::new();
        brotli::Decompressor::new(&br.body[..], 4096)
            .read_to_end(&mut decoded)
            .unwrap();
        assert_eq!(decoded, page());
    }

    #[test]
    fn each_representation_has_its_own_strong_etag() {
        let resource = Resource::new(
            StatusCode::OK,
            "text/css; charset=utf-8",
            "no-cache",
            page(),
        );
        resource.compress();
        let tags: Vec<_> = resource.representations().map(|r| r.etag.clone()).collect();
        assert_eq!(tags.len(), 3);
        assert!(tags.iter().all(|t| t.to_str().unwrap().starts_with('"')));
        assert_ne!(tags[0], tags[1]);
        assert_ne!(tags[1], tags[2]);
        let same = Resource::new(
            StatusCode::OK,
            "text/css; charset=utf-8",
            "no-cache",
            page(),
        );
        assert_eq!(
            same.identity.etag, resource.identity.etag,
            "stable across builds"
        );
    }

    #[test]
    fn small_and_binary_bodies_are_not_compressed() {
        let small = Resource::new(
            StatusCode::OK,
            "text/html; charset=utf-8",
            "no-cache",
            Bytes::from("<p>hi</p>"),
        );
        assert!(!small.varies_by_encoding());
        let image = Resource::new(StatusCode::OK, "image/png", "no-cache", page());
        assert!(!image.varies_by_encoding());
    }
}
