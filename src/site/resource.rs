//! One response body, prepared once when the site is built: its strong ETag,
//! its compressed forms and its caching policy. Requests only choose among
//! what is here.

use std::io::Write as _;
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
    /// When the content last changed, for `Last-Modified` (articles only).
    pub last_modified: Option<SystemTime>,
    pub identity: Representation,
    pub gzip: Option<Representation>,
    pub brotli: Option<Representation>,
}

/// Bodies smaller than this are not worth a compressed copy.
const MIN_COMPRESSIBLE: usize = 512;
/// Brotli's quality (0–11) and window: near the best ratio, at a build cost
/// that stays small for hundreds of pages.
const BROTLI_QUALITY: u32 = 9;
const BROTLI_WINDOW: u32 = 22;

impl Resource {
    pub fn new(
        status: StatusCode,
        content_type: &'static str,
        cache_control: &'static str,
        body: Bytes,
    ) -> Self {
        let hash = blake3::hash(&body).to_hex();
        let tag = &hash[..20];
        let compressible = is_compressible(content_type) && body.len() >= MIN_COMPRESSIBLE;
        let (gzip, brotli) = if compressible {
            (
                smaller(gzip(&body), body.len()).map(|b| representation(b, tag, "-gz")),
                smaller(brotli(&body), body.len()).map(|b| representation(b, tag, "-br")),
            )
        } else {
            (None, None)
        };
        Self {
            status,
            content_type: HeaderValue::from_static(content_type),
            cache_control: HeaderValue::from_static(cache_control),
            location: None,
            last_modified: None,
            identity: representation(body, tag, ""),
            gzip,
            brotli,
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
        self
    }

    /// Whether compressed forms exist, so caches must key on `Accept-Encoding`.
    pub fn varies_by_encoding(&self) -> bool {
        self.gzip.is_some() || self.brotli.is_some()
    }

    /// Every representation, for `If-None-Match` and for the static export.
    pub fn representations(&self) -> impl Iterator<Item = &Representation> {
        std::iter::once(&self.identity)
            .chain(self.gzip.as_ref())
            .chain(self.brotli.as_ref())
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

fn gzip(body: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder
        .write_all(body)
        .expect("writing to memory cannot fail");
    encoder.finish().expect("writing to memory cannot fail")
}

fn brotli(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
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
        let gz = resource.gzip.as_ref().unwrap();
        let mut decoded = Vec::new();
        flate2::read::GzDecoder::new(&gz.body[..])
            .read_to_end(&mut decoded)
            .unwrap();
        assert_eq!(decoded, page());
        let br = resource.brotli.as_ref().unwrap();
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
