//! The files a picture's `srcset` names, made from the photo's pixels and
//! kept by content hash.
//!
//! Making one costs tens of milliseconds to a second (decoding a photo,
//! resizing it, encoding WebP), so each is made once per process: a build,
//! the editor's preview or a rebuild after an upload asks the cache, and only
//! a photo never seen before is decoded. The cache is the process's own
//! (every build of it, live, preview or check, shares the work) and holds at
//! most [`CACHE_BYTES`]; the upload warms it before the file is written, so
//! the rebuild the upload starts finds every variant made.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use bytes::Bytes;

use super::upload::{Quality, decode, encode};
use super::{Format, Picture, Variant};

/// What the cache keeps at most: the variants of about a hundred photos.
/// Past it, the variants used least lately are dropped (and made again if
/// asked for).
pub const CACHE_BYTES: usize = 96 << 20;

#[derive(Default)]
struct Cache {
    /// By (photo hash, width, format): the bytes and when last asked for.
    entries: HashMap<(String, u32, Format), (Bytes, u64)>,
    held: usize,
    clock: u64,
}

static CACHE: LazyLock<Mutex<Cache>> = LazyLock::new(Mutex::default);

impl Cache {
    fn get(&mut self, key: &(String, u32, Format)) -> Option<Bytes> {
        self.clock += 1;
        let clock = self.clock;
        self.entries.get_mut(key).map(|(bytes, used)| {
            *used = clock;
            bytes.clone()
        })
    }

    fn put(&mut self, key: (String, u32, Format), bytes: Bytes) {
        self.clock += 1;
        self.held += bytes.len();
        if let Some((old, _)) = self.entries.insert(key, (bytes, self.clock)) {
            self.held -= old.len();
        }
        while self.held > CACHE_BYTES && self.entries.len() > 1 {
            let oldest = (self.entries.iter())
                .min_by_key(|(_, (_, used))| *used)
                .map(|(key, _)| key.clone())
                .expect("the cache is not empty");
            if let Some((bytes, _)) = self.entries.remove(&oldest) {
                self.held -= bytes.len();
            }
        }
    }
}

/// Every variant of `picture` with its bytes: from the cache, or made from
/// the file (once for all its variants) and kept.
pub fn of(picture: &Picture) -> Result<Vec<(Variant, Bytes)>, String> {
    let variants = picture.variants();
    let key = |variant: &Variant| (picture.hash.clone(), variant.width, variant.format);
    let cached: Option<Vec<Bytes>> = {
        let mut cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
        variants.iter().map(|v| cache.get(&key(v))).collect()
    };
    if let Some(cached) = cached {
        return Ok(variants.into_iter().zip(cached).collect());
    }
    let source =
        std::fs::read(&picture.path).map_err(|err| format!("cannot read this file: {err}"))?;
    if blake3::hash(&source).to_hex().as_str() != picture.hash {
        return Err(
            "this file changed while the site was being built; it is read again at the next build"
                .into(),
        );
    }
    let made = make(&source, picture.format, &variants)?;
    let mut cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
    for (variant, bytes) in &made {
        cache.put(key(variant), bytes.clone());
    }
    Ok(made)
}

/// The variants of the photo in `source`, made from its pixels alone.
pub fn make(
    source: &[u8],
    format: Format,
    variants: &[Variant],
) -> Result<Vec<(Variant, Bytes)>, String> {
    let (image, icc) = decode(source, format).map_err(|refusal| refusal.to_string())?;
    let mut made = Vec::with_capacity(variants.len());
    let mut resized: HashMap<u32, image::DynamicImage> = HashMap::new();
    for variant in variants {
        let sized = resized.entry(variant.width).or_insert_with(|| {
            if variant.width == image.width() {
                image.clone()
            } else {
                image.resize_exact(
                    variant.width,
                    variant.height,
                    image::imageops::FilterType::CatmullRom,
                )
            }
        });
        let bytes = encode(sized, variant.format, icc.clone(), Quality::Served)
            .map_err(|err| format!("a smaller copy could not be made: {err}"))?;
        made.push((variant.clone(), Bytes::from(bytes)));
    }
    Ok(made)
}

/// Makes and keeps the variants of a photo about to be written, so the
/// build its writing starts finds them made.
pub fn warm(picture: &Picture, source: &[u8]) -> Result<(), String> {
    let variants = picture.variants();
    {
        let mut cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
        let key = |v: &Variant| (picture.hash.clone(), v.width, v.format);
        if variants.iter().all(|v| cache.get(&key(v)).is_some()) {
            return Ok(());
        }
    }
    let made = make(source, picture.format, &variants)?;
    let mut cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
    for (variant, bytes) in made {
        cache.put((picture.hash.clone(), variant.width, variant.format), bytes);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::images::testing::{has_exif, phone_photo};

    #[test]
    fn variants_are_upright_without_exif_and_the_size_they_say() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("photo.jpg");
        std::fs::write(&path, phone_photo(1200, 600)).unwrap();
        let picture = Picture::read(&path, "photo.jpg", (0, None)).unwrap();
        assert_eq!((picture.width, picture.height), (600, 1200));
        let made = of(&picture).unwrap();
        assert_eq!(made.len(), 4, "480 and 600 wide, in WebP and JPEG");
        for (variant, bytes) in &made {
            assert_eq!(
                Format::sniff(bytes),
                Some(variant.format),
                "{}",
                variant.url
            );
            let size = super::super::upload::upright_size(bytes, variant.format).unwrap();
            assert_eq!(size, (variant.width, variant.height), "{}", variant.url);
            assert!(!has_exif(bytes), "{} keeps EXIF", variant.url);
        }
        // The second time comes from the cache, even with the file gone.
        std::fs::remove_file(&path).unwrap();
        assert_eq!(of(&picture).unwrap(), made);
    }

    #[test]
    fn the_cache_drops_what_was_used_least_lately() {
        let mut cache = Cache::default();
        let chunk = Bytes::from(vec![0u8; CACHE_BYTES / 2]);
        cache.put(("a".into(), 1, Format::Webp), chunk.clone());
        cache.put(("b".into(), 1, Format::Webp), chunk.clone());
        assert!(cache.get(&("a".into(), 1, Format::Webp)).is_some());
        cache.put(("c".into(), 1, Format::Webp), chunk);
        assert!(cache.get(&("b".into(), 1, Format::Webp)).is_none());
        assert!(cache.get(&("a".into(), 1, Format::Webp)).is_some());
        assert!(cache.held <= CACHE_BYTES);
    }
}
