//! Choosing what to send for a prepared resource: the content coding the
//! client accepts (smallest wins) and whether its copy is still fresh (304).

use std::borrow::Cow;
use std::time::SystemTime;

use axum::http::{HeaderMap, HeaderValue, header};

use crate::site::{Representation, Resource};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Identity,
    Gzip,
    Brotli,
}

impl Coding {
    pub fn header_value(self) -> Option<HeaderValue> {
        match self {
            Self::Identity => None,
            Self::Gzip => Some(HeaderValue::from_static("gzip")),
            Self::Brotli => Some(HeaderValue::from_static("br")),
        }
    }
}

/// The smallest representation the client accepts; identity when it asks
/// for none (or accepts no compressed form we have).
pub fn choose<'r>(resource: &'r Resource, headers: &HeaderMap) -> (Coding, &'r Representation) {
    let accepted = accepted_codings(headers);
    let quality = |coding: &str| quality_of(&accepted, coding);
    let mut best = (Coding::Identity, &resource.identity);
    let candidates = [
        (
            Coding::Gzip,
            resource.gzip(),
            quality("gzip").max(quality("x-gzip")),
        ),
        (Coding::Brotli, resource.brotli(), quality("br")),
    ];
    for (coding, representation, q) in candidates {
        if let Some(representation) = representation
            && q > 0.0
            && representation.body.len() < best.1.body.len()
        {
            best = (coding, representation);
        }
    }
    best
}

/// Every `Accept-Encoding` header of the request, as one list. Almost every
/// client sends one such line: it is read in place, not copied.
pub fn accepted_codings(headers: &HeaderMap) -> Cow<'_, str> {
    let mut values = headers.get_all(header::ACCEPT_ENCODING).iter();
    match (values.next(), values.next()) {
        (None, _) => Cow::Borrowed(""),
        (Some(only), None) => Cow::Borrowed(only.to_str().unwrap_or("")),
        (Some(_), Some(_)) => Cow::Owned(
            headers
                .get_all(header::ACCEPT_ENCODING)
                .iter()
                .filter_map(|value| value.to_str().ok())
                .collect::<Vec<_>>()
                .join(","),
        ),
    }
}

/// The q-value `header` gives `coding` (RFC 9110 §12.5.3): its own entry, or
/// `*`, or 0. Identity is acceptable unless refused explicitly.
pub fn quality_of(header: &str, coding: &str) -> f32 {
    let mut wildcard = None;
    for item in header.split(',') {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim();
        if name.is_empty() {
            continue;
        }
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|v| v.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if name.eq_ignore_ascii_case(coding) {
            return q;
        }
        if name == "*" {
            wildcard = Some(q);
        }
    }
    match wildcard {
        Some(q) => q,
        None if coding == "identity" => 1.0,
        None => 0.0,
    }
}

/// Whether the client's cached copy is current: `If-None-Match` against any
/// of the resource's ETags (weak comparison, as RFC 9110 requires for it),
/// else `If-Modified-Since` against its last change.
pub fn is_fresh(resource: &Resource, headers: &HeaderMap) -> bool {
    if let Some(value) = headers.get(header::IF_NONE_MATCH) {
        let Ok(list) = value.to_str() else {
            return false;
        };
        return list.split(',').map(str::trim).any(|tag| {
            tag == "*"
                || resource.representations().any(|r| {
                    r.etag
                        .to_str()
                        .is_ok_and(|ours| ours == tag.trim_start_matches("W/"))
                })
        });
    }
    let (Some(value), Some(modified)) = (
        headers.get(header::IF_MODIFIED_SINCE),
        resource.last_modified,
    ) else {
        return false;
    };
    value
        .to_str()
        .ok()
        .and_then(|v| httpdate::parse_http_date(v).ok())
        .is_some_and(|since: SystemTime| modified <= since)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q_values() {
        assert_eq!(quality_of("gzip, br", "br"), 1.0);
        assert_eq!(quality_of("gzip;q=0.5, br;q=0", "br"), 0.0);
        assert_eq!(quality_of("gzip;q=0.5", "gzip"), 0.5);
        assert_eq!(quality_of("*", "br"), 1.0);
        assert_eq!(quality_of("", "br"), 0.0);
        assert_eq!(quality_of("", "identity"), 1.0);
        assert_eq!(quality_of("GZIP", "gzip"), 1.0);
    }
}
